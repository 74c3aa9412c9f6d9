import { sql } from 'kysely';
import t from 'tap';
import { openDatabase } from '../../db/database.ts';
import { migrateToLatest } from '../../db/migrator.ts';
import { silentLogger, tempDataDir } from '../../../test/helpers/env.ts';
import { PgSessionDirectory } from './PgSessionDirectory.ts';
import { SESSION_STATUSES } from './lifecycle.ts';

t.test('PgSessionDirectory on the embedded PostgreSQL', async (t) => {
  const tmp = await tempDataDir();
  const logger = silentLogger();
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  t.teardown(async () => {
    await database.close();
    await tmp.remove();
  });
  await migrateToLatest(database, logger);
  const db = database.db;
  const directory = new PgSessionDirectory(db);

  const session = await db
    .insertInto('sessions')
    .values({
      title: 'Phiên thử',
      scheduled_start: new Date('2026-05-01T01:00:00Z'),
      scheduled_end: new Date('2026-05-01T04:00:00Z'),
      chair_user_id: null,
      go_live_override_reason: null,
      created_by: null,
      max_peers: 80,
      lobby_enabled: false,
      endpoints_see_each_other: true,
      participant_recording_allowed: true,
    })
    .returning('id')
    .executeTakeFirstOrThrow();

  const expected: Record<string, string> = {
    draft: 'not_open',
    submitted: 'not_open',
    approved: 'not_open',
    invitations_sent: 'open',
    tested: 'open',
    live: 'open',
    ended: 'ended',
    archived: 'ended',
    cancelled: 'not_open',
    rejected: 'not_open',
  };
  for (const status of SESSION_STATUSES) {
    await sql`update sessions set status = ${status} where id = ${session.id}`.execute(db);
    t.same(
      await directory.get(session.id),
      { id: session.id, title: 'Phiên thử', admission: expected[status], maxPeers: 80, lobbyEnabled: false, endpointsSeeEachOther: true, autoRecord: true, live: status === 'live', participantRecordingAllowed: true },
      `${status} → ${expected[status]}`,
    );
  }
  t.equal(await directory.get('00000000-0000-0000-0000-000000000000'), undefined, 'unknown session');
  t.equal(await directory.get('not-a-uuid'), undefined, 'malformed id: undefined, not an error');

  await db
    .insertInto('invitations')
    .values([
      { session_id: session.id, bridge_point_id: null, participant_id: null, subject: 'a', role: 'endpoint', display_name: 'A', jti: 'jti-active-1', token: 't', issued_at: new Date(), expires_at: new Date(Date.now() + 3600_000), revoked_at: null, issued_by: null },
      { session_id: session.id, bridge_point_id: null, participant_id: null, subject: 'b', role: 'endpoint', display_name: 'B', jti: 'jti-revoked-1', token: 't', issued_at: new Date(), expires_at: new Date(Date.now() + 3600_000), revoked_at: new Date(), issued_by: null },
    ])
    .execute();
  t.equal(await directory.isTokenRevoked('jti-active-1'), false);
  t.equal(await directory.isTokenRevoked('jti-revoked-1'), true);
  t.equal(await directory.isTokenRevoked('jti-unknown'), false, 'tokens the API did not issue (e.g. development sessions) are not revoked here');

  // Security review L1: only what was issued admits (fail closed).
  const claims = { jti: 'jti-active-1', sid: session.id, sub: 'a', role: 'endpoint' };
  t.equal(await directory.tokenStanding(claims), 'valid');
  t.equal(await directory.tokenStanding({ ...claims, jti: 'jti-revoked-1', sub: 'b' }), 'revoked');
  t.equal(await directory.tokenStanding({ ...claims, jti: 'jti-unknown' }), 'unknown', 'an invented jti');
  t.equal(await directory.tokenStanding({ ...claims, role: 'host' }), 'unknown', 'another role');
  t.equal(await directory.tokenStanding({ ...claims, sub: 'z' }), 'unknown', 'another subject');
  t.equal(await directory.tokenStanding({ ...claims, sid: '00000000-0000-4000-8000-000000000000' }), 'unknown', 'another session');
});
