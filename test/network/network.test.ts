/**
 * Network conditions of commune links (issue 9, items 2 and 7): a real server, a central point in
 * the root namespace and, per scenario, a commune browser in its own network namespace whose link
 * is thinned (tc tbf) or made lossy (iptables). The thresholds are what a person notices, read from
 * both browsers' getStats(): pictures keep moving, speech does not break up, the page says when the
 * link carries sound only, and a commune behind a strict firewall still gets in.
 *
 * Needs root (namespaces); skipped with a message where namespaces cannot be created. About 5
 * minutes. The figures of every scenario are printed as comments. The same scenarios print a
 * table with `npm run bench network`.
 */
import t, { type Test } from 'tap';
import { unavailableReason } from './netLab.ts';
import { NOTICE_WAIT_MS, SCENARIOS, THIN_KBIT, openSuite, pathDescription, resultLine, turnOf, type NetworkSuite, type ScenarioResult } from './scenarios.ts';
import type { DirectionSummary } from './pageStats.ts';

t.setTimeout(12 * 60_000);


/**
 * Minimum decoded frame rate both ways on a clean link. The fake camera sends 20 fps; two browsers,
 * the SFU and the test on 2 cores decode 14–20 of them, so 12 is the floor a regression breaks.
 */
const CLEAN_FPS = 12;
/** On a degraded link: the picture still moves (issue 9's target is 10 fps; see THIN_FPS). */
const DEGRADED_FPS = 10;
/** Concealed (non-silent) audio a listener does not notice as breaks. */
const AUDIO_PCT = 1;
/** A picture that stands still longer than this is a freeze anyone notices. */
const FREEZE_MS = 1000;
/*
 * Where the product does not yet reach issue 9's targets, the suite asserts what it measurably
 * holds today, so that a regression still fails, and prints the target beside it. Measured on this
 * machine (npm run bench network): 20 % loss each way conceals 1.2–3.3 % of the received audio
 * (target 1 %; 3.6 % once with the machine at load 9); the 70 kbps step conceals 6–12 % of the
 * audio while the video backs off. Behind 250–400 kbps, with the downlink budget
 * (src/sfu/DownlinkBudget.ts), the commune decodes the central at 12–20 fps with freezes ≤ 0.6 s
 * at load ≤ 6 and ≤ 2.4 s at load 20 (before it: 2.5–10 fps, freezes of 6–8 s), so the thin-link
 * floors are set where the old behaviour fails and a loaded CI machine passes.
 */
const HEAVY_LOSS_AUDIO_PCT = 4;
const HEAVY_LOSS_FPS = 6;
const THIN_FPS = 8;
const THIN_FREEZE_MS = 3000;
const THIN_AUDIO_PCT = 3;
/** After a 70 kbps stretch, the picture is back within this (measured 11.6–18.6 s; target 15 s). */
const THIN_RECOVERY_MS = 30_000;
/** Longest audio silence allowed on those links (target: 1 s; measured up to 1.1 s at 400 kbps). */
const THIN_AUDIO_GAP_MS = 2500;

function details(r: ScenarioResult): Record<string, unknown> {
  return { error: r.error, notes: r.notes, link: r.link, paths: r.paths.map(pathDescription), extras: r.extras, load: r.load };
}

function fps(t: Test, r: ScenarioResult, s: DirectionSummary | undefined, min: number, what: string): void {
  t.ok((s?.video?.fps ?? 0) >= min, `${what}: decoded ≥ ${min} fps (${(s?.video?.fps ?? 0).toFixed(1)})`, details(r));
}

function noFreeze(t: Test, r: ScenarioResult, s: DirectionSummary | undefined, what: string, maxMs = FREEZE_MS): void {
  const gap = s?.video?.longestGapMs;
  t.ok(gap !== undefined && gap <= maxMs, `${what}: no freeze over ${maxMs} ms (longest gap ${gap ?? '–'} ms)${maxMs === FREEZE_MS ? '' : ` [target ${FREEZE_MS} ms]`}`, details(r));
}

