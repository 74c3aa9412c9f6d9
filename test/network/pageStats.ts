/**
 * What a person at either end would notice, read from the browsers' own getStats():
 *
 * - `installStatsSampler` runs in every page before the page's scripts (an init script): it keeps
 *   every RTCPeerConnection the page makes (`window.__tdPcs`) and every `intervalMs` records, per
 *   remote track of the room's LiveClient, the receiver's counters, and per connection the selected
 *   ICE candidate pair. Samples are stamped with Date.now(), one clock for both browsers and Node.
 * - `summarize` turns the samples of one sender's tracks over a window into decoded frame rate,
 *   the longest gap between decoded frames (a freeze measure that does not need Chromium's
 *   freezeCount), concealed audio and the path.
 */
import type { Page } from 'playwright-core';

export interface TrackSample {
  trackId: string;
  peerId: string;
  kind: 'audio' | 'video';
  framesDecoded?: number;
  framesPerSecond?: number;
  freezeCount?: number;
  totalFreezesDuration?: number;
  frameWidth?: number;
  frameHeight?: number;
  concealedSamples?: number;
  silentConcealedSamples?: number;
  totalSamplesReceived?: number;
  packetsLost?: number;
  packetsReceived?: number;
  bytesReceived?: number;
}

export interface PathSample {
  /** 'recv' when the connection carries remote tracks, else 'send'. */
  direction: 'recv' | 'send';
  /** iceConnectionState: a link so full that consent checks fail shows as "disconnected". */
  ice?: string;
  localType?: string;
  localProtocol?: string;
  relayProtocol?: string;
  remoteAddress?: string;
  remotePort?: number;
  remoteProtocol?: string;
}

export interface Tick {
  at: number;
  tracks: TrackSample[];
  paths: PathSample[];
}

/** The page's signaling WebSocket opening and closing (close code 1006: the connection was lost). */
export interface SocketEvent {
  at: number;
  event: 'open' | 'close';
  code?: number;
}

interface SamplerWindow {
  __tdPcs?: RTCPeerConnection[];
  __tdTicks?: Tick[];
  __tdSockets?: SocketEvent[];
  tiepdanRoom?: { client?: { remoteTracks?: Map<string, { peerId: string; kind: string; track: MediaStreamTrack }> } };
}

/**
 * The init script. Self-contained (Playwright sends its source to the page): no imports, no
 * outer variables. Keeps at most `maxTicks` samples (a ring), so a suite-long page stays small.
 */
