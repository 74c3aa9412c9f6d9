// Why one file of ~440 lines: it is the whole signaling protocol (requests, answers, notifications,
// error codes) in one place, read beside docs/signaling.md; splitting it would split the protocol.
import type { ErrorCode } from './errors.ts';
import { z } from 'zod';
import { MEDIA_SOURCES } from './signalingConstants.ts';
import { MAX_SDP_PARAMETERS, SDP_CNAME, SDP_MSID, SDP_PARAM_KEY, SDP_PARAM_VALUE } from './sdpText.ts';

import type { MediaSource, ParticipantRole, PeerRemovalReason } from './signalingConstants.ts';

export { CLOSE_CODES, MEDIA_SOURCES, PARTICIPANT_ROLES, PROTOCOL_VERSION, type CloseCode, type MediaSource, type ParticipantRole, type PeerRemovalReason } from './signalingConstants.ts';

/**
 * The signaling protocol, version 1 (documented in docs/signaling.md), shared by the server and
 * the browser (src/web/LiveClient.ts imports it with `import type` only, and the values from
 * signalingConstants.ts, so zod stays out of the bundle). No Node imports. Every message is one
 * JSON object; requests carry an id the response repeats, notifications carry none. Everything a
 * client sends is validated here before it reaches the media layer.
 */

/** Largest message the server reads (a simulcast `produce` is ~3 KB; an SDP-free protocol needs no more). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** The WebSocket frame limit (ws maxPayload): beyond it the socket is closed 1009 before the frame is buffered (L7). */
export const MAX_FRAME_BYTES = MAX_MESSAGE_BYTES + 8 * 1024;

/**
 * Deepest nesting of objects and arrays a message may have (the deepest real one, a codec's
 * rtcpFeedback inside produce, is 7). Checked before any schema: `.loose()` objects pass unknown
 * keys through, and mediasoup structured-cloned a 5,000-level object until the stack overflowed.
 */
export const MAX_MESSAGE_DEPTH = 16;

/** True when `value` nests objects/arrays deeper than `max` (iterative: no recursion to overflow). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

export const requestEnvelopeSchema = z.strictObject({
  id: z.number().int().min(0).max(2 ** 31),
  method: z.string().min(1).max(64),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type RequestEnvelope = z.infer<typeof requestEnvelopeSchema>;

const id = z.string().min(1).max(64);
const shortString = z.string().max(256);

// Everything below that mediasoup copies to consumers ends up in other participants' SDP and in
// the recorder's: held to the SDP-safe characters of sdpText.ts (security review M2). Numbers are
// safe as they are; booleans are refused by mediasoup anyway.
const cname = z.string().regex(SDP_CNAME, 'printable ASCII without spaces, at most 64 characters');
const sdpParameters = z
  .record(z.string().regex(SDP_PARAM_KEY, 'letters, digits, _ . - only (1–64)'), z.union([z.string().regex(SDP_PARAM_VALUE, 'printable ASCII without spaces or ";", at most 64 characters'), z.number()]))
  .refine((p) => Object.keys(p).length <= MAX_SDP_PARAMETERS, `at most ${MAX_SDP_PARAMETERS} parameters`);
const mimeType = z.string().regex(/^(audio|video)\/[A-Za-z0-9_.-]{1,32}$/i, 'audio/<codec> or video/<codec>');

const rtcpFeedback = z.object({ type: z.string().regex(/^[\x21-\x7e]{1,32}$/), parameter: z.string().regex(/^[\x21-\x7e]{0,32}$/).optional() });
const codecParameters = z.object({
  mimeType,
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().positive(),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: sdpParameters.optional(),
  rtcpFeedback: z.array(rtcpFeedback).max(16).optional(),
});
const encoding = z
  .object({
    ssrc: z.number().int().min(0).optional(),
    rid: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional(),
    codecPayloadType: z.number().int().optional(),
    rtx: z.object({ ssrc: z.number().int().min(0) }).optional(),
    dtx: z.boolean().optional(),
    scalabilityMode: z.string().regex(/^[A-Za-z0-9_]{1,16}$/).optional(),
    scaleResolutionDownBy: z.number().positive().max(64).optional(),
    maxBitrate: z.number().int().positive().optional(),
    maxFramerate: z.number().positive().optional(),
    active: z.boolean().optional(),
  })
  .loose();
export const rtpParametersSchema = z
  .object({
    mid: z.string().regex(/^[\x21-\x7e]{1,32}$/).optional(),
    codecs: z.array(codecParameters.loose()).min(1).max(16),
    headerExtensions: z
      .array(z.object({ uri: z.string().regex(/^[\x21-\x7e]{1,256}$/), id: z.number().int().min(1).max(255), encrypt: z.boolean().optional(), parameters: sdpParameters.optional() }).loose())
      .max(24)
      .optional(),
    encodings: z.array(encoding).min(1).max(4).optional(),
    rtcp: z.object({ cname: cname.optional(), reducedSize: z.boolean().optional() }).loose().optional(),
    /** "<stream id> <track id>": mediasoup-client writes it into the viewers' a=msid line. */
    msid: z.string().regex(SDP_MSID, 'one or two tokens of printable ASCII').optional(),
  })
  .loose();

