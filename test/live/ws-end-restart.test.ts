/**
 * Security review L10: the host's `endSession` over WebSocket lived only in memory; the stored
 * status stayed `live`, so after a restart the same invitations joined again and the automatic
 * recording appended to the manifest. Now the end goes through SessionService.end: audited with
 * the chair's own login, stored as `ended`, and a restarted server refuses the same invitations.
 */
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { WsPeer, staffClient } from './liveHelpers.ts';

t.test('a session ended by the host stays ended after a restart', async (t) => {
  const data = await tempDataDir('tiepdan-wsend-');
  t.teardown(() => data.remove());
  let server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  t.teardown(() => server.stop());
  const { users, addUser, call, api } = staffClient(server, 'e');
  for (const role of ['admin', 'reception_board', 'approver', 'auditor'] as const) await addUser(role);
  const commune = await api('admin', 'POST', '/bridge-points', { code: 'XA-E', name: 'UBND xã E', kind: 'commune' });
  const kase = await api('reception_board', 'POST', '/cases', { type: 'kien_nghi', title: 'Kiến nghị', summary: 'Kiến nghị', criteria: ['a'], people: [] });
  const start = new Date(Date.now() + 30 * 86400_000);
  const { id: sid } = await api('reception_board', 'POST', '/sessions', {
    title: 'Buổi tiếp kết thúc qua WebSocket',
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
  const sent = (await api('reception_board', 'POST', `/sessions/${sid}/invitations`, {})) as unknown as { invitations: { token: string }[] };
  const communeToken = sent.invitations[0]!.token;
  await api('approver', 'POST', `/sessions/${sid}/go-live`, { override: { reason: 'Thử kết thúc' } });

  const wsOf = (s: TiepdanServer) => `${s.url.replace(/^http/, 'ws')}/ws`;
  const chair = await call('reception_board', 'POST', `/sessions/${sid}/live-credential`);
  const host = await WsPeer.open(wsOf(server));
  t.equal((await host.join(sid, String(chair.body.token))).ok, true, 'the chair joins');
  const communePeer = await WsPeer.open(wsOf(server));
  t.equal((await communePeer.join(sid, communeToken)).ok, true, 'the commune joins');

  // The review's sequence: the host ends over WebSocket …
  t.equal((await host.request('endSession')).ok, true, 'the host ends the session');
  t.equal(await Promise.race([communePeer.closed, new Promise<number>((r) => setTimeout(() => r(-1), 20000))]), 4003, 'the commune is told it ended');
  const stored = await api('auditor', 'GET', `/sessions/${sid}`);
  t.equal(stored.status, 'ended', 'the stored status is ended');
  const log = (await api('auditor', 'GET', `/audit?entity=session&entityId=${sid}&action=session.end`)) as unknown as { items: { actorId: string; after: { status: string } }[] };
  t.match(log.items, [{ actorId: users.reception_board!.id, after: { status: 'ended' } }], 'audited with the chair who ended it');

  // … then the server restarts, and the same invitation tries again.
  await server.stop();
  server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  const again = await WsPeer.open(wsOf(server));
  t.teardown(() => again.close());
  const refused = await again.join(sid, communeToken);
  t.equal(refused.ok, false, 'the restarted server does not reopen it');
  t.equal(refused.error?.code, 'SESSION_ENDED');
});
