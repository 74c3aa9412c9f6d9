/**
 * Province scale (issue 14): how many bridge points one server holds.
 *
 *   npm run bench load -- --points 12 --seconds 15            one run
 *   npm run bench load -- --points 12 --sessions 3            3 sessions of 12 points at once
 *   npm run bench load -- --sweep [--max-points 200]          the largest N that fits
 *   npm run bench load -- --points 136 --central synthetic    the province, central point synthetic too
 *   npm run bench load -- --points 48 --fleet-processes 2     the points in two generator processes (default 1)
 *
 * A real server (control API on PostgreSQL, mediasoup workers: --workers, default 2), sessions
 * made through the API, per session one Chromium central point (it sends camera and microphone and
 * must decode every commune's video) and N synthetic communes (bench/load/: werift for ICE and
 * DTLS, the generator's own lean RTP/SRTP path, in --fleet-processes child processes) sending Opus + three-layer simulcast VP8 and receiving the central point. Counters are
 * taken over the S seconds after everyone joined. Prints details, then the final line
 * `points=… seconds=… joinedPct=… lossPct=… workerCpuPct=… nodeCpuPct=… rssMB=… p95JoinMs=… limit=…` (what limited
 * the run: bench/load/loadRun.ts limitOf) and a
 * table per worker. A sweep doubles N from 12 while the run fits (everyone joined, 0 loss, every
 * worker under 80 % of a core, every commune decoded by Chromium), then bisects to the largest N.
 * nodeCpuPct is the bench's own process: the server's Node plus a little Playwright bookkeeping.
 */
import { z } from 'zod';
import { TiepdanServer } from '../src/server.ts';
import { launchChromium } from '../test/helpers/browser.ts';
import { silentLogger, tempDataDir, testConfig } from '../test/helpers/env.ts';
import { encodedMedia } from './load/media.ts';
import { benchStaff } from './load/loadSession.ts';
import { details, finalLine, fits, limitOf, loadRun, workerTable, type RunResult } from './load/loadRun.ts';

const argsSchema = z.object({
  points: z.coerce.number().int().min(1).max(495).default(12),
  seconds: z.coerce.number().int().min(3).max(600).default(15),
  sessions: z.coerce.number().int().min(1).max(10).default(1),
  layers: z.coerce.number().int().min(1).max(3).default(3),
  workers: z.coerce.number().int().min(1).max(16).default(2),
  /** The server's LIVE_SPREAD_LOAD: producers+consumers on a worker before a room spreads to another (piped). */
  spreadLoad: z.coerce.number().int().min(1).max(100000).default(1500),
  sweep: z.boolean().default(false),
  maxPoints: z.coerce.number().int().min(2).max(495).default(200),
  central: z.enum(['chromium', 'synthetic']).default('chromium'),
  /**
   * Synthetic points' processes (seats round-robin). Default 1 with the Chromium central point:
   * with 2 at 48 points the generators and the browser took the SFU worker's CPU and its socket
   * dropped packets. Default 2 with a synthetic central point, where the machine has the room:
   * one process at 136 points was a full core and skipped sends, two kept full pace (README).
   */
  fleetProcesses: z.coerce.number().int().min(1).max(8).optional(),
});

function parseArgs(argv: string[]): z.infer<typeof argsSchema> {
  const raw: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) raw[key] = true;
    else raw[key] = (i++, next);
  }
  return argsSchema.parse(raw);
}

const args = parseArgs(process.argv.slice(2));
await encodedMedia();
const data = await tempDataDir('tiepdan-bench-load-');
const server = await TiepdanServer.start(await testConfig(data.dir, { MEDIASOUP_NUM_WORKERS: String(args.workers), LIVE_SPREAD_LOAD: String(args.spreadLoad) }), silentLogger());
const browser = await launchChromium();
try {
  const staff = await benchStaff(server);
  const run = async (points: number): Promise<RunResult> => {
    const r = await loadRun(server, staff, browser, { points, seconds: args.seconds, sessions: args.sessions, layers: args.layers, central: args.central, fleetProcesses: args.fleetProcesses ?? (args.central === 'synthetic' ? 2 : 1) });
    console.log(details(r));
    console.log(finalLine(r));
    console.log(workerTable(r));
    console.log(fits(r) ? '→ fits' : '→ does not fit', '\n');
    return r;
  };
  if (!args.sweep) {
    await run(args.points);
  } else {
    const results: RunResult[] = [];
    let good = 0;
    let bad = args.maxPoints + 1;
    for (let n = Math.min(12, args.maxPoints); n < bad; n = Math.min(n * 2, args.maxPoints)) {
      const r = await run(n);
      results.push(r);
      if (fits(r)) good = n;
      else bad = n;
      if (!fits(r) || n === args.maxPoints) break;
    }
    // Bisect while the gap is more than a tenth (at least 4 points).
    while (bad <= args.maxPoints && bad - good > Math.max(4, Math.ceil(good / 10))) {
      const n = Math.floor((good + bad) / 2);
      const r = await run(n);
      results.push(r);
      if (fits(r)) good = n;
      else bad = n;
    }
    console.log(`sweep (sessions=${args.sessions}, workers=${args.workers}, ${args.seconds} s each):`);
    console.log('| points/session | joined % | loss % | busiest worker CPU % | Node CPU % | RSS MB | join p95 ms | load average | limit | fits |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(`| ${r.options.points} | ${r.joinedPct.toFixed(0)} | ${r.lossPct.toFixed(3)} | ${r.workerCpuPct.toFixed(0)} | ${r.nodeCpuPct.toFixed(0)} | ${r.rssMB.toFixed(0)} | ${r.p95JoinMs?.toFixed(0) ?? '—'} | ${r.loadAverage[0]!.toFixed(1)} | ${limitOf(r).join(', ')} | ${fits(r) ? 'yes' : 'no'} |`);
    }
    console.log(`largest N that fits: ${good === 0 ? 'none' : good}${bad <= args.maxPoints ? ` (${bad} does not)` : ` (max tried ${args.maxPoints})`}`);
  }
} finally {
  await browser.close();
  await server.stop();
  await data.remove();
}
