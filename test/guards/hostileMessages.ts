/**
 * Hostile signaling messages from a seeded PRNG (the same seed gives the same messages, in the
 * same order per connection): every method of the protocol with valid-looking data, with the
 * wrong types, huge numbers, NaN-like strings, unicode, NUL and lone surrogates, deep objects,
 * other peers' and closed objects' ids, replayed ids; plus broken envelopes, malformed JSON,
 * binary and oversize frames.
 */
import { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, requestSchemas } from '../../src/contract/signaling.ts';

/** mulberry32: small, fast, good enough to pick hostile values reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const METHODS = Object.keys(requestSchemas) as (keyof typeof requestSchemas)[];

/** What one connection knows: ids it saw (its own and others'), tokens, sessions. */
export interface FuzzContext {
  ids: string[];
  sessions: string[];
  tokens: string[];
}

/** One frame: text (sent as a text frame) or bytes (a binary frame). `id` when it carries one. */
export interface Frame {
  data: string | Buffer;
  binary: boolean;
  kind: string;
}

const NASTY_STRINGS = [
  '',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  'undefined',
  'true',
  '0x41',
  '1e309',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\u202eevil',
  '\ufeff',
  '💥'.repeat(16),
  'Tố cáo ối giời ơi '.repeat(4),
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(3000),
  '../../../etc/passwd',
  '<script>alert(1)</script>',
  "'; DROP TABLE sessions; --",
  'a=b\r\na=candidate:1 1 UDP 1 6.6.6.6 1 typ host',
  '%s%s%s%n',
  ' ',
];
const NASTY_NUMBERS = [0, -0, -1, 1.5, 2 ** 31, 2 ** 31 + 1, 2 ** 32, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, Number.MIN_VALUE, 127, 128, 255, 256, 8192, 8193, 99999];

export class HostileMessages {
  readonly #rand: () => number;
  readonly #ctx: FuzzContext;
  #nextId = 1;
  #lastId = 0;

  constructor(seed: number, ctx: FuzzContext) {
    this.#rand = prng(seed);
    this.#ctx = ctx;
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  #pick<T>(list: readonly T[]): T {
    return list[this.#int(list.length)]!;
  }

  #chance(p: number): boolean {
    return this.#rand() < p;
  }

  /** An id: one seen (own or another peer's, maybe closed by now), or a hostile string. */
  #someId(): unknown {
    if (this.#ctx.ids.length > 0 && this.#chance(0.6)) return this.#pick(this.#ctx.ids);
    return this.#chance(0.8) ? this.#pick(NASTY_STRINGS) : this.#anything(2);
  }

