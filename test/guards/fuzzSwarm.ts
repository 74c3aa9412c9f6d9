/**
 * The attackers of test/guards/signalingFuzz.test.ts, in a worker thread: their own work
 * (generating and framing 100,000 messages) runs on this thread's event loop, so the server's
 * loop and its /healthz are measured on their own. Invitations come pre-issued from the test.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { CLOSE_CODES, MAX_FRAME_BYTES } from '../../src/contract/signaling.ts';
import { HostileMessages, type FuzzContext } from './hostileMessages.ts';

/** Close codes docs/signaling.md documents (1000/1005/1006 would be the network, never the server's choice here). */
const DOCUMENTED_CLOSES = new Set<number>([...Object.values(CLOSE_CODES), 1009]);

export interface SwarmPlan {
  url: string;
  seed: number;
  target: number;
  deadlineMs: number;
  burst: number;
  perSecond: number;
  victim: string;
  /** Per attacker: the (session, invitation) pairs it joins with, one per (re)connection; none for a lurker. */
  attackers: { name: string; seedOffset: number; allowEnd: boolean; joins: { sessionId: string; token: string }[]; context: FuzzContext }[];
}

export interface SwarmReport {
  sent: number;
  replies: number;
  byCode: [string, number][];
  closes: [number, number][];
  badIds: number;
  undocumentedCloses: number;
  undocumentedAfter: string[];
  sockets: number;
  joinedAtStart: number;
  pendingOpen: number;
  unansweredClosed: number;
  fuzzMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stats {
  sent: number;
  replies: number;
  byCode: Map<string, number>;
  closes: Map<number, number>;
  badIds: number;
  undocumentedCloses: number;
  undocumentedAfter: string[];
  sockets: number;
}

/** One attacker connection at a time for one seat; it reconnects (with a fresh invitation) when closed. */
class Attacker {
  #ws: WebSocket | undefined;
  #sentHere = 0;
  #repliesHere = 0;
  #ids = new Set<number>();
  /** This socket sent a frame over the WebSocket frame limit (it is to be closed 1009). */
  #sentHuge = false;
  readonly #gen: HostileMessages;
  joined = false;
  stopped = false;
  /** The kind of the last frame sent (reported with a close the protocol does not document). */
  lastKind = '';
  lastError = '';
  /** Counted once each: the messages a closed socket never answered (it was closed meanwhile). */
  unansweredAtClose = 0;

  readonly name: string;
  readonly ctx: FuzzContext;
  readonly stats: Stats;
  readonly join: (() => { sessionId: string; token: string } | undefined) | undefined;
  readonly allowEnd: boolean;
  readonly url: string;

  constructor(name: string, seed: number, ctx: FuzzContext, stats: Stats, join: (() => { sessionId: string; token: string } | undefined) | undefined, allowEnd: boolean, url: string) {
    this.name = name;
    this.ctx = ctx;
    this.stats = stats;
    this.join = join;
    this.allowEnd = allowEnd;
    this.url = url;
    this.#gen = new HostileMessages(seed, ctx);
  }

  get pending(): number {
    return this.#sentHere - this.#repliesHere;
  }

  get open(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  async connect(): Promise<void> {
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    this.#sentHere = 0;
    this.#repliesHere = 0;
    // Each socket checks its replies against its own ids: a closing socket's late replies arrive
    // after the next socket has started its own set.
    const ids = new Set<number>();
    this.#ids = ids;
    this.#sentHuge = false;
    this.joined = false;
    this.stats.sockets++;
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { id?: number | null; ok?: boolean; notification?: string; data?: unknown; error?: { code: string } };
      this.#harvest(msg.data);
      if (typeof msg.notification === 'string') return;
      this.#repliesHere++;
      this.stats.replies++;
      const code = msg.ok === true ? 'ok' : (msg.error?.code ?? '?');
      this.stats.byCode.set(code, (this.stats.byCode.get(code) ?? 0) + 1);
      if (msg.id !== null && msg.id !== undefined && !ids.has(msg.id)) this.stats.badIds++;
    });
    ws.on('close', (code) => {
      this.stats.closes.set(code, (this.stats.closes.get(code) ?? 0) + 1);
      // A frame over the frame limit is closed 1009; when the server's close frame waits behind replies this
      // busy client has not read, ws gives up after its close timeout and the client sees 1006.
      const documented = DOCUMENTED_CLOSES.has(code) || (code === 1006 && this.#sentHuge);
      if (!documented) {
        this.stats.undocumentedCloses++;
        this.stats.undocumentedAfter.push(`${code} after ${this.lastKind} (${this.name}${this.lastError === '' ? '' : `: ${this.lastError}`})`);
      }
      this.unansweredAtClose += this.#sentHere - this.#repliesHere;
      this.joined = false;
    });
    ws.on('error', (err) => {
      // Kept for the report of a close the protocol does not document (1006: the connection dropped).
      this.lastError = err.message;
    });
    await once(ws, 'open');
    const invitation = this.join?.();
    if (invitation !== undefined) {
      const { sessionId, token } = invitation;
      const reply = await this.#request({ id: 0, method: 'join', data: { protocolVersion: 1, sessionId, token } });
      this.joined = reply;
    }
  }

