import type { Kysely } from 'kysely';

// Security review M10: a password an administrator set for someone else is one the user must
// replace at their next login (the control API refuses the user everything else until then).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('must_change_password', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('must_change_password').execute();
}
