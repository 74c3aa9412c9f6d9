import { sql, type Kysely } from 'kysely';

// Recording governance (security review H2): no single person destroys a recording.
// - Who set the retention date in force and who set / released the legal hold are kept on the
//   row, because deletion checks them (the deleter must be someone else).
// - A deleted recording leaves a tombstone: what was there (manifest head hash, manifest file
//   SHA-256, segments, bytes), who deleted it, why and when. Tombstones are append-only: the
//   database refuses to change or remove one (the application never does).
// - A deleted recording stays deleted: its row cannot be switched back to another status.
// Table types: src/recording/governance/governanceTables.ts.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('recordings')
    .addColumn('retention_set_by', 'text')
    .addColumn('retention_set_at', 'timestamptz')
    .addColumn('legal_hold_set_by', 'text')
    .addColumn('legal_hold_set_at', 'timestamptz')
    .addColumn('legal_hold_released_by', 'text')
    .addColumn('legal_hold_released_role', 'text')
    .addColumn('legal_hold_released_at', 'timestamptz')
    .addColumn('legal_hold_release_reason', 'text', (c) => c.notNull().defaultTo(''))
    .execute();

  await db.schema
    .createTable('recording_tombstones')
    .addColumn('session_id', 'text', (c) => c.primaryKey().references('recordings.session_id'))
    .addColumn('deleted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_by', 'text', (c) => c.notNull())
    .addColumn('deleted_by_label', 'text', (c) => c.notNull())
    .addColumn('deleted_by_role', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('recording_status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('ended_at', 'text')
    .addColumn('head_hash', 'text')
    .addColumn('manifest_sha256', 'text')
    .addColumn('entries', 'integer', (c) => c.notNull())
    .addColumn('segments', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('retention_until', 'date')
    .addColumn('retention_set_by', 'text')
    .addColumn('legal_hold_released_by', 'text')
    .addColumn('audit_seq', 'bigint')
    .execute();

  await sql`
    create function recording_tombstones_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'recording_tombstones is append-only';
    end $$`.execute(db);
  await sql`create trigger recording_tombstones_no_update before update or delete on recording_tombstones for each row execute function recording_tombstones_append_only()`.execute(db);
  await sql`create trigger recording_tombstones_no_truncate before truncate on recording_tombstones for each statement execute function recording_tombstones_append_only()`.execute(db);

  await sql`
    create function recordings_stay_deleted() returns trigger language plpgsql as $$
    begin
      if old.status = 'deleted' and new.status is distinct from 'deleted' then
        raise exception 'recording % was deleted; its row cannot come back', old.session_id;
      end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger recordings_stay_deleted before update on recordings for each row execute function recordings_stay_deleted()`.execute(db);
}

/** Tables whose rows `down` destroys: `tiepdan migrate down` refuses while any holds a row (security review L12). */
// recordings loses who set retention and holds, and when.
export const downDestroys: readonly string[] = ['recording_tombstones', 'recordings'];

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger recordings_stay_deleted on recordings`.execute(db);
  await sql`drop function recordings_stay_deleted()`.execute(db);
  await db.schema.dropTable('recording_tombstones').execute();
  await sql`drop function recording_tombstones_append_only()`.execute(db);
  await db.schema
    .alterTable('recordings')
    .dropColumn('retention_set_by')
    .dropColumn('retention_set_at')
    .dropColumn('legal_hold_set_by')
    .dropColumn('legal_hold_set_at')
    .dropColumn('legal_hold_released_by')
    .dropColumn('legal_hold_released_role')
    .dropColumn('legal_hold_released_at')
    .dropColumn('legal_hold_release_reason')
    .execute();
}
