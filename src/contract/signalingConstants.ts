/**
 * Values of the signaling protocol that both ends need at run time, without zod (the browser
 * bundle imports this file for values and src/contract/signaling.ts only with `import type`, so
 * esbuild leaves zod out of it). No Node imports: both tsconfigs include src/contract.
 */

/** The protocol version a `join` must name (docs/signaling.md). */
export const PROTOCOL_VERSION = 1;

/** The roles an invitation gives in a live session (docs/signaling.md, "Roles"). */
export const PARTICIPANT_ROLES = ['host', 'central', 'endpoint', 'observer', 'technician'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

/** Why a peer left a session (`peerLeft`, `kicked`). */
export type PeerRemovalReason = 'left' | 'ejected' | 'ended' | 'timeout' | 'replaced' | 'revoked';

/** What a producer carries; the recorder and the room layout tell them apart. */
export const MEDIA_SOURCES = ['microphone', 'camera', 'screen'] as const;
export type MediaSource = (typeof MEDIA_SOURCES)[number];

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
export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];
