import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { TiepdanError } from '../errors.ts';
import type { ParticipantRole } from '../tokens/tokenSigner.ts';
import { DownlinkBudget } from '../sfu/DownlinkBudget.ts';
import type { ConsumerDescription as WireConsumerDescription, LocalRecordingState, PeerRemovalReason, PeerSummary, SessionState } from '../contract/signaling.ts';
import type { MediaSource, ServerMedia } from './media.ts';
import { ROLE_PERMISSIONS, type RolePermissions } from './permissions.ts';

/** A consumer as the viewer's client gets it (the contract's, with mediasoup's types). */
export type ConsumerDescription = WireConsumerDescription<ServerMedia>;

export type { LocalRecordingState, PeerRemovalReason, PeerSummary, SessionState };

/**
 * Everything a peer must be told, as typed events. The signaling layer forwards them to the peer's
 * socket (signaling/notifications.ts, which must map every one); the media layer knows nothing of sockets.
 */
export type PeerEvents = {
  peerJoined: [PeerSummary];
  peerLeft: [peerId: string, reason: PeerRemovalReason];
  newConsumer: [ConsumerDescription];
  consumerClosed: [consumerId: string];
  consumerPaused: [consumerId: string];
  consumerResumed: [consumerId: string];
  consumerLayersChanged: [consumerId: string, layers: types.ConsumerLayers | undefined];
  producerScore: [producerId: string, score: types.ProducerScore[]];
  /** One of this peer's producers was paused or closed by the host or the server. */
  producerPaused: [producerId: string, byHost: boolean];
  /** The host muted (or gave back) this peer's audio or video (security review L3). */
  hostMute: [kind: types.MediaKind, muted: boolean];
  activeSpeaker: [peerId: string];
  audioLevels: [levels: { peerId: string; volume: number }[]];
  /** For moderators: who waits in the lobby. */
  lobby: [waiting: PeerSummary[]];
  /**
   * For moderators: someone else joined with the invitation of a seat (security review M1) —
   * refused while the seat is connected (`inLobby: false`), or sent to the lobby while it is away.
   */
  seatContested: [PeerSummary & { inLobby: boolean }];
  admitted: [];
  /** The peer was removed from the session (ejected, session ended, replaced, timed out). */
  removed: [reason: PeerRemovalReason];
  sessionState: [SessionState];
  /** For moderators: the recorder warns (disk space running low). */
  recordingWarning: [{ freeBytes: number }];
  /** The session's router was rebuilt (worker died): the client must set up its media again. */
  mediaReset: [routerRtpCapabilities: types.RtpCapabilities];
  /** A participant started or stopped recording locally in its browser (everyone must see it). */
  localRecording: [LocalRecordingState];
};

export interface PeerProducer {
  producer: types.Producer;
  source: MediaSource;
  /** Size of the top simulcast layer as the client announced it, for layer selection. */
  size: { width: number; height: number } | undefined;
  /** The same producer on the session's primary router (itself, or its pipe producer there). */
  onPrimary: types.Producer;
}

const notFound = (what: 'transport' | 'producer' | 'consumer', id: string) =>
  new TiepdanError(({ transport: 'TRANSPORT_NOT_FOUND', producer: 'PRODUCER_NOT_FOUND', consumer: 'CONSUMER_NOT_FOUND' } as const)[what], `no ${what} ${id} of this peer`);

/**
 * One participant of a room: its role, and the transports, producers and consumers it owns
 * (mediasoup-style: the owner keeps the maps, its children's close removes them, and `close()`
 * cascades). The room decides who sees whom; the peer does what concerns its own media.
 */
export class Peer extends EventEmitter<PeerEvents> {
  readonly id: string;
  readonly role: ParticipantRole;
  readonly label: string;
  readonly permissions: RolePermissions;
  #admitted: boolean;
  #closed = false;
  rtpCapabilities: types.RtpCapabilities | undefined;
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, PeerProducer>();
  readonly consumers = new Map<string, types.Consumer>();
  /**
   * Kinds the host muted (security review L3): the peer cannot resume or newly send them until
   * the host gives the floor back (`unmute`). Kept on the peer, so a reconnect keeps it.
   */
  readonly mutedByHost = new Set<types.MediaKind>();
  /** The spatial layer each simulcast consumer's view asks for, before the downlink budget caps it. */
  readonly wantedLayers = new Map<string, number>();
  /** What the peer's receive link carries; a new receive transport starts a new one. */
  downlink = new DownlinkBudget();
  readonly joinedAt = Date.now();

  constructor(id: string, role: ParticipantRole, label: string, admitted: boolean) {
    super();
    this.id = id;
    this.role = role;
    this.label = label;
    this.permissions = ROLE_PERMISSIONS[role];
    this.#admitted = admitted;
  }

