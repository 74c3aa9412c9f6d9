import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { types } from 'mediasoup';
import type { SessionDirectory } from '../domain/sessionDirectory.ts';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { SessionPeer, SessionPeerEvents } from '../sfu/SessionPeer.ts';
import type { SessionRoom } from '../sfu/SessionRoom.ts';
import type { SessionRooms } from '../sfu/SessionRooms.ts';
import { ROLE_LABELS } from '../sfu/sessionMedia.ts';
import { USER_ROLES, type Actor, type UserRole } from '../domain/common/roles.ts';
import { PARTICIPANT_ROLES, type ParticipantRole, type TokenClaims, type TokenSigner } from '../tokens/tokenSigner.ts';
import { CLOSE_CODES, PROTOCOL_VERSION, type RequestData, type RequestMethod } from './protocol.ts';
import { DEFAULT_LIMITS, SignalingConnection, type ConnectionLimits, type RequestHandler } from './SignalingConnection.ts';
import { FloorRequests } from './floorRequests.ts';
import { turnIceServers, type TurnSettings } from './turnCredentials.ts';

/**
 * How the host's start/stop recording requests reach the recorder. The implementation starts or
 * stops a recorder for the room and reports its state back with `room.setRecording(on)` (every peer
 * gets `sessionState`) and warnings with `room.recordingWarning(freeBytes)`. Errors it throws
 * (TiepdanError with a code, e.g. RECORDING_DISK_LOW) are the host's error reply.
 */
export interface RecordingControl {
  /** `actor` is who asked (the recorder audits it with the recording). */
  start(room: SessionRoom, actor: Actor): Promise<void>;
  /** `reason` is required of a person (recording is mandatory, N154 Art 24(1)); it goes to the audit. */
  stop(room: SessionRoom, actor: Actor, reason: string): Promise<void>;
}

/** Moderation in a live session, as the audit log names it. */
export type LiveAuditAction = 'live.peer.admitted' | 'live.peer.muted' | 'live.peer.unmuted' | 'live.peer.floor' | 'live.peer.ejected' | 'live.session.ended';

/**
 * Where moderation actions are written, with who did them (security review H3). The composition
 * root wires the audit chain; a failing write fails the request (the action is not taken unaudited
 * where it can still be refused: eject and end are written first).
 */
export interface LiveAudit {
  record(actor: Actor, action: LiveAuditAction, sessionId: string, details: Record<string, unknown>): Promise<void>;
}

/**
 * Makes the host's `endSession` a decision of record (security review L10): the control API's
 * session becomes `ended` (audited), so a restart does not reopen it. Set by the composition root.
 */
export interface SessionEnder {
  end(actor: Actor, sessionId: string): Promise<void>;
}

export interface LiveSignalingOptions {
  rooms: SessionRooms;
  directory: SessionDirectory;
  tokens: TokenSigner;
  logger: Logger;
  /** How long a dropped peer keeps its identity and media (default 30 s). */
  reconnectGraceMs: number;
  turn?: TurnSettings | undefined;
  limits?: Partial<ConnectionLimits>;
  /** Set by whoever wires the recorder; without it startRecording answers RECORDING_UNAVAILABLE. */
  recording?: RecordingControl | undefined;
  audit?: LiveAudit | undefined;
}

/** A peer of a session and the socket currently speaking for it (none during the grace period). */
interface Membership {
  key: string;
  sessionId: string;
  room: SessionRoom;
  peer: SessionPeer;
  /** Who speaks for the peer, for the audit log: the staff user of a personal credential, else the invitation. */
  actor: Actor;
  /** The invitation's token id: ejection and revocation are keyed by it (a re-issued invitation gets in). */
  jti: string;
  /** Given to the first connection; only its holder takes the seat back (M1). */
  resumeSecret: string;
  connection: SignalingConnection | undefined;
  unsubscribe: (() => void) | undefined;
  graceTimer: NodeJS.Timeout | undefined;
}

