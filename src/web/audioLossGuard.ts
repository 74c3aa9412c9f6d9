import type { types } from 'mediasoup-client';
import type { InboundRtpStats } from './inboundStats.ts';

/**
 * Speech on a lossy commune link: Opus NACK can only bring back a lost packet that arrives before
 * its playout time, and on a clean link the browser keeps its jitter buffer as short as it can
 * (tens of milliseconds: one or two retransmission rounds). When an audio receiver is seen asking
 * for retransmissions or losing packets, its jitter buffer target is raised so that several NACK
 * rounds fit (at 20 % loss each way one round leaves ~7 % lost, four rounds ~0.3 %); when the link
 * has been clean for a while it goes back to the browser's own choice. Browsers without
 * `jitterBufferTarget` (Firefox ESR) simply keep theirs.
 */

/** Target while the link loses packets: room for about five retransmission rounds. */
const LOSSY_TARGET_MS = 150;
/** NACKed or lost packets per received packet above which a link counts as lossy. */
const LOSSY_RATIO = 0.02;
/** Checks in a row under a tenth of that before the target is given back. */
const CLEAN_CHECKS = 10;
const CHECK_MS = 2000;

interface Watched {
  consumer: types.Consumer;
  last: { received: number; lost: number; nacks: number } | undefined;
  raised: boolean;
  cleanChecks: number;
}

/** The stats of the watched consumers, keyed by consumer id (LiveClient reads them with one getStats of the transport). */
export type InboundStatsReader = (consumers: readonly types.Consumer[]) => Promise<Map<string, InboundRtpStats[]>>;

export class AudioLossGuard {
  readonly #watched = new Map<string, Watched>();
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #read: InboundStatsReader;

  constructor(read: InboundStatsReader) {
    this.#read = read;
  }

  watch(consumer: types.Consumer): void {
    if (consumer.kind !== 'audio' || consumer.rtpReceiver === undefined || !('jitterBufferTarget' in consumer.rtpReceiver)) return;
    this.#watched.set(consumer.id, { consumer, last: undefined, raised: false, cleanChecks: 0 });
    this.#timer ??= setInterval(() => void this.#check(), CHECK_MS);
  }

  unwatch(consumerId: string): void {
    this.#watched.delete(consumerId);
    if (this.#watched.size === 0) this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#watched.clear();
  }

  async #check(): Promise<void> {
    const watched = [...this.#watched.values()].filter((w) => !w.consumer.closed);
    const stats = await this.#read(watched.map((w) => w.consumer));
    for (const w of watched) {
      const r = stats.get(w.consumer.id)?.[0];
      if (r === undefined) continue; // closed meanwhile, or not reported yet
      const now: Watched['last'] = { received: r.packetsReceived ?? 0, lost: r.packetsLost ?? 0, nacks: r.nackCount ?? 0 };
      const before = w.last;
      w.last = now;
      if (before === undefined) continue;
      const received = now.received - before.received;
      if (received <= 0) continue;
      const ratio = (now.lost - before.lost + (now.nacks - before.nacks)) / received;
      const receiver = w.consumer.rtpReceiver as RTCRtpReceiver;
      if (ratio >= LOSSY_RATIO) {
        w.cleanChecks = 0;
        if (!w.raised) receiver.jitterBufferTarget = LOSSY_TARGET_MS;
        w.raised = true;
      } else if (w.raised && ratio < LOSSY_RATIO / 10 && ++w.cleanChecks >= CLEAN_CHECKS) {
        receiver.jitterBufferTarget = null;
        w.raised = false;
      }
    }
  }
}
