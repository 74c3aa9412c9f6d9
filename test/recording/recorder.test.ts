/**
 * The recorder end to end with real parts: mediasoup router, FFmpeg RTP sources, FFmpeg recorder,
 * ffprobe on the result.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { SessionRecorder } from '../../src/recording/recorder/sessionRecorder.ts';
import { packetSpan, probe } from '../../src/recording/recorder/ffprobe.ts';
import { readManifest, type SegmentEntry } from '../../src/recording/manifest/manifest.ts';
import { verifyRecording } from '../../src/recording/verify/verifyRecording.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { modes, recorderOptions, sleep, waitFor } from './helpers.ts';

t.test('records audio and video of a session, a late joiner from when it joins, into playable, hash-chained segments', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-A1', router);
  t.teardown(() => session.close());
  await session.addSource('peer-central', 'Điểm cầu trung tâm', 'audio');
  await session.addSource('peer-central', 'Điểm cầu trung tâm', 'video');

  const recordingsDir = path.join(data.dir, 'recordings');
  const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  t.teardown(() => recorder.stop());
  const startedAt = Date.now();
  await sleep(4000);
  const late = await session.addSource('peer-xa-1', 'Điểm cầu xã 1', 'video');
  const lateJoinedAt = Date.now();
  await waitFor('late track recording', () => recorder.state.tracks.find((tr) => tr.peerId === 'peer-xa-1' && tr.segments > 0));
  await sleep(3000);
  const stoppedAt = Date.now();
  session.end();
  await waitFor('recorder stopped', () => recorder.state.status === 'stopped');
  t.ok(late.producer.id, 'late joiner produced');

  const dir = path.join(recordingsDir, 'session-A1');
  const manifest = await readManifest(path.join(dir, 'manifest.json'));
  t.equal(manifest.status, 'complete', 'manifest closed as complete');
  t.equal(manifest.entries.at(-1)?.type, 'closed', 'last entry is the closed entry');
  t.same(
    manifest.participants.map((p) => p.peerId).sort(),
    ['peer-central', 'peer-xa-1'],
    'participants listed by id and label',
  );
  const segments = manifest.entries.filter((e) => e.type === 'segment') as unknown as SegmentEntry[];
  for (const trackId of ['peer-central.microphone-1', 'peer-central.camera-1', 'peer-xa-1.camera-1']) {
    const segs = segments.filter((s) => s.trackId === trackId);
    t.ok(segs.length >= 2, `${trackId}: ${segs.length} segments`);
    let total = 0;
    const kinds = new Set<string>();
    for (const s of segs) {
      const p = await probe(path.join(dir, s.file));
      const span = await packetSpan(path.join(dir, s.file));
      t.ok(p && span && span.packets > 0, `${s.file} is playable (ffprobe)`);
      total += span ? span.end - span.first : 0;
      for (const st of p?.streams ?? []) kinds.add(st.codecType);
    }
    t.same([...kinds], [trackId.includes('microphone') ? 'audio' : 'video'], `${trackId} holds its media type`);
    // Time recorded: from the first packet FFmpeg received (its arrival wall-clock) to the end.
    const firstAt = segs[0]?.start ?? 0;
    const joinedAt = trackId === 'peer-xa-1.camera-1' ? lateJoinedAt : startedAt;
    t.ok(firstAt * 1000 - joinedAt < 3000, `${trackId}: media recorded within ${(firstAt - joinedAt / 1000).toFixed(2)} s of the start`);
    const lastAt = segs.at(-1)?.end ?? 0;
    t.ok(Math.abs(stoppedAt / 1000 - lastAt) < 1.5, `${trackId}: recorded until ${(stoppedAt / 1000 - lastAt).toFixed(2)} s before the end`);
    // The files hold media over the whole recorded time (on a loaded machine the FFmpeg sources
    // themselves may fall behind real time, so the reference is the arrival timeline).
    const expected = lastAt - firstAt;
    t.ok(Math.abs(total - expected) <= 0.5, `${trackId}: ffprobe total ${total.toFixed(2)} s vs ${expected.toFixed(2)} s recorded`);
    if (trackId === 'peer-xa-1.camera-1') {
      t.ok((segs[0]?.start ?? 0) * 1000 >= lateJoinedAt - 3000, 'late joiner is recorded from when it joined');
    }
  }
  const report = await verifyRecording(dir);
  t.same(report.problems, [], 'verification finds nothing wrong');
  t.ok(report.ok);
  for (const m of await modes(dir)) t.equal(m.mode, m.dir ? 0o700 : 0o600, `${path.relative(data.dir, m.path) || '.'} is owner-only`);
  const names = (await modes(dir)).map((m) => m.path).join('\n');
  t.notMatch(names, /Điểm|trung tâm/, 'no labels in file names');
  t.notMatch(await readFile(path.join(dir, 'manifest.json'), 'utf8'), /"\.work/, 'no work files listed');
});

t.test('kill -9 of FFmpeg: restarted, the partial segment repaired, the gap recorded, the chain verifies', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-K9', router);
  t.teardown(() => session.close());
  await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  await session.addSource('peer-1', 'Điểm cầu 1', 'video');
  const recordingsDir = path.join(data.dir, 'recordings');
  const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  t.teardown(() => recorder.stop());
  const gaps: { trackId: string; from: number; to: number }[] = [];
  recorder.on('gap', (g) => gaps.push(g));
  await waitFor('segments', () => recorder.state.tracks.every((tr) => tr.segments >= 2));
  await sleep(700); // mid-segment
  for (const tr of recorder.state.tracks) process.kill(tr.pid ?? 0, 'SIGKILL');
  await waitFor('both tracks restarted and recording', () => gaps.length === 2);
  await sleep(2500);
  await recorder.stop('complete');
  const dir = path.join(recordingsDir, 'session-K9');
  const manifest = await readManifest(path.join(dir, 'manifest.json'));
  const entries = manifest.entries as unknown as { type: string; trackId?: string; repaired?: boolean; from?: number; to?: number; file?: string }[];
  t.equal(entries.filter((e) => e.type === 'gap').length, 2, 'one gap per killed FFmpeg in the manifest');
  t.ok(entries.some((e) => e.type === 'segment' && e.repaired), 'the segment being written at the kill was repaired and listed');
  t.ok(entries.some((e) => e.type === 'quarantined'), 'its original bytes are quarantined and listed');
  for (const g of gaps) t.ok(g.to - g.from < 5, `${g.trackId}: loss window ${(g.to - g.from).toFixed(2)} s`);
  for (const e of entries.filter((x) => x.type === 'segment')) {
    const p = await probe(path.join(dir, e.file ?? ''));
    t.ok(p && p.duration > 0, `${e.file} plays`);
  }
  const report = await verifyRecording(dir);
  t.same(report.problems, [], 'chain and hashes verify');
});

t.test('the host stops and restarts recording: the same manifest continues after a resumed entry and verifies', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-R', router);
  t.teardown(() => session.close());
  await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  const recordingsDir = path.join(data.dir, 'recordings');
  const first = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  await waitFor('a segment', () => first.state.tracks[0]?.segments);
  await first.stop('stopped');
  const second = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  t.teardown(() => second.stop());
  await waitFor('a segment', () => second.state.tracks[0]?.segments);
  t.equal(second.state.tracks[0]?.trackId, 'peer-1.microphone-2', 'the second part records into a new track directory');
  await second.stop('complete');
  const manifest = await readManifest(path.join(recordingsDir, 'session-R', 'manifest.json'));
  t.same(
    manifest.entries.map((e) => String(e.type)).filter((type) => ['opened', 'closed', 'resumed'].includes(type)),
    ['opened', 'closed', 'resumed', 'closed'],
    'opened, closed, resumed, closed',
  );
  t.equal(manifest.status, 'complete');
  t.same((await verifyRecording(path.join(recordingsDir, 'session-R'))).problems, [], 'verifies');
});

t.test('producers pausing and resuming do not break the files: recording continues after resume', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-pause', router);
  t.teardown(() => session.close());
  const audio = await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  const video = await session.addSource('peer-1', 'Điểm cầu 1', 'video');
  const recordingsDir = path.join(data.dir, 'recordings');
  const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
  t.teardown(() => recorder.stop());
  await waitFor('segments', () => recorder.state.tracks.every((tr) => tr.segments >= 1));
  await audio.producer.pause();
  await video.producer.pause();
  const pausedAt = Date.now() / 1000;
  await sleep(3000);
  await audio.producer.resume();
  await video.producer.resume();
  const resumedAt = Date.now() / 1000;
  await sleep(5000);
  await recorder.stop('complete');
  const dir = path.join(recordingsDir, 'session-pause');
  const manifest = await readManifest(path.join(dir, 'manifest.json'));
  const segs = manifest.entries.filter((e) => e.type === 'segment') as unknown as SegmentEntry[];
  for (const trackId of ['peer-1.microphone-1', 'peer-1.camera-1']) {
    const mine = segs.filter((s) => s.trackId === trackId);
    t.ok(mine.some((s) => s.end > resumedAt + 1), `${trackId}: recorded after the resume`);
    t.ok(mine.some((s) => s.start < pausedAt), `${trackId}: and before the pause`);
    for (const s of mine) t.ok(await packetSpan(path.join(dir, s.file)), `${s.file} plays`);
  }
  t.same((await verifyRecording(dir)).problems, [], 'verifies');
});
