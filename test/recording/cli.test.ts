/**
 * `tiepdan recordings verify` and `export` from the command line, on a real recording.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SessionRecorder } from '../../src/recording/recorder/sessionRecorder.ts';
import { readManifest } from '../../src/recording/manifest/manifest.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { dirState, mountTmpfs, recorderOptions, sleep, waitFor } from './helpers.ts';

const run = promisify(execFile);
const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'tiepdan.mjs');

t.test('CLI: verify passes, names a flipped segment (exit 2); export to a directory and to ISO', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const recordingsDir = path.join(data.dir, 'recordings');
  const pool = await startPool();
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-cli', router);
  await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  await sleep(4500);
  session.end();
  await waitFor('closed', () => recorder.state.status === 'stopped');
  session.close();
  pool.close();
  const env = { ...process.env, DATA_DIR: data.dir, LOG_LEVEL: 'silent', EXPORT_PASS: 'mat-khau-xuat-du-lieu' };
  const cli = (...args: string[]) => run(process.execPath, [bin, 'recordings', ...args], { env }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );

  let r = await cli('verify', 'session-cli');
  t.equal(r.code, 0, 'verify exits 0');
  t.match(r.out, /OK: every hash and the chain verify/);

  // The drive: a tmpfs, a filesystem of its own as a USB drive is (needs root).
  const drives = await mkdtemp(path.join(tmpdir(), 'tiepdan-drives-'));
  const drive = path.join(drives, 'usb');
  const unmount = await mountTmpfs(drive, '64m');
  t.teardown(async () => {
    await unmount();
    await rm(drives, { recursive: true, force: true });
  });
  r = await cli('export', '--to', drive, 'session-cli');
  t.equal(r.code, 0, 'export to a drive');
  t.match(r.out, /chain of custody: .*\/tiepdan-export-[0-9a-f-]{36}\/chain-of-custody\.json/, 'into a new directory on it');
  r = await cli('export', '--iso', drive, '--media', 'cd', '--passphrase-env', 'EXPORT_PASS', 'session-cli');
  t.equal(r.code, 0, 'encrypted export to a CD image');
  t.match(r.out, /disc 1\/1: .*read back OK/);
  const isoDir = (await readdir(drive)).find((f) => f.startsWith('tiepdan-iso-'));
  t.ok(isoDir && (await readdir(path.join(drive, isoDir))).some((f) => f.endsWith('.iso')), 'the image is left for the technician, in its own directory');
  const before = await dirState(data.dir);
  r = await cli('export', '--to', data.dir, 'session-cli');
  t.not(r.code, 0, 'the CLI refuses the recordings filesystem too');
  t.same(await dirState(data.dir), before, 'and leaves DATA_DIR as it was');

  const manifest = await readManifest(path.join(recordingsDir, 'session-cli', 'manifest.json'));
  const victim = (manifest.entries.find((e) => e.type === 'segment') as unknown as { file: string }).file;
  const fh = await open(path.join(recordingsDir, 'session-cli', victim), 'r+');
  await fh.write(Buffer.from([0x42]), 0, 1, 100);
  await fh.close();
  r = await cli('verify', 'session-cli');
  t.equal(r.code, 2, 'verify exits 2 on a changed file');
  t.match(r.out, new RegExp(`CHANGED: ${victim.replace(/[/.]/g, '\\$&')}`), 'and names the file');
});
