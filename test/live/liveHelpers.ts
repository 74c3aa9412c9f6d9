/** Shared set-up for the live-session end-to-end tests: a full server, sessions, ws and browser peers. */
import { once } from 'node:events';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { DEFAULT_SESSION_SETTINGS, InMemorySessionDirectory, type LiveSessionSettings } from '../../src/domain/sessionDirectory.ts';
import { TiepdanServer } from '../../src/server.ts';
import type { UserRole } from '../../src/domain/common/roles.ts';
import type { ParticipantRole } from '../../src/tokens/tokenSigner.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';

export interface LiveServer {
  server: TiepdanServer;
  directory: InMemorySessionDirectory;
  wsUrl: string;
  /** Puts an open session in the directory; returns its id. */
  session(patch?: Partial<LiveSessionSettings>): string;
  token(sessionId: string, subject: string, role: ParticipantRole, options?: { ttlSeconds?: number; now?: Date; name?: string }): string;
  stop(): Promise<void>;
}

let counter = 0;

export async function startLiveServer(env: Record<string, string> = {}): Promise<LiveServer> {
  const data = await tempDataDir('tiepdan-live-');
  const config = await testConfig(data.dir, { DEV_SESSIONS: 'true', ...env });
  const directory = new InMemorySessionDirectory();
  const server = await TiepdanServer.start(config, silentLogger(), { sessionDirectory: directory });
  return {
    server,
    directory,
    wsUrl: `${server.url.replace(/^http/, 'ws')}/ws`,
    session(patch = {}) {
      const id = `s-${process.pid}-${++counter}`;
      // Not recorded unless a test asks: the server's recorder is wired to every live session.
      directory.put({ ...DEFAULT_SESSION_SETTINGS, autoRecord: false, id, title: `Phiên ${counter}`, ...patch });
      return id;
    },
    token(sessionId, subject, role, options = {}) {
      return server.live.tokens.issue({
        kind: 'invitation',
        sessionId,
        subject,
        role,
        displayName: options.name ?? subject,
        ttlSeconds: options.ttlSeconds ?? 3600,
        now: options.now,
      }).token;
    },
    async stop() {
      await server.stop();
      await data.remove();
    },
  };
}

export type Reply = { id: number | null; ok: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } };
export type Notification = { notification: string; data: Record<string, unknown> };

/** A protocol client on Node's `ws`: for admission and robustness tests that need no media. */
export class WsPeer {
  readonly ws: WebSocket;
  readonly replies: Reply[] = [];
  readonly notifications: Notification[] = [];
  readonly #waiting = new Map<number, (r: Reply) => void>();
  #nextId = 1;
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as Reply & Notification;
      if (typeof msg.notification === 'string') {
        this.notifications.push(msg);
        return;
      }
      this.replies.push(msg);
      if (typeof msg.id === 'number') {
        const w = this.#waiting.get(msg.id);
        this.#waiting.delete(msg.id);
        w?.(msg);
      }
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve((this.closeCode = code))));
  }

  static async open(url: string): Promise<WsPeer> {
    const peer = new WsPeer(url);
    await once(peer.ws, 'open');
    return peer;
  }

  request(method: string, data: object = {}): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${method}`)), 20000);
      this.#waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.ws.send(JSON.stringify({ id, method, data }));
    });
  }

  join(sessionId: string, token: string, extra: object = {}): Promise<Reply> {
    return this.request('join', { protocolVersion: 1, sessionId, token, ...extra });
  }

  async waitFor(notification: string, pred: (d: Record<string, unknown>) => boolean = () => true, ms = 20000): Promise<Record<string, unknown>> {
    const end = Date.now() + ms;
    for (;;) {
      const n = this.notifications.find((x) => x.notification === notification && pred(x.data));
      if (n !== undefined) return n.data;
      if (Date.now() > end) throw new Error(`no ${notification} notification`);
      await sleep(50);
    }
  }

  close(): void {
    this.ws.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Opens the bare test page as one participant; resolves once the client reports `joined`. */
export async function openPagePeer(browser: Browser, live: LiveServer, sessionId: string, token: string, hash = ''): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${live.server.url}/live/test.html#session=${sessionId}&token=${encodeURIComponent(token)}${hash}`);
  await page.evaluate(() => {
    const w = window as unknown as { client: { on(e: string, f: (...a: unknown[]) => void): void }; events: unknown[] };
    w.events = [];
    for (const e of ['peerJoined', 'peerLeft', 'kicked', 'mutedByHost', 'mediaReset', 'state', 'activeSpeaker']) w.client.on(e, (d: unknown) => w.events.push({ e, d }));
  });
  await page.waitForFunction(() => (window as unknown as { client: { state: string } }).client.state === 'joined', undefined, { timeout: 30000 });
  return page;
}

