import type { ChangeFeedEvents } from '../../db/changeFeed.ts';

/** The channel migrations/0560_session_list_changes.ts notifies on (the same literal there). */
export const SESSION_LIST_CHANNEL = 'tiepdan_session_list_changed';
/** Entries are read again after this long even without a change heard (a belt for the feed). */
export const LIST_CACHE_MAX_AGE_MS = 30_000;
/** Distinct filters × pages kept; the oldest goes first past it. */
const MAX_ENTRIES = 1_000;

/** What the cache needs of a change feed (src/db/changeFeed.ts); tests pass a fake. */
export interface ListChangeSource {
  readonly listening: boolean;
  on<E extends keyof ChangeFeedEvents>(event: E, listener: (...args: ChangeFeedEvents[E]) => void): unknown;
}

interface Entry<V> {
  generation: number;
  at: number;
  value: Promise<V>;
}

/**
 * Session list answers kept in memory (issue 14 item 4): the list's query cost ≈ 4 ms of
 * PostgreSQL CPU and as much in the server per request, so 50 clients could not pass ~200 req/s on
 * two cores. An answer is kept until anything it is made of changes:
 *
 * - Any process's write to those tables (sessions, their cases, points and participants, cases,
 *   settings, calendar) is heard through PostgreSQL NOTIFY at commit (a trigger per table,
 *   migration 0560): every entry is dropped. The bound for a write by another process (or by
 *   this one outside its HTTP API) is the notification's trip, milliseconds.
 * - This server's own API writes drop every entry when their response is sent (`invalidate`, from
 *   the control API's onSend hook): the commit is done by then, so a client's next list sees it.
 * - While the feed is not listening (not yet connected, connection lost), nothing is answered or
 *   kept from memory; coming up (or down) drops every entry, as writes may have been missed.
 * - An answer read while a change was heard is not kept (the generation moved during the read).
 *
 * Visibility: the key is the whole filter the route resolved, including the bridge point a
 * commune operator is confined to, so an operator's answer is never another caller's.
 */
export class SessionListCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  #source: ListChangeSource | undefined;
  #generation = 0;

  constructor(options: { now?: () => number; maxAgeMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxAgeMs = options.maxAgeMs ?? LIST_CACHE_MAX_AGE_MS;
  }

  /** Starts answering from memory while `source` listens; without one the cache stays off. */
  attach(source: ListChangeSource): void {
    this.#source = source;
    source.on('change', () => this.invalidate());
    source.on('state', () => this.invalidate());
    this.invalidate();
  }

  get active(): boolean {
    return this.#source?.listening === true;
  }

  /** Drops every entry; a read under way when this is called is not kept. */
  invalidate(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /**
   * The kept answer for `key`, or `load()`'s (shared by the requests that ask meanwhile: 50 clients
   * after a change make one query, not 50). A failed load is not kept.
   */
  get(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.active) return load();
    const now = this.#now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.generation === this.#generation && now - hit.at < this.#maxAgeMs) return hit.value;
    const generation = this.#generation;
    const value = load();
    const entry: Entry<V> = { generation, at: now, value };
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    value.then(
      () => {
        // Heard a change (or the feed went down) while reading: the answer may predate it.
        if (this.#generation !== generation || !this.active) this.#drop(key, entry);
      },
      () => this.#drop(key, entry),
    );
    return value;
  }

  #drop(key: string, entry: Entry<V>): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
  }
}
