/**
 * What one viewer's downlink can carry, held with hysteresis, and the simulcast layer that fits it.
 *
 * Why the SFU needs this on top of mediasoup's own layer selection: mediasoup switches a viewer up
 * as soon as the *lowest temporal layer* of a higher spatial layer fits its bandwidth estimate. On a
 * commune link that barely carries that (250–400 kbps), the higher layer's key frame — tens of
 * kilobytes at once — overflows the modem's queue; its packets are lost, the browser asks for a new
 * key frame, the estimate falls, mediasoup switches down again: a freeze of several seconds each
 * round (measured 8 s at 250 kbps before this, docs/commune-networks.md). Holding such a viewer on
 * the layer whose *whole* bitrate fits, and raising only after the estimate has stayed high for a
 * few reports, trades resolution for a picture that keeps moving.
 *
 * The budget lowers at once (the link is already losing) and rises only after `raiseAfterReports`
 * consecutive estimates above it, to the lowest of them (a single probe spike does not count).
 */
export interface DownlinkBudgetOptions {
  /** Consecutive higher estimates (mediasoup reports one a second) before the budget rises. */
  raiseAfterReports: number;
  /** Bits per second kept for the viewer's audio and RTCP before any video layer is counted. */
  audioReserve: number;
}

export const DOWNLINK_BUDGET_DEFAULTS: DownlinkBudgetOptions = {
  raiseAfterReports: 3,
  // Opus at 32 kbps with FEC, 50 packets/s of IP/UDP/SRTP headers, RTCP: ~60 kbps per speaker.
  audioReserve: 60_000,
};

export class DownlinkBudget {
  readonly #options: DownlinkBudgetOptions;
  /** Starts at nothing: a viewer begins on the lowest layer (a small first key frame joins fastest). */
  #held = 0;
  #higher: number[] = [];

  constructor(options: Partial<DownlinkBudgetOptions> = {}) {
    this.#options = { ...DOWNLINK_BUDGET_DEFAULTS, ...options };
  }

  /** The bitrate video may currently count on, in bits per second. */
  get videoBitrate(): number {
    return Math.max(0, this.#held - this.#options.audioReserve);
  }

  /** Feeds one estimate (bits per second). Returns whether the held budget changed. */
  observe(availableBitrate: number): boolean {
    if (!Number.isFinite(availableBitrate) || availableBitrate < 0) return false;
    if (availableBitrate <= this.#held) {
      this.#higher = [];
      const changed = availableBitrate < this.#held;
      this.#held = availableBitrate;
      return changed;
    }
    this.#higher.push(availableBitrate);
    if (this.#higher.length < this.#options.raiseAfterReports) return false;
    this.#held = Math.min(...this.#higher);
    this.#higher = [];
    return true;
  }

  /**
   * The highest layer not above `wanted` whose whole bitrate fits. `layerBitrates[i]` is layer i's
   * maximum (the producer's encodings); a layer without a known bitrate is never chosen above 0.
   * The layer the viewer is on (`current`) is kept until the budget falls below `KEEP_SHARE` of its
   * bitrate: an estimate that wavers around a threshold does not switch layers (each switch costs a
   * key frame) every second.
   */
  layerFor(layerBitrates: readonly (number | undefined)[], wanted: number, current = 0): number {
    const video = this.videoBitrate;
    let layer = 0;
    for (let i = 1; i <= Math.min(wanted, layerBitrates.length - 1); i++) {
      const need = layerBitrates[i];
      if (need === undefined || need * (i <= current ? KEEP_SHARE : 1) > video) break;
      layer = i;
    }
    return layer;
  }
}

/** Share of a layer's bitrate below which a viewer already on it is moved down. */
const KEEP_SHARE = 0.8;
