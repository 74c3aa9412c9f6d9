/**
 * One mediasoup WebRtcTransport seen from a synthetic point: werift's ICE agent (controlling, the
 * server is ICE-lite; it keeps sending consent STUN) and DTLS with a self-signed certificate
 * checked against the server's fingerprints, without an RTCPeerConnection or SDP — the signaling
 * protocol hands over ICE and DTLS parameters directly, and skipping SDP keeps a point cheap.
 *
 * Media does not go through werift: its per-packet path (header objects, its SRTP session, event
 * plumbing, decrypting every packet) was the load generator's limit at ~55 µs per packet. After the
 * handshake this class takes the negotiated profile and session keys from werift's SRTP contexts,
 * the nominated pair's UDP socket and the server's address, protects RTP with srtp.ts and sends it
 * on that socket itself; on receive, RTP/RTCP datagrams are taken before werift's STUN parser
 * (STUN and DTLS still reach werift) and counted, with one packet in `checkEvery` authenticated.
 */
import type { Socket } from 'node:dgram';
import { IceCandidate, UdpTransport, RTCDtlsFingerprint, RTCDtlsParameters, RTCDtlsTransport, RTCIceGatherer, RTCIceTransport, type SrtpSession } from 'werift';
import { z } from 'zod';
import { dtlsParametersSchema } from '../../src/contract/signaling.ts';
import type { Packet } from './rtpStreams.ts';
import { PROFILE_AEAD_AES_128_GCM, PROFILE_AES_CM_128_HMAC_SHA1_80, SrtpReceiver, SrtpSender, type SrtpProfile, type SrtpSessionKeys } from './srtp.ts';

/** werift's context of one direction (Context.profile and the session keys its KDF derived). */
function sessionKeys(context: SrtpSession['localContext']): SrtpSessionKeys {
  const profile = z.union([z.literal(PROFILE_AEAD_AES_128_GCM), z.literal(PROFILE_AES_CM_128_HMAC_SHA1_80)]).parse(context.profile) satisfies SrtpProfile;
  return { profile, key: context.srtpSessionKey, salt: context.srtpSessionSalt, authKey: context.srtpSessionAuthTag };
}

/** RTP or RTCP (RFC 7983 §7: first byte 128..191); RTCP by its packet type 192..223 (RFC 5761 §4). */
const isMedia = (b: Buffer) => b.length >= 12 && b[0]! >= 128 && b[0]! <= 191;
const isRtcp = (b: Buffer) => b[1]! >= 192 && b[1]! <= 223;

/** What arrives on the receive path: SSRC, sequence number and RTP size (payload + 12, as werift's count was). */
export type RtpHandler = (ssrc: number, seq: number, size: number) => void;

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
  readonly #checkEvery: number;
  #sender: SrtpSender | undefined;
  #receiver: SrtpReceiver | undefined;
  #socket: Socket | undefined;
  #remote: { host: string; port: number } | undefined;
  #onRtp: RtpHandler | undefined;
  bytesSent = 0;
  bytesReceived = 0;
  rtcpReceived = 0;

  private constructor(offer: TransportOffer, ice: RTCIceTransport, dtls: RTCDtlsTransport, checkEvery: number) {
    this.id = offer.transportId;
    this.direction = offer.direction;
    this.#ice = ice;
    this.#dtls = dtls;
    this.#checkEvery = checkEvery;
  }

  /**
   * Gathers local candidates on `host` only (the server's address this point reached: a bench
   * machine's other interfaces would only add pairs that never answer) and prepares DTLS.
   */
  static async create(offer: TransportOffer, host: string, checkEvery = 16): Promise<PointTransport> {
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
    return new PointTransport(offer, ice, dtls, checkEvery);
  }

  /** What `connectTransport` sends: our certificate's fingerprints, the server as DTLS server. */
  get localDtlsParameters(): DtlsParameters {
    return { role: 'client', fingerprints: this.#dtls.localParameters.fingerprints.map((f) => ({ algorithm: f.algorithm as DtlsParameters['fingerprints'][number]['algorithm'], value: f.value })) };
  }

  /** ICE checks, then the DTLS handshake; resolves when the lean media path has its keys and socket. */
  async connect(): Promise<void> {
    await this.#ice.start();
    const transport = this.#udpTransport();
    // The central point receives every commune on one socket; with the kernel's default 208 KiB a
    // load generator briefly off-CPU drops packets the SFU did send, and the bench would blame the
    // server. werift has no option for it, so the nominated pair's socket is reached at run time.
    transport.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    transport.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    await this.#dtls.start();
    const srtp = this.#dtls.srtp;
    this.#sender = new SrtpSender(sessionKeys(srtp.localContext));
    this.#receiver = new SrtpReceiver(sessionKeys(srtp.remoteContext), this.#checkEvery);
    const [host, port] = this.#ice.connection.nominated!.remoteAddr;
    this.#remote = { host, port };
    this.#socket = transport.socket;
    // UdpTransport calls its onData property per datagram (StunProtocol set it): media is taken
    // here before werift parses it as STUN and decrypts it; the rest (STUN consent, DTLS) goes on.
    const werift = transport.onData;
    transport.onData = (data, addr) => {
      if (isMedia(data)) this.#receive(data);
      else werift(data, addr);
    };
  }

  #udpTransport(): UdpTransport {
    const protocol = this.#ice.connection.nominated?.protocol;
    const transport = protocol !== undefined && 'transport' in protocol ? protocol.transport : undefined;
    if (!(transport instanceof UdpTransport)) throw new Error('the nominated ICE pair is not UDP');
    return transport;
  }

  #receive(data: Buffer): void {
    this.bytesReceived += data.length;
    // RTCP from the server (receiver reports, PLI): counted; the points send no feedback.
    if (isRtcp(data)) {
      this.rtcpReceived++;
      return;
    }
    const r = this.#receiver!.receive(data);
    if (r !== undefined) this.#onRtp?.(r.ssrc, r.seq, r.size);
  }

  onRtp(handler: RtpHandler): void {
    this.#onRtp = handler;
  }

  /** Protects and sends one packet on the nominated pair's socket; nothing once ICE closed or failed. */
  send(p: Packet): void {
    const state = this.#ice.connection.state;
    if (this.#sender === undefined || state === 'closed' || state === 'failed') return;
    const out = this.#sender.protect(p.header, p.payload, p.ssrc, p.seq, p.roc);
    this.bytesSent += out.length;
    this.#socket!.send(out, this.#remote!.port, this.#remote!.host);
  }

  /** Received packets authenticated and decrypted (a sample), and those that failed. */
  get srtpChecked(): number {
    return this.#receiver?.checked ?? 0;
  }

  get srtpFailures(): number {
    return this.#receiver?.failures ?? 0;
  }

  async close(): Promise<void> {
    await this.#dtls.stop().catch(() => undefined);
  }
}