export const rtpCapabilitiesSchema = z
  .object({
    codecs: z
      .array(
        z
          .object({
            kind: z.enum(['audio', 'video']),
            mimeType,
            preferredPayloadType: z.number().int().min(0).max(127).optional(),
            clockRate: z.number().int().positive(),
            channels: z.number().int().min(1).max(8).optional(),
            parameters: sdpParameters.optional(),
            rtcpFeedback: z.array(rtcpFeedback).max(16).optional(),
          })
          .loose(),
      )
      .max(64)
      .optional(),
    headerExtensions: z
      .array(z.object({ kind: z.enum(['audio', 'video']), uri: z.string().regex(/^[\x21-\x7e]{1,256}$/), preferredId: z.number().int().min(1).max(255) }).loose())
      .max(64)
      .optional(),
  })
  .loose();

export const dtlsParametersSchema = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string().max(256) }))
    .min(1)
    .max(8),
});

/** Request data schemas by method. A method not listed here is answered with UNKNOWN_METHOD. */
export const requestSchemas = {
  join: z.object({
    protocolVersion: z.number().int(),
    /** The session the invitation link names; a token for another session is refused. */
    sessionId: id,
    token: z.string().min(1).max(2048),
    /** A client that still holds its transports asks to resume them (reconnect within the grace period). */
    rejoin: z.object({ transportIds: z.array(id).max(4) }).optional(),
    /**
     * The secret the first join of this seat answered with (security review M1): only the holder
     * takes the seat back; someone else with the same invitation is refused or sent to the lobby.
     */
    resumeSecret: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/).optional(),
  }),
  createTransport: z.object({ direction: z.enum(['send', 'recv']), forceTcp: z.boolean().optional() }),
  connectTransport: z.object({ transportId: id, dtlsParameters: dtlsParametersSchema }),
  restartIce: z.object({ transportId: id }),
  closeTransport: z.object({ transportId: id }),
  setRtpCapabilities: z.object({ rtpCapabilities: rtpCapabilitiesSchema }),
  produce: z.object({
    transportId: id,
    kind: z.enum(['audio', 'video']),
    rtpParameters: rtpParametersSchema,
    source: z.enum(MEDIA_SOURCES),
    paused: z.boolean().optional(),
    width: z.number().int().min(1).max(8192).optional(),
    height: z.number().int().min(1).max(8192).optional(),
  }),
  pauseProducer: z.object({ producerId: id }),
  resumeProducer: z.object({ producerId: id }),
  closeProducer: z.object({ producerId: id }),
  pauseConsumer: z.object({ consumerId: id }),
  resumeConsumer: z.object({ consumerId: id }),
  setConsumerPreferredLayers: z.object({
    consumerId: id,
    spatialLayer: z.number().int().min(0).max(3),
    temporalLayer: z.number().int().min(0).max(3).optional(),
  }),
  setConsumerViewSize: z.object({ consumerId: id, width: z.number().int().min(1).max(8192), height: z.number().int().min(1).max(8192) }),
  getStats: z.object({ peerId: id.optional() }),
  mutePeer: z.object({ peerId: id, kind: z.enum(['audio', 'video']) }),
  unmutePeer: z.object({ peerId: id, kind: z.enum(['audio', 'video']) }),
  ejectPeer: z.object({ peerId: id }),
  admitPeer: z.object({ peerId: id }),
  endSession: z.object({}),
  startRecording: z.object({}),
  /** "Xin phát biểu" (N154 Art 21(2)): a point raises or lowers its hand; everyone is told (`handRaised`). */
  raiseHand: z.object({ raised: z.boolean() }),
  /** The chair gives a point the floor: it is told (`floorGiven`) and turns its microphone on. */
  giveFloor: z.object({ peerId: id }),
  /** Recording is mandatory (N154 Art 24(1)): a stop carries its reason (RECORDING_STOP_REASON_REQUIRED). */
  stopRecording: z.object({ reason: z.string().max(1000).default('') }),
  /** Recording in the participant's own browser (MediaRecorder); only where the chair allows it. */
  startLocalRecording: z.object({}),
  stopLocalRecording: z.object({}),
  leave: z.object({}),
  ping: z.object({}),
} as const;

