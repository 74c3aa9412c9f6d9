/**
 * Fixed-window counter of login attempts per client address: slows down password guessing across
 * many user names (the per-account lockout handles guessing one account).
 */
export class LoginRateLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(max: number, windowMs: number) {
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Counts an attempt; returns the seconds to wait when over the limit, else 0. */
  hit(key: string, now: number = Date.now()): number {
    const w = this.#windows.get(key);
    if (w === undefined || now - w.start >= this.#windowMs) {
      this.#windows.set(key, { start: now, count: 1 });
      if (this.#windows.size > 10_000) this.#prune(now);
      return 0;
    }
    w.count++;
    return w.count > this.#max ? Math.ceil((w.start + this.#windowMs - now) / 1000) : 0;
  }

  /** The seconds to wait when `key` has used up its attempts, without counting one (for counters of failures only). */
  waitFor(key: string, now: number = Date.now()): number {
    const w = this.#windows.get(key);
    if (w === undefined || now - w.start >= this.#windowMs || w.count < this.#max) return 0;
    return Math.ceil((w.start + this.#windowMs - now) / 1000);
  }

  #prune(now: number): void {
    for (const [key, w] of this.#windows) if (now - w.start >= this.#windowMs) this.#windows.delete(key);
  }
}
