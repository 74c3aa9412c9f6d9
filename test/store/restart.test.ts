/**
 * Issue 12 item 3: what the live side decided stays decided across a restart of the server (one
 * restart, real PostgreSQL, real workers, protocol clients without media). Before the LiveStore,
 * an ejected commune rejoined, the host's end lived only in memory, finished jobs answered
 * JOB_NOT_FOUND, and a restart gave a password guesser a fresh set of attempts.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { recorderLease } from '../../src/recording/recordingService.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { WsPeer, staffClient, until } from '../live/liveHelpers.ts';

t.test('ejections, host-ended sessions, jobs, login limits and recorder leases survive a restart', async (t) => {
  const data = await tempDataDir('tiepdan-restart-');
  t.teardown(() => data.remove());
  let server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  t.teardown(() => server.stop());
  const { addUser, call, api } = staffClient(server, 'r');
  for (const role of ['admin', 'reception_board', 'approver', 'auditor'] as const) await addUser(role);
  const kase = await api('reception_board', 'POST', '/cases', { type: 'kien_nghi', title: 'Kiến nghị', summary: 'Kiến nghị', criteria: ['a'], people: [] });
  let n = 0;
  /** A session of these communes, approved, invitations sent, live; returns its id and the communes' tokens. */
  const liveSession = async (communes: number): Promise<{ sid: string; tokens: string[] }> => {
    const points = [];
    for (let i = 0; i < communes; i++) points.push(await api('admin', 'POST', '/bridge-points', { code: `XA-R${++n}`, name: `UBND xã R${n}`, kind: 'commune' }));
    const start = new Date(Date.now() + 30 * 86400_000 + n * 4 * 3600_000);
    const { id: sid } = await api('reception_board', 'POST', '/sessions', {
      title: `Buổi tiếp khởi động lại ${n}`,
      scheduledStart: start.toISOString(),
      scheduledEnd: new Date(start.getTime() + 3 * 3600_000).toISOString(),
      location: 'Trụ sở',
      chairTitle: 'Chủ tịch UBND tỉnh',
      chairUserId: null,
      caseIds: [kase.id],
      bridgePointIds: points.map((p) => p.id),
      participants: [],
    });
    await api('reception_board', 'POST', `/sessions/${String(sid)}/submit`, {});
    await api('approver', 'POST', `/sessions/${String(sid)}/decision`, { decision: 'approved', comment: 'Đồng ý' });
    const sent = (await api('reception_board', 'POST', `/sessions/${String(sid)}/invitations`, {})) as unknown as { invitations: { token: string; bridgePointId: string }[] };
    await api('approver', 'POST', `/sessions/${String(sid)}/go-live`, { override: { reason: 'Thử khởi động lại' } });
    return { sid: String(sid), tokens: points.map((p) => sent.invitations.find((inv) => inv.bridgePointId === p.id)!.token) };
  };
  const wsOf = (s: TiepdanServer) => `${s.url.replace(/^http/, 'ws')}/ws`;
  const peers: WsPeer[] = [];
  const peer = async (s: TiepdanServer) => {
    const p = await WsPeer.open(wsOf(s));
    peers.push(p);
    return p;
  };
  t.teardown(() => peers.forEach((p) => p.close()));
  const chairToken = async (sid: string) => String((await call('reception_board', 'POST', `/sessions/${sid}/live-credential`)).body.token);
  const store = () => server.control.liveStore;

  // 1. The host ejects commune A from a live session (commune B stays).
  const one = await liveSession(2);
  const host = await peer(server);
  t.equal((await host.join(one.sid, await chairToken(one.sid))).ok, true, 'the chair joins');
  const a = await peer(server);
  const joinedA = await a.join(one.sid, one.tokens[0]!);
  t.equal(joinedA.ok, true, 'commune A joins');
  t.equal((await (await peer(server)).join(one.sid, one.tokens[1]!)).ok, true, 'commune B joins');
  t.equal((await host.request('ejectPeer', { peerId: String(joinedA.data?.peerId) })).ok, true, 'the host ejects commune A');
  // The live session records automatically: this process holds its recorder lease.
  const firstLease = await until('the recorder lease', () => store().lease(recorderLease(one.sid)));
  t.ok(firstLease.holder.startsWith(server.recordings.leaseNode), 'the recorder lease is this process’s');

  // 2. The host of a second session ends it from the room.
  const two = await liveSession(1);
  const host2 = await peer(server);
  t.equal((await host2.join(two.sid, await chairToken(two.sid))).ok, true);
  t.equal((await host2.request('endSession')).ok, true, 'the host ends the session');

  // 3. A recording job runs to done: verifying the ended session's recording.
  await until('the ended session’s recorder stops', () => server.recordings.liveState(two.sid) === null);
  const job = await api('auditor', 'POST', `/recordings/${two.sid}/verify`);
  const done = await until('the verification job', async () => {
    const j = await api('auditor', 'GET', `/recordings/jobs/${String(job.id)}`);
    return j.status === 'done' || j.status === 'failed' ? j : undefined;
  });
  t.match(done, { status: 'done', result: { ok: true } }, 'the verification finished');
  // And one the process was still running when it died (kill -9 leaves exactly this row behind).
  const killed = randomUUID();
  await store().saveJob({ id: killed, kind: 'export-directory', sessionIds: [two.sid], status: 'running', progress: { phase: 'copying', fraction: 0.4 }, queuedAt: new Date().toISOString(), startedAt: new Date().toISOString(), finishedAt: null, result: null, error: null });

  // 4. Wrong passwords from one address up to the limit (20 a minute).
  const login = () => fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }) });
  for (let i = 0; i < 20; i++) t.equal((await login()).status, 401, `attempt ${i + 1}: LOGIN_FAILED`);
  t.equal((await login()).status, 429, 'then LOGIN_RATE_LIMITED');

  // The restart.
  const stopped = Date.now();
  await server.stop();
  server = await TiepdanServer.start(await testConfig(data.dir), silentLogger());
  t.comment(`restart took ${Date.now() - stopped} ms`);

  const againA = await (await peer(server)).join(one.sid, one.tokens[0]!);
  t.equal(againA.error?.code, 'PEER_EJECTED', 'the ejected commune is still refused');
  t.equal((await (await peer(server)).join(one.sid, one.tokens[1]!)).ok, true, 'commune B comes back');
  const secondLease = await until('the new process’s lease', async () => {
    const l = await store().lease(recorderLease(one.sid));
    return l !== undefined && l.holder !== firstLease.holder ? l : undefined;
  });
  t.ok(secondLease.holder.startsWith(server.recordings.leaseNode), 'the stopped process released its lease: the new one records the session');
  // The lease is taken before the recorder starts (so two processes cannot both start one): wait for the start.
  t.ok(await until('the new process’s recorder', () => server.recordings.liveState(one.sid) ?? undefined), 'and its recorder runs');

  t.equal((await (await peer(server)).join(two.sid, two.tokens[0]!)).error?.code, 'SESSION_ENDED', 'the session the host ended admits nobody');

  const after = staffClient(server, 'r2');
  await after.addUser('auditor');
  t.match(await after.api('auditor', 'GET', `/recordings/jobs/${String(job.id)}`), { status: 'done', result: { ok: true } }, 'the finished job is still there with its result');
  t.match(await after.api('auditor', 'GET', `/recordings/jobs/${killed}`), { status: 'failed', error: { code: 'JOB_INTERRUPTED' }, progress: { fraction: 0.4 } }, 'the one that was running failed as JOB_INTERRUPTED');

  const limited = await login();
  t.equal(limited.status, 429, 'the address is still limited after the restart');
  t.match(await limited.json(), { code: 'LOGIN_RATE_LIMITED' });
});
