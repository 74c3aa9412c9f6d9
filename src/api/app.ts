import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logging/logger.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { installErrorHandling } from './errors.ts';
import { healthPlugin } from './health/healthPlugin.ts';
import { webPlugin } from './web/webPlugin.ts';
import { loopbackPlugin } from './web/loopbackPlugin.ts';
import type { TokenSigner } from '../tokens/tokenSigner.ts';
import { liveSessionsPlugin, type LiveSessions } from '../signaling/liveSessions.ts';
import { controlApiPlugin } from './control/controlApiPlugin.ts';
import type { ControlServices } from '../domain/controlServices.ts';
import { authenticateWith, recordingsPlugin } from './recordings/recordingsPlugin.ts';
import type { RecordingService } from '../recording/recordingService.ts';
import { sessionCaseTypesFromDb } from '../recording/access/denouncerRule.ts';
import { isApiKey } from '../domain/auth/authService.ts';
import { createMetrics } from '../ops/metrics/metrics.ts';
import { installMetrics } from '../ops/metrics/metricsRoute.ts';

export interface AppServices {
  logger: Logger;
  database: DatabaseHandle;
  pool: WorkerPool;
  /** Key and certificate: the app then serves HTTPS (and WSS). */
  https?: { key: Buffer; cert: Buffer };
  /** The generated local CA certificate, offered for download at /tls/ca.crt. */
  tlsCaPem?: string;
  /** Verifies invitation tokens (the pre-flight loopback test is authorised by one). */
  tokenSigner?: TokenSigner;
  /** Live sessions: /ws signaling, the browser client, and (DEV_SESSIONS) the dev session route. */
  live?: LiveSessions;
  /** The control API (/api/v1, /openapi.json, /docs); dataDir receives the first admin's password. */
  control?: { services: ControlServices; dataDir: string };
  /** Recordings: /api/v1/recordings (needs `control` for authentication). */
  recordings?: RecordingService;
  /** GET /metrics (Prometheus) and request durations; token: METRICS_TOKEN (unset: loopback only). */
  metrics?: { token: string | undefined; dataDir: string };
}

/** Builds the HTTP application: each feature is a fastify plugin with its own routes and schemas. */
export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    ...(services.https ? { https: services.https } : {}),
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  if (services.metrics) {
    const metrics = createMetrics({ pool: services.pool, rooms: services.live?.rooms, recordings: services.recordings, dataDir: services.metrics.dataDir, logger: services.logger });
    installMetrics(app, metrics, services.metrics.token);
  }
  await app.register(healthPlugin, { ping: () => services.database.ping(), pool: services.pool });
  await app.register(webPlugin, { caCertPem: services.tlsCaPem });
  const signer = services.tokenSigner;
  const live = services.live;
  if (signer) await app.register(loopbackPlugin, { pool: services.pool, verifyToken: (token) => signer.verify(token), ...(live ? { isTokenRevoked: (jti: string) => live.directory.isTokenRevoked(jti) } : {}) });
  if (services.live) await app.register(liveSessionsPlugin, { live: services.live });
  if (services.control) await app.register(controlApiPlugin, { services: services.control.services, dataDir: services.control.dataDir });
  if (services.recordings && services.control) {
    const control = services.control.services;
    await app.register(recordingsPlugin, {
      recordings: services.recordings,
      authenticate: authenticateWith(control.auth, isApiKey),
      sessionBridgePoints: async (sessionId) => (await control.sessions.get(sessionId)).bridgePointIds,
      caseTypes: sessionCaseTypesFromDb(control.db),
    });
  }
  return app;
}
