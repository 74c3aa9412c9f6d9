/**
 * Verification, export to a drive and to ISO images (read back with xorriso), on a real recording
 * made once for all subtests. The "drive" is a tmpfs (a real separate filesystem; needs root).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SessionRecorder } from '../../src/recording/recorder/sessionRecorder.ts';
import { readManifest } from '../../src/recording/manifest/manifest.ts';
import { sha256File } from '../../src/recording/fsutil.ts';
import { verifyRecording } from '../../src/recording/verify/verifyRecording.ts';
import { exportToDirectory } from '../../src/recording/export/exportToDirectory.ts';
import { exportToIso } from '../../src/recording/export/exportToIso.ts';
import { decryptFile } from '../../src/recording/export/encryption.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { dirState, mountTmpfs, recorderOptions, sleep, waitFor } from './helpers.ts';

const run = promisify(execFile);
const operator = { userId: 'user-archivist', role: 'archivist' };

const data = await tempDataDir();
t.teardown(() => data.remove());
const recordingsDir = path.join(data.dir, 'recordings');
{
  const pool = await startPool();
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-X', router);
  await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  await session.addSource('peer-1', 'Điểm cầu 1', 'video');
  const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  await sleep(7000);
  session.end();
  await waitFor('closed', () => recorder.state.status === 'stopped');
  session.close();
  pool.close();
}
const sessionDir = path.join(recordingsDir, 'session-X');
const drives = await mkdtemp(path.join(tmpdir(), 'tiepdan-drives-'));
const drive = path.join(drives, 'usb');
const unmountDrive = await mountTmpfs(drive, '64m');
t.teardown(async () => {
  await unmountDrive();
  await rm(drives, { recursive: true, force: true });
});

t.test('verify: one flipped byte, a deleted and an added file are each reported by name', async (t) => {
  t.same((await verifyRecording(sessionDir)).problems, [], 'untouched recording verifies');
  const copy = await mkdtemp(path.join(data.dir, 'tamper-'));
  await run('cp', ['-a', `${sessionDir}/.`, copy]);
  const manifest = await readManifest(path.join(copy, 'manifest.json'));
  const segs = manifest.entries.filter((e) => e.type === 'segment') as unknown as { file: string }[];
  const victim = segs[1]?.file ?? '';
  const fh = await open(path.join(copy, victim), 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, 200);
  b[0] = (b[0] ?? 0) ^ 0x01;
  await fh.write(b, 0, 1, 200);
  await fh.close();
  let report = await verifyRecording(copy);
  t.notOk(report.ok, 'a flipped byte fails verification');
  t.same(report.problems.map((p) => [p.kind, p.file]), [['changed', victim]], `the changed segment is named: ${victim}`);

  await rm(path.join(copy, segs[0]?.file ?? ''));
  await (await open(path.join(copy, 'peer-1', 'extra.mkv'), 'w')).close();
  report = await verifyRecording(copy);
  t.same(report.problems.map((p) => [p.kind, p.file]).sort(), [['added', path.join('peer-1', 'extra.mkv')], ['changed', victim], ['missing', segs[0]?.file]].sort(), 'missing and added files are named');

  // Editing a manifest entry (e.g. to hide the change) breaks the chain.
  const text = await readFile(path.join(copy, 'manifest.json'), 'utf8');
  const m = JSON.parse(text) as { entries: { sha256?: string; file?: string }[] };
  const entry = m.entries.find((e) => e.file === victim);
  if (entry) entry.sha256 = (await sha256File(path.join(copy, victim))).sha256;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(copy, 'manifest.json'), JSON.stringify(m));
  report = await verifyRecording(copy);
  t.ok(report.problems.some((p) => p.kind === 'chain'), 'a rewritten manifest entry breaks the hash chain');
  report = await verifyRecording(sessionDir, { expectedHeadHash: 'f'.repeat(64) });
  t.ok(report.problems.some((p) => p.kind === 'anchor'), 'a head hash differing from the recorded one is reported');
});

t.test('export to a drive: a new directory, copied, read back, chain of custody; encrypted export decrypts with the script on the drive', async (t) => {
  const driveBefore = await dirState(drive);
  const progress: string[] = [];
  const result = await exportToDirectory({ recordingsDir, sessionIds: ['session-X'], destination: drive, exportId: 'job-1', exportedBy: operator, onProgress: (p) => progress.push(p.phase) });
  t.equal(result.root, path.join(drive, 'tiepdan-export-job-1'), 'the export goes into its own new directory');
  t.equal(((await stat(result.root)).mode & 0o777).toString(8), '700', 'owner-only');
  const driveAfter = await dirState(drive);
  t.same({ ...driveAfter, entries: driveAfter.entries.filter((e) => e !== 'tiepdan-export-job-1') }, driveBefore, 'the drive root keeps its mode and owner');
  t.ok(progress.includes('copying') && progress.includes('reading back') && progress.at(-1) === 'done', 'progress reported');
  const exported = path.join(result.root, 'session-X');
  t.same((await verifyRecording(exported)).problems, [], 'the copy on the drive verifies on its own');
  const custody = JSON.parse(await readFile(result.custodyFile, 'utf8')) as { exportId: string; exportedBy: unknown; sessions: { manifestHeadHash: string }[] };
  t.equal(custody.exportId, 'job-1');
  t.same(custody.exportedBy, operator, 'chain of custody names who exported');
  t.equal(custody.sessions[0]?.manifestHeadHash, (await readManifest(path.join(sessionDir, 'manifest.json'))).headHash, 'and the manifest head hash');

  const enc = await exportToDirectory({ recordingsDir, sessionIds: ['session-X'], destination: drive, exportedBy: operator, passphrase: 'correct horse battery' });
  const encManifest = path.join(enc.root, 'session-X', 'manifest.json.enc');
  const plain = path.join(drives, 'manifest.json');
  await decryptFile(encManifest, plain, 'correct horse battery');
  t.equal((await sha256File(plain)).sha256, (await sha256File(path.join(sessionDir, 'manifest.json'))).sha256, 'encrypted export decrypts to the original');
  await t.rejects(decryptFile(encManifest, plain, 'wrong passphrase!'), { code: 'EXPORT_DECRYPT_FAILED' }, 'a wrong passphrase is refused');
  t.equal(enc.custody.decryptTool?.sha256, (await sha256File(path.join(enc.root, 'decrypt.mjs'))).sha256, 'the decryption script is on the drive, its hash in the custody record');

  // What a recipient without tiepdan does: Node.js and the script on the drive.
  const out = await mkdtemp(path.join(drives, 'recipient-'));
  const tool = path.join(enc.root, 'decrypt.mjs');
  const ok = await run(process.execPath, [tool, enc.root, out], { env: { ...process.env, TIEPDAN_PASSPHRASE: 'correct horse battery' } });
  t.match(ok.stdout, /failed 0|0 failed/, 'every file decrypted and matched the custody hashes');
  t.same((await verifyRecording(path.join(out, 'session-X'))).problems, [], 'the decrypted session verifies on its own');
  const bad = await run(process.execPath, [tool, enc.root, await mkdtemp(path.join(drives, 'recipient-'))], { env: { ...process.env, TIEPDAN_PASSPHRASE: 'not the passphrase' } }).catch((e: { code: number; stderr: string }) => e);
  t.match(bad, { code: 1, stderr: /wrong passphrase/ }, 'a wrong passphrase: exit 1, nothing half-written kept');
});

t.test('export refused on the recordings filesystem; a full drive fails cleanly', async (t) => {
  const guarded = [data.dir, recordingsDir, sessionDir];
  const before = await Promise.all(guarded.map(dirState));
  for (const destination of guarded) {
    await t.rejects(exportToDirectory({ recordingsDir, sessionIds: ['session-X'], destination, exportedBy: operator }), { code: 'EXPORT_DESTINATION_ON_RECORDINGS' }, `refused: ${destination}`);
  }
  await t.rejects(exportToIso({ recordingsDir, sessionIds: ['session-X'], destination: data.dir, media: 'cd', exportedBy: operator }), { code: 'EXPORT_DESTINATION_ON_RECORDINGS' }, 'disc images too');
  t.same(await Promise.all(guarded.map(dirState)), before, 'nothing created or chmodded there');

  // A drive smaller than the recording: the copy runs out of space half-way.
  const total = (await readManifest(path.join(sessionDir, 'manifest.json'))).entries.reduce((n, e) => n + Number((e as { size?: number }).size ?? 0), 0);
  const tiny = path.join(drives, 'tiny');
  const unmount = await mountTmpfs(tiny, `${Math.max(16, Math.floor(total / 3 / 4096) * 4)}k`);
  t.teardown(unmount);
  await t.rejects(exportToDirectory({ recordingsDir, sessionIds: ['session-X'], destination: tiny, exportedBy: operator }), { code: 'EXPORT_DESTINATION_FULL' }, 'disk full has its own code');
  t.same(await readdir(tiny), [], 'and the partial copy is removed from the drive');
});

t.test('export to ISO images split over several discs; every image read back with xorriso and every hash checked', async (t) => {
  const manifest = await readManifest(path.join(sessionDir, 'manifest.json'));
  const sizes = (manifest.entries as unknown as { size?: number }[]).map((e) => e.size ?? 0);
  const total = sizes.reduce((n, s) => n + s, 0);
  // A "disc" of 4 MiB reserve + about a third of the recording forces a set of several discs.
  const room = Math.max(Math.ceil(total / 3), Math.max(...sizes) + 8192);
  const result = await exportToIso({ recordingsDir, sessionIds: ['session-X'], destination: drive, media: { bytes: 4 * 1024 * 1024 + room }, exportedBy: operator });
  t.equal(path.dirname(result.root), drive, 'images go into a new directory on the drive');
  t.match(path.basename(result.root), /^tiepdan-iso-[0-9a-f-]{36}$/);
  t.ok(result.images.every((i) => path.dirname(i.file) === result.root), 'every image inside it');
  t.same((await readdir(result.root)).filter((f) => !f.endsWith('.iso')), [], 'no staging or read-back left behind');
  const out = await mkdtemp(path.join(drives, 'iso-'));
  t.ok(result.images.length >= 3, `${result.images.length} disc images`);
  t.ok(result.images.every((i) => i.verified), 'every image verified by read-back');
  // Independent read-back here too.
  const seen = new Set<string>();
  for (const img of result.images) {
    const dir = await mkdtemp(path.join(out, 'x-'));
    await run('xorriso', ['-osirrox', 'on', '-indev', img.file, '-extract', '/', dir]);
    const disc = JSON.parse(await readFile(path.join(dir, 'DISC.json'), 'utf8')) as { disc: number; discs: number; files: { path: string; sha256: string }[] };
    t.equal(disc.discs, result.images.length, `disc ${disc.disc} knows the set size`);
    for (const f of disc.files) {
      t.equal((await sha256File(path.join(dir, f.path))).sha256, f.sha256, `disc ${disc.disc}: ${f.path}`);
      seen.add(f.path);
    }
    t.ok((await readdir(path.join(dir, 'session-X'))).includes('manifest.json'), `disc ${disc.disc} carries the session manifest`);
    const index = JSON.parse(await readFile(path.join(dir, 'INDEX.json'), 'utf8')) as { discs: number };
    t.equal(index.discs, result.images.length, 'set index on every disc');
    await run('chmod', ['-R', 'u+w', dir]);
  }
  const listed = (manifest.entries as unknown as { type: string; file?: string }[]).filter((e) => e.type === 'segment').map((e) => path.join('session-X', e.file ?? ''));
  t.ok(listed.every((f) => seen.has(f)), 'every segment is on some disc');
  t.equal(result.burner, null, 'no burner here: images left for the technician');
});

t.test('encrypted disc: the decryption script is on the disc and reads it alone', async (t) => {
  const result = await exportToIso({ recordingsDir, sessionIds: ['session-X'], destination: drive, media: 'cd', exportedBy: operator, passphrase: 'correct horse battery' });
  t.equal(result.images.length, 1);
  const disc = await mkdtemp(path.join(drives, 'disc-'));
  await run('xorriso', ['-osirrox', 'on', '-indev', result.images[0]?.file ?? '', '-extract', '/', disc]);
  t.ok((await readdir(disc)).includes('decrypt.mjs') && (await readdir(disc)).includes('DECRYPT.txt'), 'decrypt.mjs and its instructions on the disc');
  const out = await mkdtemp(path.join(drives, 'recipient-'));
  await run(process.execPath, [path.join(disc, 'decrypt.mjs'), disc, out], { env: { ...process.env, TIEPDAN_PASSPHRASE: 'correct horse battery' } });
  t.same((await verifyRecording(path.join(out, 'session-X'))).problems, [], 'decrypted from the disc, the session verifies');
  await run('chmod', ['-R', 'u+w', disc]);
});
