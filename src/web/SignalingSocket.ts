/**
 * Request/response over one WebSocket (docs/signaling.md): each request gets an id, the answer
 * resolves or rejects its promise; notifications go to a callback.
 */
export class SignalingError extends Error {
  readonly code: string;
  readonly details: unknown;
  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'SignalingError';
    this.code = code;
    this.details = details;
  }
}

type Pending = { resolve: (data: unknown) => void; reject: (err: Error) => void; timer: ReturnType<typeof setTimeout> };

export interface SocketHandlers {
  onNotification(method: string, data: unknown): void;
  onClose(code: number, reason: string): void;
}

export class SignalingSocket {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  readonly opened: Promise<void>;
  openedAt = 0;

  readonly requestTimeoutMs: number;

  constructor(url: string, handlers: SocketHandlers, requestTimeoutMs = 15000) {
    this.requestTimeoutMs = requestTimeoutMs;
    this.#ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.#ws.addEventListener('open', () => {
        this.openedAt = performance.now();
        resolve();
      });
      this.#ws.addEventListener('error', () => reject(new SignalingError('SOCKET_ERROR', 'cannot reach the signaling server')));
    });
    this.#ws.addEventListener('message', (event) => {
      let msg: { id?: number | null; ok?: boolean; data?: unknown; error?: { code: string; message: string; details?: unknown }; notification?: string };
      try {
        msg = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (typeof msg.notification === 'string') return handlers.onNotification(msg.notification, msg.data);
      if (typeof msg.id !== 'number') return;
      const pending = this.#pending.get(msg.id);
      if (pending === undefined) return;
      this.#pending.delete(msg.id);
      clearTimeout(pending.timer);
      if (msg.ok === true) pending.resolve(msg.data);
      else pending.reject(new SignalingError(msg.error?.code ?? 'INTERNAL', msg.error?.message ?? 'request failed', msg.error?.details));
    });
    this.#ws.addEventListener('close', (event) => {
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new SignalingError('DISCONNECTED', 'the connection closed'));
      }
      this.#pending.clear();
      handlers.onClose(event.code, event.reason);
    });
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  request<T = Record<string, unknown>>(method: string, data: object = {}): Promise<T> {
    if (!this.open) return Promise.reject(new SignalingError('DISCONNECTED', 'not connected'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new SignalingError('TIMEOUT', `${method} got no answer`));
      }, this.requestTimeoutMs);
      this.#pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      this.#ws.send(JSON.stringify({ id, method, data }));
    });
  }

  close(code = 1000, reason = ''): void {
    this.#ws.close(code, reason);
  }
}
