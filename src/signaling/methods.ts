import type { types } from 'mediasoup';
import type { Response, RequestData, RequestMethod } from '../contract/signaling.ts';
import type { Actor } from '../domain/common/roles.ts';
import { TiepdanError } from '../errors.ts';
import type { Admission } from '../live/admission.ts';
import type { ServerMedia } from '../live/media.ts';
import type { Peer } from '../live/Peer.ts';
import { requireAdmitted, requirePermission, type Permission } from '../live/permissions.ts';
import type { RecordingPolicy } from '../live/recordingPolicy.ts';
import type { Room } from '../live/Room.ts';
import type { Logger } from '../logging/logger.ts';
import type { SignalingConnection } from './SignalingConnection.ts';

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

/** A peer of a session and the socket currently speaking for it (none during the grace period). */
export interface Membership {
  key: string;
  sessionId: string;
  room: Room;
  peer: Peer;
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

/** What the methods may ask of the hub that runs them. */
export interface MethodHost {
  readonly logger: Logger;
  readonly admission: Admission;
  readonly recording: RecordingPolicy;
  readonly audit: LiveAudit | undefined;
  readonly ender: SessionEnder | undefined;
  memberOf(sessionId: string, peerId: string): Membership | undefined;
  /** Removes the peer from its room (others are told) and forgets the membership. */
  remove(m: Membership, reason: 'left' | 'ejected' | 'timeout' | 'revoked'): void;
  /** Raises or lowers a peer's hand; every connected member of the session is told of a change. */
  setHand(m: Membership, raised: boolean): void;
}

export interface MethodContext {
  host: MethodHost;
  /** The caller. */
  m: Membership;
  /** The server address the caller's socket reached (its ICE candidates name it first). */
  reachedAddress: string | undefined;
}

/** A permission a method needs, and the action as the FORBIDDEN message names it. */
interface Need {
  permission: Permission;
  what?: string;
}

export type LiveMethod = Exclude<RequestMethod, 'join'>;

interface Method<M extends LiveMethod> {
  /** The caller's role must have this permission (checked after `admitted`); a function when it depends on the data. */
  requires?: Need | ((data: RequestData<M>, self: Peer) => Need | undefined);
  /** Refused with IN_LOBBY while the caller waits in the lobby. */
  admitted?: true;
  run(ctx: MethodContext, data: RequestData<M>): Promise<Response<M, ServerMedia>> | Response<M, ServerMedia>;
}

const moderate = (what: string): Need => ({ permission: 'moderate', what });

/** A moderation action's target as the audit log names it: peer id, role and display label. */
const target = (peer: Peer) => ({ peerId: peer.id, role: peer.role, label: peer.label });

const audit = (ctx: MethodContext, action: LiveAuditAction, details: Record<string, unknown>): Promise<void> =>
  ctx.host.audit?.record(ctx.m.actor, action, ctx.m.sessionId, { ...details, byPeerId: ctx.m.peer.id }) ?? Promise.resolve();

/** Another member of the caller's session, else PEER_NOT_FOUND. */
function member(ctx: MethodContext, peerId: string): Membership {
  const found = ctx.host.memberOf(ctx.m.sessionId, peerId);
  if (found === undefined || ctx.m.room.getPeer(peerId) !== found.peer) throw new TiepdanError('PEER_NOT_FOUND', `no peer ${peerId} in this session`);
  return found;
}

/**
 * Every request after `join`, with the permission it needs and what it does: the one place that
 * says who may do what over signaling (the role rules themselves are live/permissions.ts). The
 * table is exhaustive: a method added to the contract without an entry here fails to compile.
 */
export const METHODS: { [M in LiveMethod]: Method<M> } = {
  createTransport: {
    admitted: true,
    requires: (d) => ({ permission: d.direction === 'send' ? 'produce' : 'consume' }),
    run: ({ m, reachedAddress }, d) => m.room.createTransport(m.peer, d.direction, { forceTcp: d.forceTcp ?? false, reachedAddress }),
  },
  connectTransport: {
    run: async ({ m }, d) => {
      await m.room.connectTransport(m.peer, d.transportId, d.dtlsParameters as types.DtlsParameters);
      return {};
    },
  },
  restartIce: { run: async ({ m }, d) => ({ iceParameters: await m.room.restartIce(m.peer, d.transportId) }) },
  closeTransport: {
    run: ({ m }, d) => {
      m.peer.closeTransport(d.transportId);
      return {};
    },
  },
  setRtpCapabilities: {
    admitted: true,
    run: async ({ m }, d) => {
      await m.room.setRtpCapabilities(m.peer, d.rtpCapabilities as types.RtpCapabilities);
      return {};
    },
  },
  produce: {
    admitted: true,
    requires: { permission: 'produce' },
    run: async ({ m }, d) => ({
      producerId: await m.room.produce(m.peer, {
        transportId: d.transportId,
        kind: d.kind,
        rtpParameters: d.rtpParameters as types.RtpParameters,
        source: d.source,
        paused: d.paused ?? false,
        ...(d.width !== undefined && d.height !== undefined ? { size: { width: d.width, height: d.height } } : {}),
      }),
    }),
  },
  pauseProducer: {
    run: async ({ m }, d) => {
      await m.peer.pauseProducer(d.producerId);
      return {};
    },
  },
  resumeProducer: {
    run: async ({ m }, d) => {
      await m.peer.resumeProducer(d.producerId);
      return {};
    },
  },
  closeProducer: {
    run: ({ m }, d) => {
      m.peer.closeProducer(d.producerId);
      return {};
    },
  },
  pauseConsumer: {
    run: async ({ m }, d) => {
      await m.peer.pauseConsumer(d.consumerId);
      return {};
    },
  },
  resumeConsumer: {
    run: async ({ m }, d) => {
      await m.peer.resumeConsumer(d.consumerId);
      return {};
    },
  },
  setConsumerPreferredLayers: {
    run: async ({ m }, d) => {
      await m.room.setConsumerPreferredLayers(m.peer, d.consumerId, { spatialLayer: d.spatialLayer, ...(d.temporalLayer === undefined ? {} : { temporalLayer: d.temporalLayer }) });
      return {};
    },
  },
  setConsumerViewSize: { run: async ({ m }, d) => ({ spatialLayer: await m.room.setConsumerViewSize(m.peer, d.consumerId, { width: d.width, height: d.height }) }) },
  getStats: {
    requires: (d, self) => (d.peerId !== undefined && d.peerId !== self.id ? { permission: 'inspect' } : undefined),
    run: ({ m }, d) => m.room.getStats(d.peerId === undefined ? m.peer : m.room.requirePeer(d.peerId)),
  },
  mutePeer: {
    requires: moderate('mute participants'),
    run: async (ctx, d) => {
      const peer = ctx.m.room.requirePeer(d.peerId);
      const muted = await peer.mute(d.kind);
      await audit(ctx, 'live.peer.muted', { ...target(peer), kind: d.kind, producers: muted });
      return { muted };
    },
  },
  unmutePeer: {
    requires: moderate('give the floor back'),
    run: async (ctx, d) => {
      const peer = ctx.m.room.requirePeer(d.peerId);
      const unmuted = peer.unmute(d.kind);
      await audit(ctx, 'live.peer.unmuted', { ...target(peer), kind: d.kind });
      return { unmuted };
    },
  },
  raiseHand: {
    admitted: true,
    run: ({ host, m }, d) => {
      host.setHand(m, d.raised);
      return { raised: d.raised };
    },
  },
  giveFloor: {
    requires: moderate('give participants the floor'),
    run: async (ctx, d) => {
      const to = member(ctx, d.peerId);
      // Giving the floor also lifts a mute the chair held (L3), or the point's microphone could not come on.
      to.peer.unmute('audio');
      await audit(ctx, 'live.peer.floor', target(to.peer));
      ctx.host.setHand(to, false);
      to.connection?.notify('floorGiven', { byPeerId: ctx.m.peer.id });
      return {};
    },
  },
  ejectPeer: {
    requires: moderate('eject participants'),
    run: async (ctx, d) => {
      const { host, m } = ctx;
      if (d.peerId === m.peer.id) throw new TiepdanError('CANNOT_TARGET_SELF', 'the host cannot eject themself; use leave or endSession');
      const out = member(ctx, d.peerId);
      await audit(ctx, 'live.peer.ejected', target(out.peer));
      // This invitation (its token id) cannot come back, even after a restart; a re-issued one for the same point can.
      await host.admission.eject(m.sessionId, out.jti);
      host.logger.info({ sessionId: m.sessionId, peerId: d.peerId, by: m.peer.id }, 'peer ejected');
      host.remove(out, 'ejected');
      return {};
    },
  },
  admitPeer: {
    requires: moderate('admit participants'),
    run: async (ctx, d) => {
      const peer = ctx.m.room.requirePeer(d.peerId);
      ctx.m.room.admit(peer);
      await audit(ctx, 'live.peer.admitted', target(peer));
      return {};
    },
  },
  endSession: {
    requires: moderate('end the session'),
    run: async (ctx) => {
      const { host, m } = ctx;
      await audit(ctx, 'live.session.ended', { peers: m.room.peers().length });
      // Stored before anyone is told: if it fails the host gets the error and can try again.
      await host.ender?.end(m.actor, m.sessionId);
      await host.admission.markEnded(m.sessionId);
      host.logger.info({ sessionId: m.sessionId, by: m.peer.id }, 'session ended by the host');
      // Answer first, then every peer (this one too) is told and disconnected.
      setImmediate(() => m.room.close());
      return {};
    },
  },
  startRecording: {
    requires: moderate('start or stop the recording'),
    run: async ({ host, m }) => {
      await host.recording.hostStart(m.room, m.actor);
      return { recording: m.room.state.recording };
    },
  },
  stopRecording: {
    requires: moderate('start or stop the recording'),
    run: async ({ host, m }, d) => {
      await host.recording.hostStop(m.room, m.actor, d.reason);
      return { recording: m.room.state.recording };
    },
  },
  startLocalRecording: {
    // Roles that take part (send media) may; observers and technicians never record locally.
    requires: { permission: 'produce', what: 'record the session locally' },
    run: async ({ host, m }) => {
      await host.recording.requireLocalRecordingAllowed(m.sessionId);
      requireAdmitted(m.peer);
      m.room.setLocalRecording(m.peer, true);
      return { recording: true };
    },
  },
  stopLocalRecording: {
    run: ({ m }) => {
      m.room.setLocalRecording(m.peer, false);
      return { recording: false };
    },
  },
  leave: {
    run: ({ host, m }) => {
      host.remove(m, 'left');
      return {};
    },
  },
  ping: { run: () => ({ now: Date.now() }) },
};

/** Runs one request of a joined member: lobby rule, then permission, then the method. */
export async function runMethod<M extends LiveMethod>(method: M, ctx: MethodContext, data: RequestData<M>): Promise<Response<M, ServerMedia>> {
  const spec: Method<M> = METHODS[method];
  if (spec.admitted === true) requireAdmitted(ctx.m.peer);
  const need = typeof spec.requires === 'function' ? spec.requires(data, ctx.m.peer) : spec.requires;
  if (need !== undefined) requirePermission(ctx.m.peer.role, need.permission, need.what);
  return spec.run(ctx, data);
}
