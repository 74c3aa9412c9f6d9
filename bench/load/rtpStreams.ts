/**
 * RTP packetization of the pre-encoded media (RFC 7587 Opus, RFC 7741 VP8) and what a receiver
 * needs to count loss (RFC 3550 A.3: extended highest sequence number against packets received).
 * Header extensions carry the mid and, for simulcast, the rid, as a browser sends them, so the SFU
 * maps each layer to the producer exactly as it does for Chromium. Headers are serialized from a
 * per-stream template (no werift RtpHeader objects): the lean path protects them with srtp.ts.
 */
import { randomInt } from 'node:crypto';

export const EXT_MID = 1;
export const EXT_RID = 2;
export const EXT_AUDIO_LEVEL = 3;
export const URI_MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
export const URI_RID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
export const URI_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** Room for SRTP's tag and the IP/UDP headers under a 1280-byte path MTU. */
const MAX_VP8_PAYLOAD = 1100;

/** One RTP packet ready for SrtpSender.protect: the header bytes, the payload in parts, its index. */
export interface Packet {
  header: Buffer;
  payload: Buffer[];
  ssrc: number;
  seq: number;
  /** Rollover counter (RFC 3711 §3.3.1): how often this stream's sequence number wrapped. */
  roc: number;
}

/**
 * The header of every packet of a stream, serialized once (RFC 3550 fixed header plus RFC 8285
 * one-byte extensions: mid, rid, and the audio level's slot); a packet copies it and writes its
 * marker, sequence number, timestamp and level in place. No per-packet header objects.
 */
function headerTemplate(payloadType: number, ssrc: number, extensions: { id: number; payload: Buffer }[]): Buffer {
  const elements = extensions.reduce((n, e) => n + 1 + e.payload.length, 0);
  const words = Math.ceil(elements / 4);
  const h = Buffer.alloc(12 + 4 + 4 * words);
  h[0] = 0x90; // V=2, X=1
  h[1] = payloadType & 0x7f;
  h.writeUInt32BE(ssrc, 8);
  h.writeUInt16BE(0xbede, 12);
  h.writeUInt16BE(words, 14);
  let at = 16;
  for (const e of extensions) {
    h[at++] = (e.id << 4) | (e.payload.length - 1);
    e.payload.copy(h, at);
    at += e.payload.length;
  }
  return h;
}

export class OutboundStream {
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  #seq = randomInt(0, 2 ** 16);
  #roc = 0;
  #ts = randomInt(0, 2 ** 32);
  #pictureId = randomInt(0, 2 ** 15);
  packets = 0;
  bytes = 0;
  readonly #template: Buffer;
  /** Offset of the audio-level byte in the template, or -1 (video). */
  readonly #levelAt: number;

  /** `rid` for a simulcast layer; `audioLevel` reserves the RFC 6464 slot (after the mid) that opus() fills. */
  constructor(payloadType: number, mid: string, o: { rid?: string; audioLevel?: boolean } = {}) {
    const extensions = [{ id: EXT_MID, payload: Buffer.from(mid, 'ascii') }];
    let levelAt = -1;
    if (o.audioLevel === true) {
      levelAt = 16 + 1 + extensions[0]!.payload.length + 1;
      extensions.push({ id: EXT_AUDIO_LEVEL, payload: Buffer.from([0x80 | 127]) });
    }
    if (o.rid !== undefined) extensions.push({ id: EXT_RID, payload: Buffer.from(o.rid, 'ascii') });
    this.#template = headerTemplate(payloadType, this.ssrc, extensions);
    this.#levelAt = levelAt;
  }

  #packet(marker: boolean, payload: Buffer[]): Packet {
    const header = Buffer.allocUnsafe(this.#template.length);
    this.#template.copy(header);
    if (marker) header[1]! |= 0x80;
    header.writeUInt16BE(this.#seq, 2);
    header.writeUInt32BE(this.#ts, 4);
    const p = { header, payload, ssrc: this.ssrc, seq: this.#seq, roc: this.#roc };
    this.#seq = (this.#seq + 1) & 0xffff;
    if (this.#seq === 0) this.#roc = (this.#roc + 1) >>> 0;
    this.packets++;
    for (const b of payload) this.bytes += b.length;
    this.bytes += 12;
    return p;
  }

  /** One Opus packet; `levelDbov` 0 (loud) … 127 (silence) goes in the audio-level extension (RFC 6464). */
  opus(frame: Buffer, levelDbov: number, samples = 960): Packet[] {
    const p = this.#packet(false, [frame]);
    if (this.#levelAt >= 0) p.header[this.#levelAt] = 0x80 | Math.min(127, Math.max(0, Math.round(levelDbov)));
    this.#ts = (this.#ts + samples) >>> 0;
    return [p];
  }

  /** One VP8 frame cut into packets behind a payload descriptor with a 15-bit picture id. */
  vp8(frame: Buffer, ticks: number): Packet[] {
    const out: Packet[] = [];
    const pid = this.#pictureId;
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    for (let off = 0; off < frame.length; off += MAX_VP8_PAYLOAD) {
      const chunk = frame.subarray(off, off + MAX_VP8_PAYLOAD);
      // Descriptor and chunk in one buffer: one cipher update per packet (each costs ~3 µs of Node, measured).
      const payload = Buffer.allocUnsafe(4 + chunk.length);
      payload[0] = 0x80 | (off === 0 ? 0x10 : 0);
      payload[1] = 0x80;
      payload[2] = 0x80 | (pid >> 8);
      payload[3] = pid & 0xff;
      chunk.copy(payload, 4);
      out.push(this.#packet(off + MAX_VP8_PAYLOAD >= frame.length, [payload]));
    }
    this.#ts = (this.#ts + ticks) >>> 0;
    return out;
  }
}

/** Loss of one received stream from its sequence numbers (RFC 3550 A.3, without the probation). */
export class InboundStream {
  packets = 0;
  bytes = 0;
  #base = -1;
  #maxExt = -1;
  #cycles = 0;
  #maxSeq = -1;
  lastAt = 0;

  receive(seq: number, size: number, now: number): void {
    this.packets++;
    this.bytes += size;
    this.lastAt = now;
    if (this.#base < 0) {
      this.#base = seq;
      this.#maxSeq = seq;
      this.#maxExt = seq;
      return;
    }
    const delta = (seq - this.#maxSeq + 0x10000) & 0xffff;
    if (delta > 0 && delta < 0x8000) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
      this.#maxExt = this.#cycles + seq;
    }
  }

  /** Packets expected from the first to the highest sequence number seen. */
  get expected(): number {
    return this.#base < 0 ? 0 : this.#maxExt - this.#base + 1;
  }

  /** Expected minus received; duplicates (retransmissions) can make it negative, so it is floored at 0. */
  get lost(): number {
    return Math.max(0, this.expected - this.packets);
  }
}