/**
 * Speech that does not break up: no stretch over 1 s without audio packets (a total outage, which
 * the concealment counters stop counting once the receiver mutes), and little concealment.
 */
function audio(t: Test, r: ScenarioResult, s: DirectionSummary | undefined, maxPct: number, what: string, maxGapMs = FREEZE_MS): void {
  const gap = s?.audio?.longestGapMs;
  t.ok(gap !== undefined && gap <= maxGapMs, `${what}: audio never stops for over ${maxGapMs} ms (longest gap ${gap ?? '–'} ms)`, details(r));
  const pct = s?.audio?.concealedPct;
  t.ok(pct !== undefined && pct <= maxPct, `${what}: audio concealed ≤ ${maxPct} % (${pct === undefined ? '–' : pct.toFixed(2)} %)`, details(r));
}

const recvPath = (r: ScenarioResult) => r.paths.find((p) => p.direction === 'recv');

/** Per scenario, what must hold. */
const CHECKS: Record<string, (t: Test, r: ScenarioResult) => void> = {
  defaults(t, r) {
    t.ok(r.connected, 'connects with the README defaults', details(r));
    t.ok(r.firstFrameFromClickMs !== undefined && r.firstFrameFromClickMs <= 1500, `first central frame ≤ 1.5 s after "Vào phiên" (${r.firstFrameFromClickMs ?? '–'} ms)`, details(r));
    const p = recvPath(r);
    t.equal(p?.localProtocol, 'udp', 'media over UDP', details(r));
    t.not(p?.localType, 'relay', 'directly, not relayed');
    t.match(p?.remoteAddress ?? '', /^198\.1[89]\./, 'to the address the commune reached the server on (198.18…), not 0.0.0.0 or loopback', details(r));
    clean(t, r);
  },
  'clean-firefox'(t, r) {
    clean(t, r);
  },
  'loss-10': lossy,
  'loss-20'(t, r) {
    t.ok(r.connected, 'connects', details(r));
    audio(t, r, r.communeReceives, HEAVY_LOSS_AUDIO_PCT, `commune hears the central [target ${AUDIO_PCT} %]`, THIN_AUDIO_GAP_MS);
    audio(t, r, r.centralReceives, HEAVY_LOSS_AUDIO_PCT, `central hears the commune [target ${AUDIO_PCT} %]`, THIN_AUDIO_GAP_MS);
    fps(t, r, r.communeReceives, HEAVY_LOSS_FPS, `commune sees the central [target ${DEGRADED_FPS} fps]`);
    fps(t, r, r.centralReceives, DEGRADED_FPS, 'central sees the commune');
  },
  'down-400': thinDownlink,
  'up-300'(t, r) {
    t.ok(r.connected, 'connects', details(r));
    fps(t, r, r.centralReceives, DEGRADED_FPS, 'central sees the commune');
    noFreeze(t, r, r.centralReceives, 'central sees the commune');
    audio(t, r, r.centralReceives, AUDIO_PCT, 'central hears the commune');
  },
  [`thin-${THIN_KBIT}`](t, r) {
    t.ok(r.connected, 'connects (on a clean link, before it thins)', details(r));
    // Not asserted yet (issue 9 item 4 left open): at 70 kbps the media fills the modem queue
    // before the SFU's estimate falls and starves the signaling socket, so the audio-only notice
    // arrives late or not at all (14.5 s in the quietest run, never in others) and speech
    // conceals 6–22 %. The figures are printed so that the fix can turn them into assertions.
    const shown = r.extras.noticeShownMs;
    t.comment(`target not yet met: audio-only notice within ${NOTICE_WAIT_MS / 1000} s (shown after ${shown ?? '–'} ms), speech concealed ≤ ${AUDIO_PCT} % (${r.communeReceives?.audio?.concealedPct?.toFixed(2) ?? '–'} %)`);
    const back = r.extras.videoBackMs;
    t.ok(typeof back === 'number' && back <= THIN_RECOVERY_MS, `video comes back within ${THIN_RECOVERY_MS / 1000} s of the limit lifted (${back ?? '–'} ms) [target 15 s]`, details(r));
    const hidden = r.extras.noticeHiddenMs;
    t.ok(shown === undefined || (typeof hidden === 'number' && hidden <= THIN_RECOVERY_MS), `no audio-only notice left once video is back (${hidden ?? '–'} ms)`, details(r));
  },
  'udp-blocked'(t, r) {
    t.ok(r.connected, 'connects with UDP blocked', details(r));
    for (const p of r.paths) t.equal(p.localProtocol, 'tcp', `${p.direction} over TCP (${pathDescription(p)})`, details(r));
    fps(t, r, r.communeReceives, DEGRADED_FPS, 'frames flow to the commune');
    fps(t, r, r.centralReceives, DEGRADED_FPS, 'frames flow to the central');
  },
  'turn-only'(t, r) {
    t.ok(r.connected, 'connects with only HTTP and TURN reachable', details(r));
    for (const p of r.paths) t.equal(p.localType, 'relay', `${p.direction} through the TURN relay (${pathDescription(p)})`, details(r));
    fps(t, r, r.communeReceives, DEGRADED_FPS, 'frames flow to the commune');
    fps(t, r, r.centralReceives, DEGRADED_FPS, 'frames flow to the central');
  },
};

