/**
 * RTP packetization of the pre-encoded media (RFC 7587 Opus, RFC 7741 VP8) and what a receiver
 * needs to count loss (RFC 3550 A.3: extended highest sequence number against packets received).
 * Header extensions carry the mid and, for simulcast, the rid, as a browser sends them, so the SFU
 * maps each layer to the producer exactly as it does for Chromium.
 */
import { randomInt } from 'node:crypto';
import { RtpHeader } from 'werift';

export const EXT_MID = 1;
export const EXT_RID = 2;
export const EXT_AUDIO_LEVEL = 3;
export const URI_MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
export const URI_RID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
export const URI_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** Room for SRTP's tag and the IP/UDP headers under a 1280-byte path MTU. */
const MAX_VP8_PAYLOAD = 1100;

export interface Packet {
  header: RtpHeader;
  payload: Buffer;
}

export class OutboundStream {
  readonly ssrc = randomInt(1, 2 ** 32 - 1);
  #seq = randomInt(0, 2 ** 16);
  #ts = randomInt(0, 2 ** 32);
  #pictureId = randomInt(0, 2 ** 15);
  packets = 0;
  bytes = 0;
  readonly #payloadType: number;
  readonly #extensions: { id: number; payload: Buffer }[];

  constructor(payloadType: number, mid: string, rid?: string) {
    this.#payloadType = payloadType;
    this.#extensions = [{ id: EXT_MID, payload: Buffer.from(mid, 'ascii') }];
    if (rid !== undefined) this.#extensions.push({ id: EXT_RID, payload: Buffer.from(rid, 'ascii') });
  }

  #header(marker: boolean, extra: { id: number; payload: Buffer }[] = []): RtpHeader {
    const header = new RtpHeader({
      payloadType: this.#payloadType,
      sequenceNumber: this.#seq,
      timestamp: this.#ts,
      ssrc: this.ssrc,
      marker,
      extensions: extra.length === 0 ? this.#extensions : [...this.#extensions, ...extra],
    });
    this.#seq = (this.#seq + 1) & 0xffff;
    return header;
  }

  /** One Opus packet; `levelDbov` 0 (loud) … 127 (silence) goes in the audio-level extension (RFC 6464). */
  opus(frame: Buffer, levelDbov: number, samples = 960): Packet[] {
    const level = Buffer.from([0x80 | Math.min(127, Math.max(0, Math.round(levelDbov)))]);
    const p = { header: this.#header(false, [{ id: EXT_AUDIO_LEVEL, payload: level }]), payload: frame };
    this.#ts = (this.#ts + samples) >>> 0;
    this.count(p);
    return [p];
  }

  /** One VP8 frame cut into packets behind a payload descriptor with a 15-bit picture id. */
  vp8(frame: Buffer, ticks: number): Packet[] {
    const out: Packet[] = [];
    const pid = this.#pictureId;
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    for (let off = 0; off < frame.length; off += MAX_VP8_PAYLOAD) {
      const chunk = frame.subarray(off, off + MAX_VP8_PAYLOAD);
      const descriptor = Buffer.from([0x80 | (off === 0 ? 0x10 : 0), 0x80, 0x80 | (pid >> 8), pid & 0xff]);
      const p = { header: this.#header(off + MAX_VP8_PAYLOAD >= frame.length), payload: Buffer.concat([descriptor, chunk]) };
      this.count(p);
      out.push(p);
    }
    this.#ts = (this.#ts + ticks) >>> 0;
    return out;
  }

  private count(p: Packet): void {
    this.packets++;
    this.bytes += p.payload.length + 12;
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
