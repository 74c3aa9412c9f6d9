import { sql, type Kysely } from 'kysely';

// Recordings (issue 5): one row per recorded session. The files and their hash-chained manifest
// live under DATA_DIR/recordings/<session>/; this row anchors the manifest's head hash outside
// the files (a manifest rewritten wholesale no longer matches), and holds retention, legal hold
// and deletion. Who did what is written to the shared audit_log (src/domain/audit).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('recordings')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('recording', 'complete', 'interrupted', 'stopped', 'disk-full', 'deleted')`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .addColumn('head_hash', 'text')
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('retention_until', 'date')
    .addColumn('legal_hold', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('legal_hold_reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('archived_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted_by', 'text')
    .execute();
  await db.schema.createIndex('recordings_retention_idx').on('recordings').column('retention_until').execute();
}

/** Tables whose rows `down` destroys: `tiepdan migrate down` refuses while any holds a row (security review L12). */
export const downDestroys: readonly string[] = ['recordings'];

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('recordings').execute();
}
