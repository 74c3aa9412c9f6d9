/**
 * One mediasoup WebRtcTransport seen from a synthetic point: werift's ICE agent (controlling, the
 * server is ICE-lite), DTLS with a self-signed certificate checked against the server's
 * fingerprints, and SRTP, without an RTCPeerConnection or SDP — the signaling protocol hands over
 * ICE and DTLS parameters directly, and skipping SDP keeps a point cheap.
 */
import { createSecretKey } from 'node:crypto';
import { IceCandidate, UdpTransport, RTCDtlsFingerprint, RTCDtlsParameters, RTCDtlsTransport, RTCIceGatherer, RTCIceTransport, type RtpHeader, type RtpPacket } from 'werift';
import { z } from 'zod';
import { dtlsParametersSchema } from '../../src/contract/signaling.ts';

/**
 * werift hands its SRTP session keys to createCipheriv as Buffers, and Node turns a Buffer key into
 * a key object on every call: about 30 µs per packet of the load generator's CPU, measured (a
 * quarter to a third of what a packet cost it). Made into KeyObjects once per transport here, the
 * same AES keys are used without that step. Only createCipheriv/createDecipheriv read these fields
 * in werift 0.24 (GCM and CTR ciphers); anything else is left as it is.
 */
function keepSessionKeys(cipher: unknown): void {
  if (typeof cipher !== 'object' || cipher === null) return;
  for (const field of ['srtpSessionKey', 'srtcpSessionKey']) {
    const key: unknown = Reflect.get(cipher, field);
    if (Buffer.isBuffer(key)) Reflect.set(cipher, field, createSecretKey(key));
  }
}

/** `createTransport`'s answer as far as a point reads it. */
export const transportOfferSchema = z.object({
  transportId: z.string().min(1),
  direction: z.enum(['send', 'recv']),
  iceParameters: z.object({ usernameFragment: z.string().min(1), password: z.string().min(1), iceLite: z.boolean().optional() }),
  iceCandidates: z.array(z.object({ foundation: z.string(), priority: z.number(), ip: z.string().optional(), address: z.string().optional(), port: z.number(), type: z.string(), protocol: z.enum(['udp', 'tcp']) })),
  dtlsParameters: dtlsParametersSchema,
});
export type TransportOffer = z.infer<typeof transportOfferSchema>;
export type DtlsParameters = z.infer<typeof dtlsParametersSchema>;

// werift's SRTP profile numbers (RFC 5764 / 7714): AES-GCM first, as browsers prefer it.
/** As the server's WebRtcServer sockets (src/sfu/PoolWorker.ts); capped by net.core.rmem_max. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

const SRTP_PROFILES: (7 | 1)[] = [0x0007, 0x0001];

export class PointTransport {
  readonly id: string;
  readonly direction: 'send' | 'recv';
  readonly #ice: RTCIceTransport;
  readonly #dtls: RTCDtlsTransport;

  private constructor(offer: TransportOffer, ice: RTCIceTransport, dtls: RTCDtlsTransport) {
    this.id = offer.transportId;
    this.direction = offer.direction;
    this.#ice = ice;
    this.#dtls = dtls;
  }

  /**
   * Gathers local candidates on `host` only (the server's address this point reached: a bench
   * machine's other interfaces would only add pairs that never answer) and prepares DTLS.
   */
  static async create(offer: TransportOffer, host: string): Promise<PointTransport> {
    const certificate = await RTCDtlsTransport.SetupCertificate();
    const gatherer = new RTCIceGatherer({ useIpv6: false, interfaceAddresses: { udp4: host }, additionalHostAddresses: [host] });
    // werift asks stun.l.google.com for a reflexive candidate unless told otherwise: on a machine
    // without internet every gather then waits out its 5 s timeout, and that was most of a
    // synthetic point's join time (4–5 s of 5–6 s at 24 points). The server is on our address.
    Reflect.set(gatherer.connection, 'stunServer', undefined);
    const ice = new RTCIceTransport(gatherer);
    await ice.gather();
    ice.setRemoteParams({ iceLite: true, usernameFragment: offer.iceParameters.usernameFragment, password: offer.iceParameters.password });
    ice.connection.iceControlling = true;
    for (const c of offer.iceCandidates) {
      const ip = c.ip ?? c.address;
      if (c.protocol !== 'udp' || ip !== host) continue;
      await ice.addRemoteCandidate(new IceCandidate(1, c.foundation, ip, c.port, c.priority, 'udp', c.type));
    }
    await ice.addRemoteCandidate(undefined);
    const dtls = new RTCDtlsTransport({}, ice, certificate, SRTP_PROFILES);
    dtls.setRemoteParams(new RTCDtlsParameters(offer.dtlsParameters.fingerprints.map((f) => new RTCDtlsFingerprint(f.algorithm, f.value)), 'server'));
    // We start the handshake (DTLS client), so the server must be told to answer it before it comes.
    dtls.role = 'client';
    return new PointTransport(offer, ice, dtls);
  }

  /** What `connectTransport` sends: our certificate's fingerprints, the server as DTLS server. */
  get localDtlsParameters(): DtlsParameters {
    return { role: 'client', fingerprints: this.#dtls.localParameters.fingerprints.map((f) => ({ algorithm: f.algorithm as DtlsParameters['fingerprints'][number]['algorithm'], value: f.value })) };
  }

  /** ICE checks, then the DTLS handshake; resolves when SRTP keys are in place. */
  async connect(): Promise<void> {
    await this.#ice.start();
    this.#enlargeSocketBuffer();
    await this.#dtls.start();
    for (const session of [this.#dtls.srtp, this.#dtls.srtcp]) {
      for (const context of [session.localContext, session.remoteContext]) keepSessionKeys(context.cipher);
    }
  }

  /**
   * The central point receives every commune on one socket; with the kernel's default 208 KiB a
   * load generator briefly off-CPU drops packets the SFU did send, and the bench would blame the
   * server. werift has no option for it, so the nominated pair's socket is reached at run time.
   */
  #enlargeSocketBuffer(): void {
    const protocol = this.#ice.connection.nominated?.protocol;
    const transport = protocol !== undefined && 'transport' in protocol ? protocol.transport : undefined;
    if (transport instanceof UdpTransport) {
      transport.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
      transport.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    }
  }

  onRtp(handler: (packet: RtpPacket) => void): void {
    this.#dtls.onRtp.subscribe(handler);
  }

  send(header: RtpHeader, payload: Buffer): void {
    void this.#dtls.sendRtp(payload, header);
  }

  get bytesSent(): number {
    return this.#dtls.bytesSent;
  }

  get bytesReceived(): number {
    return this.#dtls.bytesReceived;
  }

  async close(): Promise<void> {
    await this.#dtls.stop().catch(() => undefined);
  }
}
