import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { RequestData, RequestMethod, Response } from '../contract/signaling.ts';
import { CLOSE_CODES, PROTOCOL_VERSION } from '../contract/signalingConstants.ts';
import { USER_ROLES, type Actor, type UserRole } from '../domain/common/roles.ts';
import { TiepdanError } from '../errors.ts';
import type { Admission, AdmittedClaims } from '../live/admission.ts';
import type { ServerMedia } from '../live/media.ts';
import { ROLE_LABELS } from '../live/permissions.ts';
import type { RecordingPolicy } from '../live/recordingPolicy.ts';
import type { Rooms } from '../live/Rooms.ts';
import type { Logger } from '../logging/logger.ts';
import { FloorRequests } from './floorRequests.ts';
import { runMethod, type LiveAudit, type LiveMethod, type Membership, type MethodHost, type SessionEnder } from './methods.ts';
import { forwardPeerEvents } from './notifications.ts';
import { DEFAULT_LIMITS, SignalingConnection, type ConnectionLimits, type RequestHandler } from './SignalingConnection.ts';
import { turnIceServers, type TurnSettings } from '../turn/turnCredentials.ts';

export interface HubOptions {
  rooms: Rooms;
  admission: Admission;
  recording: RecordingPolicy;
  logger: Logger;
  /** How long a dropped peer keeps its identity and media (default 30 s). */
  reconnectGraceMs: number;
  turn?: TurnSettings | undefined;
  limits?: Partial<ConnectionLimits>;
  audit?: LiveAudit | undefined;
}

/**
 * The audit actor of a joined peer: a staff member's personal credential names the user (their
 * login's id and role); a bridge point's invitation is named by its token id and display label.
 */
function actorOfClaims(claims: AdmittedClaims, label: string): Actor {
  const userRole = (USER_ROLES as readonly string[]).includes(claims.urole ?? '') ? (claims.urole as UserRole) : undefined;
  if (claims.uid !== undefined) return { kind: 'user', id: claims.uid, role: userRole, label, bridgePointId: null, sessionId: claims.sid, subject: claims.sub };
  return { kind: 'invitation', id: claims.jti, role: undefined, label, bridgePointId: null, sessionId: claims.sid, subject: claims.sub };
}

/**
 * The signaling hub: takes sockets (per-address and total caps), joins each to a peer of a room
 * once admission accepted its invitation, runs its requests through the method table
 * (methods.ts) and forwards the peer's events as notifications (notifications.ts). A dropped
 * socket leaves its peer in place for the grace period; the same seat coming back takes it over
 * (resuming its transports when the client still has them).
 */
export class SignalingHub implements RequestHandler, MethodHost {
  readonly #options: HubOptions;
  readonly logger: Logger;
  readonly admission: Admission;
  readonly recording: RecordingPolicy;
  readonly #limits: ConnectionLimits;
  readonly #members = new Map<string, Membership>();
  readonly #connections = new Set<SignalingConnection>();
  /** Open sockets per remote address (L7 cap), and each connection's address to count it down. */
  readonly #socketsByIp = new Map<string, number>();
  readonly #addressOf = new WeakMap<SignalingConnection, string>();
  /** Raised hands ("xin phát biểu"), per session. */
  readonly #floor = new FloorRequests();
  /** The audit seam (set by the composition root; tests without a database leave it unset). */
  audit: LiveAudit | undefined;
  /** Persists a host's end in the control API (L10); unset in tests without a database. */
  ender: SessionEnder | undefined;

