import type { SessionDirectory } from '../domain/sessionDirectory.ts';
import type { Actor } from '../domain/common/roles.ts';
import type { SessionStatus } from '../domain/sessions/lifecycle.ts';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { RecordableSession } from '../recording/recordableSession.ts';
import type { Room } from './Room.ts';
import type { Rooms } from './Rooms.ts';

/** What the policy needs of the recorder (RecordingService in production; a stand-in in signaling tests). */
export interface Recorder {
  /** `actor` is who asked (the recorder audits it); absent for the automatic start. */
  startRecording(session: RecordableSession, actor?: Actor): Promise<unknown>;
  /** `reason` is required of a person (recording is mandatory, N154 Art 24(1)); the recorder refuses without. */
  stopRecording(sessionId: string, actor: Actor, reason: string): Promise<unknown>;
  /** Non-null while a recorder runs for the session. */
  liveState(sessionId: string): unknown;
}

/** The recorder's events the rooms must show (recording on/off banner, disk warning for hosts). */
export interface RecorderEvents {
  on(event: 'recordingStarted' | 'recordingStopped', listener: (e: { sessionId: string }) => void): unknown;
  on(event: 'diskWarning', listener: (e: { sessionId: string; freeBytes: number }) => void): unknown;
  off(event: 'recordingStarted' | 'recordingStopped', listener: (e: { sessionId: string }) => void): unknown;
  off(event: 'diskWarning', listener: (e: { sessionId: string; freeBytes: number }) => void): unknown;
}

/** The control API's life-cycle events (SessionService `statusChanged`). */
export interface SessionStatusSource {
  on(event: 'statusChanged', listener: (e: { sessionId: string; from: SessionStatus; to: SessionStatus }) => void): unknown;
  off(event: 'statusChanged', listener: (e: { sessionId: string; from: SessionStatus; to: SessionStatus }) => void): unknown;
}

/**
 * Automatic recording is for the session itself, not its pre-flight tests or rehearsal: the
 * session must record automatically and be live (a directory without a life-cycle, the in-memory
 * development one, counts as live).
 */
export function recordsAutomatically(settings: { autoRecord: boolean; live?: boolean | undefined }): boolean {
  return settings.autoRecord && settings.live !== false;
}

/**
 * When a session records, in one place: automatically when a room opens on a live session that
 * records automatically, or when such a session goes live with its room already open (after the
 * rehearsal); by the host's start and stop (the recorder's own refusals, e.g.
 * RECORDING_STOP_REASON_REQUIRED, are the host's error reply); and whether participants may record
 * in their own browsers (the chair's `participantRecordingAllowed`, read at each request: the
 * chair may change it during the session). The composition root (src/server.ts) wires it.
 */
export class RecordingPolicy {
  readonly #directory: SessionDirectory;
  readonly #logger: Logger;
  /** The recorder (set when the server wires it; without one, startRecording answers RECORDING_UNAVAILABLE). */
  recorder: Recorder | undefined;

  constructor(options: { directory: SessionDirectory; logger: Logger; recorder?: Recorder | undefined }) {
    this.#directory = options.directory;
    this.#logger = options.logger.child({ component: 'recording-policy' });
    this.recorder = options.recorder;
  }

  #require(): Recorder {
    if (this.recorder === undefined) throw new TiepdanError('RECORDING_UNAVAILABLE', 'recording is not available on this server');
    return this.recorder;
  }

  /** The host starts the recording; every peer is told (`sessionState`). */
  async hostStart(room: Room, actor: Actor): Promise<void> {
    await this.#require().startRecording(room, actor);
    room.setRecording(true);
  }

  /** The host stops the recording, with its reason. */
  async hostStop(room: Room, actor: Actor, reason: string): Promise<void> {
    await this.#require().stopRecording(room.id, actor, reason);
    room.setRecording(false);
  }

  /** Error LOCAL_RECORDING_FORBIDDEN unless the chair allows participants to record this session. */
  async requireLocalRecordingAllowed(sessionId: string): Promise<void> {
    const settings = await this.#directory.get(sessionId);
    if (settings?.participantRecordingAllowed !== true) {
      throw new TiepdanError('LOCAL_RECORDING_FORBIDDEN', 'the chair does not allow participants to record this session');
    }
  }

  /** Starts the automatic recording of a room whose session records automatically (errors are logged). */
  async #autoStart(room: Room, why: string): Promise<void> {
    const recorder = this.recorder;
    if (recorder === undefined || room.closed || recorder.liveState(room.id) !== null) return;
    try {
      const settings = await this.#directory.get(room.id);
      if (settings === undefined || !recordsAutomatically(settings) || room.closed) return;
      await recorder.startRecording(room);
      room.setRecording(true);
      this.#logger.info({ sessionId: room.id }, `${why}: automatic recording started`);
    } catch (err) {
      this.#logger.error({ sessionId: room.id, err }, 'automatic recording did not start');
    }
  }

  /**
   * Wires the policy to the rooms, the recorder's events and the control API's life-cycle.
   * Returns the unwiring function.
   */
  wire(rooms: Rooms, recorder: Recorder & RecorderEvents, sessions?: SessionStatusSource): () => void {
    this.recorder = recorder;
    const onStarted = ({ sessionId }: { sessionId: string }) => rooms.get(sessionId)?.setRecording(true);
    const onStopped = ({ sessionId }: { sessionId: string }) => rooms.get(sessionId)?.setRecording(false);
    const onDisk = ({ sessionId, freeBytes }: { sessionId: string; freeBytes: number }) => rooms.get(sessionId)?.recordingWarning(freeBytes);
    const onRoom = (room: Room) => void this.#autoStart(room, 'room opened');
    const onStatus = ({ sessionId, to }: { sessionId: string; to: SessionStatus }) => {
      const room = to === 'live' ? rooms.get(sessionId) : undefined;
      if (room !== undefined) void this.#autoStart(room, 'session went live');
    };
    recorder.on('recordingStarted', onStarted);
    recorder.on('recordingStopped', onStopped);
    recorder.on('diskWarning', onDisk);
    rooms.on('roomOpened', onRoom);
    sessions?.on('statusChanged', onStatus);
    return () => {
      this.recorder = undefined;
      recorder.off('recordingStarted', onStarted);
      recorder.off('recordingStopped', onStopped);
      recorder.off('diskWarning', onDisk);
      rooms.off('roomOpened', onRoom);
      sessions?.off('statusChanged', onStatus);
    };
  }
}
