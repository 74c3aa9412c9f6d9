import type { Logger } from '../logging/logger.ts';
import type { RecordingService } from '../recording/recordingService.ts';
import type { SessionRoom } from '../sfu/SessionRoom.ts';
import type { LiveSessions } from './liveSessions.ts';

/** What the bridge needs of the recording service. */
export type RecordingsPort = Pick<RecordingService, 'startRecording' | 'stopRecording' | 'on' | 'off'>;

/**
 * Wires the recorder to live sessions: the host's startRecording/stopRecording requests go to the
 * recording service; its recordingStarted/recordingStopped events become `sessionState` for every
 * peer and its diskWarning a `recordingWarning` for the hosts; sessions with `autoRecord` start
 * recording when they go live. Returns the unwiring function.
 */
export function bridgeRecording(live: LiveSessions, recordings: RecordingsPort, logger: Logger): () => void {
  const log = logger.child({ component: 'recording-bridge' });
  live.signaling.recording = {
    start: async (room, actor) => {
      await recordings.startRecording(room, actor);
      room.setRecording(true);
    },
    stop: async (room, actor) => {
      await recordings.stopRecording(room.id, actor);
      room.setRecording(false);
    },
  };
  const onStarted = ({ sessionId }: { sessionId: string }) => live.rooms.get(sessionId)?.setRecording(true);
  const onStopped = ({ sessionId }: { sessionId: string }) => live.rooms.get(sessionId)?.setRecording(false);
  const onDisk = ({ sessionId, freeBytes }: { sessionId: string; freeBytes: number }) => live.rooms.get(sessionId)?.recordingWarning(freeBytes);
  const onRoom = (room: SessionRoom) => {
    if (room.settings.autoRecord !== true) return;
    recordings.startRecording(room).then(
      () => room.setRecording(true),
      (err: unknown) => log.error({ sessionId: room.id, err: (err as Error).message }, 'automatic recording did not start'),
    );
  };
  recordings.on('recordingStarted', onStarted);
  recordings.on('recordingStopped', onStopped);
  recordings.on('diskWarning', onDisk);
  live.rooms.on('roomOpened', onRoom);
  return () => {
    live.signaling.recording = undefined;
    recordings.off('recordingStarted', onStarted);
    recordings.off('recordingStopped', onStopped);
    recordings.off('diskWarning', onDisk);
    live.rooms.off('roomOpened', onRoom);
  };
}
