import { sql, type Kysely } from 'kysely';

// The session list's cache (issue 14 item 4, src/domain/sessions/sessionListCache.ts) must learn of
// every write to what a list answer is made of, by any process on this database (a second server,
// the CLI, SQL by hand). Each such table tells, once per statement, on the channel below; NOTIFY is
// delivered at commit (never for a rolled-back write) and one transaction's equal payloads fold
// into one. The payload is the table's name: the settings and calendar caches listen to theirs.
export const SESSION_LIST_CHANNEL = 'tiepdan_session_list_changed';

/** What a session view is read from (sessionService #views and list()). */
export const SESSION_LIST_TABLES: readonly string[] = ['sessions', 'session_cases', 'cases', 'session_bridge_points', 'session_participants', 'control_settings', 'calendar_days'];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function session_list_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify(${sql.lit(SESSION_LIST_CHANNEL)}, tg_table_name);
      return null;
    end $$`.execute(db);
  for (const table of SESSION_LIST_TABLES) {
    await sql`create trigger ${sql.id(`${table}_list_changed`)} after insert or update or delete or truncate on ${sql.table(table)} for each statement execute function session_list_changed()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of SESSION_LIST_TABLES) await sql`drop trigger ${sql.id(`${table}_list_changed`)} on ${sql.table(table)}`.execute(db);
  await sql`drop function session_list_changed()`.execute(db);
}

/** Going back drops triggers or an index only: no table, no data. */
export const downDestroys: readonly string[] = [];