  #anything(depth: number): unknown {
    switch (this.#int(depth > 0 ? 7 : 4)) {
      case 0:
        return this.#pick(NASTY_STRINGS);
      case 1:
        return this.#pick(NASTY_NUMBERS);
      case 2:
        return this.#pick([true, false, null]);
      case 3:
        return this.#someId();
      case 4:
        return Array.from({ length: this.#int(5) }, () => this.#anything(depth - 1));
      case 5:
        return Object.fromEntries(Array.from({ length: this.#int(5) }, () => [this.#pick(['id', 'kind', 'codecs', 'x', '__proto__', 'constructor', 'peerId']), this.#anything(depth - 1)]));
      default:
        return { codecs: [{ mimeType: this.#pick(['video/VP8', 'audio/opus', 'video/H264', 'video/AV1', 'x']), payloadType: this.#pick(NASTY_NUMBERS), clockRate: this.#pick(NASTY_NUMBERS) }] };
    }
  }

  /** Data for `method`: well-formed with hostile ids and values, or plainly wrong. */
  #dataFor(method: string): unknown {
    const ctx = this.#ctx;
    const id = () => this.#someId();
    const dtls = { role: this.#pick(['auto', 'client', 'server']), fingerprints: [{ algorithm: 'sha-256', value: this.#pick(['AA:BB:CC', 'x'.repeat(256), '']) }] };
    const rtp = {
      codecs: [{ mimeType: this.#pick(['video/VP8', 'audio/opus', 'video/H264']), payloadType: this.#pick([96, 100, 111, 127, 0]), clockRate: this.#pick([90000, 48000, 1]), ...(this.#chance(0.5) ? { channels: 2 } : {}) }],
      encodings: Array.from({ length: 1 + this.#int(4) }, (_, i) => ({ ssrc: this.#pick([1, 2 ** 32 - 1, 0, 1234 + i]), ...(this.#chance(0.5) ? { rid: `r${i}` } : {}), maxBitrate: this.#pick([1, 5_000_000, 2 ** 31]) })),
      rtcp: { cname: this.#pick(['abc', 'x'.repeat(64)]) },
      ...(this.#chance(0.3) ? { headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: this.#pick([1, 14, 255]) }] } : {}),
    };
    const size = () => this.#pick([1, 2, 320, 1920, 8192]);
    if (this.#chance(0.25)) return this.#anything(3);
    switch (method) {
      case 'join':
        return {
          protocolVersion: this.#pick([1, 1, 0, 2, -1]),
          sessionId: ctx.sessions.length > 0 && this.#chance(0.8) ? this.#pick(ctx.sessions) : id(),
          token: ctx.tokens.length > 0 && this.#chance(0.7) ? this.#pick(ctx.tokens) : this.#pick(['td1.x.y', 'x'.repeat(2048), '\u0000']),
          ...(this.#chance(0.3) ? { rejoin: { transportIds: [id(), id()] } } : {}),
          ...(this.#chance(0.3) ? { resumeSecret: 'A'.repeat(this.#pick([16, 43, 128])) } : {}),
        };
      case 'createTransport':
        return { direction: this.#pick(['send', 'recv']), ...(this.#chance(0.3) ? { forceTcp: true } : {}) };
      case 'connectTransport':
        return { transportId: id(), dtlsParameters: dtls };
      case 'restartIce':
      case 'closeTransport':
        return { transportId: id() };
      case 'setRtpCapabilities':
        return { rtpCapabilities: { codecs: [{ kind: this.#pick(['audio', 'video']), mimeType: this.#pick(['video/VP8', 'audio/opus', 'video/VP9']), clockRate: this.#pick([90000, 48000]), preferredPayloadType: this.#pick([96, 111, 127]) }], headerExtensions: [] } };
      case 'produce':
        return { transportId: id(), kind: this.#pick(['audio', 'video']), rtpParameters: rtp, source: this.#pick(['camera', 'microphone', 'screen', 'document']), ...(this.#chance(0.3) ? { paused: true } : {}), ...(this.#chance(0.5) ? { width: size(), height: size() } : {}) };
      case 'pauseProducer':
      case 'resumeProducer':
      case 'closeProducer':
        return { producerId: id() };
      case 'pauseConsumer':
      case 'resumeConsumer':
        return { consumerId: id() };
      case 'setConsumerPreferredLayers':
        return { consumerId: id(), spatialLayer: this.#int(4), ...(this.#chance(0.5) ? { temporalLayer: this.#int(4) } : {}) };
      case 'setConsumerViewSize':
        return { consumerId: id(), width: size(), height: size() };
      case 'getStats':
        return this.#chance(0.5) ? {} : { peerId: id() };
      case 'mutePeer':
        return { peerId: id(), kind: this.#pick(['audio', 'video']) };
      case 'ejectPeer':
      case 'admitPeer':
        return { peerId: id() };
      default:
        return {};
    }
  }

  /** A request envelope around `method` (its id fresh, or replayed, or out of range). */
  #request(method: string, data: unknown): string {
    let id: number;
    if (this.#chance(0.05)) id = this.#lastId; // replayed
    else id = this.#nextId++;
    this.#lastId = id;
    return JSON.stringify({ id, method, data });
  }

  /**
   * The next frame. `moderationWeight` scales how often host-only requests are asked (a host
   * attacker in its own session ejects and ends; elsewhere they are refused anyway).
   */
  next(options: { joined: boolean; allowEnd: boolean }): Frame {
    const r = this.#rand();
    if (r < 0.6) {
      // A protocol method. Ending the session, leaving and recording only now and then.
      let method: string = this.#pick(METHODS);
      if (method === 'endSession' && !options.allowEnd) method = 'ping';
      if ((method === 'leave' || method === 'startRecording') && !this.#chance(0.05)) method = 'getStats';
      if (method === 'join' && options.joined && this.#chance(0.5)) return { data: this.#request('join', this.#dataFor('join')), binary: false, kind: 'join again' };
      return { data: this.#request(method, this.#dataFor(method)), binary: false, kind: method };
    }
    if (r < 0.7) {
      // A broken envelope.
      const bad = this.#pick([
        () => ({ id: this.#pick(['1', -1, 1.5, 2 ** 31 + 1, null, [], {}]), method: 'ping', data: {} }),
        () => ({ id: this.#nextId++, method: this.#pick(['', 'x'.repeat(65), '__proto__', 'constructor', 'toString', 'JOIN', 'eval', 5, null]), data: {} }),
        () => ({ id: this.#nextId++, method: 'ping', data: this.#pick(['x', 5, [], null, true]) }),
        () => ({ id: this.#nextId++, method: 'ping', data: {}, extra: this.#anything(2) }),
        () => ({ method: 'ping' }),
        () => this.#anything(3),
      ])();
      return { data: JSON.stringify(bad) ?? 'null', binary: false, kind: 'bad envelope' };
    }
    if (r < 0.78) {
      // Not JSON, or JSON with things JSON.stringify never writes.
      const text = this.#pick([
        '{',
        '}{',
        'NaN',
        '{"id":1,"method":"ping","data":{"x":NaN}}',
        '{"id":1,"method":"ping","data":{"x":Infinity}}',
        "{'id':1}",
        '\u0000\u0001\u0002',
        '\ufeff{"id":1,"method":"ping"}',
        `{"id":${this.#nextId++},"method":"ping","data":{"__proto__":{"polluted":true}}}`,
        `{"id":${this.#nextId++},"method":"ping","data":{"a":"\\ud800"}}`,
        `{"id":${this.#nextId++},"id":${this.#nextId++},"method":"ping"}`,
        `{"id":1e400,"method":"ping"}`,
        '',
        ' '.repeat(100),
      ]);
      return { data: text, binary: false, kind: 'malformed' };
    }
    if (r < 0.84) {
      // Deeply nested data (a parser or validator that recurses without bound would fall over).
      const depth = this.#pick([100, 1000, 5000]);
      const open = this.#chance(0.5) ? '['.repeat(depth) : '{"a":'.repeat(depth);
      const close = open.startsWith('[') ? ']'.repeat(depth) : '}'.repeat(depth);
      return { data: `{"id":${this.#nextId++},"method":"${this.#pick(['ping', 'produce', 'setRtpCapabilities', 'join'])}","data":{"rtpParameters":${open}1${close},"rtpCapabilities":${open}1${close}}}`, binary: false, kind: 'deep' };
    }
    if (r < 0.9) {
      const bytes = Buffer.alloc(1 + this.#int(300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = this.#int(256);
      return { data: bytes, binary: true, kind: 'binary' };
    }
    if (r < 0.905) {
      // Oversize: above the 64 KiB message limit (answered), rarely above the frame limit (closed 1009).
      const n = this.#chance(0.02) ? MAX_FRAME_BYTES + 10 + this.#int(1024 * 1024) : MAX_MESSAGE_BYTES + 1 + this.#int(MAX_FRAME_BYTES - MAX_MESSAGE_BYTES - 200);
      return { data: JSON.stringify({ id: this.#nextId++, method: 'ping', data: { pad: 'x'.repeat(n) } }), binary: false, kind: 'oversize' };
    }
    // A valid, harmless request: the stream stays mostly protocol (and ids keep flowing back).
    return { data: this.#request(this.#pick(['ping', 'getStats', 'createTransport']), this.#chance(0.5) ? {} : { direction: 'recv' }), binary: false, kind: 'plain' };
  }
}
