/**
 * Recently verified credentials (issue 14 item 4): a user token's row (revoked? account active?
 * role, bridge point) and an API key's row were read from PostgreSQL on every request, one or two
 * round trips before the route's own query. They are kept here for a few seconds instead.
 *
 * What still holds:
 * - Everything the server itself changes takes effect at once: AuthService forgets the entries of a
 *   token, user or key in the same call that revokes the token, logs out, changes or disables the
 *   user, resets a password or revokes the key (every write to those rows is in AuthService).
 * - A change made behind the server's back (SQL by hand, another process on the same database)
 *   takes effect within `ttlMs` (AUTH_CACHE_TTL_MS below): the stated bound.
 * - The token's signature and expiry are still checked on every request (TokenSigner.verify), and
 *   an entry never outlives the token it holds. Failures are never kept: each one reads the row.
 * - Scopes are untouched: the cached value is the actor, and the route's roles are checked on it
 *   per request by the access hook as before.
 */
export const AUTH_CACHE_TTL_MS = 5_000;
/** Enough for every logged-in person and key at once; the oldest entry goes first past it. */
const MAX_ENTRIES = 10_000;

interface Entry<V> {
  value: V;
  /** Epoch ms after which the entry is read again from the database. */
  until: number;
  /** The user (or key) it belongs to, so that all of one user's entries can be forgotten. */
  owner: string;
}

export class VerifiedCredentials<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Counts forgets: a row read before a revocation must not be kept after it (see `set`). */
  #epoch = 0;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? AUTH_CACHE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Taken before reading the row; handed back to `set`. */
  epoch(): number {
    return this.#epoch;
  }

  /**
   * Keeps a verified credential until the TTL or `expiresAtMs` (the token's own expiry), whichever
   * is first. Not kept if anything was forgotten since `readAt` (the row was read before a
   * revocation that may concern it, and its request finished after): the next request reads again.
   */
  set(key: string, owner: string, value: V, readAt: number, expiresAtMs = Number.POSITIVE_INFINITY): void {
    if (readAt !== this.#epoch) return;
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.delete(key); // re-inserted last: the Map's order is the eviction order
    this.#entries.set(key, { value, owner, until: Math.min(this.#now() + this.#ttlMs, expiresAtMs) });
  }

  forget(key: string): void {
    this.#epoch++;
    this.#entries.delete(key);
  }

  /** Forgets every entry of one user or key (a walk over at most MAX_ENTRIES: revocations are rare). */
  forgetOwner(owner: string): void {
    this.#epoch++;
    for (const [key, entry] of this.#entries) if (entry.owner === owner) this.#entries.delete(key);
  }
}
