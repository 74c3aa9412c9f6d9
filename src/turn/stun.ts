import { createHmac, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * A minimal STUN (RFC 8489) message codec: enough for the embedded TURN's readiness probe (a
 * Binding request) and for the tests' TURN client. Attributes stay raw buffers; callers decode
 * the few they need.
 */

export const STUN_MAGIC_COOKIE = 0x2112a442;
export const STUN_HEADER_LENGTH = 20;

export const StunMethod = { binding: 0x001, allocate: 0x003, refresh: 0x004, createPermission: 0x008 } as const;
export const StunClass = { request: 0x000, indication: 0x010, success: 0x100, error: 0x110 } as const;
export const StunAttribute = {
  mappedAddress: 0x0001,
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
  fingerprint: 0x8028,
} as const;

export interface StunAttr {
  type: number;
  value: Buffer;
}

export interface StunMessage {
  method: number;
  cls: number;
  transactionId: Buffer;
  attributes: StunAttr[];
}

const CLASS_MASK = 0x0110;

export function newTransactionId(): Buffer {
  return randomBytes(12);
}

function header(method: number, cls: number, length: number, transactionId: Buffer): Buffer {
  const h = Buffer.alloc(STUN_HEADER_LENGTH);
  // Method bits M0–M11 are interleaved with the class bits C0 (bit 4) and C1 (bit 8).
  const m = method & 0xfff;
  h.writeUInt16BE(((m & 0xf80) << 2) | ((m & 0x070) << 1) | (m & 0x00f) | cls, 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  transactionId.copy(h, 8);
  return h;
}

function encodeAttr(attr: StunAttr): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(attr.value.length / 4) * 4);
  padded.writeUInt16BE(attr.type, 0);
  padded.writeUInt16BE(attr.value.length, 2);
  attr.value.copy(padded, 4);
  return padded;
}

/**
 * Encodes a message; with `integrityKey` a MESSAGE-INTEGRITY (HMAC-SHA1) is appended, with
 * `fingerprint` a FINGERPRINT (CRC-32 xor 0x5354554e) after it, as RFC 8489 §14.5/§14.7 order them.
 */
export function encodeStun(message: StunMessage, options: { integrityKey?: Buffer; fingerprint?: boolean } = {}): Buffer {
  let body = Buffer.concat(message.attributes.map(encodeAttr));
  if (options.integrityKey !== undefined) {
    // The HMAC covers the header with a length that already counts the integrity attribute.
    const head = header(message.method, message.cls, body.length + 24, message.transactionId);
    const hmac = createHmac('sha1', options.integrityKey).update(Buffer.concat([head, body])).digest();
    body = Buffer.concat([body, encodeAttr({ type: StunAttribute.messageIntegrity, value: hmac })]);
  }
  if (options.fingerprint === true) {
    const head = header(message.method, message.cls, body.length + 8, message.transactionId);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE((crc32(Buffer.concat([head, body])) ^ 0x5354554e) >>> 0, 0);
    body = Buffer.concat([body, encodeAttr({ type: StunAttribute.fingerprint, value: crc })]);
  }
  return Buffer.concat([header(message.method, message.cls, body.length, message.transactionId), body]);
}

/** Total length of the STUN message that starts `buf` (for framing on TCP), or undefined if not yet known / not STUN. */
export function stunMessageLength(buf: Buffer): number | undefined {
  if (buf.length < STUN_HEADER_LENGTH || buf.readUInt32BE(4) !== STUN_MAGIC_COOKIE || (buf[0]! & 0xc0) !== 0) return undefined;
  return STUN_HEADER_LENGTH + buf.readUInt16BE(2);
}

/** Decodes one STUN message, or undefined when `buf` is not one. */
export function decodeStun(buf: Buffer): StunMessage | undefined {
  const total = stunMessageLength(buf);
  if (total === undefined || total > buf.length) return undefined;
  const type = buf.readUInt16BE(0);
  const method = ((type & 0x3e00) >> 2) | ((type & 0x00e0) >> 1) | (type & 0x000f);
  const attributes: StunAttr[] = [];
  for (let at = STUN_HEADER_LENGTH; at + 4 <= total; ) {
    const length = buf.readUInt16BE(at + 2);
    if (at + 4 + length > total) return undefined;
    attributes.push({ type: buf.readUInt16BE(at), value: buf.subarray(at + 4, at + 4 + length) });
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return { method, cls: type & CLASS_MASK, transactionId: Buffer.from(buf.subarray(8, 20)), attributes };
}

export function stunAttr(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

/** ERROR-CODE as a number (e.g. 401, 403), or undefined. */
export function stunErrorCode(message: StunMessage): number | undefined {
  const v = stunAttr(message, StunAttribute.errorCode);
  return v === undefined || v.length < 4 ? undefined : (v[2]! & 0x7) * 100 + v[3]!;
}

/** Decodes an XOR-MAPPED/RELAYED/PEER-ADDRESS value (IPv4 and IPv6). */
export function decodeXorAddress(value: Buffer, transactionId: Buffer): { family: 4 | 6; address: string; port: number } | undefined {
  if (value.length < 8) return undefined;
  const port = value.readUInt16BE(2) ^ (STUN_MAGIC_COOKIE >>> 16);
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
  if (value[1] === 0x01) {
    const bytes = [0, 1, 2, 3].map((i) => value[4 + i]! ^ mask[i]!);
    return { family: 4, address: bytes.join('.'), port };
  }
  if (value[1] === 0x02 && value.length >= 20) {
    const bytes = Buffer.from(Array.from({ length: 16 }, (_, i) => value[4 + i]! ^ mask[i]!));
    const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
    return { family: 6, address: groups.join(':'), port };
  }
  return undefined;
}

/** Encodes an IPv4 XOR-PEER-ADDRESS value (the tests ask for permissions to IPv4 peers). */
export function encodeXorAddressV4(address: string, port: number): Buffer {
  const v = Buffer.alloc(8);
  v[1] = 0x01;
  v.writeUInt16BE(port ^ (STUN_MAGIC_COOKIE >>> 16), 2);
  address.split('.').forEach((part, i) => {
    v[4 + i] = Number(part) ^ ((STUN_MAGIC_COOKIE >>> (24 - 8 * i)) & 0xff);
  });
  return v;
}
