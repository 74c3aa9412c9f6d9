import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { PoolWorker } from '../sfu/PoolWorker.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { SESSION_MEDIA_CODECS } from './media.ts';

/** One router of the session and the worker it lives on; slot 0 is the primary (recorder, observers). */
export interface RouterSlot {
  router: types.Router;
  worker: PoolWorker;
}

export type RoomRoutersEvents = {
  /** The routers went with a worker: every transport, producer and consumer of the room is gone. */
  lost: [];
  /** New routers stand (on another worker): clients must set their media up again. */
  rebuilt: [routerRtpCapabilities: types.RtpCapabilities];
  dominantSpeaker: [peerId: string];
  /** The loudest producers' peers (empty: silence). */
  audioLevels: [levels: { peerId: string; volume: number }[]];
};

/**
 * What a room needs of its media placement: RoomRouters on real workers, or a fake in the fast
 * tests of room rules (src/live/*.test.ts) where no media flows.
 */
export interface RoomMedia extends EventEmitter<RoomRoutersEvents> {
  readonly rebuilds: number;
  readonly router: types.Router;
  readonly worker: PoolWorker;
  readonly workers: PoolWorker[];
  ready(): Promise<void>;
  slotOf(peerId: string): RouterSlot | undefined;
  slotFor(peerId: string): Promise<RouterSlot>;
  spread(home: RouterSlot, producer: types.Producer): Promise<types.Producer>;
  observeAudio(producer: types.Producer): void;
  /** The ICE candidates a transport announces to a browser that reached `reachedAddress`. */
  candidatesFor(candidates: types.IceCandidate[], reachedAddress: string | undefined): types.IceCandidate[];
  close(): void;
}

export interface RoomRoutersOptions {
  sessionId: string;
  pool: WorkerPool;
  logger: Logger;
  /**
   * When the worker under the session's routers carries this many producers+consumers, new peers
   * go to a router on another worker and media is piped between the routers (pipeToRouter).
   */
  spreadAboveLoad: number;
  /** Every producer of the room with its owner, to pipe them to a router added later. */
  producers: () => Iterable<{ peerId: string; producer: types.Producer }>;
}

/**
 * Where a room's media lives: a primary router on the least-loaded worker (with the speaker and
 * level observers the room broadcasts), more routers on other workers once the first is busy
 * (producers piped between them), and a rebuild on another worker when a worker dies.
 */
export class RoomRouters extends EventEmitter<RoomRoutersEvents> implements RoomMedia {
  readonly #options: RoomRoutersOptions;
  readonly #logger: Logger;
  #slots: RouterSlot[] = [];
  readonly #peerSlots = new Map<string, RouterSlot>();
  #slotOpening: Promise<RouterSlot> | undefined;
  #activeSpeaker!: types.ActiveSpeakerObserver;
  #audioLevels!: types.AudioLevelObserver;
  #rebuilding: Promise<void> | undefined;
  #closed = false;
  #rebuilds = 0;

  private constructor(options: RoomRoutersOptions) {
    super();
    this.#options = options;
    this.#logger = options.logger;
  }

  static async open(options: RoomRoutersOptions): Promise<RoomRouters> {
    const routers = new RoomRouters(options);
    await routers.#build();
    return routers;
  }

