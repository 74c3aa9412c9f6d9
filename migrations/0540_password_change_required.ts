import type { Kysely } from 'kysely';

// Security review M10: a password an administrator set for someone else is one the user must
// replace at their next login (the control API refuses the user everything else until then).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('must_change_password', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('must_change_password').execute();
}

/**
 * Tables whose data `down` destroys (security review L12): the mark that a user must replace the
 * password an administrator set, so that user could go on working with it.
 */
export const downDestroys: readonly string[] = ['users'];
