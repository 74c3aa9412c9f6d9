import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { RecordingJobsTable } from '../db/schema.ts';
import { leaseHeld, type AttemptWindow, type LeaseInfo, type LiveStore, type StoredJob } from './LiveStore.ts';

const ms = (ttlMs: number) => sql<Date>`now() + ${Math.max(0, Math.round(ttlMs))} * interval '1 millisecond'`;

function jobOfRow(row: Selectable<RecordingJobsTable>): StoredJob {
  return {
    id: row.id,
    kind: row.kind,
    sessionIds: row.session_ids,
    status: row.status,
    progress: row.progress,
    queuedAt: row.queued_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    result: row.result ?? null,
    // Written by saveJob/failUnfinishedJobs only, always this shape.
    error: (row.error ?? null) as StoredJob['error'],
  };
}

/** How long a "not ejected" / "not ended" answer is reused (another process's write shows within it). */
export const NEGATIVE_TTL_MS = 2_000;
/** Bounds the cache: a flood of joins with made-up token ids cannot grow it without limit. */
const MAX_CACHED_FACTS = 10_000;

/**
 * The PostgreSQL `LiveStore` (migration 0550), the server's default: on the application's pool,
 * so it needs no connection of its own and `close()` leaves the pool to its owner. Lease expiry is
 * judged by the database's clock (`now()`), so processes with skewed clocks agree on it.
 */
export class PgLiveStore implements LiveStore {
  readonly #db: Db;
  /**
   * Every join asks isEnded and isEjected, and a reconnecting client joins again and again: the
   * answers are kept here. A "yes" is kept for good (the application role may only insert into
   * those tables, so it cannot become "no"); a "no" for NEGATIVE_TTL_MS, which bounds how late
   * this process sees a write made by another one (this process's own writes are seen at once).
   */
  readonly #facts = new Map<string, { yes: boolean; until: number }>();

  constructor(db: Db) {
    this.#db = db;
  }

  async #known(key: string, read: () => Promise<boolean>): Promise<boolean> {
    const now = Date.now();
    const fact = this.#facts.get(key);
    if (fact !== undefined && (fact.yes || fact.until > now)) return fact.yes;
    const yes = await read();
    if (this.#facts.size >= MAX_CACHED_FACTS) this.#facts.clear();
    this.#facts.set(key, { yes, until: now + NEGATIVE_TTL_MS });
    return yes;
  }

  async eject(sessionId: string, tokenId: string): Promise<void> {
    await this.#db.insertInto('live_ejections').values({ session_id: sessionId, token_id: tokenId }).onConflict((oc) => oc.doNothing()).execute();
    this.#facts.set(`ejected\u0000${sessionId}\u0000${tokenId}`, { yes: true, until: Infinity });
  }

