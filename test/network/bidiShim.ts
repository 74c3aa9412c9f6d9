/**
 * Joins Playwright's WebDriver BiDi connection to Firefox ESR and answers, in Firefox's place, the
 * few commands Playwright sends that this Firefox does not know yet. Playwright 1.65 sends
 * `emulation.setMediaFeaturesOverride` (prefers-color-scheme) for every new context, unconditionally;
 * Firefox 153 ESR has no such command and the context fails. The suite does not use colour-scheme
 * emulation, so "success" is the honest answer. Everything else passes through unchanged.
 *
 * WebSocket framing (RFC 6455) is parsed in both directions only to find message boundaries: a
 * reply is put between two of Firefox's frames, never inside one. Compression is refused in the
 * handshake (the Sec-WebSocket-Extensions offer is removed), so every frame's text is readable.
 */
import type { Socket } from 'node:net';

export const UNSUPPORTED_BY_FIREFOX_ESR = new Set(['emulation.setMediaFeaturesOverride']);

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  raw: Buffer;
}

/** One complete frame at the start of `buf`, or undefined when more bytes are needed. */
function readFrame(buf: Buffer): Frame | undefined {
  if (buf.length < 2) return undefined;
  const fin = (buf[0]! & 0x80) !== 0;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + len) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ buf[maskAt + (i % 4)]!;
  return { fin, opcode, payload, raw: buf.subarray(0, offset + len) };
}

/** An unmasked text frame (server → client direction). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  if (payload.length > 0xffff) throw new Error('shim reply too long');
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into: the HTTP handshake (until the blank line), then frames. */
class FrameReader {
  #buf = Buffer.alloc(0);
  #handshakeDone = false;
  readonly #onHandshake: (head: Buffer) => void;
  readonly #onFrame: (f: Frame) => void;

  constructor(onHandshake: (head: Buffer) => void, onFrame: (f: Frame) => void) {
    this.#onHandshake = onHandshake;
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    if (!this.#handshakeDone) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.#handshakeDone = true;
      this.#onHandshake(this.#buf.subarray(0, end + 4));
      this.#buf = this.#buf.subarray(end + 4);
    }
    for (;;) {
      const f = readFrame(this.#buf);
      if (f === undefined) return;
      this.#buf = this.#buf.subarray(f.raw.length);
      this.#onFrame(f);
    }
  }
}

/**
 * Pipes `client` (Playwright) ↔ `upstream` (Firefox), answering `methods` itself. `onShim` is told
 * each method it answered.
 */
export function shimBidi(client: Socket, upstream: Socket, methods: ReadonlySet<string> = UNSUPPORTED_BY_FIREFOX_ESR, onShim?: (method: string) => void, hostHeader?: string): void {
  const pendingReplies: Buffer[] = [];
  let upstreamMidMessage = false;
  const flushReplies = (): void => {
    if (upstreamMidMessage) return;
    for (const r of pendingReplies.splice(0)) client.write(r);
  };
  const toFirefox = new FrameReader(
    (head) => {
      let text = head.toString('latin1').replace(/\r\nSec-WebSocket-Extensions:[^\r]*/gi, '');
      // Firefox accepts only a Host that names its own address and port (test/helpers/firefoxLoopback.ts).
      if (hostHeader !== undefined) text = text.replace(/\r\nHost:[^\r]*/i, `\r\nHost: ${hostHeader}`);
      upstream.write(Buffer.from(text, 'latin1'));
    },
    (f) => {
      if (f.opcode === 1 && f.fin) {
        let msg: { id?: unknown; method?: unknown } | undefined;
        try {
          msg = JSON.parse(f.payload.toString('utf8')) as { id?: unknown; method?: unknown };
        } catch {
          msg = undefined;
        }
        if (msg !== undefined && typeof msg.method === 'string' && methods.has(msg.method) && typeof msg.id === 'number') {
          onShim?.(msg.method);
          pendingReplies.push(textFrame(JSON.stringify({ type: 'success', id: msg.id, result: {} })));
          flushReplies();
          return;
        }
      }
      upstream.write(f.raw);
    },
  );
  const fromFirefox = new FrameReader(
    (head) => client.write(head),
    (f) => {
      client.write(f.raw);
      // Control frames may come between the fragments of a message; data frames decide.
      if (f.opcode < 8) upstreamMidMessage = !f.fin;
      flushReplies();
    },
  );
  client.on('data', (c: Buffer) => toFirefox.push(c));
  upstream.on('data', (c: Buffer) => fromFirefox.push(c));
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  for (const s of [client, upstream]) {
    s.on('error', close);
    s.on('close', close);
  }
}
