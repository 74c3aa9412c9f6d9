/**
 * Composition-root wiring between the control API and the live side (used by src/server.ts only):
 * the control API's life-cycle decisions reach the rooms, the host's end reaches the control API,
 * a revoked invitation disconnects its peer. When a session records is live/recordingPolicy.ts.
 */
import type { Actor } from './domain/common/roles.ts';
import type { SessionStatus } from './domain/sessions/lifecycle.ts';
import { TiepdanError } from './errors.ts';
import type { SessionStatusSource } from './live/recordingPolicy.ts';
import type { Logger } from './logging/logger.ts';
import type { SessionEnder } from './signaling/methods.ts';
import type { LiveSessions } from './signaling/liveSessions.ts';

const CLOSING: readonly SessionStatus[] = ['ended', 'archived', 'cancelled', 'rejected'];

/**
 * A session ended or cancelled in the console disconnects its peers (and so stops its recording).
 * Returns the unwiring function.
 */
export function closeRoomsOnControlEnd(sessions: SessionStatusSource, live: LiveSessions, logger: Logger): () => void {
  const log = logger.child({ component: 'control-bridge' });
  const onStatus = ({ sessionId, to }: { sessionId: string; to: SessionStatus }) => {
    if (CLOSING.includes(to) && live.signaling.endSession(sessionId)) log.info({ sessionId, status: to }, 'live session closed by the control API');
  };
  sessions.on('statusChanged', onStatus);
  return () => sessions.off('statusChanged', onStatus);
}

/**
 * The host's `endSession` over WebSocket, persisted through SessionService.end (security review
 * L10): audited with the host's own actor, and the stored status `ended` keeps the session closed
 * across a restart. Only a live session ends this way; ending the room during the rehearsal
 * (invitations sent, tested) closes the room only, as before.
 */
export function persistLiveEnd(sessions: { get(id: string): Promise<{ status: SessionStatus }>; end(actor: Actor, id: string): Promise<unknown> }): SessionEnder {
  return {
    async end(actor, sessionId) {
      // A session the control API does not know (a development session in the in-memory
      // directory) has nothing to store.
      const stored = await sessions.get(sessionId).catch((err: unknown) => {
        if (err instanceof TiepdanError && err.code === 'SESSION_NOT_FOUND') return undefined;
        throw err;
      });
      if (stored?.status === 'live') await sessions.end(actor, sessionId);
    },
  };
}

/** What the wiring needs of the invitation service: its revocations. */
export interface RevocationSource {
  on(event: 'revoked', listener: (e: { sessionId: string; jti: string }) => void): unknown;
  off(event: 'revoked', listener: (e: { sessionId: string; jti: string }) => void): unknown;
}

/**
 * A revoked or re-issued invitation disconnects the peer using it at once (security review M1),
 * instead of only being refused at its next join. Returns the unwiring function.
 */
export function disconnectRevokedInvitations(invitations: RevocationSource, live: LiveSessions, logger: Logger): () => void {
  const log = logger.child({ component: 'control-bridge' });
  const onRevoked = ({ sessionId, jti }: { sessionId: string; jti: string }) => {
    if (live.signaling.revokeToken(sessionId, jti)) log.info({ sessionId }, 'revoked invitation: its peer was disconnected');
  };
  invitations.on('revoked', onRevoked);
  return () => invitations.off('revoked', onRevoked);
}
