import type { SessionStatus } from '../domain/sessions/lifecycle.ts';
import type { SessionServiceEvents } from '../domain/sessions/sessionService.ts';
import type { Logger } from '../logging/logger.ts';
import type { RecordingService } from '../recording/recordingService.ts';
import type { LiveSessions } from './liveSessions.ts';

/** What the bridge needs of the control API's session service: its status events. */
export interface SessionStatusSource {
  on(event: 'statusChanged', listener: (...args: SessionServiceEvents['statusChanged']) => void): unknown;
  off(event: 'statusChanged', listener: (...args: SessionServiceEvents['statusChanged']) => void): unknown;
}

const CLOSING: readonly SessionStatus[] = ['ended', 'archived', 'cancelled', 'rejected'];

/**
 * Carries the control API's life-cycle decisions to the live side: a session ended or cancelled in
 * the console disconnects its peers (and so stops its recording); a session going live while its
 * room is already open (after the rehearsal) starts recording if the session records automatically.
 * Returns the unwiring function.
 */
export function bridgeControl(
  sessions: SessionStatusSource,
  live: LiveSessions,
  recordings: Pick<RecordingService, 'startRecording' | 'liveState'>,
  logger: Logger,
): () => void {
  const log = logger.child({ component: 'control-bridge' });
  const onStatus = ({ sessionId, to }: { sessionId: string; from: SessionStatus; to: SessionStatus }) => {
    if (CLOSING.includes(to)) {
      if (live.signaling.endSession(sessionId)) log.info({ sessionId, status: to }, 'live session closed by the control API');
      return;
    }
    if (to !== 'live') return;
    const room = live.rooms.get(sessionId);
    if (room === undefined || recordings.liveState(sessionId) !== null) return;
    live.directory.get(sessionId).then(
      async (settings) => {
        if (settings?.autoRecord !== true) return;
        await recordings.startRecording(room);
        room.setRecording(true);
        log.info({ sessionId }, 'session went live: automatic recording started');
      },
      (err: unknown) => log.error({ sessionId, err: (err as Error).message }, 'automatic recording did not start'),
    ).catch((err: unknown) => log.error({ sessionId, err: (err as Error).message }, 'automatic recording did not start'));
  };
  sessions.on('statusChanged', onStatus);
  return () => sessions.off('statusChanged', onStatus);
}

/** What the bridge needs of the invitation service: its revocations. */
export interface RevocationSource {
  on(event: 'revoked', listener: (e: { sessionId: string; jti: string }) => void): unknown;
  off(event: 'revoked', listener: (e: { sessionId: string; jti: string }) => void): unknown;
}

/**
 * A revoked or re-issued invitation disconnects the peer using it at once (security review M1),
 * instead of only being refused at its next join. Returns the unwiring function.
 */
export function bridgeRevocations(invitations: RevocationSource, live: LiveSessions, logger: Logger): () => void {
  const log = logger.child({ component: 'control-bridge' });
  const onRevoked = ({ sessionId, jti }: { sessionId: string; jti: string }) => {
    if (live.signaling.revokeToken(sessionId, jti)) log.info({ sessionId }, 'revoked invitation: its peer was disconnected');
  };
  invitations.on('revoked', onRevoked);
  return () => invitations.off('revoked', onRevoked);
}
