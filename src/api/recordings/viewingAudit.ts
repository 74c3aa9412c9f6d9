/**
 * One audit row per viewing, not per range request. A player fetches one viewing of a segment or
 * the playable copy in many ranges (and seeks); the first request of a person for a file is
 * audited, and their further requests for it within `windowMs` belong to the same viewing.
 * Deciding by the request (not by "the range starts at byte 0", which `bytes=1-` or `bytes=-N`
 * would dodge) means no download goes unrecorded.
 */
export class ViewingAudit {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #seen = new Map<string, number>();

  constructor(options: { windowMs?: number; maxEntries?: number } = {}) {
    this.#windowMs = options.windowMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** True when this request starts a viewing (and so is to be audited); records it. */
  starts(key: string, now = Date.now()): boolean {
    const last = this.#seen.get(key);
    // Every request extends the viewing: a long playback with seeks stays one row.
    this.#seen.delete(key);
    this.#seen.set(key, now);
    if (this.#seen.size > this.#maxEntries) this.#prune(now);
    return last === undefined || now - last > this.#windowMs;
  }

  #prune(now: number): void {
    for (const [k, at] of this.#seen) {
      if (now - at <= this.#windowMs && this.#seen.size <= this.#maxEntries) break;
      this.#seen.delete(k);
    }
  }
}
