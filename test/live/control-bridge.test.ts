/**
 * The control API and the live side on one real server, with the PostgreSQL session directory:
 * an invitation issued by the control API admits to /ws once invitations are sent; going live in
 * the console (chair override) starts the automatic recording of a room already open for the
 * rehearsal; ending the session in the console disconnects everyone and stops the recording; the
 * ended session refuses new joins.
 */
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { WsPeer, staffClient, until } from './liveHelpers.ts';

t.test('console decisions reach live sessions', async (t) => {
  const data = await tempDataDir('tiepdan-bridge-');
  const server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  t.teardown(async () => {
    await server.stop();
    await data.remove();
  });
  const { addUser, api } = staffClient(server, 'b');
  for (const role of ['admin', 'reception_board', 'approver'] as const) await addUser(role);

  const central = await api('admin', 'POST', '/bridge-points', { code: 'TW', name: 'Điểm cầu trung tâm', kind: 'central' });
  const commune = await api('admin', 'POST', '/bridge-points', { code: 'XA-A', name: 'UBND xã A', kind: 'commune' });
  const kase = await api('reception_board', 'POST', '/cases', { type: 'kien_nghi', title: 'Kiến nghị về đường giao thông', summary: 'Kiến nghị', criteria: ['a'], people: [] });
  const start = new Date(Date.now() + 30 * 86400_000);
  const session = await api('reception_board', 'POST', '/sessions', {
    title: 'Phiên thử nối điều khiển',
    scheduledStart: start.toISOString(),
    scheduledEnd: new Date(start.getTime() + 3 * 3600_000).toISOString(),
    location: 'Trụ sở Tiếp công dân tỉnh',
    chairTitle: 'Chủ tịch UBND tỉnh',
    chairUserId: null,
    caseIds: [kase.id],
    bridgePointIds: [central.id, commune.id],
    participants: [],
  });
  await api('reception_board', 'POST', `/sessions/${session.id}/submit`, {});
  await api('approver', 'POST', `/sessions/${session.id}/decision`, { decision: 'approved', comment: 'Đồng ý' });
  const sent = (await api('reception_board', 'POST', `/sessions/${session.id}/invitations`, {})) as unknown as { invitations: { token: string; bridgePointId: string }[] };
  const tokenFor = (pointId: string) => sent.invitations.find((i) => i.bridgePointId === pointId)!.token;

  // Invitations sent: the rehearsal room opens with the control API's own tokens.
  const centralPeer = await WsPeer.open(`${server.url.replace(/^http/, 'ws')}/ws`);
  const joined = await centralPeer.join(session.id, tokenFor(central.id));
  t.equal(joined.ok, true, 'the central point is admitted with its invitation');
  t.match(joined.data?.session, { recording: false }, 'no automatic recording during the rehearsal');
  const communePeer = await WsPeer.open(`${server.url.replace(/^http/, 'ws')}/ws`);
  t.equal((await communePeer.join(session.id, tokenFor(commune.id))).ok, true, 'the commune is admitted');

  // Going live (the chair's override: no pre-flight results in this test) starts the recording.
  await api('approver', 'POST', `/sessions/${session.id}/go-live`, { override: { reason: 'Kiểm tra nối điều khiển' } });
  await communePeer.waitFor('sessionState', (d) => d.recording === true, 30000);
  t.ok(server.recordings.liveState(session.id), 'the recorder runs once the session is live');

  // Ending in the console disconnects the peers and stops the recording.
  await api('approver', 'POST', `/sessions/${session.id}/end`, {});
  const code = await Promise.race([communePeer.closed, new Promise<number>((r) => setTimeout(() => r(-1), 20000))]);
  t.not(code, -1, `the commune is disconnected (close code ${code})`);
  await until('recorder stopped', () => server.recordings.liveState(session.id) === null);
  t.pass('the recording stopped with the session');
  const late = await WsPeer.open(`${server.url.replace(/^http/, 'ws')}/ws`);
  const refused = await late.join(session.id, tokenFor(commune.id));
  t.equal(refused.ok, false, 'an ended session admits no one');
  t.match(refused.error?.code, /SESSION_ENDED|SESSION_NOT_OPEN/);
  late.close();
  centralPeer.close();
});