  async isEjected(sessionId: string, tokenId: string): Promise<boolean> {
    return this.#known(`ejected\u0000${sessionId}\u0000${tokenId}`, async () => {
      const row = await this.#db.selectFrom('live_ejections').select('token_id').where('session_id', '=', sessionId).where('token_id', '=', tokenId).executeTakeFirst();
      return row !== undefined;
    });
  }

  async markEnded(sessionId: string): Promise<void> {
    await this.#db.insertInto('live_ended_sessions').values({ session_id: sessionId }).onConflict((oc) => oc.doNothing()).execute();
    this.#facts.set(`ended\u0000${sessionId}`, { yes: true, until: Infinity });
  }

  async isEnded(sessionId: string): Promise<boolean> {
    return this.#known(`ended\u0000${sessionId}`, async () => {
      const row = await this.#db.selectFrom('live_ended_sessions').select('session_id').where('session_id', '=', sessionId).executeTakeFirst();
      return row !== undefined;
    });
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<void> {
    // One statement: taken when free, expired or already ours; otherwise no row comes back.
    const taken = await this.#db
      .insertInto('live_leases')
      .values({ name, holder, expires_at: ms(ttlMs) })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder: (eb) => eb.ref('excluded.holder'), expires_at: (eb) => eb.ref('excluded.expires_at'), acquired_at: sql<Date>`case when live_leases.holder = excluded.holder then live_leases.acquired_at else now() end` })
          .where((eb) => eb.or([eb('live_leases.expires_at', '<=', sql<Date>`now()`), eb('live_leases.holder', '=', eb.ref('excluded.holder'))])),
      )
      .returning('holder')
      .executeTakeFirst();
    if (taken !== undefined) return;
    const current = await this.lease(name);
    // Lapsed between the two statements: try once more rather than refuse a free lease.
    if (current === undefined) return this.acquireLease(name, holder, ttlMs);
    throw leaseHeld(current);
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const row = await this.#db.updateTable('live_leases').set({ expires_at: ms(ttlMs) }).where('name', '=', name).where('holder', '=', holder).returning('name').executeTakeFirst();
    return row !== undefined;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#db.deleteFrom('live_leases').where('name', '=', name).where('holder', '=', holder).execute();
  }

  async lease(name: string): Promise<LeaseInfo | undefined> {
    const row = await this.#db.selectFrom('live_leases').select(['name', 'holder', 'expires_at']).where('name', '=', name).where('expires_at', '>', sql<Date>`now()`).executeTakeFirst();
    return row === undefined ? undefined : { name: row.name, holder: row.holder, expiresAt: row.expires_at.getTime() };
  }

  async saveJob(job: StoredJob): Promise<void> {
    const values = {
      kind: job.kind,
      status: job.status,
      session_ids: job.sessionIds,
      progress: JSON.stringify(job.progress ?? null),
      queued_at: new Date(job.queuedAt),
      started_at: job.startedAt === null ? null : new Date(job.startedAt),
      finished_at: job.finishedAt === null ? null : new Date(job.finishedAt),
      result: job.result === undefined || job.result === null ? null : JSON.stringify(job.result),
      error: job.error === null ? null : JSON.stringify(job.error),
    };
    await this.#db
      .insertInto('recording_jobs')
      .values({ id: job.id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
  }

  async jobs(): Promise<StoredJob[]> {
    const rows = await this.#db.selectFrom('recording_jobs').selectAll().orderBy('queued_at').orderBy('id').execute();
    return rows.map(jobOfRow);
  }

  async failUnfinishedJobs(error: { code: string; message: string }, at: Date): Promise<number> {
    const r = await this.#db.updateTable('recording_jobs').set({ status: 'failed', finished_at: at, error: JSON.stringify(error) }).where('status', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async pruneJobs(options: { keep: number; before: Date }): Promise<number> {
    const keep = this.#db.selectFrom('recording_jobs').select('id').where('finished_at', 'is not', null).orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(Math.max(0, options.keep));
    const r = await this.#db
      .deleteFrom('recording_jobs')
      .where('finished_at', 'is not', null)
      .where((eb) => eb.or([eb('finished_at', '<', options.before), eb('id', 'not in', keep)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async hitAttempt(scope: string, key: string, windowMs: number, now: number): Promise<AttemptWindow> {
    const at = new Date(now);
    const resets = new Date(now + windowMs);
    // A closed window restarts at one; an open one counts on (one round trip, no lost increments).
    const row = await this.#db
      .insertInto('login_attempts')
      .values({ scope, key, count: 1, window_start: at, resets_at: resets })
      .onConflict((oc) =>
        oc.columns(['scope', 'key']).doUpdateSet({
          count: sql<number>`case when login_attempts.resets_at <= ${at} then 1 else login_attempts.count + 1 end`,
          window_start: sql<Date>`case when login_attempts.resets_at <= ${at} then excluded.window_start else login_attempts.window_start end`,
          resets_at: sql<Date>`case when login_attempts.resets_at <= ${at} then excluded.resets_at else login_attempts.resets_at end`,
        }),
      )
      .returning(['count', 'resets_at'])
      .executeTakeFirstOrThrow();
    return { count: row.count, resetsAt: row.resets_at.getTime() };
  }

  async attempts(scope: string, key: string, now: number): Promise<AttemptWindow | undefined> {
    const row = await this.#db.selectFrom('login_attempts').select(['count', 'resets_at']).where('scope', '=', scope).where('key', '=', key).where('resets_at', '>', new Date(now)).executeTakeFirst();
    return row === undefined ? undefined : { count: row.count, resetsAt: row.resets_at.getTime() };
  }

  async pruneAttempts(now: number): Promise<void> {
    await this.#db.deleteFrom('login_attempts').where('resets_at', '<=', new Date(now)).execute();
  }

  async close(): Promise<void> {}
}
