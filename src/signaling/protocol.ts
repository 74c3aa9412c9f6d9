import { z } from 'zod';
import { MEDIA_SOURCES } from '../sfu/sessionMedia.ts';
import { MAX_SDP_PARAMETERS, SDP_CNAME, SDP_MSID, SDP_PARAM_KEY, SDP_PARAM_VALUE } from '../sfu/sdpText.ts';

/**
 * The signaling protocol, version 1 (documented in docs/signaling.md). Every message is one JSON
 * object; requests carry an id the response repeats, notifications carry none. Everything a client
 * sends is validated here before it reaches the media layer.
 */
export const PROTOCOL_VERSION = 1;

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
export type RequestData<M extends RequestMethod> = z.infer<(typeof requestSchemas)[M]>;

export function isRequestMethod(method: string): method is RequestMethod {
  return Object.hasOwn(requestSchemas, method);
}

/** WebSocket close codes the server uses (4000–4999 are for applications). */
export const CLOSE_CODES = {
  left: 4000,
  replaced: 4001,
  ejected: 4002,
  ended: 4003,
  timeout: 4004,
  revoked: 4005,
  authFailed: 4401,
  authTimeout: 4408,
  /** Too many open sockets from this address, or in all (L7): the client retries later. */
  tooManySockets: 4429,
  shuttingDown: 1001,
} as const;

/** Every error code a response can carry (see docs/signaling.md for when). */
export const ERROR_CODES = [
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
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