  get admitted(): boolean {
    return this.#admitted;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get summary(): PeerSummary {
    return { peerId: this.id, role: this.role, label: this.label };
  }

  /** Lets the peer out of the lobby (the room tells the others); false if it already was. */
  admit(): boolean {
    if (this.#admitted) return false;
    this.#admitted = true;
    this.emit('admitted');
    return true;
  }

  get recvTransport(): types.WebRtcTransport | undefined {
    let last: types.WebRtcTransport | undefined;
    for (const t of this.transports.values()) if (t.appData.direction === 'recv' && !t.closed) last = t;
    return last;
  }

  /** Takes ownership of a new transport: its close removes it. */
  addTransport(transport: types.WebRtcTransport): void {
    this.transports.set(transport.id, transport);
    transport.observer.once('close', () => this.transports.delete(transport.id));
  }

  transport(transportId: string): types.WebRtcTransport {
    const t = this.transports.get(transportId);
    if (t === undefined) throw notFound('transport', transportId);
    return t;
  }

  producer(producerId: string): types.Producer {
    const p = this.producers.get(producerId);
    if (p === undefined) throw notFound('producer', producerId);
    return p.producer;
  }

  consumer(consumerId: string): types.Consumer {
    const c = this.consumers.get(consumerId);
    if (c === undefined) throw notFound('consumer', consumerId);
    return c;
  }

  async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.transport(transportId);
    try {
      await transport.connect({ dtlsParameters });
    } catch (err) {
      // Connected twice, or parameters the worker refuses: the client's mistake, not ours.
      throw new TiepdanError('MEDIA_REJECTED', `cannot connect the transport: ${(err as Error).message}`);
    }
  }

  restartIce(transportId: string): Promise<types.IceParameters> {
    return this.transport(transportId).restartIce();
  }

  closeTransport(transportId: string): void {
    this.transport(transportId).close();
  }

  async pauseProducer(producerId: string): Promise<void> {
    await this.producer(producerId).pause();
  }

  /** Error MUTED_BY_HOST while the chair holds this kind muted. */
  async resumeProducer(producerId: string): Promise<void> {
    const producer = this.producer(producerId);
    if (this.mutedByHost.has(producer.kind)) {
      throw new TiepdanError('MUTED_BY_HOST', `the chair muted your ${producer.kind === 'audio' ? 'microphone' : 'camera'}; wait until the chair gives you the floor`);
    }
    await producer.resume();
  }

  closeProducer(producerId: string): void {
    this.producer(producerId).close();
  }

  async pauseConsumer(consumerId: string): Promise<void> {
    await this.consumer(consumerId).pause();
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    // No requestKeyFrame() after it: resuming asks the producer for a key frame by itself (mediasoup
    // does on resume, or once the transport connects), and a second request for the same stream
    // only costs a worker round trip that every later request of this connection waits for.
    await this.consumer(consumerId).resume();
  }

  /** Host mute: pauses the peer's producers of that kind; the peer is told so its UI shows it. */
  async mute(kind: types.MediaKind): Promise<number> {
    // Enforced, not only a pause the owner could undo (security review L3).
    if (!this.mutedByHost.has(kind)) {
      this.mutedByHost.add(kind);
      this.emit('hostMute', kind, true);
    }
    let muted = 0;
    for (const { producer } of this.producers.values()) {
      if (producer.kind !== kind || producer.paused) continue;
      await producer.pause();
      this.emit('producerPaused', producer.id, true);
      muted++;
    }
    return muted;
  }

  /**
   * The host gives the floor back: the peer may resume its own producers of that kind again. Its
   * microphone stays paused until the peer itself turns it on (NĐ 154 Art 21(2): speak when given
   * the floor). Returns whether the kind was muted.
   */
  unmute(kind: types.MediaKind): boolean {
    if (!this.mutedByHost.delete(kind)) return false;
    this.emit('hostMute', kind, false);
    return true;
  }

  /** Closes the peer's transports (cascading to its producers and consumers) and forgets them. */
  closeMedia(): void {
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }

  /**
   * A fresh client took over the peer (reload, new device): its old transports go (others see its
   * producers close) but it keeps its identity and place in the session.
   */
  resetMedia(): void {
    this.closeMedia();
    this.rtpCapabilities = undefined;
  }

  /** Forgets media state without closing (the router is already gone). */
  dropMediaState(): void {
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
    this.wantedLayers.clear();
    this.rtpCapabilities = undefined;
  }

  /** The peer leaves its room: its media closes and it is told why (its socket closes on that). */
  close(reason: PeerRemovalReason, media: 'close' | 'gone' = 'close'): void {
    if (this.#closed) return;
    this.#closed = true;
    if (media === 'close') this.closeMedia();
    this.emit('removed', reason);
  }
}
