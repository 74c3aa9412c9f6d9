/**
 * The `/ws` protocol from a synthetic point: typed requests (the server's own schemas in
 * src/contract/signaling.ts), replies and notifications validated with zod before use.
 */
import WebSocket from 'ws';
import { z } from 'zod';
import { PROTOCOL_VERSION, type RequestData, type RequestMethod } from '../../src/contract/signaling.ts';

const replySchema = z.union([
  z.object({ id: z.number().nullable(), ok: z.literal(true), data: z.record(z.string(), z.unknown()) }),
  z.object({ id: z.number().nullable(), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
const notificationSchema = z.object({ notification: z.string(), data: z.record(z.string(), z.unknown()) });

export class SignalingError extends Error {
  readonly code: string;
  constructor(method: string, code: string, message: string) {
    super(`${method}: ${code} ${message}`);
    this.code = code;
  }
}

export class PointSignaling {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<number, { method: string; resolve: (d: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Map<string, ((d: Record<string, unknown>) => void)[]>();
  #nextId = 1;
  closeCode: number | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (raw) => this.#onMessage(String(raw)));
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const w of this.#waiting.values()) w.reject(new Error(`socket closed (${code}) before ${w.method} was answered`));
      this.#waiting.clear();
    });
  }

  static open(url: string): Promise<PointSignaling> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new PointSignaling(ws)));
      ws.once('error', reject);
    });
  }

  #onMessage(text: string): void {
    const json: unknown = JSON.parse(text);
    const n = notificationSchema.safeParse(json);
    if (n.success) {
      for (const f of this.#listeners.get(n.data.notification) ?? []) f(n.data.data);
      return;
    }
    const r = replySchema.parse(json);
    if (r.id === null) return;
    const w = this.#waiting.get(r.id);
    this.#waiting.delete(r.id);
    if (w === undefined) return;
    if (r.ok) w.resolve(r.data);
    else w.reject(new SignalingError(w.method, r.error.code, r.error.message));
  }

  on(notification: string, f: (d: Record<string, unknown>) => void): void {
    this.#listeners.set(notification, [...(this.#listeners.get(notification) ?? []), f]);
  }

  /** Sends a request; the answer's data is parsed with `schema`. Requests may be pipelined (the server keeps their order). */
  request<M extends RequestMethod, S extends z.ZodType>(method: M, data: RequestData<M>, schema: S): Promise<z.infer<S>> {
    const id = this.#nextId++;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#waiting.set(id, { method, resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, data }));
    }).then((d) => schema.parse(d));
  }

  join(sessionId: string, token: string) {
    return this.request('join', { protocolVersion: PROTOCOL_VERSION, sessionId, token }, z.object({ peerId: z.string(), admitted: z.boolean(), role: z.string() }).loose());
  }

  close(): void {
    this.#ws.close();
  }
}
