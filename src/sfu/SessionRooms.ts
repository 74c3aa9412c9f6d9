import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger.ts';
import type { WorkerPool } from './WorkerPool.ts';
import { SessionRoom, type SessionRoomSettings } from './SessionRoom.ts';

export type SessionRoomsEvents = {
  /** A session went live in the media layer (the recorder subscribes here). */
  roomOpened: [SessionRoom];
  roomClosed: [sessionId: string];
};

/**
 * The live session rooms of this server, one per session id, opened on first join. Opening is
 * deduplicated so two peers joining at once share one room.
 */
export class SessionRooms extends EventEmitter<SessionRoomsEvents> {
  readonly #pool: WorkerPool;
  readonly #logger: Logger;
  readonly #rooms = new Map<string, SessionRoom>();
  readonly #opening = new Map<string, Promise<SessionRoom>>();
  #closed = false;
  readonly #spreadAboveLoad: number | undefined;

  constructor(pool: WorkerPool, logger: Logger, options: { spreadAboveLoad?: number } = {}) {
    super();
    this.#pool = pool;
    this.#logger = logger;
    this.#spreadAboveLoad = options.spreadAboveLoad;
  }

  get(sessionId: string): SessionRoom | undefined {
    return this.#rooms.get(sessionId);
  }

  list(): SessionRoom[] {
    return [...this.#rooms.values()];
  }

  async open(sessionId: string, settings: SessionRoomSettings): Promise<SessionRoom> {
    const existing = this.#rooms.get(sessionId);
    if (existing !== undefined) return existing;
    let opening = this.#opening.get(sessionId);
    if (opening === undefined) {
      opening = SessionRoom.open({ id: sessionId, settings, pool: this.#pool, logger: this.#logger, spreadAboveLoad: this.#spreadAboveLoad }).then(
        (room) => {
          this.#opening.delete(sessionId);
          this.#rooms.set(sessionId, room);
          room.once('ended', () => {
            if (this.#rooms.get(sessionId) === room) this.#rooms.delete(sessionId);
            this.emit('roomClosed', sessionId);
          });
          if (this.#closed) room.close();
          else this.emit('roomOpened', room);
          return room;
        },
        (err: unknown) => {
          this.#opening.delete(sessionId);
          throw err;
        },
      );
      this.#opening.set(sessionId, opening);
    }
    return opening;
  }

  close(): void {
    this.#closed = true;
    for (const room of [...this.#rooms.values()]) room.close();
  }
}
