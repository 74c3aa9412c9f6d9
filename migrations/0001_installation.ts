import { sql, type Kysely } from 'kysely';

// One row identifying this installation: chain-of-custody and audit records name it, so that an
// exported recording can be traced back to the central machine that made it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('installation')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('installation_id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('schema_note', 'text', (c) => c.notNull().defaultTo('tiepdan'))
    .execute();
  await sql`insert into installation default values`.execute(db);
}

/** Tables whose rows `down` destroys: `tiepdan migrate down` refuses while any holds a row (security review L12). */
export const downDestroys: readonly string[] = ['installation'];

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('installation').execute();
}
