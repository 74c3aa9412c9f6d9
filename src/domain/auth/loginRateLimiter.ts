import type { LiveStore } from '../../store/LiveStore.ts';

/** How often a limiter asks the store to forget closed windows (attempts are rare; this is cheap). */
const PRUNE_EVERY_MS = 60_000;

/**
 * Fixed-window counter of attempts per key (a client address, an invitation): slows down password
 * guessing across many user names (the per-account lockout handles guessing one account), join
 * code guessing and result floods. The counters live in the LiveStore (PostgreSQL on the server),
 * so a restart does not hand a guesser a fresh set of attempts (issue 12 item 3); `scope` keeps
 * each limiter's counters apart.
 */
export class LoginRateLimiter {
  readonly #store: LiveStore;
  readonly #scope: string;
  readonly #max: number;
  readonly #windowMs: number;
  #prunedAt = 0;

  constructor(store: LiveStore, scope: string, max: number, windowMs: number) {
    this.#store = store;
    this.#scope = scope;
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Counts an attempt; returns the seconds to wait when over the limit, else 0. */
  async hit(key: string, now: number = Date.now()): Promise<number> {
    const w = await this.#store.hitAttempt(this.#scope, key, this.#windowMs, now);
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = now;
      // Not awaited: forgetting old windows never delays an answer, and a failure only keeps rows longer.
      void this.#store.pruneAttempts(now).catch(() => undefined);
    }
    return w.count > this.#max ? Math.ceil((w.resetsAt - now) / 1000) : 0;
  }

  /** The seconds to wait when `key` has used up its attempts, without counting one (for counters of failures only). */
  async waitFor(key: string, now: number = Date.now()): Promise<number> {
    const w = await this.#store.attempts(this.#scope, key, now);
    if (w === undefined || w.count < this.#max) return 0;
    return Math.ceil((w.resetsAt - now) / 1000);
  }
}