export type RequestMethod = keyof typeof requestSchemas;
/** A request's data as the server has it (after parsing: defaults filled in). */
export type RequestData<M extends RequestMethod> = z.infer<(typeof requestSchemas)[M]>;
/** A request's data as a client sends it (defaulted fields may be left out). */
export type RequestInput<M extends RequestMethod> = z.input<(typeof requestSchemas)[M]>;

export function isRequestMethod(method: string): method is RequestMethod {
  return Object.hasOwn(requestSchemas, method);
}

/** The error codes a signaling reply can carry (see docs/signaling.md for when): a part of the server's ErrorCode list. */
export const SIGNALING_ERROR_CODES = [
  'BAD_JSON',
  'BAD_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'UNKNOWN_METHOD',
  'INVALID_DATA',
  'RATE_LIMITED',
  'PROTOCOL_VERSION_UNSUPPORTED',
  'NOT_JOINED',
  'ALREADY_JOINED',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'TOKEN_WRONG_SESSION',
  'SESSION_NOT_FOUND',
  'SESSION_NOT_OPEN',
  'SESSION_ENDED',
  'SESSION_FULL',
  'PEER_EJECTED',
  'SEAT_IN_USE',
  'IN_LOBBY',
  'FORBIDDEN',
  'PEER_NOT_FOUND',
  'TRANSPORT_NOT_FOUND',
  'PRODUCER_NOT_FOUND',
  'CONSUMER_NOT_FOUND',
  'TOO_MANY_TRANSPORTS',
  'WRONG_TRANSPORT',
  'SOURCE_IN_USE',
  'MEDIA_REJECTED',
  'NOT_LAYERED',
  'CANNOT_TARGET_SELF',
  'RECORDING_UNAVAILABLE',
  'LOCAL_RECORDING_FORBIDDEN',
  'NO_WORKER_AVAILABLE',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];
export type SignalingErrorCode = (typeof SIGNALING_ERROR_CODES)[number];

/** A request's error reply: any of the server's codes (a room error passes through as it is). */
export interface SignalingErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

// ---- Responses and notifications -------------------------------------------------------------
// The media descriptions inside them (RTP parameters, ICE, DTLS) are mediasoup's JSON on the
// server and mediasoup-client's types in the browser: the same objects on the wire, typed by two
// libraries. Each side instantiates the types below with its own (`Media`), so neither needs the
// other's library and no cast is needed at either end.

/** The media types each side names: the server passes mediasoup's, the browser mediasoup-client's. */
export interface MediaTypes {
  rtpCapabilities: unknown;
  rtpParameters: unknown;
  iceParameters: unknown;
  iceCandidate: unknown;
  dtlsParameters: unknown;
}

/** What other peers learn about a peer: ids, role and the label chosen by the organiser. */
export interface PeerSummary {
  peerId: string;
  role: ParticipantRole;
  label: string;
}

export type MediaKind = 'audio' | 'video';

/** A consumer as the viewing peer's client needs it to call `recvTransport.consume()`. */
export interface ConsumerDescription<T extends MediaTypes = MediaTypes> {
  consumerId: string;
  producerId: string;
  peerId: string;
  kind: MediaKind;
  source: MediaSource;
  rtpParameters: T['rtpParameters'];
  type: 'simple' | 'simulcast' | 'svc' | 'pipe';
  producerPaused: boolean;
}

export type SessionState = { state: 'live' | 'ended'; recording: boolean };

/** Who records locally (browser MediaRecorder at a bridge point), as every peer is told. */
export interface LocalRecordingState {
  peerId: string;
  label: string;
  recording: boolean;
}

/** A participant asking to speak ("xin phát biểu", N154 Art 21(2)). */
export interface RaisedHand {
  peerId: string;
  label: string;
  raisedAt: string;
}

/** TURN credentials (coturn REST scheme), given once a peer is admitted (L14). */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

export interface RolePermissionsView {
  produce: boolean;
  consume: boolean;
  moderate: boolean;
  inspect: boolean;
  waitsInLobby: boolean;
}

export interface JoinInfo<T extends MediaTypes = MediaTypes> {
  protocolVersion: number;
  sessionId: string;
  title: string;
  peerId: string;
  role: ParticipantRole;
  label: string;
  permissions: RolePermissionsView;
  admitted: boolean;
  resumed: boolean;
  /** Proves on a reconnect that this client holds the seat (security review M1); kept per tab. */
  resumeSecret: string;
  routerRtpCapabilities: T['rtpCapabilities'];
  iceServers: IceServer[];
  peers: PeerSummary[];
  lobby: PeerSummary[];
  consumers: ConsumerDescription<T>[];
  session: SessionState & { endpointsSeeEachOther: boolean; participantRecordingAllowed: boolean };
  /** Who records locally right now (admitted peers only; the lobby learns it when admitted). */
  localRecordings: LocalRecordingState[];
  /** Who asks to speak right now, first raised first (admitted peers only). */
  raisedHands: RaisedHand[];
}

