import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.ts';

export interface PoolWorkerSettings {
  index: number;
  workerBin: string;
  logLevel: types.WorkerLogLevel;
  /** What the media sockets bind; the ICE candidates' addresses are AnnouncedAddresses' business. */
  listenIp: string;
  /** UDP and TCP port of this worker's WebRtcServer. */
  webRtcPort: number;
  rtcMinPort: number;
  rtcMaxPort: number;
}

/** Receive buffer asked for the WebRtcServer's sockets (see start()). */
export const MEDIA_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export type PoolWorkerEvents = {
  /** The worker process died unexpectedly (not through close()). */
  died: [error: Error];
};

/**
 * One mediasoup worker process of the pool with its WebRtcServer (one UDP and one TCP port, so a
 * provincial firewall needs only two ports per worker) and a load figure used for placement.
 */
export class PoolWorker extends EventEmitter<PoolWorkerEvents> {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  readonly webRtcPort: number;
  #routers = 0;
  #mediaEntities = 0;
  // Split out for /metrics (src/ops/metrics): producers cost receive work, consumers send work.
  #producers = 0;
  #consumers = 0;
  #closed = false;
  #alive = true;

  private constructor(index: number, worker: types.Worker, webRtcServer: types.WebRtcServer, webRtcPort: number, logger: Logger) {
    super();
    this.index = index;
    this.worker = worker;
    this.webRtcServer = webRtcServer;
    this.webRtcPort = webRtcPort;
    worker.on('died', (error) => {
      this.#alive = false;
      if (this.#closed) return;
      logger.error({ err: error.message }, 'mediasoup worker died');
      this.emit('died', error);
    });
    // Load is counted from mediasoup's observers, so every router, producer and consumer made on
    // this worker counts, whoever created it.
    worker.observer.on('newrouter', (router) => {
      this.#routers++;
      router.observer.once('close', () => this.#routers--);
      router.observer.on('newtransport', (transport) => {
        transport.observer.on('newproducer', (producer) => {
          this.#mediaEntities++;
          this.#producers++;
          producer.observer.once('close', () => {
            this.#mediaEntities--;
            this.#producers--;
          });
        });
        transport.observer.on('newconsumer', (consumer) => {
          this.#mediaEntities++;
          this.#consumers++;
          consumer.observer.once('close', () => {
            this.#mediaEntities--;
            this.#consumers--;
          });
        });
      });
    });
  }

  static async start(settings: PoolWorkerSettings, logger: Logger): Promise<PoolWorker> {
    const worker = await mediasoup.createWorker({
      workerBin: settings.workerBin,
      logLevel: settings.logLevel,
      rtcMinPort: settings.rtcMinPort,
      rtcMaxPort: settings.rtcMaxPort,
      appData: { index: settings.index },
    });
    try {
      // One UDP socket carries every peer of the worker: at a province's size (100+ points, ~2,000
      // packets/s in) the kernel's default 208 KiB receive buffer holds ~50 ms of media, so a
      // worker briefly off-CPU drops packets (seen as RcvbufErrors and loss in bench/load.ts).
      // Linux caps the request at net.core.rmem_max silently; nothing fails if it is lower. Only the
      // receive side: a bigger send buffer lets a thin commune downlink's queue grow instead of
      // dropping early, and its bandwidth estimate then lags (250 kbps: 12.8 fps with a 7.8 s freeze,
      // against 19.3 fps and none with the default; npm run bench network -- --only down-250).
      const listen = { ip: settings.listenIp, port: settings.webRtcPort, recvBufferSize: MEDIA_SOCKET_BUFFER_BYTES };
      const webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ...listen },
          { protocol: 'tcp', ...listen },
        ],
      });
      const child = logger.child({ workerIndex: settings.index, workerPid: worker.pid });
      child.info({ webRtcPort: settings.webRtcPort }, 'mediasoup worker started');
      return new PoolWorker(settings.index, worker, webRtcServer, settings.webRtcPort, child);
    } catch (err) {
      worker.close();
      throw err;
    }
  }

  get pid(): number {
    return this.worker.pid;
  }

  get alive(): boolean {
    return this.#alive && !this.worker.closed;
  }

  get routerCount(): number {
    return this.#routers;
  }

  /** Producers and consumers on this worker: what costs CPU when forwarding. */
  get load(): number {
    return this.#mediaEntities;
  }

  get producerCount(): number {
    return this.#producers;
  }

  get consumerCount(): number {
    return this.#consumers;
  }

  close(): void {
    this.#closed = true;
    this.worker.close();
  }
}
