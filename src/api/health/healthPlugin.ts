import type { FastifyPluginAsync } from 'fastify';
import type { WorkerPool } from '../../sfu/WorkerPool.ts';

export interface HealthDeps {
  ping(): Promise<boolean>;
  pool: Pick<WorkerPool, 'workers' | 'size' | 'allAlive' | 'addresses'>;
}

const readySchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    database: { type: 'string', enum: ['ok', 'unreachable'] },
    workers: {
      type: 'object',
      properties: { total: { type: 'integer' }, alive: { type: 'integer' } },
      required: ['total', 'alive'],
    },
    // Where browsers send media, so a technician sees at once what a commune PC is told.
    media: {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['configured', 'listen-ip', 'per-connection'] },
        addresses: { type: 'array', items: { type: 'string' } },
        ports: { type: 'array', items: { type: 'integer' } },
      },
      required: ['mode', 'addresses', 'ports'],
    },
  },
  required: ['status', 'database', 'workers', 'media'],
} as const;

/**
 * Probes for a supervisor or load balancer: /healthz says the process answers; /readyz says it can
 * serve sessions (database reachable and every mediasoup worker alive), 503 otherwise.
 */
export const healthPlugin: FastifyPluginAsync<HealthDeps> = async (app, deps) => {
  app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({
    status: 'ok',
  }));

  app.get('/readyz', { schema: { response: { 200: readySchema, 503: readySchema } } }, async (_request, reply) => {
    const databaseOk = await deps.ping();
    const alive = deps.pool.workers.filter((w) => w.alive).length;
    const ready = databaseOk && deps.pool.allAlive;
    return reply.status(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      database: databaseOk ? 'ok' : 'unreachable',
      workers: { total: deps.pool.size, alive },
      media: { ...deps.pool.addresses.summary(), ports: deps.pool.workers.map((w) => w.webRtcPort) },
    });
  });
};
