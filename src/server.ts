import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import { buildApp } from './api/app.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import type { Logger } from './logging/logger.ts';
import { resolveWorkerBinary } from './sfu/workerBinary.ts';
import { WorkerPool } from './sfu/WorkerPool.ts';

/**
 * The composition root: starts the database (embedded unless DATABASE_URL is set), applies
 * migrations, starts the worker pool and the HTTP server; stop() undoes it in reverse order.
 */
export class TiepdanServer {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly pool: WorkerPool;
  readonly app: FastifyInstance;
  #stopping: Promise<void> | undefined;

  private constructor(config: Config, logger: Logger, database: DatabaseHandle, pool: WorkerPool, app: FastifyInstance) {
    this.config = config;
    this.logger = logger;
    this.database = database;
    this.pool = pool;
    this.app = app;
  }

  static async start(config: Config, logger: Logger): Promise<TiepdanServer> {
    const started = Date.now();
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    // Resolve the worker first: a missing binary is the likeliest install problem, report it before anything starts.
    const workerBinary = resolveWorkerBinary(config.mediasoup.workerBin);
    logger.info({ workerBin: workerBinary.path, source: workerBinary.source }, 'mediasoup worker binary');

    const database = await openDatabase({
      url: config.database.url,
      dataDir: config.dataDir,
      embeddedPort: config.database.embeddedPort,
      logger,
    });
    let pool: WorkerPool | undefined;
    try {
      await migrateToLatest(database.db, logger);
      pool = await WorkerPool.start(
        {
          numWorkers: config.mediasoup.numWorkers,
          workerBin: workerBinary.path,
          logLevel: config.mediasoup.logLevel,
          listenIp: config.mediasoup.listenIp,
          announcedAddress: config.mediasoup.announcedAddress,
          webRtcPortBase: config.mediasoup.webRtcPortBase,
          rtcMinPort: config.mediasoup.rtcMinPort,
          rtcMaxPort: config.mediasoup.rtcMaxPort,
          respawnDelayMs: config.mediasoup.respawnDelayMs,
        },
        logger,
      );
      const app = await buildApp({ logger, database, pool });
      await app.listen({ host: config.http.host, port: config.http.port });
      const server = new TiepdanServer(config, logger, database, pool, app);
      logger.info({ url: server.url, ms: Date.now() - started }, 'tiepdan ready');
      return server;
    } catch (err) {
      pool?.close();
      await database.close();
      throw err;
    }
  }

  /** Base URL of the HTTP server (with the real port when PORT=0 was asked for). */
  get url(): string {
    const address = this.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : this.config.http.port;
    const host = this.config.http.host === '0.0.0.0' ? '127.0.0.1' : this.config.http.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** Graceful stop: no new requests, close the media workers, then the database. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.logger.info('shutting down');
      await this.app.close();
      this.pool.close();
      await this.database.close();
      this.logger.info('stopped');
    })();
    return this.#stopping;
  }
}
