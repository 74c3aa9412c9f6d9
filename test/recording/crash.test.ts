/**
 * kill -9 of the whole server process mid-recording: the recorder runs in a child process with its
 * own mediasoup worker and FFmpegs; after SIGKILL, recovery closes the recording as interrupted.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { readManifest, type SegmentEntry } from '../../src/recording/manifest/manifest.ts';
import { packetSpan } from '../../src/recording/recorder/ffprobe.ts';
import { recoverInterruptedRecordings } from '../../src/recording/recovery/recoverInterrupted.ts';
import { verifyRecording } from '../../src/recording/verify/verifyRecording.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { sleep, waitFor } from './helpers.ts';

interface Report {
  dir: string;
  tracks: { trackId: string; pid: number; segments: number }[];
  sourcePids: number[];
  at: number;
}

t.test('kill -9 of the server mid-recording: completed segments stay, the partial one is repaired, the manifest closes as interrupted and verifies', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const recordingsDir = path.join(data.dir, 'recordings');
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'crashChild.ts'), recordingsDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last: Report | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      last = JSON.parse(line) as Report;
    } catch {
      /* not a report */
    }
  });
  const sourcePids = new Set<number>();
  t.teardown(() => {
    child.kill('SIGKILL');
    for (const pid of sourcePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  const report = await waitFor('two segments per track in the child', () => (last && last.tracks.length === 2 && last.tracks.every((tr) => tr.segments >= 2) ? last : undefined), 90000);
  for (const p of report.sourcePids) sourcePids.add(p);
  await sleep(1200); // mid-segment
  child.kill('SIGKILL');
  const killedAt = Date.now() / 1000;
  await new Promise((r) => child.once('exit', r));
  for (const pid of sourcePids) process.kill(pid, 'SIGKILL');

  const results = await recoverInterruptedRecordings(recordingsDir, silentLogger());
  t.equal(results.length, 1, 'one interrupted recording found');
  t.ok((results[0]?.killedFfmpeg ?? 0) >= 1, `orphaned FFmpeg recorders stopped (${results[0]?.killedFfmpeg})`);
  for (const tr of report.tracks) t.notOk(existsSync(`/proc/${tr.pid}`) && tr.pid > 0 && !(await isZombieOrOther(tr.pid)), `FFmpeg ${tr.pid} no longer runs`);
  const manifest = await readManifest(path.join(report.dir, 'manifest.json'));
  t.equal(manifest.status, 'interrupted', 'manifest closed as interrupted');
  const segments = manifest.entries.filter((e) => e.type === 'segment') as unknown as SegmentEntry[];
  for (const s of segments) {
    const span = await packetSpan(path.join(report.dir, s.file));
    t.ok(span && span.packets > 0, `${s.file}${s.repaired ? ' (repaired)' : ''} plays`);
  }
  for (const tr of report.tracks) {
    const end = Math.max(...segments.filter((s) => s.trackId === tr.trackId).map((s) => s.end));
    t.ok(killedAt - end < 3, `${tr.trackId}: loss window at the crash ${(killedAt - end).toFixed(2)} s`);
  }
  const verified = await verifyRecording(report.dir);
  t.same(verified.problems, [], 'chain and every hash verify after recovery');
  t.same(await recoverInterruptedRecordings(recordingsDir, silentLogger()), [], 'a second start finds nothing to recover');
});

async function isZombieOrOther(pid: number): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8');
    return stat.split(' ')[2] === 'Z' || comm.trim() !== 'ffmpeg';
  } catch {
    return true;
  }
}
