import { sql, type Kysely } from 'kysely';

// The audit chain becomes keyed (security review H4): from here on each row's hash is an
// HMAC-SHA256 under a key kept in DATA_DIR/audit.key, never in the database, so nobody with only
// database rights can rewrite a row and recompute the hashes after it. Rows written before this
// migration keep their plain SHA-256 hashes: re-keying them would mean rewriting the evidence (and
// would make hashes already copied into exports and printouts disagree). This one-row table
// records the switch point; the first keyed row links to the last plain one, so the old rows stay
// bound into the keyed chain. The switch point is also copied into DATA_DIR/audit.anchor, so that
// moving it later (to pass keyed rows off as plain ones) is detected too.
export async function up(db: Kysely<unknown>): Promise<void> {
  // No appender (an older server still running) may slip a plain row in behind the switch point.
  await sql`lock table audit_log in exclusive mode`.execute(db);
  await db.schema
    .createTable('audit_chain')
    .addColumn('id', 'smallint', (c) => c.primaryKey().defaultTo(1).check(sql`id = 1`))
    .addColumn('keyed_from_seq', 'bigint', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull().defaultTo('hmac-sha256'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`insert into audit_chain (keyed_from_seq) select coalesce(max(seq), 0) + 1 from audit_log`.execute(db);
  await sql`
    create function audit_chain_fixed() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_chain is fixed by its migration';
    end $$`.execute(db);
  await sql`create trigger audit_chain_no_update before update or delete on audit_chain for each row execute function audit_chain_fixed()`.execute(db);
  await sql`create trigger audit_chain_no_truncate before truncate on audit_chain for each statement execute function audit_chain_fixed()`.execute(db);
}

/** Tables whose rows `down` destroys: `tiepdan migrate down` refuses while any holds a row (security review L12). */
// audit_chain holds only the switch point `up` wrote; `down` itself refuses while keyed audit rows exist.
export const downDestroys: readonly string[] = [];

export async function down(db: Kysely<unknown>): Promise<void> {
  // Without the switch point, keyed rows would be checked as plain ones and the log would look forged.
  const keyed = await sql<{ n: string }>`select count(*) as n from audit_log where seq >= (select keyed_from_seq from audit_chain)`.execute(db);
  if (Number(keyed.rows[0]?.n ?? 0) > 0) throw new Error('audit_log holds keyed rows: rolling back 0400_audit_keyed_chain would make them unverifiable');
  await db.schema.dropTable('audit_chain').execute();
  await sql`drop function audit_chain_fixed()`.execute(db);
}
