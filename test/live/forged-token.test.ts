/**
 * Security review L1, reproduced on a real server with the PostgreSQL directory: whoever holds
 * DATA_DIR/token.key could mint `{kind:"invitation", sid, sub:"x", role:"host"}` with a random jti,
 * and signaling and the pre-flight loopback admitted it (an unknown jti counted as not revoked).
 * Now only a stored invitation (same session, subject and role, not revoked) or the personal
 * credential of an active staff user whose role still gives that live role admits.
 */
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { WsPeer, staffClient } from './liveHelpers.ts';

t.test('a token signed with the real key but never issued is refused', async (t) => {
  const data = await tempDataDir('tiepdan-forged-');
  const server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  t.teardown(async () => {
    await server.stop();
    await data.remove();
  });
  const { users, addUser, call, api } = staffClient(server, 'f');
  for (const role of ['admin', 'reception_board', 'approver', 'technician'] as const) await addUser(role);
  const commune = await api('admin', 'POST', '/bridge-points', { code: 'XA-F', name: 'UBND xã F', kind: 'commune' });
  const kase = await api('reception_board', 'POST', '/cases', { type: 'kien_nghi', title: 'Kiến nghị', summary: 'Kiến nghị', criteria: ['a'], people: [] });
  const start = new Date(Date.now() + 30 * 86400_000);
  const { id: sid } = await api('reception_board', 'POST', '/sessions', {
    title: 'Buổi tiếp thử khoá ký',
    scheduledStart: start.toISOString(),
    scheduledEnd: new Date(start.getTime() + 3 * 3600_000).toISOString(),
    location: 'Trụ sở',
    chairTitle: 'Chủ tịch UBND tỉnh',
    chairUserId: null,
    caseIds: [kase.id],
    bridgePointIds: [commune.id],
    participants: [],
  });
  await api('reception_board', 'POST', `/sessions/${sid}/submit`, {});
  await api('approver', 'POST', `/sessions/${sid}/decision`, { decision: 'approved', comment: 'Đồng ý' });
  const sent = (await api('reception_board', 'POST', `/sessions/${sid}/invitations`, {})) as unknown as { invitations: { token: string; subject?: string; bridgePointId: string | null }[] };
  const real = sent.invitations[0]!.token;

  const ws = `${server.url.replace(/^http/, 'ws')}/ws`;
  const joinWith = async (token: string) => {
    const peer = await WsPeer.open(ws);
    t.teardown(() => peer.close());
    return peer.join(sid, token);
  };
  const loopback = async (token: string) =>
    (await fetch(`${server.url}/web/preflight/loopback`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ transport: 'udp' }) })).status;

  // The review's attack: the real key, an invented jti, the host role.
  const forged = server.live.tokens.issue({ kind: 'invitation', sessionId: sid, subject: 'x', role: 'host', displayName: 'Chủ trì', ttlSeconds: 600 }).token;
  const refused = await joinWith(forged);
  t.equal(refused.ok, false, 'signaling refuses it');
  t.equal(refused.error?.code, 'TOKEN_INVALID', 'with the answer a bad signature gets');
  t.equal(await loopback(forged), 401, 'the pre-flight loopback refuses it');
  // A real invitation's subject with a role raised to host is not that invitation either.
  const realClaims = server.live.tokens.verify(real);
  const raised = server.live.tokens.issue({ kind: 'invitation', sessionId: sid, subject: realClaims.sub, role: 'host', ttlSeconds: 600 }).token;
  t.equal((await joinWith(raised)).error?.code, 'TOKEN_INVALID', 'the stored subject with another role is refused');

  // A forged staff credential: an invented user, or a real technician claimed as host.
  const ghost = server.live.tokens.issue({ kind: 'invitation', sessionId: sid, subject: 'user:00000000-0000-4000-8000-000000000000', role: 'host', user: { id: '00000000-0000-4000-8000-000000000000', role: 'approver' }, ttlSeconds: 600 }).token;
  t.equal((await joinWith(ghost)).error?.code, 'TOKEN_INVALID', 'a credential of no user is refused');
  const techId = users.technician!.id;
  const promoted = server.live.tokens.issue({ kind: 'invitation', sessionId: sid, subject: `user:${techId}`, role: 'host', user: { id: techId, role: 'approver' }, ttlSeconds: 600 }).token;
  t.equal((await joinWith(promoted)).error?.code, 'TOKEN_REVOKED', "a technician's credential claiming the host role is refused");

  // What is issued still works.
  const ok = await joinWith(real);
  t.equal(ok.ok, true, 'the stored invitation joins');
  t.equal(await loopback(real), 201, 'and runs its connection test');
  const chair = await call('reception_board', 'POST', `/sessions/${sid}/live-credential`);
  t.equal((await joinWith(String(chair.body.token))).ok, true, "the chair's own credential joins");
  // A disabled account's credential stops admitting at the next join.
  const tech = await call('technician', 'POST', `/sessions/${sid}/live-credential`);
  await api('admin', 'PATCH', `/users/${techId}`, { active: false });
  t.equal((await joinWith(String(tech.body.token))).error?.code, 'TOKEN_REVOKED', "a disabled technician's credential is refused");
});
