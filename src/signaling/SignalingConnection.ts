import type { WebSocket, RawData } from 'ws';
import { z } from 'zod';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServerMedia } from '../live/media.ts';
import { CLOSE_CODES, MAX_MESSAGE_BYTES, MAX_MESSAGE_DEPTH, isRequestMethod, nestsDeeperThan, requestEnvelopeSchema, requestSchemas, type NotificationName, type Notifications, type RequestMethod } from '../contract/signaling.ts';

export interface ConnectionLimits {
  /** Sustained requests per second per connection. */
  messagesPerSecond: number;
  /** Requests accepted in a burst before RATE_LIMITED answers start. */
  burst: number;
  /** A socket that has not joined by then is closed. */
  authTimeoutMs: number;
  /**
   * Open /ws sockets from one remote address, and in all (security review L7). Generous per
   * address: a whole province's bridge points may sit behind a few NAT addresses.
   */
  maxSocketsPerIp: number;
  maxSockets: number;
}

// 10 s to join: a browser sends `join` right after the socket opens; an idle socket only costs.
export const DEFAULT_LIMITS: ConnectionLimits = { messagesPerSecond: 50, burst: 200, authTimeoutMs: 10_000, maxSocketsPerIp: 300, maxSockets: 2000 };

/** What a connection asks of the hub; the hub answers with data or throws a TiepdanError. */
export interface RequestHandler {
  handle(connection: SignalingConnection, method: RequestMethod, data: unknown): Promise<unknown>;
  closed(connection: SignalingConnection): void;
}

type Outgoing =
  | { id: number | null; ok: true; data: unknown }
  | { id: number | null; ok: false; error: { code: string; message: string; details?: unknown } }
  | { notification: string; data: unknown };

/**
 * One WebSocket: parses and validates every message, rate-limits, answers each request (in order)
 * with a response or an error code. Whatever a client sends, it gets an answer and the server keeps
 * running; nothing here knows about media.
 */
export class SignalingConnection {
  readonly #socket: WebSocket;
  readonly #handler: RequestHandler;
  readonly #limits: ConnectionLimits;
  readonly logger: Logger;
  #bucket: number;
  #lastRefill = Date.now();
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #busy = false;
  #pendingClose: { code: number; reason: string } | undefined;
  #closed = false;
  readonly #authTimer: NodeJS.Timeout;
  /** Set by the hub once the join succeeded. */
  peerKey: string | undefined;
  /**
   * The server's local address this socket arrived on: an address the browser can route to, so
   * its media is announced there first (see AnnouncedAddresses).
   */
  readonly reachedAddress: string | undefined;

  constructor(socket: WebSocket, handler: RequestHandler, limits: ConnectionLimits, logger: Logger, reachedAddress?: string) {
    this.reachedAddress = reachedAddress;
    this.#socket = socket;
    this.#handler = handler;
    this.#limits = limits;
    this.logger = logger;
    this.#bucket = limits.burst;
    this.#authTimer = setTimeout(() => {
      if (this.peerKey === undefined) this.close(CLOSE_CODES.authTimeout, 'join expected');
    }, limits.authTimeoutMs);
    socket.on('message', (raw, isBinary) => this.#onMessage(raw, isBinary));
    socket.on('close', () => {
      this.#closed = true;
      clearTimeout(this.#authTimer);
      this.#handler.closed(this);
    });
    socket.on('error', (err) => this.logger.debug({ err: err.message }, 'socket error'));
  }

  get isOpen(): boolean {
    return !this.#closed && this.#socket.readyState === this.#socket.OPEN;
  }

  #send(message: Outgoing): void {
    if (!this.isOpen) return;
    this.#socket.send(JSON.stringify(message));
  }

  /** Sends a notification; its name and data are the contract's (`Notifications`). */
  notify<N extends NotificationName>(name: N, data: Notifications<ServerMedia>[N]): void {
    this.#send({ notification: name, data });
  }

  #fail(id: number | null, code: string, message: string, details?: unknown): void {
    this.#send({ id, ok: false, error: details === undefined ? { code, message } : { code, message, details } });
  }

  /** Closes the socket; during a request, after its response went out (so a `leave` gets its answer). */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#pendingClose ??= { code, reason };
      return;
    }
    this.#closed = true;
    clearTimeout(this.#authTimer);
    this.#socket.close(code, reason);
  }

  #takeToken(): boolean {
    const now = Date.now();
    this.#bucket = Math.min(this.#limits.burst, this.#bucket + ((now - this.#lastRefill) / 1000) * this.#limits.messagesPerSecond);
    this.#lastRefill = now;
    if (this.#bucket < 1) return false;
    this.#bucket -= 1;
    return true;
  }

  #onMessage(raw: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const size = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw instanceof ArrayBuffer ? raw.byteLength : raw.length;
    if (!this.#takeToken()) return this.#fail(null, 'RATE_LIMITED', `more than ${this.#limits.messagesPerSecond} messages per second`);
    if (size > MAX_MESSAGE_BYTES) return this.#fail(null, 'MESSAGE_TOO_LARGE', `messages are limited to ${MAX_MESSAGE_BYTES} bytes`);
    if (isBinary) return this.#fail(null, 'BAD_MESSAGE', 'binary messages are not part of the protocol');
    const text = Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw as ArrayBuffer).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.#fail(null, 'BAD_JSON', 'the message is not valid JSON');
    }
    if (nestsDeeperThan(json, MAX_MESSAGE_DEPTH)) return this.#fail(null, 'BAD_MESSAGE', `messages nest at most ${MAX_MESSAGE_DEPTH} levels of objects and arrays`);
    const envelope = requestEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      const maybeId = typeof json === 'object' && json !== null && 'id' in json && Number.isInteger((json as { id: unknown }).id) ? (json as { id: number }).id : null;
      return this.#fail(maybeId, 'BAD_MESSAGE', 'a request is {"id": <integer>, "method": <string>, "data": <object>}', zodDetails(envelope.error));
    }
    const { id, method } = envelope.data;
    if (!isRequestMethod(method)) return this.#fail(id, 'UNKNOWN_METHOD', `unknown method ${JSON.stringify(method.slice(0, 64))}`);
    const parsed = requestSchemas[method].safeParse(envelope.data.data ?? {});
    if (!parsed.success) return this.#fail(id, 'INVALID_DATA', `invalid data for ${method}`, zodDetails(parsed.error));
    if (this.#queued >= this.#limits.burst) return this.#fail(id, 'RATE_LIMITED', 'too many requests waiting');
    this.#queued++;
    // Requests of one connection run one after another: a client sees the effects in its own order.
    this.#queue = this.#queue.then(() => this.#run(id, method, parsed.data));
  }

  async #run(id: number, method: RequestMethod, data: unknown): Promise<void> {
    this.#busy = true;
    try {
      if (this.#closed) return;
      const result = await this.#handler.handle(this, method, data);
      this.#send({ id, ok: true, data: result ?? {} });
    } catch (err) {
      if (err instanceof TiepdanError) this.#fail(id, err.code, err.message, err.details);
      else {
        this.logger.error({ err: (err as Error).message, method }, 'request failed unexpectedly');
        this.#fail(id, 'INTERNAL', 'internal error');
      }
    } finally {
      this.#queued--;
      this.#busy = false;
      const pending = this.#pendingClose;
      if (pending !== undefined) {
        this.#pendingClose = undefined;
        this.close(pending.code, pending.reason);
      }
    }
  }
}

function zodDetails(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
}
