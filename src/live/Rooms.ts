import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { Room, type RoomSettings } from './Room.ts';

export type RoomsEvents = {
  /** A session went live in the media layer (the recording policy subscribes here). */
  roomOpened: [Room];
  roomClosed: [sessionId: string];
};

/**
 * The live rooms of this server, one per session id, opened on first join. Opening is
 * deduplicated so two peers joining at once share one room; `close()` closes every room.
 */
export class Rooms extends EventEmitter<RoomsEvents> {
  readonly #pool: WorkerPool;
  readonly #logger: Logger;
  readonly #rooms = new Map<string, Room>();
  readonly #opening = new Map<string, Promise<Room>>();
  #closed = false;
  readonly #spreadAboveLoad: number | undefined;

  constructor(pool: WorkerPool, logger: Logger, options: { spreadAboveLoad?: number | undefined } = {}) {
    super();
    this.#pool = pool;
    this.#logger = logger;
    this.#spreadAboveLoad = options.spreadAboveLoad;
  }

  get(sessionId: string): Room | undefined {
    return this.#rooms.get(sessionId);
  }

  list(): Room[] {
    return [...this.#rooms.values()];
  }

  async open(sessionId: string, settings: RoomSettings): Promise<Room> {
    const existing = this.#rooms.get(sessionId);
    if (existing !== undefined) return existing;
    let opening = this.#opening.get(sessionId);
    if (opening === undefined) {
      const options = { id: sessionId, settings, pool: this.#pool, logger: this.#logger, ...(this.#spreadAboveLoad === undefined ? {} : { spreadAboveLoad: this.#spreadAboveLoad }) };
      opening = Room.open(options).then(
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
