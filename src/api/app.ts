import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logging/logger.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { installErrorHandling } from './errors.ts';
import { healthPlugin } from './health/healthPlugin.ts';

export interface AppServices {
  logger: Logger;
  database: DatabaseHandle;
  pool: WorkerPool;
}

/** Builds the HTTP application: each feature is a fastify plugin with its own routes and schemas. */
export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Keep request logs short: method, URL and status; headers may carry credentials.
    disableRequestLogging: false,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  });
  installErrorHandling(app);
  await app.register(healthPlugin, { ping: () => services.database.ping(), pool: services.pool });
  return app;
}