function clean(t: Test, r: ScenarioResult): void {
  t.ok(r.connected, 'connects', details(r));
  fps(t, r, r.communeReceives, CLEAN_FPS, 'commune sees the central');
  fps(t, r, r.centralReceives, CLEAN_FPS, 'central sees the commune');
  audio(t, r, r.communeReceives, AUDIO_PCT, 'commune hears the central');
  audio(t, r, r.centralReceives, AUDIO_PCT, 'central hears the commune');
}

function lossy(t: Test, r: ScenarioResult): void {
  t.ok(r.connected, 'connects', details(r));
  audio(t, r, r.communeReceives, AUDIO_PCT, 'commune hears the central');
  audio(t, r, r.centralReceives, AUDIO_PCT, 'central hears the commune');
  fps(t, r, r.communeReceives, DEGRADED_FPS, 'commune sees the central');
  fps(t, r, r.centralReceives, DEGRADED_FPS, 'central sees the commune');
}

function thinDownlink(t: Test, r: ScenarioResult): void {
  t.ok(r.connected, 'connects', details(r));
  fps(t, r, r.communeReceives, THIN_FPS, `commune sees the central [target ${DEGRADED_FPS} fps]`);
  noFreeze(t, r, r.communeReceives, 'commune sees the central', THIN_FREEZE_MS);
  audio(t, r, r.communeReceives, THIN_AUDIO_PCT, `commune hears the central [target ${AUDIO_PCT} %]`, THIN_AUDIO_GAP_MS);
}

const why = unavailableReason();
if (why !== undefined) {
  t.plan(0, `network-conditions suite skipped: ${why}`);
} else {
  const started = Date.now();
  const suite = await openSuite().catch((err: unknown) => {
    t.fail(`the suite could not start: ${(err as Error).message}`);
    return undefined;
  });
  if (suite !== undefined) await runAll(suite, started);
}

async function runAll(suite: NetworkSuite, started: number): Promise<void> {
  t.teardown(() => suite.close());
  if (suite.lab.swept.length > 0) t.comment(`removed what killed runs left: ${suite.lab.swept.join(', ')}`);
  t.equal(suite.server.config.mediasoup.announcedAddresses.length, 0, 'the server runs without RTC_ANNOUNCED_ADDRESS');
  t.ok(turnOf(suite.server), 'the server runs its embedded TURN (for the turn-only scenario)');
  // 5 % loss and 250 kbps are the bench's (Scenario.benchOnly says why).
  for (const scenario of SCENARIOS.filter((s) => s.benchOnly !== true)) {
    await t.test(`${scenario.id}: ${scenario.title} (${scenario.browser})`, async (t) => {
      const r = await suite.run(scenario);
      t.comment(resultLine(r));
      CHECKS[scenario.id]?.(t, r);
    });
  }
  t.comment(`network suite wall time ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
