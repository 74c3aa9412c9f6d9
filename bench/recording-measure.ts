/**
 * Recording measurements (issue 5): FFmpeg CPU per recorded track, the largest loss window after
 * kill -9 of a recording FFmpeg, and the audio/video offset in the playable copy. Real mediasoup,
 * real FFmpeg sources (a flash and a beep together every 2 s), real recorder. Prints numbers only.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { SessionRecorder } from '../src/recording/recorder/sessionRecorder.ts';
import { buildPlayableCopy } from '../src/recording/playable/playableCopy.ts';
import { recoverInterruptedRecordings } from '../src/recording/recovery/recoverInterrupted.ts';
import { readManifest } from '../src/recording/manifest/manifest.ts';
import { mediaCodecs, startPool, TestSession } from '../test/recording/harness.ts';
import { recorderOptions, sleep, waitFor } from '../test/recording/helpers.ts';
import { silentLogger, tempDataDir } from '../test/helpers/env.ts';

const run = promisify(execFile);
const ticks = 100; // USER_HZ on Linux

async function cpuTicks(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]); // utime + stime
}

const data = await tempDataDir('tiepdan-bench-rec-');
const pool = await startPool();
try {
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('bench-rec', router);
  await session.addSyncedAvSource('peer-1', 'Điểm cầu 1');
  const recordingsDir = path.join(data.dir, 'recordings');
  const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger(), { segmentSeconds: 4 }));
  await sleep(3000);

  // 1. CPU per track over 20 s.
  const tracks = recorder.state.tracks;
  const before = await Promise.all(tracks.map((t) => cpuTicks(t.pid ?? 0)));
  const t0 = Date.now();
  await sleep(20000);
  const after = await Promise.all(tracks.map((t) => cpuTicks(t.pid ?? 0)));
  const seconds = (Date.now() - t0) / 1000;
  for (const [i, t] of tracks.entries()) {
    const pct = (100 * ((after[i] ?? 0) - (before[i] ?? 0))) / ticks / seconds;
    console.log(`cpu_per_track_percent_of_core{track=${t.kind}} ${pct.toFixed(2)}`);
  }

  session.end();
  await waitFor('stopped', () => recorder.state.status === 'stopped');

  // 2. Audio/video offset in the playable copy: flash onsets vs beep onsets.
  const started = Date.now();
  const playable = await buildPlayableCopy({ sessionDir: recorder.dir });
  console.log(`playable_copy_build_seconds ${((Date.now() - started) / 1000).toFixed(1)} for ${playable.durationSeconds.toFixed(1)} s of session`);
  const { stdout: vOut } = await run('ffmpeg', ['-v', 'error', '-i', playable.file, '-map', '0:v', '-vf', 'signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-', '-f', 'null', '-'], { maxBuffer: 64 << 20 });
  const { stdout: aOut } = await run('ffmpeg', ['-v', 'error', '-i', playable.file, '-map', '0:a', '-af', 'asetnsamples=n=240:p=0,astats=metadata=1:reset=1,ametadata=print:key=lavfi.astats.Overall.RMS_level:file=-', '-f', 'null', '-'], { maxBuffer: 64 << 20 });
  const onsets = (text: string, key: string, on: (v: number) => boolean): number[] => {
    const out: number[] = [];
    let t = 0;
    let prev = false;
    for (const line of text.split('\n')) {
      const m = /pts_time:([\d.]+)/.exec(line);
      if (m) t = Number(m[1]);
      const v = new RegExp(`${key}=(-?[\\d.inf]+)`).exec(line);
      if (v) {
        const isOn = on(Number(v[1]));
        if (isOn && !prev) out.push(t);
        prev = isOn;
      }
    }
    return out;
  };
  const flashes = onsets(vOut, 'lavfi.signalstats.YAVG', (y) => y > 128);
  const beeps = onsets(aOut, 'lavfi.astats.Overall.RMS_level', (db) => db > -30);
  const offsets: number[] = [];
  for (const f of flashes) {
    const nearest = beeps.reduce((best, b) => (Math.abs(b - f) < Math.abs(best - f) ? b : best), Infinity);
    if (Math.abs(nearest - f) < 0.5) offsets.push(nearest - f);
  }
  const ms = offsets.map((o) => o * 1000);
  console.log(`av_offset_ms{stat=mean,sign=audio_minus_video} ${(ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length)).toFixed(1)}`);
  console.log(`av_offset_ms{stat=max_abs} ${Math.max(...ms.map(Math.abs)).toFixed(1)} over ${ms.length} flash/beep pairs (video frame = 40 ms at 25 fps)`);
  console.log(`av_offset_ms{stat=all} ${ms.map((x) => x.toFixed(0)).join(' ')}`);
  // 3. Loss windows after kill -9 of the recording FFmpegs (3 rounds, both tracks), on a second session.
  const killSession = new TestSession('bench-kill', router);
  await killSession.addSyncedAvSource('peer-1', 'Điểm cầu 1');
  const killRecorder = await SessionRecorder.start(killSession, recorderOptions(recordingsDir, silentLogger(), { segmentSeconds: 4 }));
  await sleep(3000);
  const gaps: number[] = [];
  killRecorder.on('gap', (g) => gaps.push(g.to - g.from));
  for (let round = 0; round < 3; round++) {
    await sleep(2700);
    for (const t of killRecorder.state.tracks) if (t.pid) process.kill(t.pid, 'SIGKILL');
    await waitFor('gap recorded', () => gaps.length >= 2 * (round + 1), 60000);
  }
  console.log(`ffmpeg_kill9_loss_window_seconds{stat=max} ${Math.max(...gaps).toFixed(3)}`);
  console.log(`ffmpeg_kill9_loss_window_seconds{stat=mean} ${(gaps.reduce((a, b) => a + b, 0) / gaps.length).toFixed(3)}`);
  await sleep(3000);
  killSession.end();
  await waitFor('stopped', () => killRecorder.state.status === 'stopped');

  session.close();
  killSession.close();

  // 4. Loss window when the whole server process is killed (-9) mid-segment, after recovery.
  const crashDir = path.join(data.dir, 'crash');
  const child = spawn(process.execPath, [path.join(import.meta.dirname, '..', 'test', 'recording', 'crashChild.ts'), crashDir], { stdio: ['ignore', 'pipe', 'ignore'] });
  let last: { dir: string; tracks: { trackId: string; segments: number }[]; sourcePids: number[] } | undefined;
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      last = JSON.parse(l) as typeof last;
    } catch {
      /* ignore */
    }
  });
  const report = await waitFor('child recording', () => (last && last.tracks.length === 2 && last.tracks.every((x) => x.segments >= 2) ? last : undefined), 90000);
  await sleep(1300);
  child.kill('SIGKILL');
  const killedAt = Date.now() / 1000;
  for (const pid of report.sourcePids) process.kill(pid, 'SIGKILL');
  await recoverInterruptedRecordings(crashDir, silentLogger());
  const m = await readManifest(path.join(report.dir, 'manifest.json'));
  for (const tr of report.tracks) {
    const end = Math.max(...(m.entries as unknown as { type: string; trackId?: string; end?: number }[]).filter((e) => e.type === 'segment' && e.trackId === tr.trackId).map((e) => e.end ?? 0));
    console.log(`server_kill9_loss_window_seconds{track=${tr.trackId.split('.')[1]}} ${(killedAt - end).toFixed(3)}`);
  }
} finally {
  pool.close();
  await data.remove();
}
