import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  StunAttribute,
  StunClass,
  StunMethod,
  decodeStun,
  decodeXorAddress,
  encodeStun,
  encodeXorAddressV4,
  newTransactionId,
  stunAttr,
  stunErrorCode,
  stunMessageLength,
  type StunAttr,
  type StunMessage,
} from './stun.ts';

/**
 * A minimal TURN client for tests (RFC 8656 Allocate and CreatePermission with the long-term
 * credential mechanism), over UDP, TCP or TLS. Not used by the server.
 */

export type TurnTransport = { kind: 'udp' } | { kind: 'tcp' } | { kind: 'tls'; ca: string | Buffer; servername?: string };

export interface TurnResult {
  /** undefined: success. */
  errorCode: number | undefined;
  message: StunMessage;
}

export class TurnTestClient {
  readonly #send: (data: Buffer) => void;
  readonly #close: () => void;
  /** UDP requests are retransmitted; on a stream they are not. */
  readonly #datagram: boolean;
  readonly #pending = new Map<string, (m: StunMessage) => void>();
  #key: Buffer | undefined;
  #username = '';
  #realm = '';
  #nonce = '';

  private constructor(send: (data: Buffer) => void, close: () => void, datagram: boolean) {
    this.#send = send;
    this.#close = close;
    this.#datagram = datagram;
  }

  static async connect(host: string, port: number, transport: TurnTransport, timeoutMs = 3000): Promise<TurnTestClient> {
    if (transport.kind === 'udp') {
      const socket: UdpSocket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(port, host, () => resolve());
      });
      const client = new TurnTestClient((d) => socket.send(d), () => socket.close(), true);
      socket.on('error', () => undefined);
      socket.on('message', (msg) => client.#receive(msg));
      return client;
    }
    const socket: Socket = await new Promise<Socket>((resolve, reject) => {
      const s =
        transport.kind === 'tcp'
          ? tcpConnect({ host, port }, () => resolve(s))
          : tlsConnect({ host, port, ca: transport.ca, servername: transport.servername ?? host }, () => resolve(s));
      s.once('error', reject);
      setTimeout(() => reject(new Error(`no ${transport.kind} connection to ${host}:${port} in ${timeoutMs} ms`)), timeoutMs).unref();
    });
    socket.on('error', () => undefined);
    const client = new TurnTestClient((d) => socket.write(d), () => socket.destroy(), false);
    // STUN over a stream is framed by the messages' own length field.
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let length = stunMessageLength(buffered); length !== undefined && buffered.length >= length; length = stunMessageLength(buffered)) {
        client.#receive(buffered.subarray(0, length));
        buffered = buffered.subarray(length);
      }
    });
    return client;
  }

  #receive(data: Buffer): void {
    const message = decodeStun(data);
    if (message === undefined) return;
    const key = message.transactionId.toString('hex');
    this.#pending.get(key)?.(message);
    this.#pending.delete(key);
  }

  /** Sends a request (over UDP retransmitted every 500 ms) and resolves with the answer. */
  request(method: number, attributes: StunAttr[], options: { integrity: boolean; timeoutMs?: number } = { integrity: false }): Promise<StunMessage> {
    const transactionId = newTransactionId();
    const auth: StunAttr[] = options.integrity
      ? [
          { type: StunAttribute.username, value: Buffer.from(this.#username) },
          { type: StunAttribute.realm, value: Buffer.from(this.#realm) },
          { type: StunAttribute.nonce, value: Buffer.from(this.#nonce) },
        ]
      : [];
    const data = encodeStun(
      { method, cls: StunClass.request, transactionId, attributes: [...attributes, ...auth] },
      { ...(options.integrity && this.#key !== undefined ? { integrityKey: this.#key } : {}), fingerprint: true },
    );
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 3000;
      const resend = setInterval(() => this.#datagram && this.#send(data), 500);
      const timer = setTimeout(() => {
        clearInterval(resend);
        this.#pending.delete(transactionId.toString('hex'));
        reject(new Error(`no answer to STUN method ${method} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(transactionId.toString('hex'), (m) => {
        clearInterval(resend);
        clearTimeout(timer);
        resolve(m);
      });
      this.#send(data);
    });
  }

  /**
   * Allocate a UDP relay: the first request is refused with 401 and a realm and nonce, the second
   * carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY keyed with MD5(username:realm:password).
   */
  async allocate(username: string, password: string): Promise<TurnResult & { relayed?: { address: string; port: number } }> {
    const transport: StunAttr = { type: StunAttribute.requestedTransport, value: Buffer.from([17, 0, 0, 0]) };
    const challenge = await this.request(StunMethod.allocate, [transport]);
    if (stunErrorCode(challenge) !== 401) return { errorCode: stunErrorCode(challenge), message: challenge };
    this.#username = username;
    this.#realm = stunAttr(challenge, StunAttribute.realm)?.toString('utf8') ?? '';
    this.#nonce = stunAttr(challenge, StunAttribute.nonce)?.toString('utf8') ?? '';
    this.#key = createHash('md5').update(`${username}:${this.#realm}:${password}`).digest();
    const answer = await this.request(StunMethod.allocate, [transport], { integrity: true });
    const relayedAttr = stunAttr(answer, StunAttribute.xorRelayedAddress);
    const relayed = relayedAttr === undefined ? undefined : decodeXorAddress(relayedAttr, answer.transactionId);
    return { errorCode: answer.cls === StunClass.success ? undefined : (stunErrorCode(answer) ?? -1), message: answer, ...(relayed ? { relayed } : {}) };
  }

  /** CreatePermission for an IPv4 peer on the current allocation (403: the server forbids that peer). */
  async createPermission(peerIp: string): Promise<TurnResult> {
    const answer = await this.request(StunMethod.createPermission, [{ type: StunAttribute.xorPeerAddress, value: encodeXorAddressV4(peerIp, 9) }], { integrity: true });
    return { errorCode: answer.cls === StunClass.success ? undefined : (stunErrorCode(answer) ?? -1), message: answer };
  }

  close(): void {
    this.#close();
  }
}
