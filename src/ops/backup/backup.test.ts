/**
 * Backup and restore end to end, as a technician runs them: a populated server (sessions, cases,
 * audit rows, recordings with their hash chains, anchored by crash recovery as after a real
 * recording), `tiepdan backup --to DIR` while it runs, `tiepdan restore DIR` into an empty
 * DATA_DIR, and a new server on it: the same sessions and cases, the audit chain verifies against
 * the restored key and anchor, every recording verifies, and new rows continue the sequences.
 * Prints the measured times for N sessions and M MB of recordings.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { TiepdanServer } from '../../server.ts';
import { ensureDir, sha256File } from '../../recording/fsutil.ts';
import { ManifestWriter } from '../../recording/manifest/manifest.ts';
import { sessionDirFor } from '../../recording/recorder/sessionRecorder.ts';
import { silentLogger, tempDataDir, testConfig } from '../../../test/helpers/env.ts';
import { apiFor } from '../testing/api.ts';
import { runRestore } from './restore.ts';
import { readManifest } from './manifest.ts';

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/tiepdan.mjs');
const SESSIONS = Number(process.env.BACKUP_TEST_SESSIONS ?? 40);
const RECORDINGS = Number(process.env.BACKUP_TEST_RECORDINGS ?? 4);
const MB_PER_RECORDING = Number(process.env.BACKUP_TEST_MB ?? 8);

/** A recording left open as a crash leaves it (no 'closed' entry): 1 MB segments of random bytes. */
async function writeOpenRecording(recordingsDir: string, sessionId: string, megabytes: number): Promise<void> {
  const dir = sessionDirFor(recordingsDir, sessionId);
  const trackDir = path.join('peer-1', 'camera-1');
  await ensureDir(path.join(dir, trackDir));
  const w = new ManifestWriter(path.join(dir, 'manifest.json'), sessionId);
  w.append({ type: 'opened', sessionId, segmentSeconds: 4, timing: 'arrival-wallclock' });
  w.append({ type: 'track', trackId: 't1', peerId: 'peer-1', label: 'Điểm cầu', source: 'camera', kind: 'video', codec: 'VP8', producerId: 'p1', dir: trackDir });
  const t0 = Date.now() / 1000;
  for (let i = 1; i <= megabytes; i++) {
    const file = path.join(trackDir, `seg-${String(i).padStart(5, '0')}.mkv`);
    await writeFile(path.join(dir, file), randomBytes(1024 * 1024), { mode: 0o600 });
    const h = await sha256File(path.join(dir, file));
    w.append({ type: 'segment', trackId: 't1', file, size: h.size, sha256: h.sha256, start: t0 + (i - 1) * 4, end: t0 + i * 4, duration: 4 });
  }
  await w.flush();
}

