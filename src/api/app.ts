import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logging/logger.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { installErrorHandling } from './errors.ts';
import { AccessLog } from './accessLog.ts';
import { healthPlugin } from './health/healthPlugin.ts';
import { webPlugin } from './web/webPlugin.ts';
import { loopbackPlugin } from './web/loopbackPlugin.ts';
import type { TokenSigner } from '../tokens/tokenSigner.ts';
import { devSessionsRoute, liveSessionsPlugin, type LiveSessions } from '../signaling/liveSessions.ts';
import { controlApiPlugin } from './control/controlApiPlugin.ts';
import type { ControlServices } from '../domain/controlServices.ts';
import { recordingsPlugin } from './recordings/recordingsPlugin.ts';
import { installAccessControl, type RouteEntry } from './control/access.ts';
import type { RecordingService } from '../recording/recordingService.ts';
import { sessionCaseTypesFromDb } from '../recording/access/denouncerRule.ts';
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
  control?: { services: ControlServices; dataDir: string; publicOrigin: string };
  /** Recordings: /api/v1/recordings (needs `control` for authentication). */
  recordings?: RecordingService;
  /** GET /metrics (Prometheus) and request durations; token: METRICS_TOKEN (unset: loopback only). */
  metrics?: { token: string | undefined; dataDir: string };
  /** Filled with every route and its access rule (the role-matrix test reads it). */
  routeTable?: RouteEntry[];
}

/** Builds the HTTP application: each feature is a fastify plugin with its own routes and schemas. */
export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    logController: new AccessLog(),
    ...(services.https ? { https: services.https } : {}),
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  const signer = services.tokenSigner;
  const live = services.live;
  const control = services.control?.services;
  // First, on the root: every route registered after this is checked by the one access hook.
  installAccessControl(app, {
    ...(control ? { bearer: (token: string) => control.auth.authenticateBearer(token), apiKey: (key: string) => control.auth.authenticateApiKey(key) } : {}),
    ...(signer ? { liveInvitation: { verify: (token: string) => signer.verify(token), standing: async (claims) => (live ? live.directory.tokenStanding(claims) : 'unknown') } } : {}),
    devRoutes: live?.devSessions === true,
    ...(services.routeTable ? { routeTable: services.routeTable } : {}),
  });
  if (services.https) {
    // Security review L14: once a browser reached us over HTTPS it never tries plain HTTP again (a
    // year). No includeSubDomains: the province's other hosts under the same name are not ours.
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('strict-transport-security', 'max-age=31536000');
    });
  }
  if (services.metrics) {
    const metrics = createMetrics({ pool: services.pool, rooms: services.live?.rooms, recordings: services.recordings, dataDir: services.metrics.dataDir, logger: services.logger });
    installMetrics(app, metrics, services.metrics.token);
  }
  await app.register(healthPlugin, { ping: () => services.database.ping(), pool: services.pool });
  await app.register(webPlugin, { caCertPem: services.tlsCaPem });
  if (live) await app.register(liveSessionsPlugin, { live });
  const recordings = services.recordings;
  // Every feature with an API sits in the control API's scope: validated by zod, in /openapi.json.
  const features = async (scope: FastifyInstance) => {
    if (signer) await scope.register(loopbackPlugin, { pool: services.pool });
    const dev = live ? devSessionsRoute(live) : undefined;
    if (dev) await scope.register(dev.plugin, dev.options);
    if (recordings && control) {
      await scope.register(recordingsPlugin, {
        recordings,
        sessionBridgePoints: async (sessionId) => (await control.sessions.get(sessionId)).bridgePointIds,
        caseTypes: sessionCaseTypesFromDb(control.db),
      });
    }
  };
  if (services.control) await app.register(controlApiPlugin, { services: services.control.services, dataDir: services.control.dataDir, publicOrigin: services.control.publicOrigin, features });
  else await app.register(features);
  return app;
}