type InboundEntry = { consumerId: string; peerId: string; kind: string; bytes: number };

/** Inbound RTP bytes per remote track, read from RTCPeerConnection stats in the page. */
export function inbound(page: Page): Promise<InboundEntry[]> {
  return page.evaluate(() => (window as unknown as { client: { inboundBytes(): Promise<InboundEntry[]> } }).client.inboundBytes());
}

/** Waits until the page receives growing audio and video from each of `peerIds`. */
export async function receivesFrom(page: Page, peerIds: string[], ms = 40000, kinds: string[] = ['audio', 'video']): Promise<Record<string, number>> {
  const first = await until('remote tracks', async () => {
    const s = await inbound(page);
    return peerIds.every((p) => kinds.every((k) => s.some((e) => e.peerId === p && e.kind === k && e.bytes > 0))) ? s : undefined;
  }, ms);
  return until('growing bytes', async () => {
    await sleep(1000);
    const now = await inbound(page);
    const grown: Record<string, number> = {};
    for (const p of peerIds) {
      for (const k of kinds) {
        const before = first.filter((e) => e.peerId === p && e.kind === k).reduce((n, e) => n + e.bytes, 0);
        const after = now.filter((e) => e.peerId === p && e.kind === k).reduce((n, e) => n + e.bytes, 0);
        if (after <= before) return undefined;
        grown[`${p}/${k}`] = after;
      }
    }
    return grown;
  }, ms);
}

export function pageEvents(page: Page): Promise<{ e: string; d: unknown }[]> {
  return page.evaluate(() => (window as unknown as { events: { e: string; d: unknown }[] }).events);
}

/** A control-API answer as the live tests read it (loosely typed: they assert on its shape). */
export type ApiBody = Record<string, unknown> & { id: string };

/**
 * Staff users on a real server (the control API with its PostgreSQL), each with a bearer token, and
 * a JSON client acting as them: `call` answers status and body, `api` throws on anything ≥ 300.
 */
export function staffClient(server: TiepdanServer, prefix: string) {
  const system = { kind: 'system' as const, id: 'test', role: 'admin' as const, label: 'test-setup', bridgePointId: null };
  const users: Partial<Record<UserRole, { id: string; token: string }>> = {};
  const addUser = async (role: UserRole, bridgePointId: string | null = null) => {
    const user = await server.control.auth.createUser(system, { username: `${prefix}-${role}`, displayName: `${prefix} ${role}`, role, password: `password-${role}-123`, bridgePointId });
    users[role] = { id: user.id, token: (await server.control.auth.mintToken(user.id, role)).token };
  };
  const call = async (as: UserRole, method: string, url: string, body?: unknown): Promise<{ status: number; body: ApiBody }> => {
    const res = await fetch(`${server.url}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${users[as]!.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as ApiBody };
  };
  const api = async (as: UserRole, method: string, url: string, body?: unknown): Promise<ApiBody> => {
    const r = await call(as, method, url, body);
    if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return { users, addUser, call, api };
}
