/*
 * tiepdan: libsrtp 3 API shim over libsrtp 2.
 *
 * mediasoup >= 3.15 is written against libsrtp 3 (separate input/output buffers, size_t lengths,
 * an MKI index argument on protect). Debian 12 ships libsrtp 2.5, which encrypts in place with an
 * int* length. These wrappers copy input to output, call libsrtp 2 in place on the output buffer,
 * and refuse to write past the capacity the caller gave, so mediasoup's worker can be built
 * offline against Debian's libraries.
 */
#ifndef TIEPDAN_SRTP3_SHIM_H
#define TIEPDAN_SRTP3_SHIM_H

#include <srtp2/srtp.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Error codes that exist only in libsrtp 3 (values follow libsrtp 3's enum). */
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)

/* SRTCP appends the 4-byte E+index word besides the tag and MKI. */
#define TIEPDAN_SRTCP_MAX_TRAILER_LEN (SRTP_MAX_TRAILER_LEN + 4)

static inline srtp_err_status_t tiepdan_srtp_in_place(
  srtp_err_status_t (*fn)(srtp_t, void*, int*),
  srtp_t ctx,
  const uint8_t* in,
  size_t in_len,
  uint8_t* out,
  size_t* out_len,
  size_t trailer)
{
	int len;
	srtp_err_status_t err;

	if (in_len > (size_t)INT_MAX - trailer)
		return srtp_err_status_bad_param;
	/* libsrtp 2 may grow the packet by up to `trailer` bytes in place. */
	if (*out_len < in_len + trailer)
		return srtp_err_status_buffer_small;
	if (out != in)
		memmove(out, in, in_len);
	len = (int)in_len;
	err = fn(ctx, out, &len);
	if (err == srtp_err_status_ok)
		*out_len = (size_t)len;
	return err;
}

static inline srtp_err_status_t tiepdan_srtp3_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t mki_index)
{
	if (mki_index != 0)
		return srtp_err_status_bad_mki;
	return tiepdan_srtp_in_place(srtp_protect, ctx, rtp, rtp_len, srtp, srtp_len, SRTP_MAX_TRAILER_LEN);
}

static inline srtp_err_status_t tiepdan_srtp3_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcp_len, uint8_t* srtcp, size_t* srtcp_len, size_t mki_index)
{
	if (mki_index != 0)
		return srtp_err_status_bad_mki;
	return tiepdan_srtp_in_place(
	  srtp_protect_rtcp, ctx, rtcp, rtcp_len, srtcp, srtcp_len, TIEPDAN_SRTCP_MAX_TRAILER_LEN);
}

static inline srtp_err_status_t tiepdan_srtp3_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	/* Unprotect only shrinks the packet: the output needs the input's size. */
	return tiepdan_srtp_in_place(srtp_unprotect, ctx, srtp, srtp_len, rtp, rtp_len, 0);
}

static inline srtp_err_status_t tiepdan_srtp3_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	return tiepdan_srtp_in_place(srtp_unprotect_rtcp, ctx, srtcp, srtcp_len, rtcp, rtcp_len, 0);
}

#define srtp_protect tiepdan_srtp3_protect
#define srtp_protect_rtcp tiepdan_srtp3_protect_rtcp
#define srtp_unprotect tiepdan_srtp3_unprotect
#define srtp_unprotect_rtcp tiepdan_srtp3_unprotect_rtcp
#define srtp_stream_remove srtp_remove_stream

#endif