/**
 * The audit actor of a joined peer: a staff member's personal credential names the user (their
 * login's id and role); a bridge point's invitation is named by its token id and display label.
 */
function actorOfClaims(claims: TokenClaims, label: string): Actor {
  const userRole = (USER_ROLES as readonly string[]).includes(claims.urole ?? '') ? (claims.urole as UserRole) : undefined;
  if (claims.uid !== undefined) return { kind: 'user', id: claims.uid, role: userRole, label, bridgePointId: null, sessionId: claims.sid, subject: claims.sub };
  return { kind: 'invitation', id: claims.jti, role: undefined, label, bridgePointId: null, sessionId: claims.sid, subject: claims.sub };
}

const isRole = (role: string): role is ParticipantRole => (PARTICIPANT_ROLES as readonly string[]).includes(role);
const forbidden = (what: string) => new TiepdanError('FORBIDDEN', `your role may not ${what}`);

/**
 * The signaling hub: admits sockets with invitation tokens, binds each to a peer of a session room,
 * turns protocol requests into room operations and the peer's events into notifications. A dropped
 * socket leaves its peer in place for the grace period; the same invitation coming back takes it
 * over (resuming its transports when the client still has them).
 */
export class LiveSignaling implements RequestHandler {
  readonly #options: LiveSignalingOptions;
  readonly #logger: Logger;
  readonly #limits: ConnectionLimits;
  readonly #members = new Map<string, Membership>();
  readonly #ejected = new Set<string>();
  readonly #ended = new Set<string>();
  readonly #connections = new Set<SignalingConnection>();
  /** Open sockets per remote address (L7 cap), and each connection's address to count it down. */
  readonly #socketsByIp = new Map<string, number>();
  readonly #addressOf = new WeakMap<SignalingConnection, string>();
  /** Raised hands ("xin phát biểu"), per session. */
  readonly #floor = new FloorRequests();
  /** The recorder seam (may be set after construction, when the recorder is wired). */
  recording: RecordingControl | undefined;
  /** The audit seam (set by the composition root; tests without a database leave it unset). */
  audit: LiveAudit | undefined;
  /** Persists a host's end in the control API (L10); unset in tests without a database. */
  ender: SessionEnder | undefined;

