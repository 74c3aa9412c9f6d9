import { sql, type Kysely } from 'kysely';

// Versioned minutes (issue 11 item 5; security review M12): every save of the biên bản is kept as a
// numbered version; a save based on an older version than the latest is refused
// (MINUTES_VERSION_CONFLICT) instead of silently overwriting a colleague's text. Versions are
// append-only (the database refuses changes); `minutes` keeps the latest text for readers. Once the
// session is archived no version can be added (sessionService: MINUTES_NOT_ALLOWED).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('minutes_versions')
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id'))
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('written_by', 'text')
    .addColumn('written_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('minutes_versions_pk', ['session_id', 'version'])
    .execute();
  // The minutes written before this migration become version 1.
  await sql`insert into minutes_versions (session_id, version, text, sha256, written_by, written_at)
    select session_id, 1, text, encode(sha256(convert_to(text, 'UTF8')), 'hex'), written_by::text, updated_at from minutes`.execute(db);
  await sql`
    create function minutes_versions_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'minutes_versions is append-only: a correction is a new version';
    end $$`.execute(db);
  await sql`create trigger minutes_versions_no_update before update or delete on minutes_versions for each row execute function minutes_versions_append_only()`.execute(db);
  await sql`create trigger minutes_versions_no_truncate before truncate on minutes_versions for each statement execute function minutes_versions_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('minutes_versions').execute();
  await sql`drop function minutes_versions_append_only()`.execute(db);
}
