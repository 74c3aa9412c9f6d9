/**
 * Join latency against a raw reference (issue 9 item 6): how much of a joiner's wait is tiepdan's
 * own doing. Beside a real TiepdanServer runs bench/raw/rawServer.ts, a minimal mediasoup server on
 * the same worker binary, and the same Chromium joins both with the same media (fake camera and
 * microphone, taken before the socket opens, simulcast 1/4, 1/2, 1/1) through mediasoup-client:
 * tiepdan's own client library (/live/client.js) on one side, the canonical mediasoup-demo flow on
 * the other.
 *
 * A round of size N: N-1 peers join one after another and settle (every one shows every other's
 * video, then `--settle` ms more so simulcast is up to speed), then the N-th joins; its time from
 * WebSocket open to the first presented frame of a remote video (requestVideoFrameCallback, the
 * same page code on both sides) is the measurement, with the time until it shows all N-1 videos
 * beside it. Rounds alternate tiepdan, raw, tiepdan, raw, … in one browser process; every page
 * has its own context and they all close after the round.
 *
 * Run: npm run bench join-vs-raw [-- --rounds 10 --sizes 2,3,4 --settle 2000 --detail --dump samples.json]
 * (`--detail`: the last joiner's steps and requests; `--dump`: every sample as JSON;
 * `--raw-bitrate B`, `--raw-serial`, `--raw-keyframe`: the reference made like tiepdan in one respect.)
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { resolveWorkerBinary } from '../src/sfu/workerBinary.ts';
import { launchChromium } from '../test/helpers/browser.ts';
import { sleep, startLiveServer, type LiveServer } from '../test/live/liveHelpers.ts';
import { servePages } from './join/pages.ts';
import type { BenchState } from './join/probe.ts';
import { startRawServer, type RawServer } from './raw/rawServer.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    sizes: { type: 'string', default: '2,3,4' },
    settle: { type: 'string', default: '2000' },
    detail: { type: 'boolean', default: false },
    dump: { type: 'string' },
    // The raw reference made like tiepdan in one respect (see RawServerOptions), to attribute a gap.
    'raw-bitrate': { type: 'string' },
    'raw-serial': { type: 'boolean', default: false },
    'raw-keyframe': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const SIZES = args.sizes.split(',').map(Number);
const SETTLE_MS = Number(args.settle);
if (!(ROUNDS >= 1) || SIZES.some((n) => !(n >= 2)) || !(SETTLE_MS >= 0)) throw new Error('usage: --rounds R (≥ 1) --sizes 2,3,4 (each ≥ 2) --settle MS');

type SideName = 'tiepdan' | 'raw';

/** One measured join: milliseconds after the last joiner's socket opened. */
interface Sample {
  first: number;
  all: number;
  marks: Record<string, number>;
  /** The last joiner's requests, `method sent→answered` in ms after its socket opened. */
  requests: string[];
}

/** Opens page `index` of a round and starts its join (without waiting for it). */
type Opener = (index: number) => Promise<Page>;

interface Side {
  name: SideName;
  newRound(): Opener;
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(url);
  return page;
}

function tiepdanSide(browser: Browser, live: LiveServer, url: string): Side {
  return {
    name: 'tiepdan',
    newRound() {
      // The chair first, then communes that see each other: everyone sees everyone, as in the raw room.
      const sessionId = live.session({ endpointsSeeEachOther: true, maxPeers: 20 });
      return async (index) => {
        const token = live.token(sessionId, `p${index}`, index === 0 ? 'host' : 'endpoint');
        const page = await openPage(browser, url);
        await page.evaluate((o) => {
          void (globalThis as unknown as { benchJoin(o: object): Promise<void> }).benchJoin(o);
        }, { url: live.wsUrl, sessionId, token });
        return page;
      };
    },
  };
}

function rawSide(browser: Browser, raw: RawServer, url: string): Side {
  let rooms = 0;
  return {
    name: 'raw',
    newRound() {
      const wsUrl = raw.wsUrl(`r${++rooms}`);
      return async () => {
        const page = await openPage(browser, url);
        await page.evaluate((o) => {
          void (globalThis as unknown as { benchJoin(o: object): Promise<void> }).benchJoin(o);
        }, { url: wsUrl });
        return page;
      };
    },
  };
}

const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { bench: BenchState }).bench);

