/**
 * The recordings API on the real server (composition root): roles, listing, manifest, segment and
 * playable download with HTTP ranges, verification, export jobs with progress, legal hold,
 * retention, audited deletion, and recovery of an interrupted recording at start-up.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { tempDataDir, testConfig, silentLogger } from '../helpers/env.ts';
import { mediaCodecs, TestSession } from './harness.ts';
import { sleep, waitFor } from './helpers.ts';

t.test('recordings API', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  const config = await testConfig(tmp.dir, { RECORDING_SEGMENT_SECONDS: '2', RECORDING_PORT_MIN: '37000', RECORDING_PORT_MAX: '37999' });
  // A recording a crash left open: the server closes it as interrupted when it starts.
  const crashed = path.join(tmp.dir, 'recordings', 'session-old');
  const { ManifestWriter } = await import('../../src/recording/manifest/manifest.ts');
  const { ensureDir } = await import('../../src/recording/fsutil.ts');
  await ensureDir(crashed);
  const w = new ManifestWriter(path.join(crashed, 'manifest.json'), 'session-old');
  w.append({ type: 'opened', sessionId: 'session-old', segmentSeconds: 2, timing: 'arrival-wallclock' });
  await w.flush();

  const server = await TiepdanServer.start(config, silentLogger());
  t.teardown(() => server.stop());
  const api = async (method: string, url: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${url}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    const buf = Buffer.from(await res.arrayBuffer());
    let body: any;
    try {
      body = JSON.parse(buf.toString('utf8'));
    } catch {
      body = buf;
    }
    return { status: res.status, body, headers: res.headers, bytes: buf };
  };
  const password = (await readFile(path.join(tmp.dir, 'initial-admin-password'), 'utf8')).trim();
  const admin = (await api('POST', '/api/v1/auth/login', { body: { username: 'admin', password } })).body.token as string;
  await api('POST', '/api/v1/users', { token: admin, body: { username: 'kiemtoan', displayName: 'Kiểm toán', role: 'auditor', password: 'mat-khau-dai-9' } });
  const auditor = (await api('POST', '/api/v1/auth/login', { body: { username: 'kiemtoan', password: 'mat-khau-dai-9' } })).body.token as string;

  const old = await api('GET', '/api/v1/recordings/session-old', { token: admin });
  t.equal(old.body.status, 'interrupted', 'the recording left open by a crash was closed as interrupted at start-up');

  t.equal((await api('GET', '/api/v1/recordings')).status, 401, 'no token: 401');

  // Record a real session on the server's own worker pool.
  const { router } = await server.pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-api', router);
  t.teardown(() => session.close());
  await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  await session.addSource('peer-1', 'Điểm cầu 1', 'video');
  await server.recordings.startRecording(session);
  const live = await api('GET', '/api/v1/recordings/session-api', { token: auditor });
  t.equal(live.body.live.status, 'recording', 'API shows the recording as running, with its disk state');
  t.ok(['ok', 'warning'].includes(live.body.live.disk.level));
  await sleep(5000);
  session.end();
  await waitFor('closed', async () => ((await api('GET', '/api/v1/recordings/session-api', { token: auditor })).body.status === 'complete' ? true : undefined));

  const list = await api('GET', '/api/v1/recordings', { token: auditor });
  t.same(list.body.items.map((r: { sessionId: string }) => r.sessionId).sort(), ['session-api', 'session-old']);
  const manifest = (await api('GET', '/api/v1/recordings/session-api/manifest', { token: auditor })).body;
  const seg = manifest.entries.find((e: { type: string }) => e.type === 'segment');
  const whole = await api('GET', `/api/v1/recordings/session-api/segments/${seg.file}`, { token: auditor });
  t.equal(whole.status, 200);
  t.equal(whole.bytes.length, seg.size, 'segment downloads whole');
  const part = await api('GET', `/api/v1/recordings/session-api/segments/${seg.file}`, { token: auditor, headers: { range: 'bytes=10-109' } });
  t.equal(part.status, 206, 'range request answered with 206');
  t.equal(part.headers.get('content-range'), `bytes 10-109/${seg.size}`);
  t.same(part.bytes, whole.bytes.subarray(10, 110), 'the requested bytes');
  t.equal((await api('GET', '/api/v1/recordings/session-api/segments/..%2Fmanifest.json', { token: auditor })).status, 404, 'only listed segments can be fetched');

  const verify = await api('POST', '/api/v1/recordings/session-api/verify', { token: auditor });
  t.equal(verify.body.ok, true, 'verify route: ok');

  // Asking twice while a copy is being built joins the running build (they share one output file).
  const first = await api('POST', '/api/v1/recordings/session-api/playable', { token: admin });
  const second = await api('POST', '/api/v1/recordings/session-api/playable', { token: admin });
  t.equal(first.status, 202, 'playable build accepted');
  t.equal(second.body.id, first.body.id, 'one playable build at a time per session');

  // The playable copy is built in the background once the recording closes.
  await waitFor('playable copy', async () => ((await api('GET', '/api/v1/recordings/session-api', { token: auditor })).body.playable ? true : undefined), 120000);
  const mp4 = await api('GET', '/api/v1/recordings/session-api/playable', { token: auditor, headers: { range: 'bytes=0-99' } });
  t.equal(mp4.status, 206, 'playable copy streams with ranges');
  t.equal(mp4.headers.get('content-type'), 'video/mp4');

  // Export job with progress.
  const drive = await mkdtemp(path.join(tmp.dir, 'drive-'));
  t.equal((await api('POST', '/api/v1/recordings/exports', { token: auditor, body: { kind: 'directory', sessionIds: ['session-api'], target: drive } })).status, 403, 'an auditor may not export');
  t.equal((await api('POST', '/api/v1/recordings/exports', { token: admin, body: { kind: 'directory', sessionIds: ['session-api'], target: 'relative/path' } })).status, 400, 'bad input: 400');
  const job = await api('POST', '/api/v1/recordings/exports', { token: admin, body: { kind: 'directory', sessionIds: ['session-api'], target: drive } });
  t.equal(job.status, 202);
  const done = await waitFor('export done', async () => {
    const j = (await api('GET', `/api/v1/recordings/jobs/${job.body.id}`, { token: admin })).body;
    return j.status === 'running' ? undefined : j;
  });
  t.equal(done.status, 'done', 'export job done');
  t.equal(done.progress.fraction, 1);

  // Legal hold and retention gate deletion.
  t.equal((await api('PUT', '/api/v1/recordings/session-api/legal-hold', { token: admin, body: { hold: true, reason: '' } })).status, 400, 'a hold needs a reason');
  await api('PUT', '/api/v1/recordings/session-api/legal-hold', { token: admin, body: { hold: true, reason: 'Khiếu nại đang giải quyết' } });
  await api('PUT', '/api/v1/recordings/session-api/retention', { token: admin, body: { until: '2020-01-01' } });
  const refused = await api('DELETE', '/api/v1/recordings/session-api', { token: admin, body: { reason: 'hết hạn lưu trữ' } });
  t.equal(refused.body.code, 'RECORDING_LEGAL_HOLD', 'legal hold blocks deletion');
  let due = (await api('GET', '/api/v1/recordings/due', { token: auditor })).body;
  t.notOk(due.disposal.includes('session-api'), 'a held recording is not due for disposal');
  await api('PUT', '/api/v1/recordings/session-api/legal-hold', { token: admin, body: { hold: false } });
  due = (await api('GET', '/api/v1/recordings/due', { token: auditor })).body;
  t.ok(due.disposal.includes('session-api'), 'past its retention date: due for disposal');
  t.ok(due.archiving.includes('session-old') && !due.archiving.includes('session-api'), 'the exported one is archived; the other is due for archiving');
  t.equal((await api('DELETE', '/api/v1/recordings/session-api', { token: auditor, body: { reason: 'x-x-x' } })).status, 403, 'only an administrator deletes');
  t.equal((await api('DELETE', '/api/v1/recordings/session-api', { token: admin, body: { reason: 'hết hạn lưu trữ' } })).status, 204, 'deleted');
  t.equal((await api('GET', '/api/v1/recordings/session-api', { token: admin })).body.status, 'deleted');
  const audit = await server.control.audit.list({ entity: 'recording', entityId: 'session-api' }, { limit: 50, offset: 0 });
  const actions = audit.items.map((a) => a.action);
  for (const a of ['recording.verified', 'recording.exported', 'recording.legal_hold_set', 'recording.legal_hold_released', 'recording.retention_set', 'recording.deleted']) t.ok(actions.includes(a), `audited: ${a}`);
  t.ok((await server.control.audit.verify()).valid, 'audit chain intact');

  // Quy chế Điều 7.3: a commune operator downloads the copy of a session its point took part in.
  const point = (await api('POST', '/api/v1/bridge-points', { token: admin, body: { code: 'XA-MAU', name: 'Điểm cầu xã Mẫu', kind: 'commune' } })).body.id as string;
  const other = (await api('POST', '/api/v1/bridge-points', { token: admin, body: { code: 'XA-KHAC', name: 'Điểm cầu xã khác', kind: 'commune' } })).body.id as string;
  const created = await api('POST', '/api/v1/users', { token: admin, body: { username: 'canbo.xa', displayName: 'Cán bộ xã', role: 'commune_operator', password: 'mat-khau-dai-7', bridgePointId: point } });
  t.equal(created.status, 201, 'commune operator created');
  const operator = (await api('POST', '/api/v1/auth/login', { body: { username: 'canbo.xa', password: 'mat-khau-dai-7' } })).body.token as string;
  await api('POST', '/api/v1/users', { token: admin, body: { username: 'ban.tcd', displayName: 'Ban TCD', role: 'reception_board', password: 'mat-khau-dai-8' } });
  const board = (await api('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'mat-khau-dai-8' } })).body.token as string;
  const made = await api('POST', '/api/v1/sessions', {
    token: board,
    body: { title: 'Tiếp công dân', scheduledStart: '2027-03-15T08:00:00+07:00', scheduledEnd: '2027-03-15T11:00:00+07:00', location: 'Trụ sở', chairTitle: 'Chủ tịch UBND tỉnh', chairUserId: null, caseIds: [], bridgePointIds: [point], participants: [] },
  });
  t.equal(made.status, 201, 'control session with the commune point');
  const sid = made.body.id as string;
  const s2 = new TestSession(sid, router);
  t.teardown(() => s2.close());
  await s2.addSource('peer-xa', 'Điểm cầu xã Mẫu', 'audio');
  await server.recordings.startRecording(s2);
  await sleep(3000);
  s2.end();
  await waitFor('closed', async () => ((await api('GET', `/api/v1/recordings/${sid}`, { token: admin })).body.status === 'complete' ? true : undefined));
  t.equal((await api('GET', `/api/v1/recordings/${sid}/manifest`, { token: operator })).status, 200, 'the commune operator gets the manifest of its session');
  t.equal((await api('GET', '/api/v1/recordings/session-old/manifest', { token: operator })).body.code, 'BRIDGE_POINT_FORBIDDEN', 'but not of other sessions');
  t.equal((await api('GET', '/api/v1/recordings', { token: operator })).status, 403, 'nor the list of recordings');
  t.ok(other);
  const communeAudit = await server.control.audit.list({ entity: 'recording', entityId: sid }, { limit: 50, offset: 0 });
  t.ok(communeAudit.items.some((a) => a.action === 'recording.commune_copy_downloaded'), 'the commune download is audited');
  await writeFile(path.join(tmp.dir, 'done'), '');
});
