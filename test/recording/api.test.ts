/**
 * The recordings API on the real server (composition root): roles, listing, manifest, segment and
 * playable download with HTTP ranges, verification, export jobs with progress (only to a listed
 * drive, into a new directory, encrypted, audited before and after; the attacks of security
 * review H1/M4 refused), legal hold, retention, audited deletion, and recovery of an interrupted
 * recording at start-up. The drives are tmpfs mounts (root only).
 */
import { mkdtemp, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { localDate } from '../../src/domain/common/clock.ts';
import { TiepdanServer } from '../../src/server.ts';
import { tempDataDir, testConfig, silentLogger } from '../helpers/env.ts';
import { mediaCodecs, TestSession } from './harness.ts';
import { dirState, mountTmpfs, sleep, waitFor } from './helpers.ts';

t.test('recordings API', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  // Removable drives: EXPORT_DESTINATIONS is a directory with a 64 MiB and a 512 KiB tmpfs mounted
  // in it, and a symlink pointing into DATA_DIR.
  const exportRoot = await mkdtemp(path.join(tmpdir(), 'tiepdan-exports-'));
  const usb = path.join(exportRoot, 'usb');
  const small = path.join(exportRoot, 'small');
  const unmounts = [await mountTmpfs(usb, '64m'), await mountTmpfs(small, '512k')];
  t.teardown(async () => {
    for (const u of unmounts) await u();
    await rm(exportRoot, { recursive: true, force: true });
  });
  const config = await testConfig(tmp.dir, { RECORDING_SEGMENT_SECONDS: '2', RECORDING_PORT_MIN: '37000', RECORDING_PORT_MAX: '37999', EXPORT_DESTINATIONS: exportRoot });
  // A recording a crash left open: the server closes it as interrupted when it starts.
  const crashed = path.join(tmp.dir, 'recordings', 'session-old');
  const { ManifestWriter } = await import('../../src/recording/manifest/manifest.ts');
  const { ensureDir } = await import('../../src/recording/fsutil.ts');
  await ensureDir(crashed);
  const w = new ManifestWriter(path.join(crashed, 'manifest.json'), 'session-old');
  w.append({ type: 'opened', sessionId: 'session-old', segmentSeconds: 2, timing: 'arrival-wallclock' });
  await w.flush();

  // Retention dates pass in this test: the recordings' "today" can be moved forward.
  let recordingDays = 0;
  const server = await TiepdanServer.start(config, silentLogger(), { recordingClock: () => new Date(Date.now() + recordingDays * 86_400_000) });
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
  await api('POST', '/api/v1/users', { token: admin, body: { username: 'ban.tcd', displayName: 'Ban TCD', role: 'reception_board', password: 'mat-khau-dai-8' } });
  const board = (await api('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'mat-khau-dai-8' } })).body.token as string;

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
  // Recording is mandatory (N154 Art 24(1)): the API refuses a stop without a reason, and records on.
  const noReason = await api('POST', '/api/v1/recordings/session-api/stop', { token: admin, body: {} });
  t.equal(noReason.status, 400);
  t.equal(noReason.body.code, 'RECORDING_STOP_REASON_REQUIRED');
  t.equal((await api('GET', '/api/v1/recordings/session-api', { token: auditor })).body.live.status, 'recording', 'the recording goes on');
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

  // Background jobs run one at a time (security review M13): queued, then running, then done.
  const followJob = (id: string) =>
    waitFor('job', async () => {
      const j = (await api('GET', `/api/v1/recordings/jobs/${id}`, { token: admin })).body;
      return j.status === 'running' || j.status === 'queued' ? undefined : j;
    }, 120000);
  const verify = await api('POST', '/api/v1/recordings/session-api/verify', { token: auditor });
  t.equal(verify.status, 202, 'verification is a queued job');
  t.equal((await followJob(verify.body.id)).result.ok, true, 'verify job: ok');

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

  // Export (security review H1, M4): only to a drive the server lists, into a new directory, encrypted.
  await symlink(path.join(tmp.dir, 'recordings', 'session-old'), path.join(exportRoot, 'link'));
  const exportsUrl = '/api/v1/recordings/exports';
  const passphrase = 'mat-khau-ban-sao-1';
  const exportBody = (destination: string, kind: 'directory' | 'iso' = 'directory') => ({ kind, sessionIds: ['session-api'], destination, passphrase, ...(kind === 'iso' ? { media: 'cd' } : {}) });
  const dests = await api('GET', '/api/v1/recordings/export-destinations', { token: admin });
  t.same(dests.body.destinations.map((d: { path: string }) => d.path), [small, usb], 'the server lists the mounted drives (not the symlink, not the directory itself)');
  t.same(dests.body.roots, [exportRoot]);
  t.equal((await api('GET', '/api/v1/recordings/export-destinations', { token: auditor })).status, 403, 'an auditor is not offered drives');
  t.equal((await api('POST', exportsUrl, { token: auditor, body: exportBody(usb) })).status, 403, 'an auditor may not export');
  t.equal((await api('POST', exportsUrl, { token: admin, body: exportBody('relative/path') })).status, 400, 'bad input: 400');
  t.equal((await api('POST', exportsUrl, { token: admin, body: { kind: 'directory', sessionIds: ['session-api'], destination: usb } })).body.code, 'VALIDATION_FAILED', 'no passphrase: refused (exports are always encrypted)');
  t.equal((await api('POST', exportsUrl, { token: admin, body: { kind: 'directory', sessionIds: ['session-api'], target: usb, passphrase } })).status, 400, 'the old free-form target is gone');
  t.equal((await api('POST', exportsUrl, { token: admin, body: exportBody(`${usb}/../../..`, 'iso') })).body.code, 'VALIDATION_FAILED', '".." segments are refused');

  // The attacks of the review: each refused with a code, nothing created or chmodded anywhere.
  const attacks: { destination: string; codes: string[]; stable: boolean }[] = [
    { destination: '/', codes: ['EXPORT_DESTINATION_NOT_ALLOWED'], stable: false },
    { destination: '/etc', codes: ['EXPORT_DESTINATION_ON_RECORDINGS', 'EXPORT_DESTINATION_NOT_ALLOWED'], stable: false },
    { destination: tmpdir(), codes: ['EXPORT_DESTINATION_ON_RECORDINGS', 'EXPORT_DESTINATION_NOT_ALLOWED'], stable: false },
    { destination: tmp.dir, codes: ['EXPORT_DESTINATION_ON_RECORDINGS'], stable: true },
    { destination: path.join(tmp.dir, 'recordings'), codes: ['EXPORT_DESTINATION_ON_RECORDINGS'], stable: true },
    { destination: path.join(tmp.dir, 'recordings', 'session-old'), codes: ['EXPORT_DESTINATION_ON_RECORDINGS'], stable: true },
    { destination: path.join(exportRoot, 'link'), codes: ['EXPORT_DESTINATION_ON_RECORDINGS'], stable: true },
    { destination: exportRoot, codes: ['EXPORT_DESTINATION_ON_RECORDINGS', 'EXPORT_DESTINATION_NOT_MOUNTED'], stable: true },
  ];
  const ours = (names: string[]) => names.filter((n) => /^(tiepdan-(export|iso)-|\.staging-|\.readback-)/.test(n));
  for (const a of attacks) {
    const dir = await realpath(a.destination);
    const before = await dirState(dir);
    for (const kind of ['directory', 'iso'] as const) {
      const r = await api('POST', exportsUrl, { token: admin, body: exportBody(a.destination, kind) });
      t.ok(r.status === 400 && a.codes.includes(r.body.code), `${kind} export to ${a.destination}: ${r.status} ${r.body.code}`);
    }
    const after = await dirState(dir);
    t.same({ mode: after.mode, uid: after.uid, gid: after.gid }, { mode: before.mode, uid: before.uid, gid: before.gid }, `${dir}: mode ${before.mode} and owner unchanged`);
    if (a.stable) t.same(after.entries, before.entries, `${dir}: nothing created in it`);
    else t.same(ours(after.entries), ours(before.entries), `${dir}: no export directory created in it`);
  }
  const noStart = await server.control.audit.list({ entity: 'recording', entityId: 'session-api', action: 'export.started' }, { limit: 50, offset: 0 });
  t.equal(noStart.items.length, 0, 'a refused request starts nothing (no export.started)');

  // A good export: a new owner-only directory named after the job; the drive root untouched.
  const usbBefore = await dirState(usb);
  const job = await api('POST', exportsUrl, { token: admin, body: exportBody(usb) });
  t.equal(job.status, 202);
  const done = await followJob(job.body.id);
  t.equal(done.status, 'done', 'export job done');
  t.equal(done.progress.fraction, 1);
  const root = path.join(usb, `tiepdan-export-${job.body.id}`);
  t.equal(done.result.root, root, 'the export is in tiepdan-export-<job id> on the drive');
  t.equal(((await stat(root)).mode & 0o777).toString(8), '700', 'owner-only');
  const usbAfter = await dirState(usb);
  t.same({ ...usbAfter, entries: usbAfter.entries.filter((e) => e !== path.basename(root)) }, usbBefore, 'the drive root keeps its mode, owner and contents');
  t.ok((await readdir(root)).includes('decrypt.mjs'), 'with the decryption script');
  t.ok((await readdir(path.join(root, 'session-api'))).includes('manifest.json.enc'), 'encrypted');
  const iso = await api('POST', exportsUrl, { token: admin, body: exportBody(usb, 'iso') });
  const isoDone = await followJob(iso.body.id);
  t.equal(isoDone.status, 'done', 'disc images too');
  t.ok((await readdir(path.join(usb, `tiepdan-iso-${iso.body.id}`))).some((f) => f.endsWith('.iso')), 'in tiepdan-iso-<job id> on the drive');

  // A drive too small: the job fails, and says so in the audit log.
  const full = await api('POST', exportsUrl, { token: admin, body: exportBody(small) });
  t.equal(full.status, 202, 'accepted (the space check is part of the audited job)');
  const failed = await followJob(full.body.id);
  t.equal(failed.status, 'failed');
  t.equal(failed.error.code, 'EXPORT_DESTINATION_FULL', 'disk full');
  t.same(await readdir(small), [], 'nothing left on the small drive');

  const exportAudit = (await server.control.audit.list({ entity: 'recording', entityId: 'session-api' }, { limit: 100, offset: 0 })).items.filter((a) => a.action.startsWith('export.'));
  const rowsOf = (jobId: string) => exportAudit.filter((a) => (a.after as { jobId?: string }).jobId === jobId).sort((x, y) => x.seq - y.seq);
  t.same(rowsOf(job.body.id).map((a) => a.action), ['export.started', 'export.completed'], 'a good export: started (before copying), then completed');
  t.same(rowsOf(iso.body.id).map((a) => a.action), ['export.started', 'export.completed']);
  t.same(rowsOf(full.body.id).map((a) => a.action), ['export.started', 'export.failed'], 'a failed export: started, then failed');
  const started = rowsOf(job.body.id)[0];
  t.match(started, { actorLabel: /admin/, after: { kind: 'directory', sessionIds: ['session-api'], destination: { path: usb, fsType: 'tmpfs' }, root, encrypted: true } }, 'export.started names who, which sessions and which drive');
  t.match(rowsOf(full.body.id)[1], { after: { error: { code: 'EXPORT_DESTINATION_FULL' }, partialCopyLeft: false } }, 'export.failed says why, and that nothing was left');
  t.match(rowsOf(job.body.id)[1], { after: { custodySha256: /^[0-9a-f]{64}$/ } }, 'export.completed carries the chain-of-custody hash');

  // Legal hold and retention gate deletion; nobody destroys a recording alone (security review
  // H2; governance.test.ts has every refusal).
  t.equal((await api('PUT', '/api/v1/recordings/session-api/legal-hold', { token: admin, body: { hold: true, reason: '' } })).status, 400, 'a hold needs a reason');
  await api('PUT', '/api/v1/recordings/session-api/legal-hold', { token: admin, body: { hold: true, reason: 'Khiếu nại đang giải quyết' } });
  t.equal((await api('PUT', '/api/v1/recordings/session-api/retention', { token: admin, body: { until: '2020-01-01' } })).body.code, 'RETENTION_IN_PAST', 'no retention date in the past');
  const tomorrow = localDate(new Date(Date.now() + 86_400_000));
  t.equal((await api('PUT', '/api/v1/recordings/session-api/retention', { token: board, body: { until: tomorrow } })).status, 200, 'the reception board sets a retention date');
  const refused = await api('DELETE', '/api/v1/recordings/session-api', { token: admin, body: { reason: 'hết hạn lưu trữ' } });
  t.equal(refused.body.code, 'RECORDING_LEGAL_HOLD', 'legal hold blocks deletion');
  t.equal((await api('PUT', '/api/v1/recordings/session-api/legal-hold', { token: admin, body: { hold: false, reason: 'xong' } })).body.code, 'LEGAL_HOLD_RELEASE_FORBIDDEN', 'the administrator, who deletes, does not release holds');
  recordingDays = 2;
  let due = (await api('GET', '/api/v1/recordings/due', { token: auditor })).body;
  t.notOk(due.disposal.includes('session-api'), 'a held recording is not due for disposal');
  await api('PUT', '/api/v1/recordings/session-api/legal-hold', { token: board, body: { hold: false, reason: 'Đã giải quyết xong' } });
  due = (await api('GET', '/api/v1/recordings/due', { token: auditor })).body;
  t.ok(due.disposal.includes('session-api'), 'past its retention date: due for disposal');
  t.ok(due.archiving.includes('session-old') && !due.archiving.includes('session-api'), 'the exported one is archived; the other is due for archiving');
  t.equal((await api('DELETE', '/api/v1/recordings/session-api', { token: auditor, body: { reason: 'x-x-x' } })).status, 403, 'only an administrator deletes');
  const headHash = (await api('GET', '/api/v1/recordings/session-api', { token: admin })).body.headHash as string;
  t.equal((await api('DELETE', '/api/v1/recordings/session-api', { token: admin, body: { reason: 'hết hạn lưu trữ' } })).status, 204, 'deleted');
  const gone = (await api('GET', '/api/v1/recordings/session-api', { token: admin })).body;
  t.equal(gone.status, 'deleted');
  t.match(gone.tombstone, { headHash, reason: 'hết hạn lưu trữ', deletedBy: { role: 'admin' } }, 'a tombstone stays');
  const audit = await server.control.audit.list({ entity: 'recording', entityId: 'session-api' }, { limit: 50, offset: 0 });
  const actions = audit.items.map((a) => a.action);
  for (const a of ['recording.verified', 'export.started', 'export.completed', 'export.failed', 'recording.legal_hold_set', 'recording.legal_hold_released', 'recording.retention_set', 'recording.deleted']) t.ok(actions.includes(a), `audited: ${a}`);
  t.ok((await server.control.audit.verify()).valid, 'audit chain intact');

  // Quy chế Điều 7.3: a commune operator downloads the copy of a session its point took part in.
  const point = (await api('POST', '/api/v1/bridge-points', { token: admin, body: { code: 'XA-MAU', name: 'Điểm cầu xã Mẫu', kind: 'commune' } })).body.id as string;
  const other = (await api('POST', '/api/v1/bridge-points', { token: admin, body: { code: 'XA-KHAC', name: 'Điểm cầu xã khác', kind: 'commune' } })).body.id as string;
  const created = await api('POST', '/api/v1/users', { token: admin, body: { username: 'canbo.xa', displayName: 'Cán bộ xã', role: 'commune_operator', password: 'mat-khau-dai-7', bridgePointId: point } });
  t.equal(created.status, 201, 'commune operator created');
  const operator = (await api('POST', '/api/v1/auth/login', { body: { username: 'canbo.xa', password: 'mat-khau-dai-7' } })).body.token as string;
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