export function installStatsSampler(options: { intervalMs: number; maxTicks: number }): void {
  const w = window as unknown as SamplerWindow;
  if (w.__tdPcs !== undefined || typeof window.RTCPeerConnection !== 'function') return;
  const pcs: RTCPeerConnection[] = [];
  const ticks: Tick[] = [];
  w.__tdPcs = pcs;
  w.__tdTicks = ticks;
  const Native = window.RTCPeerConnection;
  // A subclass keeps the static methods (generateCertificate) and instanceof checks working.
  class Tracked extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      pcs.push(this);
    }
  }
  window.RTCPeerConnection = Tracked;

  // The signaling socket's life, to tell "media starved" from "signaling lost" in a report.
  const sockets: SocketEvent[] = [];
  w.__tdSockets = sockets;
  const NativeSocket = window.WebSocket;
  class TrackedSocket extends NativeSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('open', () => sockets.push({ at: Date.now(), event: 'open' }));
      this.addEventListener('close', (e) => sockets.push({ at: Date.now(), event: 'close', code: e.code }));
    }
  }
  window.WebSocket = TrackedSocket;

  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

  async function pathOf(pc: RTCPeerConnection, direction: 'recv' | 'send'): Promise<PathSample> {
    const report = await pc.getStats();
    const all = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => all.set(String(s.id), s));
    let pair: Record<string, unknown> | undefined;
    // Chromium: the transport names its selected pair; Firefox marks the pair `selected`.
    for (const s of all.values()) if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pair = all.get(s.selectedCandidatePairId);
    if (pair === undefined) for (const s of all.values()) if (s.type === 'candidate-pair' && s.selected === true) pair = s;
    if (pair === undefined) for (const s of all.values()) if (s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded') pair = s;
    const local = pair ? all.get(String(pair.localCandidateId)) : undefined;
    const remote = pair ? all.get(String(pair.remoteCandidateId)) : undefined;
    return {
      direction,
      ice: pc.iceConnectionState,
      localType: str(local?.candidateType),
      localProtocol: str(local?.protocol),
      relayProtocol: str(local?.relayProtocol),
      remoteAddress: str(remote?.address) ?? str(remote?.ip),
      remotePort: num(remote?.port),
      remoteProtocol: str(remote?.protocol),
    };
  }

  async function sample(): Promise<void> {
    const remote = w.tiepdanRoom?.client?.remoteTracks;
    const byTrack = new Map<MediaStreamTrack, { peerId: string; kind: string }>();
    for (const r of remote?.values() ?? []) byTrack.set(r.track, r);
    const tick: Tick = { at: Date.now(), tracks: [], paths: [] };
    for (const pc of pcs) {
      if (pc.connectionState === 'closed' || pc.signalingState === 'closed') continue;
      let receives = false;
      for (const receiver of pc.getReceivers()) {
        const owner = byTrack.get(receiver.track);
        if (owner === undefined) continue;
        receives = true;
        const report = await receiver.getStats();
        report.forEach((s: Record<string, unknown>) => {
          if (s.type !== 'inbound-rtp') return;
          tick.tracks.push({
            trackId: receiver.track.id,
            peerId: owner.peerId,
            kind: owner.kind === 'audio' ? 'audio' : 'video',
            framesDecoded: num(s.framesDecoded),
            framesPerSecond: num(s.framesPerSecond),
            freezeCount: num(s.freezeCount),
            totalFreezesDuration: num(s.totalFreezesDuration),
            frameWidth: num(s.frameWidth),
            frameHeight: num(s.frameHeight),
            concealedSamples: num(s.concealedSamples),
            silentConcealedSamples: num(s.silentConcealedSamples),
            totalSamplesReceived: num(s.totalSamplesReceived),
            packetsLost: num(s.packetsLost),
            packetsReceived: num(s.packetsReceived),
            bytesReceived: num(s.bytesReceived),
          });
        });
      }
      const sends = pc.getSenders().some((s) => s.track !== null);
      if (receives || sends) tick.paths.push(await pathOf(pc, receives ? 'recv' : 'send'));
    }
    ticks.push(tick);
    if (ticks.length > options.maxTicks) ticks.splice(0, ticks.length - options.maxTicks);
  }

  // One sample at a time: a slow getStats() on a loaded machine must not pile up calls. A bounded
  // one, because Firefox never settles a getStats() of a connection closed while it was pending.
  let busy = false;
  setInterval(() => {
    if (busy) return;
    busy = true;
    Promise.race([sample(), new Promise((resolve) => setTimeout(resolve, 2000))])
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs);
}

export const SAMPLER = { intervalMs: 200, maxTicks: 3000 } as const;

/** The page's signaling socket events since `since`. */
export function socketEvents(page: Page, since: number): Promise<SocketEvent[]> {
  return page.evaluate((t) => ((window as unknown as SamplerWindow).__tdSockets ?? []).filter((e) => e.at >= t), since);
}

/** The page's samples taken at or after `since` (Date.now() ms). */
export function ticksSince(page: Page, since: number): Promise<Tick[]> {
  return page.evaluate((t) => ((window as unknown as SamplerWindow).__tdTicks ?? []).filter((k) => k.at >= t), since);
}

export interface VideoSummary {
  /** Decoded frames per second over the window. */
  fps: number;
  /** Longest time without a newly decoded frame, ms (resolution: the sampling interval). */
  longestGapMs: number;
  /** Gaps longer than 1 s. */
  freezesOver1s: number;
  /** Chromium's own freeze counters over the window (Firefox has none). */
  freezeCount?: number;
  freezeSeconds?: number;
  kbps: number;
  width?: number;
  height?: number;
  lossPct: number;
}