export interface TransportParameters<T extends MediaTypes = MediaTypes> {
  transportId: string;
  direction: 'send' | 'recv';
  iceParameters: T['iceParameters'];
  iceCandidates: T['iceCandidate'][];
  dtlsParameters: T['dtlsParameters'];
}

/** `getStats`: transports, producers and consumers of one peer, with its link health. */
export interface PeerStatsView {
  peerId: string;
  /** Worst packet loss, in percent, on the media the peer sends (null before any stream reports). */
  lossPct: number | null;
  /** Round-trip time in ms between the SFU and the peer (null until a receiver report arrives). */
  rttMs: number | null;
  transports: { transportId: string; direction: 'send' | 'recv'; iceState: string; dtlsState: string; protocol: string | undefined; bytesReceived: number; bytesSent: number; availableOutgoingBitrate: number | undefined }[];
  producers: { producerId: string; kind: MediaKind; source: MediaSource; paused: boolean; score: number[]; byteCount: number; bitrate: number }[];
  consumers: {
    consumerId: string;
    producerId: string;
    kind: MediaKind;
    paused: boolean;
    producerPaused: boolean;
    score: number;
    currentLayers: { spatialLayer: number; temporalLayer?: number | undefined } | undefined;
    byteCount: number;
    bitrate: number;
  }[];
}

type Empty = Record<string, never>;

/** The data of each method's success reply. */
export interface Responses<T extends MediaTypes = MediaTypes> {
  join: JoinInfo<T>;
  createTransport: TransportParameters<T>;
  connectTransport: Empty;
  restartIce: { iceParameters: T['iceParameters'] };
  closeTransport: Empty;
  setRtpCapabilities: Empty;
  produce: { producerId: string };
  pauseProducer: Empty;
  resumeProducer: Empty;
  closeProducer: Empty;
  pauseConsumer: Empty;
  resumeConsumer: Empty;
  setConsumerPreferredLayers: Empty;
  setConsumerViewSize: { spatialLayer: number };
  getStats: PeerStatsView;
  mutePeer: { muted: number };
  unmutePeer: { unmuted: boolean };
  ejectPeer: Empty;
  admitPeer: Empty;
  endSession: Empty;
  startRecording: { recording: boolean };
  raiseHand: { raised: boolean };
  giveFloor: Empty;
  stopRecording: { recording: boolean };
  startLocalRecording: { recording: true };
  stopLocalRecording: { recording: false };
  leave: Empty;
  ping: { now: number };
}
export type Response<M extends RequestMethod, T extends MediaTypes = MediaTypes> = Responses<T>[M];

/** Every notification the server sends, by name, with its data. */
export interface Notifications<T extends MediaTypes = MediaTypes> {
  peerJoined: PeerSummary;
  peerLeft: { peerId: string; reason: PeerRemovalReason };
  newConsumer: ConsumerDescription<T>;
  consumerClosed: { consumerId: string };
  consumerPaused: { consumerId: string };
  consumerResumed: { consumerId: string };
  consumerLayersChanged: { consumerId: string; spatialLayer: number | null; temporalLayer: number | null };
  producerScore: { producerId: string; score: { ssrc: number; rid: string | undefined; score: number }[] };
  /** One of this peer's producers was paused by the host or the server. */
  producerPaused: { producerId: string; byHost: boolean };
  /** The host muted (or gave back) this peer's audio or video (security review L3). */
  hostMute: { kind: MediaKind; muted: boolean };
  activeSpeaker: { peerId: string };
  audioLevels: { levels: { peerId: string; volume: number }[] };
  /** For moderators: who waits in the lobby. */
  lobby: { waiting: PeerSummary[] };
  /** For moderators: someone else joined with the invitation of a seat (M1). */
  seatContested: PeerSummary & { inLobby: boolean };
  /** The lobby got no TURN credentials (L14): they come with the admission. */
  admitted: { iceServers: IceServer[] };
  sessionState: SessionState;
  recordingWarning: { freeBytes: number };
  /** The session's router was rebuilt (worker died): the client sets up its media again. */
  mediaReset: { routerRtpCapabilities: T['rtpCapabilities'] };
  localRecording: LocalRecordingState;
  /** The server is about to close this socket (the close code says the same). */
  kicked: { reason: Exclude<PeerRemovalReason, 'left'> };
  handRaised: { peerId: string; label: string; raised: boolean };
  /** The chair gave this point the floor: its page turns the microphone on. */
  floorGiven: { byPeerId: string };
}
export type NotificationName = keyof Notifications;
