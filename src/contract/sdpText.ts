/**
 * What a participant may put into text that ends up in SDP. SDP has no escaping: a CR or LF in a
 * value starts a new line (a new m-section, another a=ssrc), a space splits an attribute and a ';'
 * adds an fmtp parameter. Codec parameters, cname and msid that one participant sends are copied
 * by mediasoup to every consumer, written by mediasoup-client into every viewer's remote SDP and
 * by the recorder into FFmpeg's SDP (security review M2), so they are held to the characters
 * browsers actually use. The signaling schemas and the recorder's SDP writer share these rules.
 */

/** A codec or header-extension parameter name (`useinbandfec`, `profile-level-id`, `x-google-start-bitrate`). */
export const SDP_PARAM_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/** A string parameter value: printable ASCII without space or ';', at most 64 characters (empty is a bare key). */
export const SDP_PARAM_VALUE = /^[\x21-\x3a\x3c-\x7e]{0,64}$/;

/** An msid, "<stream id> <track id>" (RFC 8830): two tokens of printable ASCII, 1–64 characters each. */
export const SDP_MSID = /^[\x21-\x7e]{1,64}( [\x21-\x7e]{1,64})?$/;

/** An RTCP cname: printable ASCII without space, at most 64; empty too (Chromium's simulcast m-section has no a=ssrc, so no cname). */
export const SDP_CNAME = /^[\x21-\x7e]{0,64}$/;

/** Real codecs carry a handful of parameters; this bounds what one message can make the SFU copy around. */
export const MAX_SDP_PARAMETERS = 32;

/** True when `key=value` can be written into an fmtp line as it is. */
export function isSafeSdpParameter(key: string, value: unknown): boolean {
  if (!SDP_PARAM_KEY.test(key)) return false;
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && SDP_PARAM_VALUE.test(value);
}