export interface AudioSummary {
  /** Concealed, non-silent samples as % of samples received: what a listener hears as breaks. */
  concealedPct: number;
  kbps: number;
  lossPct: number;
  /** Longest time without new packets, ms. */
  longestGapMs: number;
}

export interface DirectionSummary {
  windowMs: number;
  video?: VideoSummary;
  audio?: AudioSummary;
}

type Counter = keyof Pick<TrackSample, 'framesDecoded' | 'freezeCount' | 'totalFreezesDuration' | 'concealedSamples' | 'silentConcealedSamples' | 'totalSamplesReceived' | 'packetsLost' | 'packetsReceived' | 'bytesReceived'>;

/**
 * Increase of a counter between consecutive ticks, summed over tracks (a track that appears or
 * disappears, e.g. a consumer re-created after a reconnect, contributes only its own increases).
 */
function deltas(ticks: Tick[], peerId: string, kind: 'audio' | 'video', counter: Counter): { at: number; d: number }[] {
  const last = new Map<string, number>();
  const out: { at: number; d: number }[] = [];
  for (const tick of ticks) {
    let d = 0;
    for (const s of tick.tracks) {
      if (s.peerId !== peerId || s.kind !== kind) continue;
      const v = s[counter];
      if (v === undefined) continue;
      const before = last.get(s.trackId);
      if (before !== undefined && v > before) d += v - before;
      last.set(s.trackId, v);
    }
    out.push({ at: tick.at, d });
  }
  return out;
}

const total = (xs: { d: number }[]): number => xs.reduce((n, x) => n + x.d, 0);

/**
 * Longest time between ticks where the counter grew (the window's edges count as growth). A gap
 * counts only when at least one tick in between saw no growth: on a starved machine the sampler
 * itself may run late, and a late tick that shows growth proves nothing stood still.
 */
function longestGap(series: { at: number; d: number }[], from: number, to: number): { longest: number; over1s: number } {
  let lastGrowth = from;
  let stood = false;
  let longest = 0;
  let over1s = 0;
  const gap = (at: number): void => {
    if (!stood) return;
    const g = at - lastGrowth;
    longest = Math.max(longest, g);
    if (g > 1000) over1s++;
  };
  for (const x of series) {
    if (x.d > 0) {
      gap(x.at);
      lastGrowth = x.at;
      stood = false;
    } else stood = true;
  }
  gap(to);
  return { longest, over1s };
}

const has = (ticks: Tick[], peerId: string, kind: 'audio' | 'video'): boolean => ticks.some((t) => t.tracks.some((s) => s.peerId === peerId && s.kind === kind));

