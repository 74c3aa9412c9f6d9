/**
 * SRTP for the synthetic points' lean media path: protect and unprotect RTP with the session keys
 * werift derived after its DTLS handshake, without werift's per-packet objects. werift's own path
 * (an RtpHeader object per packet, its SRTP session, event plumbing, decrypting every packet it
 * receives) cost the load generator ~55 µs per packet; this one is a header template, one cipher
 * per packet, and authenticates only a sample of what arrives (SrtpReceiver).
 *
 * Profiles (RFC 5764 numbers, as werift stores them in `Context.profile`):
 * - 0x0007 AEAD_AES_128_GCM (RFC 7714 §8): IV = salt XOR (0x0000 ‖ SSRC ‖ ROC ‖ SEQ), AAD = the RTP
 *   header, a 16-byte tag after the ciphertext;
 * - 0x0001 AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2): counter = salt·2^16 XOR (SSRC·2^64 ‖
 *   ROC·2^16 ‖ SEQ)·2^16, tag = first 10 bytes of HMAC-SHA1(auth key, header ‖ ciphertext ‖ ROC).
 * The keys are the *session* keys (werift's Context.srtpSessionKey/Salt/AuthTag), made into
 * KeyObjects once: a Buffer key costs Node a key object on every createCipheriv (~30 µs, measured).
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export const PROFILE_AES_CM_128_HMAC_SHA1_80 = 0x0001;
export const PROFILE_AEAD_AES_128_GCM = 0x0007;
export type SrtpProfile = typeof PROFILE_AES_CM_128_HMAC_SHA1_80 | typeof PROFILE_AEAD_AES_128_GCM;

export interface SrtpSessionKeys {
  profile: SrtpProfile;
  /** 16-byte AES session key. */
  key: Buffer;
  /** Session salt: 12 bytes are used for GCM, 14 for AES-CM (werift stores 14 for both). */
  salt: Buffer;
  /** 20-byte HMAC-SHA1 session key (AES-CM only). */
  authKey?: Buffer;
}

const GCM_TAG = 16;
const HMAC_TAG = 10;

export function tagLength(profile: SrtpProfile): number {
  return profile === PROFILE_AEAD_AES_128_GCM ? GCM_TAG : HMAC_TAG;
}

/** Length of an RTP header (fixed part, CSRCs, header extension) in `packet`, or -1 if truncated. */
export function rtpHeaderLength(packet: Buffer): number {
  if (packet.length < 12) return -1;
  let n = 12 + 4 * (packet[0]! & 0x0f);
  if ((packet[0]! & 0x10) !== 0) {
    if (packet.length < n + 4) return -1;
    n += 4 + 4 * packet.readUInt16BE(n + 2);
  }
  return n <= packet.length ? n : -1;
}

/** The cipher state of one direction: what both protect and unprotect need. */
class SrtpKeys {
  readonly profile: SrtpProfile;
  readonly tagLength: number;
  readonly #key: KeyObject;
  readonly #salt: Buffer;
  readonly #auth: KeyObject | undefined;
  /** Scratch IV/counter, rewritten per packet (createCipheriv copies it). */
  readonly #iv: Buffer;

  constructor(k: SrtpSessionKeys) {
    this.profile = k.profile;
    this.tagLength = tagLength(k.profile);
    this.#key = createSecretKey(k.key);
    const gcm = k.profile === PROFILE_AEAD_AES_128_GCM;
    if (k.salt.length < (gcm ? 12 : 14)) throw new Error('SRTP session salt too short');
    this.#salt = Buffer.from(k.salt.subarray(0, gcm ? 12 : 14));
    if (!gcm && (k.authKey === undefined || k.authKey.length !== 20)) throw new Error('AES-CM needs a 20-byte SRTP authentication key');
    this.#auth = gcm ? undefined : createSecretKey(k.authKey!);
    this.#iv = Buffer.alloc(gcm ? 12 : 16);
  }

  #ivFor(ssrc: number, roc: number, seq: number): Buffer {
    const iv = this.#iv;
    iv.fill(0);
    if (this.profile === PROFILE_AEAD_AES_128_GCM) {
      // RFC 7714 §8.1: 0x0000 ‖ SSRC ‖ ROC ‖ SEQ, then XOR the 96-bit salt.
      iv.writeUInt32BE(ssrc >>> 0, 2);
      iv.writeUInt32BE(roc >>> 0, 6);
      iv.writeUInt16BE(seq, 10);
    } else {
      // RFC 3711 §4.1.1: (SSRC·2^64 XOR index·2^16) in 128 bits, the low 16 bits the block counter.
      iv.writeUInt32BE(ssrc >>> 0, 4);
      iv.writeUInt32BE(roc >>> 0, 8);
      iv.writeUInt16BE(seq, 12);
    }
    for (let i = 0; i < this.#salt.length; i++) iv[i]! ^= this.#salt[i]!;
    return iv;
  }

  #hmac(roc: number, ...parts: Buffer[]): Buffer {
    const h = createHmac('sha1', this.#auth!);
    for (const p of parts) h.update(p);
    const r = Buffer.allocUnsafe(4);
    r.writeUInt32BE(roc >>> 0, 0);
    return h.update(r).digest().subarray(0, HMAC_TAG);
  }

