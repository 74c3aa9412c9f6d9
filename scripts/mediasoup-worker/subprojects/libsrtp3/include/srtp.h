/*
 * tiepdan: libsrtp 3 API shim over libsrtp 2.
 *
 * mediasoup >= 3.15 is written against libsrtp 3 (separate input/output buffers, size_t lengths,
 * an MKI index argument on protect). Debian 12 ships libsrtp 2.5, which encrypts in place with an
 * int* length. These wrappers copy input to output, call libsrtp 2 in place on the output buffer,
 * and refuse to write past the capacity the caller gave, so mediasoup's worker can be built
 * offline against Debian's libraries.
 *
 * mediasoup >= 3.23 (libsrtp 3.0.0-beta-2fc078db) also builds its session through libsrtp 3's
 * opaque policy object (srtp_policy_create, _set_ssrc, _set_profile, _add_key, ...). libsrtp 2's
 * srtp_policy_t is the plain struct those calls fill in, so it is renamed on inclusion and
 * srtp_policy_t becomes a pointer to it; srtp_create() then takes it unchanged.
 */
#ifndef TIEPDAN_SRTP3_SHIM_H
#define TIEPDAN_SRTP3_SHIM_H

#define srtp_policy_t tiepdan_srtp2_policy_t
#include <srtp2/srtp.h>
#undef srtp_policy_t
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef tiepdan_srtp2_policy_t* srtp_policy_t;

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

/* --- libsrtp 3's policy object over libsrtp 2's policy struct ------------------------------ */

static inline srtp_err_status_t srtp_policy_create(srtp_policy_t* policy)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;
	/* Zeroed: no MKI keys, no extension-header encryption, next = NULL (a single element). */
	*policy = (srtp_policy_t)calloc(1, sizeof(tiepdan_srtp2_policy_t));
	return *policy == NULL ? srtp_err_status_alloc_fail : srtp_err_status_ok;
}

static inline void srtp_policy_destroy(srtp_policy_t policy)
{
	if (policy == NULL)
		return;
	/* srtp_create() copied the key into the session; wipe ours before freeing it. */
	if (policy->key != NULL)
	{
		explicit_bzero(policy->key, SRTP_MAX_KEY_LEN);
		free(policy->key);
	}
	free(policy);
}

static inline srtp_err_status_t srtp_policy_set_ssrc(srtp_policy_t policy, srtp_ssrc_t ssrc)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;
	policy->ssrc = ssrc;
	return srtp_err_status_ok;
}

/* The crypto policies mediasoup < 3.23 set by hand for each suite (SRTCP with a 32-bit RTP tag
 * keeps the 80-bit tag, as RFC 5764 profiles say). Other profiles are refused. */
static inline srtp_err_status_t srtp_policy_set_profile(srtp_policy_t policy, srtp_profile_t profile)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;
	switch (profile)
	{
		case srtp_profile_aead_aes_256_gcm:
			srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtp);
			srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy->rtcp);
			return srtp_err_status_ok;
		case srtp_profile_aead_aes_128_gcm:
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
			srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);
			return srtp_err_status_ok;
		case srtp_profile_aes128_cm_sha1_80:
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtp);
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
			return srtp_err_status_ok;
		case srtp_profile_aes128_cm_sha1_32:
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy->rtp);
			srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy->rtcp);
			return srtp_err_status_ok;
		default:
			return srtp_err_status_bad_param;
	}
}

/* libsrtp 2 reads one buffer, master key then master salt, of the length the cipher expects. */
static inline srtp_err_status_t srtp_policy_add_key(
  srtp_policy_t policy,
  const uint8_t* key,
  size_t key_len,
  const uint8_t* salt,
  size_t salt_len,
  const uint8_t* mki,
  size_t mki_len)
{
	if (policy == NULL || key == NULL || salt == NULL)
		return srtp_err_status_bad_param;
	/* One key per session and no MKI: what mediasoup uses; anything else would be silently wrong. */
	if (mki != NULL || mki_len != 0 || policy->key != NULL)
		return srtp_err_status_bad_mki;
	if (policy->rtp.cipher_key_len <= 0 || key_len + salt_len != (size_t)policy->rtp.cipher_key_len ||
	    key_len + salt_len > SRTP_MAX_KEY_LEN)
		return srtp_err_status_bad_param;
	policy->key = (unsigned char*)calloc(1, SRTP_MAX_KEY_LEN);
	if (policy->key == NULL)
		return srtp_err_status_alloc_fail;
	memcpy(policy->key, key, key_len);
	memcpy(policy->key + key_len, salt, salt_len);
	return srtp_err_status_ok;
}

static inline srtp_err_status_t srtp_policy_set_allow_repeat_tx(srtp_policy_t policy, int allow)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;
	policy->allow_repeat_tx = allow ? 1 : 0;
	return srtp_err_status_ok;
}

static inline srtp_err_status_t srtp_policy_set_window_size(srtp_policy_t policy, size_t window_size)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;
	policy->window_size = (unsigned long)window_size;
	return srtp_err_status_ok;
}

#define srtp_protect tiepdan_srtp3_protect
#define srtp_protect_rtcp tiepdan_srtp3_protect_rtcp
#define srtp_unprotect tiepdan_srtp3_unprotect
#define srtp_unprotect_rtcp tiepdan_srtp3_unprotect_rtcp
#define srtp_stream_remove srtp_remove_stream

#endif