  constructor(options: LiveSignalingOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'signaling' });
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.recording = options.recording;
    this.audit = options.audit;
    this.ender = undefined;
    options.rooms.on('roomClosed', (sessionId) => {
      for (const m of [...this.#members.values()]) if (m.sessionId === sessionId) this.#forget(m);
      this.#floor.clear(sessionId);
    });
  }

  /**
   * Takes a freshly upgraded socket; `reachedAddress` is the local address its TCP connection
   * reached, `remoteAddress` the client's. Over the per-address or total cap (security review L7)
   * the socket is closed at once with 4429 and never becomes a connection.
   */
  accept(socket: WebSocket, reachedAddress?: string, remoteAddress = 'unknown'): SignalingConnection | undefined {
    const fromThere = this.#socketsByIp.get(remoteAddress) ?? 0;
    if (this.#connections.size >= this.#limits.maxSockets || fromThere >= this.#limits.maxSocketsPerIp) {
      const total = this.#connections.size >= this.#limits.maxSockets;
      this.#logger.warn({ open: this.#connections.size, fromAddress: fromThere, cap: total ? 'total' : 'per-address' }, 'signaling socket refused: too many open sockets');
      socket.close(CLOSE_CODES.tooManySockets, total ? 'too many connections' : 'too many connections from this address');
      return undefined;
    }
    this.#socketsByIp.set(remoteAddress, fromThere + 1);
    const connection = new SignalingConnection(socket, this, this.#limits, this.#logger, reachedAddress);
    this.#connections.add(connection);
    this.#addressOf.set(connection, remoteAddress);
    return connection;
  }

  /** Peers currently bound to a socket or waiting out their grace period, per session (tests, health). */
  memberCount(sessionId: string): number {
    let n = 0;
    for (const m of this.#members.values()) if (m.sessionId === sessionId) n++;
    return n;
  }

  closed(connection: SignalingConnection): void {
    if (this.#connections.delete(connection)) {
      const address = this.#addressOf.get(connection) ?? 'unknown';
      const left = (this.#socketsByIp.get(address) ?? 1) - 1;
      if (left > 0) this.#socketsByIp.set(address, left);
      else this.#socketsByIp.delete(address);
    }
    const m = connection.peerKey === undefined ? undefined : this.#members.get(connection.peerKey);
    if (m === undefined || m.connection !== connection) return;
    this.#detach(m);
    // Keep the peer (and its media) for the grace period: a commune's link often drops for seconds.
    m.graceTimer = setTimeout(() => {
      m.graceTimer = undefined;
      this.#logger.info({ sessionId: m.sessionId, peerId: m.peer.id }, 'peer did not come back within the grace period');
      this.#remove(m, 'timeout');
    }, this.#options.reconnectGraceMs);
    this.#logger.info({ sessionId: m.sessionId, peerId: m.peer.id, graceMs: this.#options.reconnectGraceMs }, 'peer socket dropped');
  }

  async handle(connection: SignalingConnection, method: RequestMethod, data: unknown): Promise<unknown> {
    if (method === 'join') {
      if (connection.peerKey !== undefined) throw new TiepdanError('ALREADY_JOINED', 'this connection has already joined');
      try {
        return await this.#join(connection, data as RequestData<'join'>);
      } catch (err) {
        // A refused admission ends the socket (after the error reply): no probing with many tokens.
        if (err instanceof TiepdanError && /^(TOKEN_|SESSION_|PEER_EJECTED|PROTOCOL_)/.test(err.code)) connection.close(CLOSE_CODES.authFailed, err.code);
        throw err;
      }
    }
    const m = connection.peerKey === undefined ? undefined : this.#members.get(connection.peerKey);
    if (m === undefined || m.connection !== connection) throw new TiepdanError('NOT_JOINED', 'send join first');
    const { room, peer } = m;
    switch (method) {
      case 'createTransport': {
        const d = data as RequestData<'createTransport'>;
        return room.createTransport(peer.id, d.direction, { forceTcp: d.forceTcp ?? false, reachedAddress: connection.reachedAddress });
      }
      case 'connectTransport': {
        const d = data as RequestData<'connectTransport'>;
        await room.connectTransport(peer.id, d.transportId, d.dtlsParameters as types.DtlsParameters);
        return {};
      }
      case 'restartIce': {
        const d = data as RequestData<'restartIce'>;
        return { iceParameters: await room.restartIce(peer.id, d.transportId) };
      }
      case 'closeTransport':
        await room.closeTransport(peer.id, (data as RequestData<'closeTransport'>).transportId);
        return {};
      case 'setRtpCapabilities':
        await room.setRtpCapabilities(peer.id, (data as RequestData<'setRtpCapabilities'>).rtpCapabilities as types.RtpCapabilities);
        return {};
      case 'produce': {
        const d = data as RequestData<'produce'>;
        const producerId = await room.produce(peer.id, {
          transportId: d.transportId,
          kind: d.kind,
          rtpParameters: d.rtpParameters as types.RtpParameters,
          source: d.source,
          paused: d.paused ?? false,
          size: d.width !== undefined && d.height !== undefined ? { width: d.width, height: d.height } : undefined,
        });
        return { producerId };
      }
      case 'pauseProducer':
        await room.pauseProducer(peer.id, (data as RequestData<'pauseProducer'>).producerId);
        return {};
      case 'resumeProducer':
        await room.resumeProducer(peer.id, (data as RequestData<'resumeProducer'>).producerId);
        return {};
      case 'closeProducer':
        await room.closeProducer(peer.id, (data as RequestData<'closeProducer'>).producerId);
        return {};
      case 'pauseConsumer':
        await room.pauseConsumer(peer.id, (data as RequestData<'pauseConsumer'>).consumerId);
        return {};
      case 'resumeConsumer':
        await room.resumeConsumer(peer.id, (data as RequestData<'resumeConsumer'>).consumerId);
        return {};
      case 'setConsumerPreferredLayers': {
        const d = data as RequestData<'setConsumerPreferredLayers'>;
        await room.setConsumerPreferredLayers(peer.id, d.consumerId, { spatialLayer: d.spatialLayer, temporalLayer: d.temporalLayer });
        return {};
      }
      case 'setConsumerViewSize': {
        const d = data as RequestData<'setConsumerViewSize'>;
        return { spatialLayer: await room.setConsumerViewSize(peer.id, d.consumerId, { width: d.width, height: d.height }) };
      }
      case 'getStats': {
        const target = (data as RequestData<'getStats'>).peerId ?? peer.id;
        if (target !== peer.id && !peer.permissions.inspect) throw forbidden("read other participants' statistics");
        return room.getStats(target);
      }
      case 'mutePeer': {
        const d = data as RequestData<'mutePeer'>;
        if (!peer.permissions.moderate) throw forbidden('mute participants');
        const muted = await room.mutePeer(d.peerId, d.kind);
        await this.#audit(m, 'live.peer.muted', { ...this.#target(room, d.peerId), kind: d.kind, producers: muted });
        return { muted };
      }
      case 'unmutePeer': {
        const d = data as RequestData<'unmutePeer'>;
        if (!peer.permissions.moderate) throw forbidden('give the floor back');
        const unmuted = room.unmutePeer(d.peerId, d.kind);
        await this.#audit(m, 'live.peer.unmuted', { ...this.#target(room, d.peerId), kind: d.kind });
        return { unmuted };
      }
      case 'raiseHand': {
        if (!peer.admitted) throw new TiepdanError('IN_LOBBY', 'waiting in the lobby until the host admits you');
        const raised = (data as RequestData<'raiseHand'>).raised;
        this.#setHand(m, raised);
        return { raised };
      }
      case 'giveFloor': {
        const d = data as RequestData<'giveFloor'>;
        if (!peer.permissions.moderate) throw forbidden('give participants the floor');
        const target = this.#members.get(memberKey(m.sessionId, d.peerId));
        if (target === undefined || room.getPeer(d.peerId) === undefined) throw new TiepdanError('PEER_NOT_FOUND', `no peer ${d.peerId} in this session`);
        // Giving the floor also lifts a mute the chair held (L3), or the point's microphone could not come on.
        room.unmutePeer(d.peerId, 'audio');
        await this.#audit(m, 'live.peer.floor', this.#target(room, d.peerId));
        this.#setHand(target, false);
        target.connection?.notify('floorGiven', { byPeerId: peer.id });
        return {};
      }
      case 'ejectPeer': {
        const d = data as RequestData<'ejectPeer'>;
        if (!peer.permissions.moderate) throw forbidden('eject participants');
        if (d.peerId === peer.id) throw new TiepdanError('CANNOT_TARGET_SELF', 'the host cannot eject themself; use leave or endSession');
        const target = this.#members.get(memberKey(m.sessionId, d.peerId));
        if (target === undefined || room.getPeer(d.peerId) === undefined) throw new TiepdanError('PEER_NOT_FOUND', `no peer ${d.peerId} in this session`);
        await this.#audit(m, 'live.peer.ejected', this.#target(room, d.peerId));
        // This invitation (its token id) cannot come back; a re-issued one for the same point can.
        this.#ejected.add(ejectKey(m.sessionId, target.jti));
        this.#logger.info({ sessionId: m.sessionId, peerId: d.peerId, by: peer.id }, 'peer ejected');
        this.#remove(target, 'ejected');
        return {};
      }
      case 'admitPeer': {
        if (!peer.permissions.moderate) throw forbidden('admit participants');
        const target = (data as RequestData<'admitPeer'>).peerId;
        room.admit(target);
        await this.#audit(m, 'live.peer.admitted', this.#target(room, target));
        return {};
      }
      case 'endSession':
        if (!peer.permissions.moderate) throw forbidden('end the session');
        await this.#audit(m, 'live.session.ended', { peers: room.peers().length });
        // Stored before anyone is told: if it fails the host gets the error and can try again.
        await this.ender?.end(m.actor, m.sessionId);
        this.#ended.add(m.sessionId);
        this.#logger.info({ sessionId: m.sessionId, by: peer.id }, 'session ended by the host');
        // Answer first, then every peer (this one too) is told and disconnected.
        setImmediate(() => room.close());
        return {};
      case 'startRecording':
      case 'stopRecording': {
        if (!peer.permissions.moderate) throw forbidden('start or stop the recording');
        const control = this.recording;
        if (control === undefined) throw new TiepdanError('RECORDING_UNAVAILABLE', 'recording is not available on this server');
        await (method === 'startRecording' ? control.start(room, m.actor) : control.stop(room, m.actor, (data as RequestData<'stopRecording'>).reason));
        return { recording: room.state.recording };
      }
      case 'startLocalRecording': {
        // Roles that take part (send media) may; observers and technicians never record locally.
        if (!peer.permissions.produce) throw forbidden('record the session locally');
        // Read now, not at join: the chair may have changed the setting during the session.
        const settings = await this.#options.directory.get(m.sessionId);
        if (settings?.participantRecordingAllowed !== true) {
          throw new TiepdanError('LOCAL_RECORDING_FORBIDDEN', 'the chair does not allow participants to record this session');
        }
        room.setLocalRecording(peer.id, true);
        return { recording: true };
      }
      case 'stopLocalRecording':
        room.setLocalRecording(peer.id, false);
        return { recording: false };
      case 'leave':
        this.#remove(m, 'left');
        return {};
      case 'ping':
        return { now: Date.now() };
      default:
        throw new TiepdanError('UNKNOWN_METHOD', `unknown method ${method as string}`);
    }
  }

  async #join(connection: SignalingConnection, data: RequestData<'join'>): Promise<unknown> {
    if (data.protocolVersion !== PROTOCOL_VERSION) {
      throw new TiepdanError('PROTOCOL_VERSION_UNSUPPORTED', `this server speaks protocol version ${PROTOCOL_VERSION}`, { details: { supported: [PROTOCOL_VERSION] } });
    }
    const claims = this.#options.tokens.verify(data.token);
    if (claims.kind !== 'invitation' || claims.sid === undefined || !isRole(claims.role)) {
      throw new TiepdanError('TOKEN_INVALID', 'the token is not an invitation to a session');
    }
    if (claims.sid !== data.sessionId) throw new TiepdanError('TOKEN_WRONG_SESSION', 'this invitation is for another session');
    const standing = await this.#options.directory.tokenStanding(claims);
    if (standing === 'revoked') throw new TiepdanError('TOKEN_REVOKED', 'this invitation was withdrawn; ask the organiser for a new one');
    // Signed with the real key but never issued (L1): the same answer as a bad signature.
    if (standing !== 'valid') throw new TiepdanError('TOKEN_INVALID', 'the token is not an invitation to a session');
    const settings = await this.#options.directory.get(claims.sid);
    if (settings === undefined) throw new TiepdanError('SESSION_NOT_FOUND', 'no such session');
    if (settings.admission === 'ended' || this.#ended.has(settings.id)) throw new TiepdanError('SESSION_ENDED', 'the session has ended');
    if (settings.admission !== 'open') throw new TiepdanError('SESSION_NOT_OPEN', 'the session is not open yet');
    const key = memberKey(settings.id, claims.sub);
    if (this.#ejected.has(ejectKey(settings.id, claims.jti))) throw new TiepdanError('PEER_EJECTED', 'the host removed you from this session');
    if (!connection.isOpen) throw new TiepdanError('NOT_JOINED', 'the connection closed while joining');

    const room = await this.#options.rooms.open(settings.id, {
      maxPeers: settings.maxPeers,
      lobbyEnabled: settings.lobbyEnabled,
      endpointsSeeEachOther: settings.endpointsSeeEachOther,
      autoRecord: settings.autoRecord,
    });
    // Checked again after the await (security review L2): a socket that closed while the room was
    // being made would otherwise hold a peer forever (no grace timer, the room never auto-closes).
    if (!connection.isOpen) throw new TiepdanError('NOT_JOINED', 'the connection closed while joining');
    let m = this.#members.get(key);
    let resumed = false;
    let contested = false;
    if (m !== undefined && m.room === room && room.getPeer(claims.sub) === m.peer) {
      if (data.resumeSecret !== undefined && sameSecret(data.resumeSecret, m.resumeSecret)) {
        // The seat's own client again: a reconnect or a reload of the same tab. It takes over.
        if (m.graceTimer !== undefined) clearTimeout(m.graceTimer);
        m.graceTimer = undefined;
        const previous = m.connection;
        this.#detach(m);
        if (previous !== undefined) {
          previous.notify('kicked', { reason: 'replaced' });
          previous.close(CLOSE_CODES.replaced, 'replaced by a newer connection');
        }
        const wanted = data.rejoin?.transportIds ?? [];
        resumed = wanted.length > 0 && wanted.length === m.peer.transports.size && wanted.every((id) => m!.peer.transports.has(id));
        if (!resumed) {
          room.resetPeerMedia(m.peer.id);
          // A reloaded page has lost its MediaRecorder: the others must not go on seeing it record.
          room.setLocalRecording(m.peer.id, false);
        }
      } else if (m.connection !== undefined) {
        // Someone else with the same invitation while the seat is connected (a leaked giấy mời):
        // refused, and the chair is told. The seat goes on undisturbed.
        this.#tellModerators(room, m.peer, false);
        this.#logger.warn({ sessionId: settings.id, peerId: m.peer.id }, 'seat contested: a second connection with the same invitation was refused');
        throw new TiepdanError('SEAT_IN_USE', 'this invitation is in use at another place; the host has been told');
      } else {
        // The seat's connection is away (grace period) and the newcomer cannot prove it is the same
        // client: it gets the seat back only through the lobby, with the chair told.
        contested = true;
        this.#forget(m);
        room.removePeer(claims.sub, 'replaced');
        m = undefined;
      }
    } else if (m !== undefined) {
      this.#forget(m);
      m = undefined;
    }
    if (m === undefined) {
      const peer = room.addPeer({ peerId: claims.sub, role: claims.role, label: claims.name ?? ROLE_LABELS[claims.role], toLobby: contested });
      m = { key, sessionId: settings.id, room, peer, actor: actorOfClaims(claims, peer.label), jti: claims.jti, resumeSecret: randomBytes(24).toString('base64url'), connection: undefined, unsubscribe: undefined, graceTimer: undefined };
      this.#members.set(key, m);
      if (contested) {
        this.#tellModerators(room, peer, true);
        this.#logger.warn({ sessionId: settings.id, peerId: peer.id }, 'seat contested: the newcomer waits in the lobby');
      }
    }
    this.#attach(m, connection);
    const { peer } = m;
    this.#logger.info({ sessionId: settings.id, peerId: peer.id, role: peer.role, resumed, admitted: peer.admitted }, 'peer joined');
    return {
      protocolVersion: PROTOCOL_VERSION,
      sessionId: settings.id,
      title: settings.title,
      peerId: peer.id,
      role: peer.role,
      label: peer.label,
      permissions: peer.permissions,
      admitted: peer.admitted,
      resumed,
      resumeSecret: m.resumeSecret,
      routerRtpCapabilities: room.rtpCapabilities,
      // TURN credentials only once admitted (security review L14): a peer waiting in the lobby has
      // no media to relay, and a leaked invitation should not buy relay time on the TURN server.
      iceServers: peer.admitted ? this.#iceServers(peer.id, connection) : [],
      peers: peer.admitted ? room.peers().filter((p) => p !== peer && p.admitted).map((p) => p.summary) : [],
      lobby: peer.permissions.moderate ? room.peers().filter((p) => !p.admitted).map((p) => p.summary) : [],
      consumers: resumed ? room.describeConsumers(peer.id) : [],
      session: { ...room.state, endpointsSeeEachOther: settings.endpointsSeeEachOther, participantRecordingAllowed: settings.participantRecordingAllowed },
      // Who records locally right now (admitted peers only; the lobby learns it when admitted).
      localRecordings: peer.admitted ? room.localRecordings() : [],
      // Who asks to speak right now (N154 Art 21(2)); the chair's console lists them.
      raisedHands: peer.admitted ? this.#floor.list(m.sessionId) : [],
    };
  }

  #iceServers(peerId: string, connection: SignalingConnection): ReturnType<typeof turnIceServers> {
    return turnIceServers(this.#options.turn, peerId, new Date(), connection.reachedAddress);
  }

  async #audit(m: Membership, action: LiveAuditAction, details: Record<string, unknown>): Promise<void> {
    await this.audit?.record(m.actor, action, m.sessionId, { ...details, byPeerId: m.peer.id });
  }

  /** The target of a moderation action as the audit log names it: peer id, role and display label. */
  #target(room: SessionRoom, peerId: string): Record<string, unknown> {
    const target = room.getPeer(peerId);
    return { peerId, role: target?.role ?? null, label: target?.label ?? null };
  }

  #attach(m: Membership, connection: SignalingConnection): void {
    m.connection = connection;
    connection.peerKey = m.key;
    m.unsubscribe = forwardPeerEvents(m.peer, connection, () => this.#iceServers(m.peer.id, connection));
  }

  #detach(m: Membership): void {
    m.unsubscribe?.();
    m.unsubscribe = undefined;
    if (m.connection !== undefined) m.connection.peerKey = undefined;
    m.connection = undefined;
  }

  /** Raises or lowers a peer's hand; every connected member of the session is told of a change. */
  #setHand(m: Membership, raised: boolean): void {
    if (!this.#floor.set(m.sessionId, m.peer.id, m.peer.label, raised, new Date())) return;
    for (const other of this.#members.values()) {
      if (other.sessionId === m.sessionId && other.peer.admitted) other.connection?.notify('handRaised', { peerId: m.peer.id, label: m.peer.label, raised });
    }
  }

  /** Removes the peer from its room (others are told) and forgets the membership. */
  #remove(m: Membership, reason: 'left' | 'ejected' | 'timeout' | 'revoked'): void {
    this.#setHand(m, false);
    this.#members.delete(m.key);
    if (m.graceTimer !== undefined) clearTimeout(m.graceTimer);
    m.room.removePeer(m.peer.id, reason); // the peer's 'removed' event closes its socket
    this.#detach(m);
    // Nobody left, nobody coming back: the session's media stops (the recorder sees `ended`).
    if (m.room.peers().length === 0) m.room.close();
  }

  #forget(m: Membership): void {
    if (m.graceTimer !== undefined) clearTimeout(m.graceTimer);
    this.#detach(m);
    if (this.#members.get(m.key) === m) this.#members.delete(m.key);
  }

  #tellModerators(room: SessionRoom, peer: SessionPeer, inLobby: boolean): void {
    for (const p of room.peers()) if (p.permissions.moderate && p.admitted && p !== peer) p.emit('seatContested', { ...peer.summary, inLobby });
  }

  /**
   * An invitation was revoked or re-issued in the control API (M1): the peer connected with it is
   * disconnected at once (`kicked` reason `revoked`), not only refused at its next join.
   */
  revokeToken(sessionId: string, jti: string): boolean {
    for (const m of this.#members.values()) {
      if (m.sessionId !== sessionId || m.jti !== jti) continue;
      this.#logger.info({ sessionId, peerId: m.peer.id }, 'peer disconnected: its invitation was revoked');
      this.#remove(m, 'revoked');
      return true;
    }
    return false;
  }

  /**
   * Ends a live session from outside (the control API ending or cancelling it): every peer is told
   * and disconnected, later joins get SESSION_ENDED. False when the session was not live here.
   */
  endSession(sessionId: string): boolean {
    this.#ended.add(sessionId);
    const room = this.#options.rooms.get(sessionId);
    if (room === undefined) return false;
    room.close();
    return true;
  }

  /** Server shutdown: every socket is closed, every grace timer cleared. */
  close(): void {
    for (const m of this.#members.values()) if (m.graceTimer !== undefined) clearTimeout(m.graceTimer);
    this.#members.clear();
    for (const c of this.#connections) c.close(CLOSE_CODES.shuttingDown, 'server shutting down');
  }
}

function memberKey(sessionId: string, peerId: string): string {
  return `${sessionId}\n${peerId}`;
}

function ejectKey(sessionId: string, jti: string): string {
  return `${sessionId}\n${jti}`;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Forwards a peer's events to its socket as notifications; returns the unsubscriber. */
function forwardPeerEvents(peer: SessionPeer, c: SignalingConnection, iceServers: () => unknown[]): () => void {
  const listeners: { [K in keyof SessionPeerEvents]: (...args: SessionPeerEvents[K]) => void } = {
    peerJoined: (p) => c.notify('peerJoined', p),
    peerLeft: (peerId, reason) => c.notify('peerLeft', { peerId, reason }),
    newConsumer: (d) => c.notify('newConsumer', d),
    consumerClosed: (consumerId) => c.notify('consumerClosed', { consumerId }),
    consumerPaused: (consumerId) => c.notify('consumerPaused', { consumerId }),
    consumerResumed: (consumerId) => c.notify('consumerResumed', { consumerId }),
    consumerLayersChanged: (consumerId, layers) => c.notify('consumerLayersChanged', { consumerId, spatialLayer: layers?.spatialLayer ?? null, temporalLayer: layers?.temporalLayer ?? null }),
    producerScore: (producerId, score) => c.notify('producerScore', { producerId, score: score.map((s) => ({ ssrc: s.ssrc, rid: s.rid, score: s.score })) }),
    producerPaused: (producerId, byHost) => c.notify('producerPaused', { producerId, byHost }),
    hostMute: (kind, muted) => c.notify('hostMute', { kind, muted }),
    activeSpeaker: (peerId) => c.notify('activeSpeaker', { peerId }),
    audioLevels: (levels) => c.notify('audioLevels', { levels }),
    lobby: (waiting) => c.notify('lobby', { waiting }),
    seatContested: (who) => c.notify('seatContested', who),
    // The lobby got no TURN credentials (L14): they come with the admission.
    admitted: () => c.notify('admitted', { iceServers: iceServers() }),
    sessionState: (state) => c.notify('sessionState', state),
    recordingWarning: (w) => c.notify('recordingWarning', w),
    mediaReset: (caps) => c.notify('mediaReset', { routerRtpCapabilities: caps }),
    localRecording: (state) => c.notify('localRecording', state),
    removed: (reason) => {
      if (reason === 'left') return c.close(CLOSE_CODES.left, 'left');
      c.notify('kicked', { reason });
      c.close(reason === 'ejected' ? CLOSE_CODES.ejected : reason === 'ended' ? CLOSE_CODES.ended : reason === 'revoked' ? CLOSE_CODES.revoked : reason === 'replaced' ? CLOSE_CODES.replaced : CLOSE_CODES.timeout, reason);
    },
  };
  for (const [event, fn] of Object.entries(listeners)) peer.on(event as 'admitted', fn as () => void);
  return () => {
    for (const [event, fn] of Object.entries(listeners)) peer.off(event as 'admitted', fn as () => void);
  };
}
