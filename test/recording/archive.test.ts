/**
 * Verification, export to a directory and to ISO images (read back with xorriso), on a real
 * recording made once for all subtests.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
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
import { recorderOptions, sleep, waitFor } from './helpers.ts';

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

t.test('export to a directory: copied, read back, chain of custody written; encrypted export decrypts', async (t) => {
  const drive = await mkdtemp(path.join(data.dir, 'drive-'));
  const progress: string[] = [];
  const result = await exportToDirectory({ recordingsDir, sessionIds: ['session-X'], target: drive, exportedBy: operator, onProgress: (p) => progress.push(p.phase) });
  t.ok(progress.includes('copying') && progress.includes('reading back') && progress.at(-1) === 'done', 'progress reported');
  const exported = path.join(result.root, 'session-X');
  t.same((await verifyRecording(exported)).problems, [], 'the copy on the drive verifies on its own');
  const custody = JSON.parse(await readFile(result.custodyFile, 'utf8')) as { exportedBy: unknown; sessions: { manifestHeadHash: string }[] };
  t.same(custody.exportedBy, operator, 'chain of custody names who exported');
  t.equal(custody.sessions[0]?.manifestHeadHash, (await readManifest(path.join(sessionDir, 'manifest.json'))).headHash, 'and the manifest head hash');

  const enc = await exportToDirectory({ recordingsDir, sessionIds: ['session-X'], target: drive, exportedBy: operator, passphrase: 'correct horse battery' });
  const encManifest = path.join(enc.root, 'session-X', 'manifest.json.enc');
  const plain = path.join(drive, 'manifest.json');
  await decryptFile(encManifest, plain, 'correct horse battery');
  t.equal((await sha256File(plain)).sha256, (await sha256File(path.join(sessionDir, 'manifest.json'))).sha256, 'encrypted export decrypts to the original');
  await t.rejects(decryptFile(encManifest, plain, 'wrong passphrase!'), { code: 'EXPORT_DECRYPT_FAILED' }, 'a wrong passphrase is refused');
});

t.test('export to ISO images split over several discs; every image read back with xorriso and every hash checked', async (t) => {
  const out = await mkdtemp(path.join(data.dir, 'iso-'));
  const manifest = await readManifest(path.join(sessionDir, 'manifest.json'));
  const sizes = (manifest.entries as unknown as { size?: number }[]).map((e) => e.size ?? 0);
  const total = sizes.reduce((n, s) => n + s, 0);
  // A "disc" of 4 MiB reserve + about a third of the recording forces a set of several discs.
  const room = Math.max(Math.ceil(total / 3), Math.max(...sizes) + 8192);
  const result = await exportToIso({ recordingsDir, sessionIds: ['session-X'], outDir: out, media: { bytes: 4 * 1024 * 1024 + room }, exportedBy: operator });
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