  /** header ‖ E(payload parts) ‖ tag; `header` is the exact bytes sent (the AAD / authenticated part). */
  protect(header: Buffer, payload: readonly Buffer[], ssrc: number, seq: number, roc: number): Buffer {
    const iv = this.#ivFor(ssrc, roc, seq);
    if (this.profile === PROFILE_AEAD_AES_128_GCM) {
      const c = createCipheriv('aes-128-gcm', this.#key, iv);
      c.setAAD(header);
      const parts = [header];
      for (const p of payload) parts.push(c.update(p));
      c.final();
      parts.push(c.getAuthTag());
      return Buffer.concat(parts);
    }
    const c = createCipheriv('aes-128-ctr', this.#key, iv);
    const parts = [header];
    for (const p of payload) parts.push(c.update(p));
    const tag = this.#hmac(roc, ...parts);
    parts.push(tag);
    return Buffer.concat(parts);
  }

  /** The RTP packet in clear, or undefined if it does not authenticate. */
  unprotect(packet: Buffer, headerLength: number, ssrc: number, seq: number, roc: number): Buffer | undefined {
    const tagAt = packet.length - this.tagLength;
    if (tagAt < headerLength) return undefined;
    const header = packet.subarray(0, headerLength);
    const body = packet.subarray(headerLength, tagAt);
    const tag = packet.subarray(tagAt);
    const iv = this.#ivFor(ssrc, roc, seq);
    if (this.profile === PROFILE_AEAD_AES_128_GCM) {
      const d = createDecipheriv('aes-128-gcm', this.#key, iv);
      d.setAAD(header);
      d.setAuthTag(tag);
      const clear = d.update(body);
      try {
        d.final();
      } catch {
        return undefined;
      }
      return Buffer.concat([header, clear]);
    }
    if (!timingSafeEqual(tag, this.#hmac(roc, header, body))) return undefined;
    const d = createDecipheriv('aes-128-ctr', this.#key, iv);
    return Buffer.concat([header, d.update(body)]);
  }
}

/** Outbound: one per transport; the caller tracks each stream's ROC (RtpTemplate does). */
export class SrtpSender {
  readonly #keys: SrtpKeys;

  constructor(k: SrtpSessionKeys) {
    this.#keys = new SrtpKeys(k);
  }

  protect(header: Buffer, payload: readonly Buffer[], ssrc: number, seq: number, roc: number): Buffer {
    return this.#keys.protect(header, payload, ssrc, seq, roc);
  }
}

/** RFC 3711 §3.3.1's index estimate for one received SSRC (s_l and ROC). */
class RocTracker {
  #roc = 0;
  #highest = -1;

  /** ROC for `seq`, updating the state as if the packet were authentic (the bench trusts its server). */
  next(seq: number): number {
    if (this.#highest < 0) {
      this.#highest = seq;
      return 0;
    }
    const s = this.#highest;
    let v = this.#roc;
    if (s < 0x8000) {
      if (seq - s > 0x8000) v = this.#roc - 1;
    } else if (s - 0x8000 > seq) v = this.#roc + 1;
    if (v === this.#roc + 1) {
      this.#roc = v;
      this.#highest = seq;
    } else if (v === this.#roc && seq > s) this.#highest = seq;
    return v >>> 0;
  }
}

/**
 * Inbound: reads SSRC and sequence number from the cleartext header, tracks the ROC of every SSRC,
 * and authenticates-and-decrypts the first packet of each SSRC and then one in `checkEvery`, so
 * the bench still proves that what it counts is valid SRTP from the server without paying for a
 * decryption per packet.
 */
export class SrtpReceiver {
  readonly #keys: SrtpKeys;
  readonly #checkEvery: number;
  readonly #streams = new Map<number, { roc: RocTracker; seen: number }>();
  checked = 0;
  failures = 0;

  constructor(k: SrtpSessionKeys, checkEvery = 16) {
    this.#keys = new SrtpKeys(k);
    this.#checkEvery = Math.max(1, Math.floor(checkEvery));
  }

  /**
   * Reads one SRTP packet: its SSRC, sequence number and size (payload + 12, as the bench counted
   * with werift); `clear` is set when this packet was the one checked and it authenticated. Undefined for
   * a truncated packet or a failed check (counted in `failures`).
   */
  receive(packet: Buffer): { ssrc: number; seq: number; size: number; clear?: Buffer } | undefined {
    const headerLength = rtpHeaderLength(packet);
    if (headerLength < 0 || packet.length < headerLength + this.#keys.tagLength) {
      this.failures++;
      return undefined;
    }
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    let s = this.#streams.get(ssrc);
    if (s === undefined) {
      s = { roc: new RocTracker(), seen: 0 };
      this.#streams.set(ssrc, s);
    }
    const roc = s.roc.next(seq);
    const size = packet.length - this.#keys.tagLength - headerLength + 12;
    if (s.seen++ % this.#checkEvery !== 0) return { ssrc, seq, size };
    this.checked++;
    const clear = this.#keys.unprotect(packet, headerLength, ssrc, seq, roc);
    if (clear === undefined) {
      this.failures++;
      return undefined;
    }
    return { ssrc, seq, size, clear };
  }
}
