/**
 * The playable copy: one MP4 with the cameras in a grid and the microphones mixed, on the session
 * timeline; originals untouched.
 */
import path from 'node:path';
import t from 'tap';
import { SessionRecorder } from '../../src/recording/recorder/sessionRecorder.ts';
import { buildPlayableCopy } from '../../src/recording/playable/playableCopy.ts';
import { probe } from '../../src/recording/recorder/ffprobe.ts';
import { readManifest } from '../../src/recording/manifest/manifest.ts';
import { verifyRecording } from '../../src/recording/verify/verifyRecording.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { recorderOptions, sleep, waitFor } from './helpers.ts';

t.test('playable copy: grid of two cameras, mixed audio, whole session length, originals untouched', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-P', router);
  t.teardown(() => session.close());
  await session.addSyncedAvSource('peer-1', 'Điểm cầu 1');
  const recordingsDir = path.join(data.dir, 'recordings');
  const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  await sleep(3000);
  await session.addSource('peer-2', 'Điểm cầu 2', 'video');
  await sleep(4000);
  session.end();
  await waitFor('closed', () => recorder.state.status === 'stopped');
  const before = await readManifest(path.join(recorder.dir, 'manifest.json'));
  const segs = before.entries.filter((e) => e.type === 'segment') as unknown as { start: number; end: number }[];
  const timeline = Math.max(...segs.map((s) => s.end)) - Math.min(...segs.map((s) => s.start));

  const progress: number[] = [];
  const result = await buildPlayableCopy({ sessionDir: recorder.dir, onProgress: (f) => progress.push(f) });
  t.equal(result.videoTracks, 2, 'both cameras in the grid');
  t.equal(result.audioTracks, 1);
  t.equal(progress.at(-1), 1, 'progress reaches 100 %');
  const p = await probe(result.file);
  const v = p?.streams.find((s) => s.codecType === 'video');
  t.ok(v && p?.streams.some((s) => s.codecType === 'audio'), 'one file with video and audio');
  t.equal(v?.width, 1280, 'two 640-wide cells side by side');
  t.ok(Math.abs((p?.duration ?? 0) - timeline) < 0.5, `playable copy lasts ${p?.duration.toFixed(2)} s, the session timeline ${timeline.toFixed(2)} s`);
  t.same((await verifyRecording(recorder.dir)).problems, [], 'originals untouched: the recording still verifies');
});
