/**
 * Security review H3, reproduced on a real server: before, a technician read the session's host
 * invitation from the invitation list, joined /ws with it and stopped the recording and ended the
 * session with no audit row and no name. Now the chair acts with a personal credential derived
 * from their login, a technician is never shown the chair's token (and their own credential can
 * only read statistics), and every admit, mute, eject, recording start/stop and end is in the
 * audit chain with the user who did it. Revoking an invitation disconnects its peer at once (M1).
 */
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { WsPeer, staffClient, until } from './liveHelpers.ts';

type AuditRow = { action: string; actorId: string; actorLabel: string; entity: string; after: Record<string, unknown> };

t.test('staff act in a live session with their own audited credentials', async (t) => {
  const data = await tempDataDir('tiepdan-staff-');
  const server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  t.teardown(async () => {
    await server.stop();
    await data.remove();
  });
  const { users, addUser, call, api } = staffClient(server, 's');
  for (const role of ['admin', 'reception_board', 'approver', 'technician', 'auditor'] as const) await addUser(role);

  const central = await api('admin', 'POST', '/bridge-points', { code: 'TW', name: 'Điểm cầu trung tâm', kind: 'central' });
  const commune = await api('admin', 'POST', '/bridge-points', { code: 'XA-B', name: 'UBND xã B', kind: 'commune' });
  await addUser('commune_operator', commune.id);
  const kase = await api('reception_board', 'POST', '/cases', { type: 'kien_nghi', title: 'Kiến nghị về chiếu sáng', summary: 'Kiến nghị', criteria: ['a'], people: [] });
  const start = new Date(Date.now() + 30 * 86400_000);
  const session = await api('reception_board', 'POST', '/sessions', {
    title: 'Buổi tiếp thử quyền chủ trì',
    scheduledStart: start.toISOString(),
    scheduledEnd: new Date(start.getTime() + 3 * 3600_000).toISOString(),
    location: 'Trụ sở Tiếp công dân tỉnh',
    chairTitle: 'Chủ tịch UBND tỉnh',
    chairUserId: null,
    caseIds: [kase.id],
    bridgePointIds: [central.id, commune.id],
    participants: [{ role: 'host', label: 'Chủ trì' }],
  });
  const sid = session.id;
  t.equal((await call('reception_board', 'POST', `/sessions/${sid}/live-credential`)).status, 409, 'no live credential before approval');
  await api('reception_board', 'POST', `/sessions/${sid}/submit`, {});
  await api('approver', 'POST', `/sessions/${sid}/decision`, { decision: 'approved', comment: 'Đồng ý' });
  const sent = (await api('reception_board', 'POST', `/sessions/${sid}/invitations`, {})) as unknown as { invitations: { id: string; token: string | null; role: string; bridgePointId: string | null }[] };
  const communeToken = sent.invitations.find((i) => i.bridgePointId === commune.id)!.token!;

  // The attack of H3(b): the technician looks for the chair's token.
  const listed = (await call('technician', 'GET', `/sessions/${sid}/invitations`)).body as unknown as { role: string; token: string | null; id: string }[];
  const hostSeen = listed.find((i) => i.role === 'host');
  t.ok(hostSeen, 'the technician still sees that a chair invitation exists');
  t.equal(hostSeen?.token, null, 'but not its token');
  t.equal(listed.find((i) => i.role === 'endpoint')?.token?.startsWith('td1.'), true, "a bridge point's token stays readable (technicians help communes join)");
  t.equal((await call('technician', 'GET', `/invitations/${hostSeen!.id}`)).body.token, null, 'nor through the single-invitation route');
  t.equal((await call('technician', 'GET', `/invitations/${hostSeen!.id}/print`)).status, 403, 'nor printed');
  t.equal((await call('auditor', 'POST', `/sessions/${sid}/live-credential`)).status, 403, 'an auditor gets no live credential');
  t.equal((await call('commune_operator', 'POST', `/sessions/${sid}/live-credential`)).status, 403, 'a commune operator uses their point’s invitation instead');

  const ws = `${server.url.replace(/^http/, 'ws')}/ws`;
  const tech = await call('technician', 'POST', `/sessions/${sid}/live-credential`);
  t.equal(tech.status, 200);
  t.equal(tech.body.role, 'technician', 'a technician’s own credential is the technician role');
  const techPeer = await WsPeer.open(ws);
  t.teardown(() => techPeer.close());
  t.equal((await techPeer.join(sid, String(tech.body.token))).ok, true, 'the technician joins with it');

  const chair = await call('reception_board', 'POST', `/sessions/${sid}/live-credential`);
  t.equal(chair.body.role, 'host');
  t.ok(new Date(String(chair.body.expiresAt)).getTime() <= Date.now() + 12 * 3600_000 + 5000, 'valid 12 h at most');
  const chairPeer = await WsPeer.open(ws);
  t.teardown(() => chairPeer.close());
  const joined = await chairPeer.join(sid, String(chair.body.token));
  t.equal(joined.ok, true, 'the chair joins with the credential of their own login');
  t.equal(joined.data?.peerId, `user:${users.reception_board!.id}`, 'as a peer of their own');
  const communePeer = await WsPeer.open(ws);
  t.teardown(() => communePeer.close());
  const communeJoined = await communePeer.join(sid, communeToken);
  const communeId = String(communeJoined.data?.peerId);

  // M1: revoking an invitation disconnects the peer using it at once (not only at its next join).
  const centralInvitation = sent.invitations.find((i) => i.bridgePointId === central.id)!;
  const centralPeer = await WsPeer.open(ws);
  t.teardown(() => centralPeer.close());
  t.equal((await centralPeer.join(sid, centralInvitation.token!)).ok, true, 'the central point joins with its invitation');
  await api('reception_board', 'POST', `/invitations/${centralInvitation.id}/revoke`, { reason: 'Giấy mời bị lộ' });
  const revokedCode = await Promise.race([centralPeer.closed, new Promise<number>((r) => setTimeout(() => r(-1), 10000))]);
  t.equal(revokedCode, 4005, 'revoking its invitation disconnects it (close 4005)');
  t.ok(centralPeer.notifications.some((n) => n.notification === 'kicked' && n.data.reason === 'revoked'), 'told why');

  await api('approver', 'POST', `/sessions/${sid}/go-live`, { override: { reason: 'Kiểm tra quyền chủ trì' } });
  await until('automatic recording', () => server.recordings.liveState(sid) !== null);
  const denied = await techPeer.request('stopRecording', {});
  t.equal(denied.error?.code, 'FORBIDDEN', 'the technician cannot stop the recording');
  t.ok(server.recordings.liveState(sid), 'the recording goes on');

  t.equal((await chairPeer.request('mutePeer', { peerId: communeId, kind: 'audio' })).ok, true, 'the chair mutes the commune');
  t.equal((await chairPeer.request('stopRecording', {})).ok, true, 'stops the recording');
  await until('recorder stopped', () => server.recordings.liveState(sid) === null);
  t.equal((await chairPeer.request('startRecording', {})).ok, true, 'starts it again');
  t.equal((await chairPeer.request('ejectPeer', { peerId: communeId })).ok, true, 'ejects the commune');
  t.equal((await chairPeer.request('endSession', {})).ok, true, 'ends the session');
  await until('recorder stopped after the end', () => server.recordings.liveState(sid) === null);

  const audit = await until('audit rows', async () => {
    const rows = ((await api('auditor', 'GET', `/audit?entityId=${sid}&limit=100`)) as unknown as { items: AuditRow[] }).items;
    return rows.some((r) => r.action === 'live.session.ended') ? rows : undefined;
  });
  const by = (action: string) => audit.filter((r) => r.action === action);
  const chairId = users.reception_board!.id;
  for (const action of ['live.peer.muted', 'recording.stopped', 'live.peer.ejected', 'live.session.ended']) {
    t.equal(by(action)[0]?.actorId, chairId, `${action} is audited with the chair's own user id`);
  }
  t.equal(by('recording.started').length, 2, 'both starts are audited');
  t.ok(by('recording.started').some((r) => r.actorId === chairId), 'the chair’s restart with the chair');
  t.ok(by('recording.started').some((r) => r.actorId === 'system'), 'the automatic start with the system');
  t.match(by('live.peer.ejected')[0]?.after, { peerId: communeId, role: 'endpoint', label: 'UBND xã B' }, 'the target is named');
  t.equal(by('live.credential.issue').length, 2, 'each credential issued is audited');
  t.equal(by('recording.stopped').length, 1, 'the refused stop left no row');
  const verify = await api('auditor', 'GET', '/audit/verify');
  t.equal(verify.valid, true, 'the chain verifies');
});