function cli(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], { env: { ...process.env, DATA_DIR: dataDir, EMBEDDED_PG_PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

t.test('backup of a running server, restore into an empty DATA_DIR, everything verifies', async (t) => {
  const tmp = await tempDataDir('tiepdan-backup-');
  t.teardown(tmp.remove);
  // As root, PostgreSQL runs as the postgres user, which must traverse to a/ and b/.
  await chmod(tmp.dir, 0o711);
  const dirA = path.join(tmp.dir, 'a');
  const dirB = path.join(tmp.dir, 'b');
  const backupDir = path.join(tmp.dir, 'backup');

  // ——— a populated server ———
  const a = await TiepdanServer.start(await testConfig(dirA, { MEDIASOUP_NUM_WORKERS: '1', EXPORT_DESTINATIONS: 'none' }), silentLogger());
  let aStopped = false;
  t.teardown(() => (aStopped ? undefined : a.stop()));
  const apiA = apiFor(a);
  const adminPassword = (await readFile(path.join(dirA, 'initial-admin-password'), 'utf8')).trim();
  const admin = (await apiA('POST', '/api/v1/auth/login', { body: { username: 'admin', password: adminPassword } })).body.token;
  t.equal((await apiA('POST', '/api/v1/users', { token: admin, body: { username: 'ban.tcd', displayName: 'Ban tiếp công dân', role: 'reception_board', password: 'mat-khau-ban-tcd-1' } })).status, 201);
  const board = (await apiA('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'mat-khau-ban-tcd-1' } })).body.token;
  const point = (await apiA('POST', '/api/v1/bridge-points', { token: admin, body: { code: 'XA-1', name: 'Điểm cầu xã Một', kind: 'commune' } })).body.id;
  const sessionIds: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const c = await apiA('POST', '/api/v1/cases', { token: board, body: { type: 'khieu_nai', title: `Khiếu nại số ${i}`, criteria: ['a'], people: [{ role: 'complainant', fullName: `Công dân ${i}` }] } });
    t.equal(c.status, 201, `case ${i}`, { bail: c.status !== 201 });
    const s = await apiA('POST', '/api/v1/sessions', {
      token: board,
      body: { title: `Tiếp công dân ${i}`, scheduledStart: '2027-03-15T08:00:00+07:00', scheduledEnd: '2027-03-15T11:00:00+07:00', location: 'Trụ sở', chairTitle: 'Chủ tịch UBND tỉnh', chairUserId: null, caseIds: [c.body.id], bridgePointIds: [point], participants: [] },
    });
    t.equal(s.status, 201, `session ${i}`, { bail: s.status !== 201 });
    sessionIds.push(s.body.id!);
  }
  for (const id of sessionIds.slice(0, RECORDINGS)) await writeOpenRecording(a.recordings.recordingsDir, id, MB_PER_RECORDING);
  // What the next start does after a crash: close them as interrupted, anchor their heads (DB + audit).
  t.equal(await a.recordings.recoverInterrupted(), RECORDINGS, 'recordings closed and anchored');

  const before = {
    sessions: (await apiA('GET', '/api/v1/sessions?limit=200', { token: board })).body,
    cases: (await apiA('GET', '/api/v1/cases?limit=200', { token: board })).body,
    audit: (await apiA('GET', '/api/v1/audit/verify', { token: admin })).body,
  };
  t.equal(before.sessions.total, SESSIONS);
  t.equal(before.audit.valid, true, 'the chain verifies before the backup');

  // ——— backup while the server runs ———
  const backup = await cli(['backup', '--to', backupDir], dirA);
  t.equal(backup.code, 0, backup.stderr);
  t.match(backup.stdout, /backup written to .* \(embedded-running\)/);
  t.comment(`backup (server running): ${backup.ms} ms for the CLI process — ${backup.stdout.trim()}`);
  const manifest = await readManifest(backupDir);
  const dataFiles = manifest.dataFiles.map((f) => f.path);
  for (const f of ['data/audit.key', 'data/audit.anchor', 'data/token.key']) t.ok(dataFiles.includes(f), `${f} in the backup`);
  t.notOk(dataFiles.some((f) => f.startsWith('data/postgres')), 'not the cluster nor its passwords');
  t.equal(manifest.recordings.sessions, RECORDINGS);
  t.ok(manifest.recordings.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256)), 'every recording file with its SHA-256');
  t.notOk(backup.stdout.includes(adminPassword) || backup.stderr.includes(adminPassword), 'no secret on the console');

  await a.stop();
  aStopped = true;

  // ——— refusals before anything changes ———
  await t.rejects(runRestore(await testConfig(dirA), backupDir, silentLogger()), { code: 'RESTORE_TARGET_NOT_EMPTY' }, 'never over an existing DATA_DIR');
  const segment = manifest.recordings.files[0]!.path;
  const original = await readFile(path.join(backupDir, segment));
  const damaged = Buffer.from(original);
  damaged[100] = damaged[100]! ^ 0xff;
  await writeFile(path.join(backupDir, segment), damaged);
  await t.rejects(runRestore(await testConfig(dirB), backupDir, silentLogger()), { code: 'BACKUP_CORRUPT' }, 'a damaged backup is refused');
  t.same(await readdir(dirB).catch(() => []), [], 'and nothing was written');
  await writeFile(path.join(backupDir, segment), original);

  // ——— restore and a server on the restored DATA_DIR ———
  const restore = await cli(['restore', backupDir], dirB);
  t.equal(restore.code, 0, restore.stderr);
  t.comment(`restore: ${restore.ms} ms for the CLI process — ${restore.stdout.trim()}`);
  const b = await TiepdanServer.start(await testConfig(dirB, { MEDIASOUP_NUM_WORKERS: '1', EXPORT_DESTINATIONS: 'none' }), silentLogger());
  t.teardown(() => b.stop());
  const apiB = apiFor(b);
  const boardB = (await apiB('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'mat-khau-ban-tcd-1' } })).body.token;
  t.ok(boardB, 'the same users and passwords');
  const adminB = (await apiB('POST', '/api/v1/auth/login', { body: { username: 'admin', password: adminPassword } })).body.token;
  t.same((await apiB('GET', '/api/v1/sessions?limit=200', { token: boardB })).body, before.sessions, 'the same sessions');
  t.same((await apiB('GET', '/api/v1/cases?limit=200', { token: boardB })).body, before.cases, 'the same cases');
  const audit = (await apiB('GET', '/api/v1/audit/verify', { token: adminB })).body;
  t.equal(audit.valid, true, `the audit chain verifies with the restored key and anchor (${audit.reason ?? 'ok'})`);
  t.ok((audit.headSeq ?? 0) >= (before.audit.headSeq ?? Infinity), 'no audit row lost');
  t.equal(audit.keyedFromSeq, before.audit.keyedFromSeq, 'the keyed switch point is the original one');
  for (const id of sessionIds.slice(0, RECORDINGS)) {
    const report = await b.recordings.verify(id);
    t.ok(report.ok, `recording ${id.slice(0, 8)} verifies (${report.problems.map((p) => p.message).join('; ')})`);
  }
  const next = await apiB('POST', '/api/v1/cases', { token: boardB, body: { type: 'khieu_nai', title: 'Sau khi khôi phục', criteria: ['a'] } });
  t.equal(next.status, 201, 'new rows after a restore: the sequences continue');
  t.notOk((before.cases.items ?? []).some((c) => c.reference === next.body.reference), 'a new case reference, not one handed out before');
  t.equal((await apiB('GET', '/api/v1/audit/verify', { token: adminB })).body.valid, true, 'and the chain still verifies after new rows');
});
