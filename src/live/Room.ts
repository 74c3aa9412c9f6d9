// Why one file of ~410 lines: the room is the owner of a session's peers (membership, lobby,
// admission, mute, broadcast and the close() cascade); its media concerns are already split out
// (RoomRouters, subscriptions, Peer, peerStats), and what is left is one concept's state machine.
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { RecordableSession, RecordableSessionEvents, RecordedProducer } from '../recording/recordableSession.ts';
import type { ParticipantRole } from '../tokens/tokenSigner.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import type { PoolWorker } from '../sfu/PoolWorker.ts';
import type { TransportParameters as WireTransportParameters } from '../contract/signaling.ts';
import { MEDIA_BITRATES, type MediaSource, type ServerMedia } from './media.ts';
import { Peer, type PeerSummary, type ConsumerDescription, type LocalRecordingState, type PeerRemovalReason, type SessionState } from './Peer.ts';
import { peerStats, type PeerStats } from './peerStats.ts';
import { canSee, joinsInLobby, knowsOf } from './permissions.ts';
import { RoomRouters, type RoomMedia } from './RoomRouters.ts';
import { Subscriptions } from './subscriptions.ts';

export interface RoomSettings {
  maxPeers: number;
  lobbyEnabled: boolean;
  endpointsSeeEachOther: boolean;
}

export interface RoomOptions {
  id: string;
  settings: RoomSettings;
  logger: Logger;
  /** Start estimate for what the SFU sends each viewer, bits/s (the estimate adapts from there). */
  initialOutgoingBitrate?: number;
}

export type TransportParameters = WireTransportParameters<ServerMedia>;

export interface ProduceRequest {
  transportId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
  source: MediaSource;
  paused?: boolean;
  size?: { width: number; height: number };
}

const ended = () => new TiepdanError('SESSION_ENDED', 'the session has ended');

/**
 * One live reception session: its peers (admitted or in the lobby), who sees whom, what every peer
 * is told, and the session's recording flags. It owns its peers (each owning its media) and its
 * routers (RoomRouters); `close()` removes every peer and closes the routers. What a role may do is
 * checked before a request reaches the room (permissions.ts, signaling/methods.ts). Implements
 * RecordableSession for the recorder.
 */
export class Room extends EventEmitter<RecordableSessionEvents> implements RecordableSession {
  readonly id: string;
  readonly #logger: Logger;
  readonly #settings: RoomSettings;
  readonly #initialOutgoingBitrate: number;
  readonly #peers = new Map<string, Peer>();
  /** The router's capabilities copied once per router (see rtpCapabilities). */
  #capabilities: { router: types.Router; caps: types.RtpCapabilities } | undefined;
  readonly #media: RoomMedia;
  readonly #subscriptions: Subscriptions;
  #closed = false;
  #recording = false;
  /** Peer ids recording locally in their browsers (see setLocalRecording). */
  readonly #localRecorders = new Set<string>();

