import { sql, type Kysely } from 'kysely';

// The short join code of an invitation (issue 11 item 10): a printed 300-character token cannot be
// typed, so each invitation also gets a 10-character code (no 0/O/1/I) that the page /m exchanges
// for the token. It lives and dies with its invitation: the exchange checks the invitation's own
// expiry and revocation. Kept beside the token (which is stored too) so the giấy mời can be printed
// again; unique so that a code names one invitation. Rows issued before this migration get theirs
// when first printed (invitationService.joinCode).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('invitations').addColumn('join_code', 'text', (c) => c.check(sql`join_code ~ '^[A-HJ-NP-Z2-9]{10}$'`)).execute();
  await db.schema.createIndex('invitations_join_code_unique').on('invitations').column('join_code').unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('invitations_join_code_unique').execute();
  await db.schema.alterTable('invitations').dropColumn('join_code').execute();
}

/**
 * Tables whose data `down` destroys (security review L12): the join codes printed on the giấy mời
 * of every invitation, which then stop opening it.
 */
export const downDestroys: readonly string[] = ['invitations'];
