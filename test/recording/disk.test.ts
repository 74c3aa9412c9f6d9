/**
 * Disk full, for real: the recordings directory is a small tmpfs, mostly filled. The recorder
 * warns below the threshold, stops cleanly at the floor, the session (router, producers) goes on,
 * and what was recorded verifies and plays.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SessionRecorder } from '../../src/recording/recorder/sessionRecorder.ts';
import { freeBytes } from '../../src/recording/disk/diskMonitor.ts';
import { packetSpan } from '../../src/recording/recorder/ffprobe.ts';
import { readManifest } from '../../src/recording/manifest/manifest.ts';
import { verifyRecording } from '../../src/recording/verify/verifyRecording.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { recorderOptions, waitFor } from './helpers.ts';

const run = promisify(execFile);

t.test('tmpfs nearly full: warning, clean stop at the floor, session goes on, nothing corrupt', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const mount = path.join(data.dir, 'small-disk');
  await mkdir(mount);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', mount]);
  t.teardown(() => run('umount', ['-l', mount]).then(() => undefined));
  // Leave about 1.2 MB free.
  await writeFile(path.join(mount, 'filler'), Buffer.alloc(6 * 1024 * 1024 - 1200 * 1024));
  const free0 = await freeBytes(mount);
  t.ok(free0 < 1300 * 1024, `${Math.round(free0 / 1024)} KiB free on the tmpfs`);

  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-disk', router);
  t.teardown(() => session.close());
  await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  const video = await session.addSource('peer-1', 'Điểm cầu 1', 'video');
  const recordingsDir = path.join(mount, 'recordings');
  const recorder = await SessionRecorder.start(
    session,
    recorderOptions(recordingsDir, silentLogger(), { disk: { warnBytes: free0 - 200 * 1024, floorBytes: free0 - 700 * 1024 }, diskCheckMs: 300 }),
  );
  t.teardown(() => recorder.stop());
  const warnings: number[] = [];
  recorder.on('diskWarning', (w) => warnings.push(w.freeBytes));
  const stopped = new Promise<{ status: string }>((r) => recorder.once('stopped', r));
  await waitFor('disk warning', () => warnings.length > 0, 60000);
  t.pass(`warning fired at ${Math.round((warnings[0] ?? 0) / 1024)} KiB free`);
  t.equal(recorder.state.disk.level, 'warning', 'API state shows the warning');
  const { status } = await stopped;
  t.equal(status, 'disk-full', 'recording stopped at the floor');
  t.equal(recorder.state.status, 'stopped');

  // The session goes on: its producers still receive media.
  const before = (await video.producer.getStats()).reduce((n, s) => n + s.byteCount, 0);
  await waitFor('media still flowing', async () => ((await video.producer.getStats()).reduce((n, s) => n + s.byteCount, 0) > before ? true : undefined));
  t.notOk(video.producer.closed, 'the session goes on');

  const dir = path.join(recordingsDir, 'session-disk');
  const manifest = await readManifest(path.join(dir, 'manifest.json'));
  t.equal(manifest.status, 'disk-full', 'manifest closed as disk-full');
  t.ok(manifest.entries.some((e) => e.type === 'disk' && (e as { level?: string }).level === 'warning'), 'warning recorded in the manifest');
  t.same((await verifyRecording(dir)).problems, [], 'nothing corrupt: chain and hashes verify');
  for (const e of manifest.entries.filter((x) => x.type === 'segment') as unknown as { file: string }[]) {
    t.ok(await packetSpan(path.join(dir, e.file)), `${e.file} plays`);
  }
  await t.rejects(
    SessionRecorder.start(new TestSession('session-disk-2', router), recorderOptions(recordingsDir, silentLogger(), { disk: { warnBytes: 1e12, floorBytes: 1e11 } })),
    { code: 'RECORDING_DISK_LOW' },
    'a new recording is refused below the floor',
  );
});