  /** Times the routers were rebuilt after a worker death. */
  get rebuilds(): number {
    return this.#rebuilds;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The primary router: every producer of the session is available here (piped if need be). */
  get router(): types.Router {
    return this.#slots[0]!.router;
  }

  /** The worker of the primary router. */
  get worker(): PoolWorker {
    return this.#slots[0]!.worker;
  }

  /** Workers the session currently spans (more than one once it outgrew the first). */
  get workers(): PoolWorker[] {
    return this.#slots.map((s) => s.worker);
  }

  async #build(): Promise<void> {
    const { pool, sessionId } = this.#options;
    let placed: RouterSlot | undefined;
    while (placed === undefined) {
      try {
        placed = await pool.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS, appData: { sessionId } });
      } catch (err) {
        // Every worker down (one-worker installs): wait for the replacement, then try again.
        if (!(err instanceof TiepdanError) || err.code !== 'NO_WORKER_AVAILABLE' || this.#closed) throw err;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          pool.once('workerreplaced', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    const { router } = placed;
    if (this.#closed) {
      router.close();
      return;
    }
    this.#slots = [placed];
    this.#peerSlots.clear();
    router.on('workerclose', () => this.#onRouterLost());
    this.#activeSpeaker = await router.createActiveSpeakerObserver({ interval: 300 });
    this.#activeSpeaker.on('dominantspeaker', ({ producer }) => {
      const peerId = producer.appData.peerId;
      if (typeof peerId === 'string') this.emit('dominantSpeaker', peerId);
    });
    this.#audioLevels = await router.createAudioLevelObserver({ maxEntries: 16, threshold: -70, interval: 800 });
    this.#audioLevels.on('volumes', (volumes) => {
      this.emit('audioLevels', volumes.map((v) => ({ peerId: String(v.producer.appData.peerId), volume: v.volume })));
    });
    this.#audioLevels.on('silence', () => this.emit('audioLevels', []));
  }

  #onRouterLost(): void {
    if (this.#closed || this.#rebuilding !== undefined) return;
    this.#logger.warn({ workerIndex: this.worker.index }, 'session router lost with its worker; rebuilding');
    // The room forgets its peers' media first, so the routers' close below reports nothing twice.
    this.emit('lost');
    // Whichever router went, the whole session is rebuilt: simpler, and the same for every client.
    const slots = this.#slots;
    this.#slots = [];
    this.#peerSlots.clear();
    for (const slot of slots) slot.router.close();
    this.#rebuilding = (async () => {
      // Let the pool mark the dead worker first so the router goes elsewhere.
      await new Promise((r) => setImmediate(r));
      await this.#build();
      this.#rebuilds++;
      this.#logger.info({ workerIndex: this.worker.index }, 'session router rebuilt');
      this.emit('rebuilt', this.router.rtpCapabilities);
    })().finally(() => {
      this.#rebuilding = undefined;
    });
    this.#rebuilding.catch((err: unknown) => this.#logger.error({ err }, 'session rebuild failed'));
  }

  /** Waits for a rebuild in progress, so requests made meanwhile land on the new router. */
  async ready(): Promise<void> {
    if (this.#rebuilding !== undefined) await this.#rebuilding;
  }

  /** The router a peer's transports live on, if it has one yet. */
  slotOf(peerId: string): RouterSlot | undefined {
    return this.#peerSlots.get(peerId);
  }

  /** The router a peer's transports live on, chosen at its first transport. */
  async slotFor(peerId: string): Promise<RouterSlot> {
    const assigned = this.#peerSlots.get(peerId);
    if (assigned !== undefined && this.#slots.includes(assigned)) return assigned;
    let slot = this.#slots.find((s) => s.worker.alive && s.worker.load < this.#options.spreadAboveLoad);
    if (slot === undefined) {
      this.#slotOpening ??= this.#openSlot().finally(() => {
        this.#slotOpening = undefined;
      });
      slot = await this.#slotOpening;
    }
    this.#peerSlots.set(peerId, slot);
    return slot;
  }

  /** Every router is busy: add one on the least-loaded worker and pipe every producer to it. */
  async #openSlot(): Promise<RouterSlot> {
    const worker = this.#options.pool.leastLoaded();
    const existing = this.#slots.find((s) => s.worker === worker);
    if (existing !== undefined) return existing;
    const router = await worker.worker.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS, appData: { sessionId: this.#options.sessionId } });
    router.on('workerclose', () => this.#onRouterLost());
    const slot = { router, worker };
    for (const { peerId, producer } of this.#options.producers()) {
      const from = this.#peerSlots.get(peerId);
      if (from === undefined) continue;
      await from.router.pipeToRouter({ producerId: producer.id, router }).catch((err: unknown) => {
        this.#logger.warn({ err }, 'pipe to new router failed');
      });
    }
    this.#slots.push(slot);
    this.#logger.info({ workerIndex: worker.index, routers: this.#slots.length }, 'session spread to another worker');
    return slot;
  }

  /**
   * Makes a new producer available on the session's other routers; returns it as seen on the
   * primary router (itself, or its pipe producer there) for the recorder.
   */
  async spread(home: RouterSlot, producer: types.Producer): Promise<types.Producer> {
    let onPrimary = producer;
    for (const slot of this.#slots) {
      if (slot === home) continue;
      try {
        const { pipeProducer } = await home.router.pipeToRouter({ producerId: producer.id, router: slot.router });
        if (slot === this.#slots[0] && pipeProducer !== undefined) onPrimary = pipeProducer;
      } catch (err) {
        this.#logger.warn({ err }, 'pipe to router failed');
      }
    }
    return onPrimary;
  }

  candidatesFor(candidates: types.IceCandidate[], reachedAddress: string | undefined): types.IceCandidate[] {
    return this.#options.pool.addresses.candidatesFor(candidates, reachedAddress);
  }

  /** Feeds an audio producer to the speaker and level observers. */
  observeAudio(producer: types.Producer): void {
    // Not awaited: the sender's next requests (its camera, its consumers' resumes) need not wait
    // for the speaker observers; the worker still handles them in this order.
    void this.#activeSpeaker.addProducer({ producerId: producer.id }).catch(() => undefined);
    void this.#audioLevels.addProducer({ producerId: producer.id }).catch(() => undefined);
  }

  /** Closes every router (mediasoup closes their transports, producers and consumers). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) slot.router.close();
  }
}