/** Waits until the page has presented a frame from `peers` distinct remote peers. */
async function framesFrom(page: Page, peers: number, timeoutMs = 30_000): Promise<BenchState> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await state(page);
    if (s.error !== undefined) throw new Error(`page failed: ${s.error}`);
    if (s.socketOpen !== undefined && new Set(s.frames.map((f) => f.peerId)).size >= peers) return s;
    if (Date.now() > end) throw new Error(`no frames from ${peers} peers within ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function round(side: Side, n: number): Promise<Sample> {
  const open = side.newRound();
  const pages: Page[] = [];
  try {
    for (let i = 0; i < n - 1; i++) {
      pages.push(await open(i));
      await framesFrom(pages[i]!, i);
    }
    // Everyone already in shows everyone else, and simulcast has ramped up: a settled session.
    await Promise.all(pages.map((p) => framesFrom(p, n - 2)));
    await sleep(SETTLE_MS);
    const last = await open(n - 1);
    pages.push(last);
    const s = await framesFrom(last, n - 1);
    const t0 = s.socketOpen!;
    const firstPerPeer = new Map<string, number>();
    for (const f of s.frames) if (!firstPerPeer.has(f.peerId)) firstPerPeer.set(f.peerId, f.at);
    const marks: Record<string, number> = {};
    for (const [k, v] of Object.entries(s.marks)) marks[k] = v - t0;
    const requests = s.requests.map((r) => `${r.method} ${(r.sent - t0).toFixed(0)}→${r.answered === undefined ? '?' : (r.answered - t0).toFixed(0)}`);
    return { first: Math.min(...firstPerPeer.values()) - t0, all: Math.max(...firstPerPeer.values()) - t0, marks, requests };
  } finally {
    await Promise.all(pages.map((p) => p.context().close().catch(() => undefined)));
    // Let the servers drop the round's peers and the browser wind down before the next one.
    await sleep(1000);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  return s.length % 2 === 1 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (with 10 rounds, p95 is the slowest). */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const live = await startLiveServer({ MEDIASOUP_NUM_WORKERS: '1', LIVE_RECONNECT_GRACE_MS: '1000' });
const raw = await startRawServer(resolveWorkerBinary(process.env.MEDIASOUP_WORKER_BIN).path, {
  initialOutgoingBitrate: args['raw-bitrate'] === undefined ? undefined : Number(args['raw-bitrate']),
  serial: args['raw-serial'],
  keyFrameOnResume: args['raw-keyframe'],
});
const pages = await servePages(`${live.server.url}/live/client.js`);
const browser = await launchChromium();
try {
  const sides = [tiepdanSide(browser, live, pages.tiepdanUrl), rawSide(browser, raw, pages.rawUrl)];
  // Untimed: bundles, JIT, the browser's first WebRTC set-up.
  for (const side of sides) await round(side, 2);

  const results = new Map<string, Sample[]>();
  const key = (side: SideName, n: number) => `${side}/${n}`;
  let failures = 0;
  for (const n of SIZES) {
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of sides) {
        try {
          const sample = await round(side, n);
          (results.get(key(side.name, n)) ?? results.set(key(side.name, n), []).get(key(side.name, n))!).push(sample);
        } catch (err) {
          failures++;
          console.log(`N=${n} round ${r + 1} ${side.name}: failed (${(err as Error).message})`);
        }
      }
    }
  }

  const fmt = (x: number) => x.toFixed(0).padStart(6);
  for (const metric of ['first', 'all'] as const) {
    console.log(
      metric === 'first'
        ? `\nlast joiner: WebSocket open → first remote video frame (ms), ${ROUNDS} rounds per side, alternating`
        : '\nlast joiner: WebSocket open → frames from all N-1 remote videos (ms)',
    );
    console.log(' N | tiepdan median    p95 |  raw median    p95 | ratio (medians)');
    for (const n of SIZES) {
      const t = (results.get(key('tiepdan', n)) ?? []).map((s) => s[metric]);
      const rw = (results.get(key('raw', n)) ?? []).map((s) => s[metric]);
      if (t.length === 0 || rw.length === 0) continue;
      console.log(`${String(n).padStart(2)} |         ${fmt(median(t))} ${fmt(percentile(t, 95))} |      ${fmt(median(rw))} ${fmt(percentile(rw, 95))} | ${(median(t) / median(rw)).toFixed(2)}×`);
    }
  }
  console.log('');
  for (const n of SIZES) {
    const t = (results.get(key('tiepdan', n)) ?? []).map((s) => s.first);
    const rw = (results.get(key('raw', n)) ?? []).map((s) => s.first);
    if (t.length === 0 || rw.length === 0) continue;
    const ratio = median(t) / median(rw);
    const met = ratio <= 1.1 && median(t) <= 1500;
    console.log(
      `N=${n}: tiepdan ${median(t).toFixed(0)} ms (p95 ${percentile(t, 95).toFixed(0)}) vs raw ${median(rw).toFixed(0)} ms (p95 ${percentile(rw, 95).toFixed(0)}), ` +
        `${ratio.toFixed(2)}× raw over ${t.length}/${rw.length} rounds — goal ≤ 1.1× raw and ≤ 1500 ms: ${met ? 'met' : 'not met'}`,
    );
  }
  if (args.detail) {
    console.log('\nsteps of the last joiner, medians in ms after its socket opened (`m>` request sent, `m<` answered)');
    for (const n of SIZES) {
      for (const side of sides) {
        const samples = results.get(key(side.name, n)) ?? [];
        if (samples.length === 0) continue;
        const names = [...new Set(samples.flatMap((s) => Object.keys(s.marks)))];
        const steps = names
          .map((m) => ({ m, at: median(samples.flatMap((s) => (s.marks[m] === undefined ? [] : [s.marks[m]!]))) }))
          .concat({ m: 'FIRST FRAME', at: median(samples.map((s) => s.first)) }, { m: 'ALL', at: median(samples.map((s) => s.all)) })
          .sort((a, b) => a.at - b.at);
        console.log(`N=${n} ${side.name.padEnd(7)}: ${steps.map(({ m, at }) => `${m} ${at.toFixed(0)}`).join(', ')}`);
        console.log(`    first frame, every round in order: ${samples.map((s) => s.first.toFixed(0)).join(' ')}`);
        const typical = [...samples].sort((a, b) => a.first - b.first)[Math.floor((samples.length - 1) / 2)]!;
        console.log(`    requests of the median round (first frame ${typical.first.toFixed(0)}): ${typical.requests.join(', ')}`);
      }
    }
  }
  if (args.dump !== undefined) await writeFile(args.dump, JSON.stringify(Object.fromEntries(results), null, 1));
  if (failures > 0) process.exitCode = 1;
} finally {
  await browser.close();
  await pages.close();
  await raw.close();
  await live.stop();
}