  constructor(options: HubOptions) {
    this.#options = options;
    this.logger = options.logger.child({ component: 'signaling' });
    this.admission = options.admission;
    this.recording = options.recording;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
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
      this.logger.warn({ open: this.#connections.size, fromAddress: fromThere, cap: total ? 'total' : 'per-address' }, 'signaling socket refused: too many open sockets');
      socket.close(CLOSE_CODES.tooManySockets, total ? 'too many connections' : 'too many connections from this address');
      return undefined;
    }
    this.#socketsByIp.set(remoteAddress, fromThere + 1);
    const connection = new SignalingConnection(socket, this, this.#limits, this.logger, reachedAddress);
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

  memberOf(sessionId: string, peerId: string): Membership | undefined {
    return this.#members.get(memberKey(sessionId, peerId));
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
    const log = this.logger.child({ sessionId: m.sessionId, peerId: m.peer.id });
    m.graceTimer = setTimeout(() => {
      m.graceTimer = undefined;
      log.info('peer did not come back within the grace period');
      this.remove(m, 'timeout');
    }, this.#options.reconnectGraceMs);
    log.info({ graceMs: this.#options.reconnectGraceMs }, 'peer socket dropped');
  }

  async handle(connection: SignalingConnection, method: RequestMethod, data: unknown): Promise<unknown> {
    // The connection validated `data` against `method`'s schema: this is the one place it is named so.
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
    return runMethod(method, { host: this, m, reachedAddress: connection.reachedAddress }, data as RequestData<LiveMethod>);
  }

  /** Admission, then the room (opened on first join), then the seat: new, resumed or contested. */
  async #join(connection: SignalingConnection, data: RequestData<'join'>): Promise<Response<'join', ServerMedia>> {
    const { claims, settings } = await this.admission.admit(data);
    if (!connection.isOpen) throw new TiepdanError('NOT_JOINED', 'the connection closed while joining');
    const key = memberKey(settings.id, claims.sub);
    const room = await this.#options.rooms.open(settings.id, {
      maxPeers: settings.maxPeers,
      lobbyEnabled: settings.lobbyEnabled,
      endpointsSeeEachOther: settings.endpointsSeeEachOther,
    });
    // Checked again after the await (security review L2): a socket that closed while the room was
    // being made would otherwise hold a peer forever (no grace timer, the room never auto-closes).
    if (!connection.isOpen) throw new TiepdanError('NOT_JOINED', 'the connection closed while joining');
    const log = this.logger.child({ sessionId: settings.id, peerId: claims.sub });
    let m = this.#members.get(key);
    let resumed = false;
    let contested = false;
    if (m !== undefined && m.room === room && room.getPeer(claims.sub) === m.peer) {
      const seat = m;
      if (data.resumeSecret !== undefined && sameSecret(data.resumeSecret, seat.resumeSecret)) {
        // The seat's own client again: a reconnect or a reload of the same tab. It takes over.
        if (seat.graceTimer !== undefined) clearTimeout(seat.graceTimer);
        seat.graceTimer = undefined;
        const previous = seat.connection;
        this.#detach(seat);
        if (previous !== undefined) {
          previous.notify('kicked', { reason: 'replaced' });
          previous.close(CLOSE_CODES.replaced, 'replaced by a newer connection');
        }
        const wanted = data.rejoin?.transportIds ?? [];
        resumed = wanted.length > 0 && wanted.length === seat.peer.transports.size && wanted.every((id) => seat.peer.transports.has(id));
        if (!resumed) {
          seat.peer.resetMedia();
          // A reloaded page has lost its MediaRecorder: the others must not go on seeing it record.
          room.setLocalRecording(seat.peer, false);
        }
      } else if (seat.connection !== undefined) {
        // Someone else with the same invitation while the seat is connected (a leaked giấy mời):
        // refused, and the chair is told. The seat goes on undisturbed.
        room.seatContested(seat.peer, false);
        log.warn('seat contested: a second connection with the same invitation was refused');
        throw new TiepdanError('SEAT_IN_USE', 'this invitation is in use at another place; the host has been told');
      } else {
        // The seat's connection is away (grace period) and the newcomer cannot prove it is the same
        // client: it gets the seat back only through the lobby, with the chair told.
        contested = true;
        this.#forget(seat);
        room.removePeer(seat.peer, 'replaced');
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
        room.seatContested(peer, true);
        log.warn('seat contested: the newcomer waits in the lobby');
      }
    }
    this.#attach(m, connection);
    const { peer } = m;
    log.info({ role: peer.role, resumed, admitted: peer.admitted }, 'peer joined');
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
      peers: peer.admitted ? room.knownPeers(peer).map((p) => p.summary) : [],
      lobby: peer.permissions.moderate ? room.lobby() : [],
      consumers: resumed ? room.describeConsumers(peer) : [],
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

  #attach(m: Membership, connection: SignalingConnection): void {
    m.connection = connection;
    connection.peerKey = m.key;
    m.unsubscribe = forwardPeerEvents(m.peer, connection, { iceServers: () => this.#iceServers(m.peer.id, connection), raisedHands: () => this.#floor.list(m.sessionId) });
  }

  #detach(m: Membership): void {
    m.unsubscribe?.();
    m.unsubscribe = undefined;
    if (m.connection !== undefined) m.connection.peerKey = undefined;
    m.connection = undefined;
  }

  setHand(m: Membership, raised: boolean): void {
    if (!this.#floor.set(m.sessionId, m.peer.id, m.peer.label, raised, new Date())) return;
    for (const other of this.#members.values()) {
      if (other.sessionId === m.sessionId && other.peer.admitted) other.connection?.notify('handRaised', { peerId: m.peer.id, label: m.peer.label, raised });
    }
  }

  remove(m: Membership, reason: 'left' | 'ejected' | 'timeout' | 'revoked'): void {
    this.setHand(m, false);
    this.#members.delete(m.key);
    if (m.graceTimer !== undefined) clearTimeout(m.graceTimer);
    m.room.removePeer(m.peer, reason); // the peer's 'removed' event closes its socket
    this.#detach(m);
    // Nobody left, nobody coming back: the session's media stops (the recorder sees `ended`).
    if (m.room.peers().length === 0) m.room.close();
  }

  #forget(m: Membership): void {
    if (m.graceTimer !== undefined) clearTimeout(m.graceTimer);
    this.#detach(m);
    if (this.#members.get(m.key) === m) this.#members.delete(m.key);
  }

  /**
   * An invitation was revoked or re-issued in the control API (M1): the peer connected with it is
   * disconnected at once (`kicked` reason `revoked`), not only refused at its next join.
   */
  revokeToken(sessionId: string, jti: string): boolean {
    for (const m of this.#members.values()) {
      if (m.sessionId !== sessionId || m.jti !== jti) continue;
      this.logger.info({ sessionId, peerId: m.peer.id }, 'peer disconnected: its invitation was revoked');
      this.remove(m, 'revoked');
      return true;
    }
    return false;
  }

  /**
   * Ends a live session from outside (the control API ending or cancelling it): every peer is told
   * and disconnected, later joins get SESSION_ENDED. False when the session was not live here.
   */
  endSession(sessionId: string): boolean {
    // The control API's status already refuses later joins; the store remembers it as well.
    this.admission.markEnded(sessionId).catch((err: unknown) => this.logger.error({ sessionId, err }, 'could not store the end of the session'));
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

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
