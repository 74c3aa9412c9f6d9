import { createSocket, type Socket } from 'node:dgram';

/** One RTCP sender report: the sender's wall-clock (NTP, as Unix seconds) for an RTP timestamp. */
export interface SenderReport {
  /**
   * Sender wall-clock as NTP seconds (since 1900; subtract 2208988800 for Unix time when the sender
   * clock is real time — browsers; mediasoup uses its own clock for senders that send no reports).
   */
  ntp: number;
  rtpTimestamp: number;
  ssrc: number;
  /** When the report arrived here, Unix seconds. */
  arrivedAt: number;
}

/** Parses the sender reports out of a (compound) RTCP packet. */
export function parseSenderReports(buf: Buffer, arrivedAt: number): SenderReport[] {
  const out: SenderReport[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    const version = (buf[off] ?? 0) >> 6;
    const pt = buf[off + 1] ?? 0;
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (version !== 2 || off + len > buf.length) break;
    if (pt === 200 && len >= 28) {
      const ssrc = buf.readUInt32BE(off + 4);
      const ntp = buf.readUInt32BE(off + 8) + buf.readUInt32BE(off + 12) / 2 ** 32;
      out.push({ ssrc, ntp, rtpTimestamp: buf.readUInt32BE(off + 16), arrivedAt });
    }
    off += len;
  }
  return out;
}

/**
 * Receives the consumer's RTCP (instead of FFmpeg, which needs none for a single stream) and keeps
 * the latest sender report: the RTP-to-sender-clock mapping that lip-syncs tracks later.
 */
export class RtcpTap {
  readonly #socket: Socket;
  latest: SenderReport | undefined;
  count = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (msg) => {
      for (const sr of parseSenderReports(msg, Date.now() / 1000)) {
        this.latest = sr;
        this.count++;
      }
    });
  }

  static async open(): Promise<RtcpTap> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new RtcpTap(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  close(): void {
    try {
      this.#socket.close();
    } catch {
      /* already closed */
    }
  }
}
