import { sql, type Kysely } from 'kysely';

// The live store (issue 12 item 3, src/store/PgLiveStore.ts): what the live side must remember
// across a restart, which until now sat in process memory. An ejected invitation stays out, a
// session the host ended stays ended, one process records a session at a time (a lease that
// expires when its holder dies), the recording jobs keep their outcome, and the login counters
// keep counting. The application role gets SELECT/INSERT/UPDATE/DELETE on these tables through
// the default privileges (src/db/roles.ts): it writes, renews and prunes them; nothing else.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('live_ejections')
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('token_id', 'text', (c) => c.notNull())
    .addColumn('ejected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('live_ejections_pkey', ['session_id', 'token_id'])
    .execute();
  await db.schema
    .createTable('live_ended_sessions')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    .addColumn('ended_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Expiry is judged by the database's clock, so two processes never disagree on who holds it.
  await db.schema
    .createTable('live_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('acquired_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('recording_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('queued', 'running', 'done', 'failed')`))
    .addColumn('session_ids', sql`text[]`, (c) => c.notNull())
    .addColumn('progress', 'jsonb', (c) => c.notNull())
    .addColumn('queued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('result', 'jsonb')
    .addColumn('error', 'jsonb')
    .execute();
  await db.schema.createIndex('recording_jobs_finished_at').on('recording_jobs').column('finished_at').execute();
  // Fixed windows: the row says when its window closes, so pruning needs no per-scope length.
  await db.schema
    .createTable('login_attempts')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('resets_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_attempts_pkey', ['scope', 'key'])
    .execute();
  await db.schema.createIndex('login_attempts_resets_at').on('login_attempts').column('resets_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('login_attempts').execute();
  await db.schema.dropTable('recording_jobs').execute();
  await db.schema.dropTable('live_leases').execute();
  await db.schema.dropTable('live_ended_sessions').execute();
  await db.schema.dropTable('live_ejections').execute();
}

/**
 * Tables whose data `down` destroys (security review L12): the ejections (an ejected commune could
 * rejoin its session), host-ended sessions, recorder leases, the jobs' outcomes and the login
 * counters. None is evidence (the audit log keeps who ejected, ended and exported), but an
 * ejection dropped while its session is live lets the point back in.
 */
export const downDestroys: readonly string[] = ['login_attempts', 'recording_jobs', 'live_leases', 'live_ended_sessions', 'live_ejections'];
