import { leaseHeld, type AttemptWindow, type LeaseInfo, type LiveStore, type StoredJob } from './LiveStore.ts';

/**
 * The in-process `LiveStore` for tests without a database and the in-memory dev directory:
 * forgets on restart. It keeps the same rules as PgLiveStore (the contract test runs both).
 */
export class MemoryLiveStore implements LiveStore {
  readonly #ejected = new Set<string>();
  readonly #ended = new Set<string>();
  readonly #leases = new Map<string, LeaseInfo>();
  readonly #jobs = new Map<string, StoredJob>();
  readonly #attempts = new Map<string, AttemptWindow>();
  /** The clock leases are judged by (PgLiveStore uses the database's). */
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async eject(sessionId: string, tokenId: string): Promise<void> {
    this.#ejected.add(`${sessionId}\u0000${tokenId}`);
  }

  async isEjected(sessionId: string, tokenId: string): Promise<boolean> {
    return this.#ejected.has(`${sessionId}\u0000${tokenId}`);
  }

  async markEnded(sessionId: string): Promise<void> {
    this.#ended.add(sessionId);
  }

  async isEnded(sessionId: string): Promise<boolean> {
    return this.#ended.has(sessionId);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<void> {
    const current = await this.lease(name);
    if (current !== undefined && current.holder !== holder) throw leaseHeld(current);
    this.#leases.set(name, { name, holder, expiresAt: this.#now() + ttlMs });
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    if ((await this.lease(name))?.holder !== holder) return false;
    this.#leases.set(name, { name, holder, expiresAt: this.#now() + ttlMs });
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (this.#leases.get(name)?.holder === holder) this.#leases.delete(name);
  }

  async lease(name: string): Promise<LeaseInfo | undefined> {
    const l = this.#leases.get(name);
    if (l === undefined || l.expiresAt <= this.#now()) return undefined;
    return { ...l };
  }

  async saveJob(job: StoredJob): Promise<void> {
    // A copy, as the database would hold: later changes to the caller's object are not stored.
    this.#jobs.set(job.id, structuredClone(job));
  }

  async jobs(): Promise<StoredJob[]> {
    return [...this.#jobs.values()].map((j) => structuredClone(j)).sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
  }

  async failUnfinishedJobs(error: { code: string; message: string }, at: Date): Promise<number> {
    let n = 0;
    for (const j of this.#jobs.values()) {
      if (j.status !== 'queued' && j.status !== 'running') continue;
      Object.assign(j, { status: 'failed', finishedAt: at.toISOString(), error: { ...error } });
      n++;
    }
    return n;
  }

  async pruneJobs(options: { keep: number; before: Date }): Promise<number> {
    const finished = [...this.#jobs.values()].filter((j) => j.finishedAt !== null).sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
    const cutoff = options.before.toISOString();
    let n = 0;
    for (const [i, j] of finished.entries()) {
      if (i >= options.keep || (j.finishedAt ?? '') < cutoff) {
        this.#jobs.delete(j.id);
        n++;
      }
    }
    return n;
  }

  async hitAttempt(scope: string, key: string, windowMs: number, now: number): Promise<AttemptWindow> {
    const k = `${scope}\u0000${key}`;
    const w = this.#attempts.get(k);
    if (w === undefined || w.resetsAt <= now) {
      const fresh = { count: 1, resetsAt: now + windowMs };
      this.#attempts.set(k, fresh);
      return { ...fresh };
    }
    w.count++;
    return { ...w };
  }

  async attempts(scope: string, key: string, now: number): Promise<AttemptWindow | undefined> {
    const w = this.#attempts.get(`${scope}\u0000${key}`);
    return w === undefined || w.resetsAt <= now ? undefined : { ...w };
  }

  async pruneAttempts(now: number): Promise<void> {
    for (const [k, w] of this.#attempts) if (w.resetsAt <= now) this.#attempts.delete(k);
  }

  async close(): Promise<void> {}
}
