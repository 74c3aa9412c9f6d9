/**
 * Manifest cost of a long recording (security review M11): a 2-hour session with 20 tracks and
 * 4 s segments lists 36,000 segments. Each one is appended and flushed the way the recorder does
 * (append, then await flush before the next), on a real filesystem with fsync. Prints the time per
 * append (overall and over the last 1,000), the largest event-loop delay while appending, and the
 * bytes the process handed to write() (/proc/self/io wchar), the CPU time per append (which, unlike
 * the loop delay, the machine's load hardly changes) and the time of the close. `--seconds N` stops early (the old
 * whole-file rewrite takes hours for the full session); the numbers then cover the appends done.
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { tempDataDir } from '../test/helpers/env.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const tracks = arg('tracks', 20);
const segmentSeconds = 4;
const hours = arg('hours', 2);
const budgetSeconds = arg('seconds', 600);
// `--writer FILE` measures another ManifestWriter (the version before a change, copied beside it).
const writerModule = process.argv.includes('--writer') ? path.resolve(process.argv[process.argv.indexOf('--writer') + 1] ?? '') : '../src/recording/manifest/manifest.ts';
const { ManifestWriter } = (await import(writerModule)) as typeof import('../src/recording/manifest/manifest.ts');
const total = Math.round((hours * 3600) / segmentSeconds) * tracks;

const IDLE_MONITOR = `const { monitorEventLoopDelay } = require('node:perf_hooks');
const l = monitorEventLoopDelay({ resolution: 10 }); l.enable();
process.stdin.on('data', () => {}); process.stdin.on('end', () => { l.disable(); console.log('max ' + (l.max / 1e6).toFixed(1)); });`;

async function wchar(): Promise<number> {
  const m = /wchar: (\d+)/.exec(await readFile('/proc/self/io', 'utf8'));
  return Number(m?.[1] ?? 0);
}

const data = await tempDataDir('tiepdan-bench-manifest-');
try {
  const file = path.join(data.dir, 'manifest.json');
  const w = new ManifestWriter(file, 'bench-session');
  w.append({ type: 'opened', sessionId: 'bench-session', segmentSeconds, timing: 'arrival-wallclock' });
  for (let t = 0; t < tracks; t++) {
    w.append({ type: 'track', trackId: `peer-${t}.camera-1`, peerId: `peer-${t}`, label: `Điểm cầu ${t}`, source: 'camera', kind: t % 2 ? 'audio' : 'video', codec: 'VP8', producerId: `producer-${t}`, dir: `peer-${t}/camera-1` });
  }
  await w.flush();

  // The same measure in an idle Node.js process running alongside: on a loaded machine the OS
  // alone delays an event loop by tens or hundreds of ms, and that is not the manifest's doing.
  const idle = spawn(process.execPath, ['-e', IDLE_MONITOR], { stdio: ['pipe', 'pipe', 'inherit'] });
  let idleOut = '';
  idle.stdout.on('data', (d: Buffer) => (idleOut += d.toString()));
  await new Promise((resolve) => setTimeout(resolve, 300));

  // Garbage-collection pauses, the one stall the process itself causes besides its own code.
  let gcMax = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const cpuBefore = process.cpuUsage();
  const bytesBefore = await wchar();
  const started = performance.now();
  const epoch = 1_780_000_000;
  let done = 0;
  let lastWindowStart = started;
  let lastWindow = 0;
  loop.enable();
  for (; done < total; done++) {
    const t = done % tracks;
    const n = Math.floor(done / tracks);
    w.append({
      type: 'segment',
      trackId: `peer-${t}.camera-1`,
      file: `peer-${t}/camera-1/seg-${String(n).padStart(6, '0')}.mkv`,
      size: 400_000 + n,
      sha256: (done.toString(16).padStart(8, '0')).repeat(8),
      start: epoch + n * segmentSeconds,
      end: epoch + (n + 1) * segmentSeconds,
      duration: segmentSeconds,
      senderReport: { ntp: 3_990_000_000 + n * segmentSeconds, rtpTimestamp: n * 360_000, ssrc: 1000 + t, arrivedAt: epoch + n * segmentSeconds },
    });
    await w.flush();
    if (done % 1000 === 999) {
      const now = performance.now();
      lastWindow = (now - lastWindowStart) / 1000;
      lastWindowStart = now;
      if ((now - started) / 1000 > budgetSeconds) {
        done++;
        break;
      }
    }
  }
  loop.disable();
  gc.disconnect();
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const bytes = (await wchar()) - bytesBefore;
  const closeLoop = monitorEventLoopDelay({ resolution: 10 });
  closeLoop.enable();
  const closeStarted = performance.now();
  w.append({ type: 'closed', status: 'complete' });
  await w.flush();
  const closeMs = performance.now() - closeStarted;
  closeLoop.disable();
  idle.stdin.end();
  await new Promise((resolve) => idle.once('exit', resolve));
  const idleMax = Number(/max (\S+)/.exec(idleOut)?.[1] ?? NaN);
  console.log(`manifest_segment_appends ${done} of ${total} (${tracks} tracks, ${hours} h, ${segmentSeconds} s segments)`);
  console.log(`manifest_append_ms_mean ${(elapsed / done).toFixed(3)}`);
  console.log(`manifest_append_ms_last_1000 ${lastWindow.toFixed(3)}`);
  console.log(`manifest_event_loop_delay_ms_max ${(loop.max / 1e6).toFixed(1)}`);
  console.log(`manifest_event_loop_delay_ms_p99 ${(loop.percentile(99) / 1e6).toFixed(1)}`);
  console.log(`manifest_event_loop_delay_ms_max_idle_process_alongside ${idleMax.toFixed(1)} (the machine's share)`);
  console.log(`manifest_gc_pause_ms_max ${gcMax.toFixed(1)}`);
  console.log(`manifest_cpu_ms_per_append ${((cpu.user + cpu.system) / 1000 / done).toFixed(3)}`);
  console.log(`manifest_bytes_written ${bytes} (${(bytes / 1e6).toFixed(1)} MB, ${(bytes / done).toFixed(0)} per append)`);
  console.log(`manifest_close_ms ${closeMs.toFixed(0)} (the one whole write, at close; loop delay max ${(closeLoop.max / 1e6).toFixed(1)} ms)`);
  console.log(`manifest_total_seconds ${(elapsed / 1000).toFixed(1)}`);
} finally {
  await rm(data.dir, { recursive: true, force: true });
}
