import type { Kysely } from 'kysely';

// A session's participants are read by session (every session view, the list's per-row sub-select):
// without an index each of a page's 20 rows scanned the whole table (EXPLAIN of the list, issue 14
// item 4: "Seq Scan on session_participants … Rows Removed by Filter: 199", loops=20), a cost that
// grows with every session ever held. Its primary key is the participant's id, not the session's.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('session_participants_session_id').on('session_participants').columns(['session_id', 'label']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('session_participants_session_id').execute();
}

/** Going back drops triggers or an index only: no table, no data. */
export const downDestroys: readonly string[] = [];