  /** Sends a real join and waits for its answer (true when joined). */
  #request(message: { id: number; method: string; data: object }): Promise<boolean> {
    const ws = this.#ws!;
    return new Promise((resolve) => {
      const onMessage = (raw: WebSocket.RawData) => {
        const msg = JSON.parse(String(raw)) as { id?: number; ok?: boolean };
        if (msg.id !== message.id) return;
        ws.off('message', onMessage);
        resolve(msg.ok === true);
      };
      ws.on('message', onMessage);
      ws.once('close', () => resolve(false));
      this.#send(JSON.stringify(message), false);
      this.#ids.add(message.id);
    });
  }

  #send(data: string | Buffer, binary: boolean): void {
    this.#ws!.send(data, { binary });
    this.#sentHere++;
    this.stats.sent++;
  }

  /** Ids and peer ids the server told this connection about: the next messages use them (and others'). */
  #harvest(data: unknown, depth = 0): void {
    if (depth > 3 || data === null || typeof data !== 'object') return;
    for (const [k, v] of Object.entries(data)) {
      if (typeof v === 'string' && /(^id$|Id$)/.test(k) && v.length <= 64 && this.ctx.ids.length < 500 && !this.ctx.ids.includes(v)) this.ctx.ids.push(v);
      else if (typeof v === 'object') this.#harvest(v, depth + 1);
    }
  }

  /** Sends `n` hostile frames (reconnecting first if the socket was closed). */
  async burst(n: number): Promise<void> {
    if (this.stopped) return;
    if (!this.open) {
      if (this.#ws !== undefined && this.#ws.readyState !== WebSocket.CLOSED) return; // connecting or closing
      await this.connect().catch(() => undefined);
      if (!this.open) return;
    }
    // One write for the burst, not one per frame: the client's own syscalls share the server's CPU.
    const socket = (this.#ws as unknown as { _socket?: Socket })._socket;
    socket?.cork();
    for (let i = 0; i < n && this.open; i++) {
      const frame = this.#gen.next({ joined: this.joined, allowEnd: this.allowEnd });
      if (!frame.binary) {
        // Every integer id the envelope carries (a duplicated key's last one is the one parsed; a negative one is echoed too).
        // (1e+308 is an integer to the server too, and is echoed.)
        for (const m of (frame.data as string).slice(0, 200).matchAll(/"id":(-?[\d.]+(?:e[+-]?\d+)?)(?=[,}])/g)) this.#ids.add(Number(m[1]));
      }
      this.lastKind = frame.kind;
      if (typeof frame.data === 'string' && Buffer.byteLength(frame.data) > MAX_FRAME_BYTES) this.#sentHuge = true;
      this.#send(frame.data, frame.binary);
    }
    socket?.uncork();
  }

  close(): void {
    this.stopped = true;
    this.#ws?.close();
  }
}


async function run(plan: SwarmPlan): Promise<SwarmReport> {
  const stats: Stats = { sent: 0, replies: 0, byCode: new Map(), closes: new Map(), badIds: 0, undocumentedCloses: 0, undocumentedAfter: [], sockets: 0 };
  const attackers = plan.attackers.map((a) => {
    let next = 0;
    const join = a.joins.length === 0 ? undefined : () => a.joins[next++ % a.joins.length];
    return new Attacker(a.name, plan.seed + a.seedOffset, a.context, stats, join, a.allowEnd, plan.url);
  });
  await Promise.all(attackers.map((a) => a.connect().catch(() => undefined)));
  const joinedAtStart = attackers.filter((a) => a.joined).length;
  const fuzzStart = Date.now();
  // A first burst in slices (each a turn of this loop), then a steady perSecond per connection in 100 ms steps.
  for (let done = 0; done < plan.burst; done += 10) await Promise.all(attackers.map((a) => a.burst(10)));
  let midway = false;
  while (stats.sent < plan.target && Date.now() - fuzzStart < plan.deadlineMs) {
    await sleep(100);
    await Promise.all(attackers.map((a) => a.burst(plan.perSecond / 10)));
    if (!midway && stats.sent > plan.target / 2) {
      midway = true;
      parentPort!.postMessage({ midway: true });
    }
  }
  const fuzzMs = Date.now() - fuzzStart;
  // Every open connection gets its answers (a slow request may still be running).
  const end = Date.now() + 20000;
  while (Date.now() < end && !attackers.every((a) => !a.open || a.pending === 0)) await sleep(100);
  const pendingOpen = attackers.filter((a) => a.open).reduce((n, a) => n + a.pending, 0);
  const unansweredClosed = attackers.reduce((n, a) => n + a.unansweredAtClose, 0);
  for (const a of attackers) a.close();
  return { sent: stats.sent, replies: stats.replies, byCode: [...stats.byCode], closes: [...stats.closes], badIds: stats.badIds, undocumentedCloses: stats.undocumentedCloses, undocumentedAfter: stats.undocumentedAfter, sockets: stats.sockets, joinedAtStart, pendingOpen, unansweredClosed, fuzzMs };
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'plan' in workerData) {
  run((workerData as { plan: SwarmPlan }).plan).then(
    (report) => parentPort!.postMessage({ report }),
    (err: unknown) => parentPort!.postMessage({ error: (err as Error).stack ?? String(err) }),
  );
}
