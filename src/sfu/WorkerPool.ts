import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { AnnouncedAddresses } from './announcedAddresses.ts';
import { PoolWorker } from './PoolWorker.ts';

export interface WorkerPoolOptions {
  numWorkers: number;
  workerBin: string;
  logLevel: types.WorkerLogLevel;
  listenIp: string;
  /** RTC_ANNOUNCED_ADDRESS (empty: chosen per connection, see AnnouncedAddresses). */
  announcedAddresses: readonly string[];
  /** Worker i's WebRtcServer listens on UDP and TCP port webRtcPortBase + i. */
  webRtcPortBase: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** Delay before a dead worker is replaced (its ports must be released first). */
  respawnDelayMs: number;
}

export type WorkerPoolEvents = {
  /** A worker died; routers on it are gone. Sessions on it must rebuild after `workerreplaced`. */
  workerdied: [event: { index: number; pid: number; error: Error }];
  /** A replacement worker is up at the same index (same WebRtcServer ports). */
  workerreplaced: [event: { index: number; pid: number; previousPid: number }];
};

/**
 * The pool of mediasoup workers: one per core by default, each with its WebRtcServer. Routers go
 * on the least-loaded live worker. A worker that dies is logged, announced, and replaced within
 * seconds; the session layer listens to rebuild its rooms.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #logger: Logger;
  readonly #slots: (PoolWorker | undefined)[];
  #closed = false;
  readonly #respawnTimers = new Set<NodeJS.Timeout>();
  /** Where browsers send media: the addresses every transport of this pool announces. */
  readonly addresses: AnnouncedAddresses;

  private constructor(options: WorkerPoolOptions, logger: Logger) {
    super();
    this.#options = options;
    this.addresses = new AnnouncedAddresses({ listenIp: options.listenIp, announced: options.announcedAddresses });
    this.#logger = logger;
    this.#slots = new Array<PoolWorker | undefined>(options.numWorkers).fill(undefined);
  }

  static async start(options: WorkerPoolOptions, logger: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(options, logger.child({ component: 'worker-pool' }));
    try {
      await Promise.all(pool.#slots.map((_, index) => pool.#spawn(index)));
    } catch (err) {
      pool.close();
      throw new TiepdanError('WORKER_START_FAILED', `mediasoup workers did not start: ${(err as Error).message}`, { cause: err });
    }
    const media = pool.addresses.summary();
    pool.#logger.info(
      { workers: options.numWorkers, ports: `${options.webRtcPortBase}-${options.webRtcPortBase + options.numWorkers - 1}`, announced: media },
      media.mode === 'per-connection'
        ? `worker pool ready; media announced per connection: the address each browser reached, then ${media.addresses.join(', ')}`
        : `worker pool ready; media announced on ${media.addresses.join(', ')}`,
    );
    return pool;
  }

  async #spawn(index: number): Promise<PoolWorker> {
    const worker = await PoolWorker.start(
      {
        index,
        workerBin: this.#options.workerBin,
        logLevel: this.#options.logLevel,
        listenIp: this.#options.listenIp,
        webRtcPort: this.#options.webRtcPortBase + index,
        rtcMinPort: this.#options.rtcMinPort,
        rtcMaxPort: this.#options.rtcMaxPort,
      },
      this.#logger,
    );
    if (this.#closed) {
      worker.close();
      throw new TiepdanError('WORKER_POOL_CLOSED', 'worker pool closed');
    }
    this.#slots[index] = worker;
    worker.once('died', (error) => this.#onDied(worker, error));
    return worker;
  }

  #onDied(worker: PoolWorker, error: Error): void {
    this.emit('workerdied', { index: worker.index, pid: worker.pid, error });
    this.#scheduleRespawn(worker.index, worker.pid, this.#options.respawnDelayMs, 1);
  }

  #scheduleRespawn(index: number, previousPid: number, delayMs: number, attempt: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#respawnTimers.delete(timer);
      this.#spawn(index).then(
        (replacement) => {
          this.#logger.warn({ workerIndex: index, previousPid, pid: replacement.pid, attempt }, 'mediasoup worker replaced');
          this.emit('workerreplaced', { index, pid: replacement.pid, previousPid });
        },
        (err: unknown) => {
          if (this.#closed) return;
          // Typically the dead worker's ports are not yet free: back off, up to 10 s between tries.
          const next = Math.min(10_000, Math.max(500, delayMs * 2));
          this.#logger.error({ workerIndex: index, err: (err as Error).message, retryInMs: next }, 'worker respawn failed');
          this.#scheduleRespawn(index, previousPid, next, attempt + 1);
        },
      );
    }, delayMs);
    this.#respawnTimers.add(timer);
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Workers currently in the pool (a dead one stays listed, not alive, until replaced). */
  get workers(): readonly PoolWorker[] {
    return this.#slots.filter((w): w is PoolWorker => w !== undefined);
  }

  /** True when every slot holds a live worker. */
  get allAlive(): boolean {
    return this.#slots.every((w) => w !== undefined && w.alive);
  }

  /** The live worker with the least producers+consumers (then fewest routers). */
  leastLoaded(): PoolWorker {
    let best: PoolWorker | undefined;
    for (const w of this.#slots) {
      if (w === undefined || !w.alive) continue;
      if (best === undefined || w.load < best.load || (w.load === best.load && w.routerCount < best.routerCount)) best = w;
    }
    if (best === undefined) throw new TiepdanError('NO_WORKER_AVAILABLE', 'no mediasoup worker is alive');
    return best;
  }

  /** Creates a router on the least-loaded live worker. */
  async createRouter(options: types.RouterOptions): Promise<{ router: types.Router; worker: PoolWorker }> {
    if (this.#closed) throw new TiepdanError('WORKER_POOL_CLOSED', 'worker pool closed');
    const worker = this.leastLoaded();
    const router = await worker.worker.createRouter(options);
    return { router, worker };
  }

  /** Closes every worker (and with them every router, transport, producer and consumer). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#respawnTimers) clearTimeout(t);
    this.#respawnTimers.clear();
    for (const w of this.#slots) w?.close();
    this.#logger.info('worker pool closed');
  }
}