  /** `media` is RoomRouters, or a fake in the fast rule tests. */
  constructor(options: RoomOptions, media: RoomMedia) {
    super();
    this.id = options.id;
    this.#logger = options.logger;
    this.#settings = { ...options.settings };
    this.#initialOutgoingBitrate = options.initialOutgoingBitrate ?? MEDIA_BITRATES.initialOutgoing;
    this.#media = media;
    this.#subscriptions = new Subscriptions({ routers: media, logger: this.#logger, peers: () => this.#peers.values(), canSee: (v, o) => this.canSee(v, o) });
    media.on('lost', () => {
      const lost: string[] = [];
      for (const peer of this.#peers.values()) {
        for (const id of peer.producers.keys()) lost.push(id);
        peer.dropMediaState();
      }
      for (const id of lost) this.emit('producerClosed', id);
    });
    media.on('rebuilt', (caps) => this.#broadcast((p) => p.emit('mediaReset', caps), true));
    media.on('dominantSpeaker', (peerId) => this.#broadcast((p) => p.emit('activeSpeaker', peerId)));
    media.on('audioLevels', (levels) => this.#broadcast((p) => p.emit('audioLevels', levels)));
  }

  /** Opens a room with its routers on the pool's workers. */
  static async open(options: RoomOptions & { pool: WorkerPool; spreadAboveLoad?: number }): Promise<Room> {
    const logger = options.logger.child({ component: 'session-room', sessionId: options.id });
    let room: Room | undefined;
    const routers = await RoomRouters.open({
      sessionId: options.id,
      pool: options.pool,
      logger,
      spreadAboveLoad: options.spreadAboveLoad ?? 1500,
      producers: function* () {
        for (const peer of room?.peers() ?? []) for (const { producer } of peer.producers.values()) yield { peerId: peer.id, producer };
      },
    });
    room = new Room({ ...options, logger }, routers);
    logger.info({ workerIndex: routers.worker.index }, 'session room opened');
    return room;
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw ended();
    await this.#media.ready();
  }

  get router(): types.Router {
    return this.#media.router;
  }

  get worker(): PoolWorker {
    return this.#media.worker;
  }

  get workers(): PoolWorker[] {
    return this.#media.workers;
  }

  /** Times the routers were rebuilt after a worker death. */
  get rebuilds(): number {
    return this.#media.rebuilds;
  }

  /**
   * The router's capabilities, read once per router: mediasoup's getter deep-copies them, and every
   * join answer carries them. Read-only by contract (the answer is serialized, not changed).
   */
  get rtpCapabilities(): types.RtpCapabilities {
    const router = this.router;
    if (this.#capabilities?.router !== router) this.#capabilities = { router, caps: router.rtpCapabilities };
    return this.#capabilities.caps;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get settings(): Readonly<RoomSettings> {
    return this.#settings;
  }

  get state(): SessionState {
    return { state: this.#closed ? 'ended' : 'live', recording: this.#recording };
  }

  producers(): RecordedProducer[] {
    const out: RecordedProducer[] = [];
    for (const peer of this.#peers.values()) {
      for (const p of peer.producers.values()) out.push({ producer: p.onPrimary, peerId: peer.id, label: peer.label, source: p.source });
    }
    return out;
  }

  peers(): Peer[] {
    return [...this.#peers.values()];
  }

  getPeer(peerId: string): Peer | undefined {
    return this.#peers.get(peerId);
  }

  /** The peer with this id, else PEER_NOT_FOUND (a moderator's target). */
  requirePeer(peerId: string): Peer {
    const peer = this.#peers.get(peerId);
    if (peer === undefined) throw new TiepdanError('PEER_NOT_FOUND', `no peer ${peerId} in this session`);
    return peer;
  }

  /** Sends to every admitted peer (optionally also the lobby), except `except`. */
  #broadcast(fn: (peer: Peer) => void, includeLobby = false, except?: Peer): void {
    for (const peer of this.#peers.values()) {
      if (peer === except || (!peer.admitted && !includeLobby)) continue;
      fn(peer);
    }
  }

  #lobbyChanged(): void {
    const waiting = this.lobby();
    this.#broadcast((p) => p.permissions.moderate && p.emit('lobby', waiting));
  }

  /** Who waits in the lobby. */
  lobby(): PeerSummary[] {
    return [...this.#peers.values()].filter((p) => !p.admitted).map((p) => p.summary);
  }

  /** Whether `viewer` is told of `owner` (permissions.ts `knowsOf` with this room's settings). */
  knowsOf(viewer: Peer, owner: Peer): boolean {
    return knowsOf(viewer, owner, this.#settings);
  }

  /** The admitted peers `viewer` is told of (the join answer's list). */
  knownPeers(viewer: Peer): Peer[] {
    return [...this.#peers.values()].filter((p) => p !== viewer && p.admitted && this.knowsOf(viewer, p));
  }

  /** Whether `viewer` receives `owner`'s media (permissions.ts `canSee` with this room's settings). */
  canSee(viewer: Peer, owner: Peer): boolean {
    return canSee(viewer, owner, this.#settings);
  }

  /**
   * Adds a peer; with a lobby, roles that wait there are not admitted yet (they see nobody and
   * nobody sees them until a host admits them). `toLobby` sends the peer to the lobby whatever the
   * session's setting (a contested seat, M1). Errors: SESSION_ENDED, PEER_EXISTS, SESSION_FULL.
   */
  addPeer(init: { peerId: string; role: ParticipantRole; label: string; toLobby?: boolean }): Peer {
    if (this.#closed) throw ended();
    if (this.#peers.has(init.peerId)) throw new TiepdanError('PEER_EXISTS', 'this participant is already in the session');
    if (this.#peers.size >= this.#settings.maxPeers) {
      throw new TiepdanError('SESSION_FULL', `the session already has its maximum of ${this.#settings.maxPeers} participants`);
    }
    const lobby = joinsInLobby(init.role, this.#settings, init.toLobby === true);
    const peer = new Peer(init.peerId, init.role, init.label, !lobby);
    this.#peers.set(peer.id, peer);
    if (peer.admitted) this.#broadcast((p) => this.knowsOf(p, peer) && p.emit('peerJoined', peer.summary), false, peer);
    else this.#lobbyChanged();
    this.#logger.info({ peerId: peer.id, role: peer.role, lobby }, 'peer added');
    return peer;
  }

  /** Lets a lobby peer in: it learns who records locally, the others learn of it, media flows both ways. */
  admit(peer: Peer): void {
    if (!peer.admit()) return;
    for (const state of this.localRecordings()) peer.emit('localRecording', state);
    this.#broadcast((p) => this.knowsOf(p, peer) && p.emit('peerJoined', peer.summary), false, peer);
    this.#lobbyChanged();
    this.#subscriptions.admitted(peer);
  }

  /** Removes a peer: its media closes (others' consumers of it go), others are told. */
  removePeer(peer: Peer, reason: PeerRemovalReason): void {
    if (this.#peers.get(peer.id) !== peer) return;
    this.#peers.delete(peer.id);
    peer.close(reason);
    // A recorder that leaves stops recording; the others see its banner go before it leaves.
    if (this.#localRecorders.delete(peer.id)) {
      this.#broadcast((p) => p.emit('localRecording', { peerId: peer.id, label: peer.label, recording: false }));
    }
    if (peer.admitted) this.#broadcast((p) => this.knowsOf(p, peer) && p.emit('peerLeft', peer.id, reason));
    else this.#lobbyChanged();
    this.#logger.info({ peerId: peer.id, reason }, 'peer removed');
  }

  /** For moderators (other than `peer`): someone contested `peer`'s seat (M1). */
  seatContested(peer: Peer, inLobby: boolean): void {
    this.#broadcast((p) => p.permissions.moderate && p.emit('seatContested', { ...peer.summary, inLobby }), false, peer);
  }

  /**
   * A WebRTC transport for the peer. `reachedAddress` is the server address the peer's signaling
   * connection arrived on: its candidates name that address first (AnnouncedAddresses).
   */
  async createTransport(peer: Peer, direction: 'send' | 'recv', options: { forceTcp?: boolean; reachedAddress?: string | undefined } = {}): Promise<TransportParameters> {
    await this.#ready();
    if (peer.transports.size >= 4) throw new TiepdanError('TOO_MANY_TRANSPORTS', 'a peer may hold at most 4 transports');
    const slot = await this.#media.slotFor(peer.id);
    let transport: types.WebRtcTransport | undefined;
    try {
      transport = await slot.router.createWebRtcTransport({
        webRtcServer: slot.worker.webRtcServer,
        enableUdp: options.forceTcp !== true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: this.#initialOutgoingBitrate,
        appData: { peerId: peer.id, direction },
      });
      if (direction === 'send') await transport.setMaxIncomingBitrate(MEDIA_BITRATES.maxIncoming);
      if (direction === 'recv') await this.#subscriptions.watchDownlink(peer, transport);
    } catch (err) {
      transport?.close();
      // The session ended (its routers closed) while the transport was being set up: mediasoup's
      // "handler not found" was answered INTERNAL (found by test/guards/signalingFuzz.test.ts).
      if (this.#closed || slot.router.closed) throw ended();
      throw err;
    }
    // The peer left (or was ejected) meanwhile: its transport would outlive it.
    if (this.#closed || this.#peers.get(peer.id) !== peer) {
      transport.close();
      throw this.#closed ? ended() : new TiepdanError('PEER_NOT_FOUND', 'the peer left while its transport was being made');
    }
    peer.addTransport(transport);
    if (direction === 'recv' && peer.rtpCapabilities !== undefined) queueMicrotask(() => this.#subscriptions.consumeAll(peer));
    return {
      transportId: transport.id,
      direction,
      iceParameters: transport.iceParameters,
      iceCandidates: this.#media.candidatesFor(transport.iceCandidates, options.reachedAddress),
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(peer: Peer, transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    await this.#ready();
    await peer.connectTransport(transportId, dtlsParameters);
  }

  async restartIce(peer: Peer, transportId: string): Promise<types.IceParameters> {
    await this.#ready();
    return peer.restartIce(transportId);
  }

  /** The peer's device capabilities: from now on it receives every producer it may see. */
  async setRtpCapabilities(peer: Peer, rtpCapabilities: types.RtpCapabilities): Promise<void> {
    await this.#ready();
    peer.rtpCapabilities = rtpCapabilities;
    this.#subscriptions.consumeAll(peer);
  }

  /** The peer's current consumers, for a client resuming after a reconnect. */
  describeConsumers(peer: Peer): ConsumerDescription[] {
    return this.#subscriptions.describeConsumers(peer);
  }

  async produce(peer: Peer, request: ProduceRequest): Promise<string> {
    await this.#ready();
    const transport = peer.transport(request.transportId);
    if (transport.appData.direction !== 'send') throw new TiepdanError('WRONG_TRANSPORT', 'produce needs a send transport');
    if ((request.source === 'microphone') !== (request.kind === 'audio')) {
      throw new TiepdanError('INVALID_DATA', `source ${request.source} does not match kind ${request.kind}`);
    }
    for (const p of peer.producers.values()) {
      if (p.source === request.source) throw new TiepdanError('SOURCE_IN_USE', `this peer already sends its ${request.source}`);
    }
    let producer: types.Producer;
    try {
      producer = await transport.produce({
        kind: request.kind,
        rtpParameters: request.rtpParameters,
        // A kind the host muted starts paused: a new microphone is no way around the mute (L3).
        paused: (request.paused ?? false) || peer.mutedByHost.has(request.kind),
        appData: { peerId: peer.id, source: request.source },
      });
    } catch (err) {
      throw new TiepdanError('MEDIA_REJECTED', `the media parameters were refused: ${(err as Error).message}`);
    }
    // Make the producer available on the session's other routers (the primary one for the recorder).
    const onPrimary = await this.#media.spread(this.#media.slotOf(peer.id)!, producer);
    peer.producers.set(producer.id, { producer, source: request.source, size: request.size, onPrimary });
    producer.observer.once('close', () => {
      if (peer.producers.delete(producer.id)) this.emit('producerClosed', producer.id);
    });
    producer.on('score', (score) => {
      peer.emit('producerScore', producer.id, score);
      // A layer the sender stopped (a busy PC drops its smallest layer first) or started again.
      if (producer.type === 'simulcast') this.#subscriptions.refitViewersOf(producer.id);
    });
    if (producer.kind === 'audio') this.#media.observeAudio(producer);
    this.emit('producerAdded', { producer: onPrimary, peerId: peer.id, label: peer.label, source: request.source });
    this.#subscriptions.fanOut(peer, producer);
    return producer.id;
  }

  setConsumerPreferredLayers(viewer: Peer, consumerId: string, layers: types.ConsumerLayers): Promise<void> {
    return this.#subscriptions.setPreferredLayers(viewer, consumerId, layers);
  }

  setConsumerViewSize(viewer: Peer, consumerId: string, view: { width: number; height: number }): Promise<number> {
    return this.#subscriptions.setViewSize(viewer, consumerId, view);
  }

  /** Statistics for technicians and the host: transports, producers and consumers of one peer. */
  async getStats(peer: Peer): Promise<PeerStats> {
    await this.#ready();
    return peerStats(peer);
  }

  /** Peers recording locally in their browser right now (a joiner is told who they are). */
  localRecordings(): LocalRecordingState[] {
    const out: LocalRecordingState[] = [];
    for (const peerId of this.#localRecorders) {
      const peer = this.#peers.get(peerId);
      if (peer !== undefined) out.push({ peerId, label: peer.label, recording: true });
    }
    return out;
  }

  /**
   * A peer's local (browser) recording started or stopped. Whether it may is the recording
   * policy's decision (recordingPolicy.ts); here every admitted peer, the recorder included, is
   * told, so no start goes unseen. False when nothing changed.
   */
  setLocalRecording(peer: Peer, on: boolean): boolean {
    if (this.#localRecorders.has(peer.id) === on) return false;
    if (on) this.#localRecorders.add(peer.id);
    else this.#localRecorders.delete(peer.id);
    const state: LocalRecordingState = { peerId: peer.id, label: peer.label, recording: on };
    this.#broadcast((p) => p.emit('localRecording', state));
    this.#logger.info({ peerId: peer.id, recording: on }, 'local recording changed');
    return true;
  }

  /** Recording state as the recorder reports it; every peer is told. */
  setRecording(on: boolean): void {
    if (this.#recording === on) return;
    this.#recording = on;
    const state = this.state;
    this.#broadcast((p) => p.emit('sessionState', state), true);
  }

  /** The recorder's warning (e.g. disk space low), shown to the hosts. */
  recordingWarning(freeBytes: number): void {
    this.#broadcast((p) => p.permissions.moderate && p.emit('recordingWarning', { freeBytes }));
  }

  /** Ends the session: every peer is removed with reason `ended`, the routers close, `ended` fires. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#localRecorders.clear();
    for (const peer of [...this.#peers.values()]) {
      peer.emit('sessionState', { state: 'ended', recording: false });
      this.#peers.delete(peer.id);
      // The routers' close below takes the peers' media with it.
      peer.close('ended', 'gone');
    }
    this.#media.close();
    this.#logger.info('session room closed');
    this.emit('ended');
  }
}

export type { PeerStats };