/** Over `[from, to]`: what the page received from `peerId`. Needs a tick at or before `from`. */
export function summarize(all: Tick[], peerId: string, from: number, to: number): DirectionSummary {
  // One tick before the window gives the window's first deltas a base.
  const before = all.filter((t) => t.at < from).at(-1);
  const ticks = [...(before ? [before] : []), ...all.filter((t) => t.at >= from && t.at <= to)];
  const seconds = (to - from) / 1000;
  const out: DirectionSummary = { windowMs: to - from };
  const lossPct = (kind: 'audio' | 'video'): number => {
    const lost = total(deltas(ticks, peerId, kind, 'packetsLost'));
    const got = total(deltas(ticks, peerId, kind, 'packetsReceived'));
    return lost + got > 0 ? (100 * lost) / (lost + got) : 0;
  };
  if (has(ticks, peerId, 'video')) {
    const frames = deltas(ticks, peerId, 'video', 'framesDecoded');
    const gaps = longestGap(frames.filter((x) => x.at >= from), from, to);
    const last = [...ticks].reverse().flatMap((t) => t.tracks).find((s) => s.peerId === peerId && s.kind === 'video' && s.frameWidth !== undefined);
    const freezeSeconds = total(deltas(ticks, peerId, 'video', 'totalFreezesDuration'));
    const chromiumFreezes = ticks.some((t) => t.tracks.some((s) => s.freezeCount !== undefined));
    out.video = {
      fps: total(frames) / seconds,
      longestGapMs: gaps.longest,
      freezesOver1s: gaps.over1s,
      ...(chromiumFreezes ? { freezeCount: total(deltas(ticks, peerId, 'video', 'freezeCount')), freezeSeconds } : {}),
      kbps: (total(deltas(ticks, peerId, 'video', 'bytesReceived')) * 8) / 1000 / seconds,
      ...(last ? { width: last.frameWidth, height: last.frameHeight } : {}),
      lossPct: lossPct('video'),
    };
  }
  if (has(ticks, peerId, 'audio')) {
    const concealed = total(deltas(ticks, peerId, 'audio', 'concealedSamples'));
    const silent = total(deltas(ticks, peerId, 'audio', 'silentConcealedSamples'));
    const samples = total(deltas(ticks, peerId, 'audio', 'totalSamplesReceived'));
    const packets = deltas(ticks, peerId, 'audio', 'packetsReceived');
    out.audio = {
      concealedPct: samples > 0 ? (100 * Math.max(0, concealed - silent)) / samples : 100,
      kbps: (total(deltas(ticks, peerId, 'audio', 'bytesReceived')) * 8) / 1000 / seconds,
      lossPct: lossPct('audio'),
      longestGapMs: longestGap(packets.filter((x) => x.at >= from), from, to).longest,
    };
  }
  return out;
}

/** The ICE path of the page's connections at the last tick in the window (recv and send). */
export function pathsAt(all: Tick[], to: number): PathSample[] {
  const tick = [...all].reverse().find((t) => t.at <= to && t.paths.length > 0);
  return tick?.paths ?? [];
}

/** "udp", "tcp", "relay/udp" … for the table. */
export function pathLabel(p: PathSample | undefined): string {
  if (p === undefined || p.localType === undefined) return 'none';
  if (p.localType === 'relay') return `relay/${p.relayProtocol ?? '?'}`;
  return p.localProtocol ?? p.remoteProtocol ?? '?';
}

/** Total decoded video frames from `peerId` at the page's latest tick (0 before any). */
export function framesDecodedNow(ticks: Tick[], peerId: string): number {
  const last = ticks.at(-1);
  return (last?.tracks ?? []).filter((s) => s.peerId === peerId && s.kind === 'video').reduce((n, s) => n + (s.framesDecoded ?? 0), 0);
}

/** Why a connection did not come up: per live connection its states and candidates, and the TURN URLs handed out. */
export function diagnoseIce(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const w = window as unknown as SamplerWindow & { tiepdanRoom?: { client?: { info?: { iceServers?: { urls: string | string[] }[] } } } };
    const lines: string[] = [];
    const servers = w.tiepdanRoom?.client?.info?.iceServers ?? [];
    lines.push(`iceServers: ${servers.map((s) => [s.urls].flat().join(' ')).join(', ') || 'none'}`);
    for (const pc of w.__tdPcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      const report = await Promise.race([pc.getStats(), new Promise<undefined>((r) => setTimeout(r, 2000))]);
      const local: string[] = [];
      const remote: string[] = [];
      const pairs: string[] = [];
      report?.forEach((s: Record<string, unknown>) => {
        if (s.type === 'local-candidate') local.push(`${String(s.candidateType)}/${String(s.protocol)}${s.relayProtocol ? `/${String(s.relayProtocol)}` : ''} ${String(s.address ?? s.ip)}`);
        if (s.type === 'remote-candidate') remote.push(`${String(s.candidateType)}/${String(s.protocol)} ${String(s.address ?? s.ip)}:${String(s.port)}`);
        if (s.type === 'candidate-pair') pairs.push(String(s.state));
      });
      lines.push(`pc ${pc.connectionState}/${pc.iceConnectionState}/${pc.iceGatheringState}: local [${local.join(', ')}] remote [${remote.join(', ')}] pairs [${pairs.join(',')}]`);
    }
    return lines.join('\n');
  });
}
