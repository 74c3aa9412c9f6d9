import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { afterSittingRoutes } from '../afterSitting/afterSittingRoutes.ts';
import { apiKeyRoutes } from '../apiKeys/apiKeyRoutes.ts';
import { auditRoutes } from '../audit/auditRoutes.ts';
import { authRoutes } from '../auth/authRoutes.ts';
import { bridgePointRoutes } from '../bridgePoints/bridgePointRoutes.ts';
import { calendarRoutes } from '../calendar/calendarRoutes.ts';
import { caseRoutes } from '../cases/caseRoutes.ts';
import { joinCodeRoutes } from '../invitations/joinCodeRoutes.ts';
import { invitationRoutes } from '../invitations/invitationRoutes.ts';
import { preflightRoutes } from '../preflight/preflightRoutes.ts';
import { reportRoutes } from '../reports/reportRoutes.ts';
import { sessionRoutes } from '../sessions/sessionRoutes.ts';
import { settingsRoutes } from '../settings/settingsRoutes.ts';
import { userRoutes } from '../users/userRoutes.ts';

export const API_PREFIX = '/api/v1';

export interface ControlApiOptions {
  services: ControlServices;
  /** Where the first administrator's password is written on an empty database (unset: no bootstrap). */
  dataDir?: string;
  loginRateLimit?: { max: number; windowMs: number };
  /**
   * Other features' plugins (recordings, the pre-flight loopback, development routes), registered
   * inside this scope: the zod validator applies and /openapi.json lists them.
   */
  features?: (scope: FastifyInstance) => Promise<void>;
  /** The origin printed invitations link to (Config.publicOrigin; never the request's Host header). */
  publicOrigin: string;
}

/**
 * The control API under /api/v1, its OpenAPI document at /openapi.json and the browsable docs at
 * /docs. Encapsulated: the zod validator/serializer apply to these routes (and `features`). Who may
 * call each route is the root access hook's job (access.ts, installed by app.ts or the harness).
 */
export const controlApiPlugin: FastifyPluginAsync<ControlApiOptions> = async (app, options) => {
  const { services } = options;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tiepdan control API',
        version: '1.0.0',
        description:
          'Online citizen reception (tiếp công dân trực tuyến): bridge points, cases, sessions, approvals, invitations, pre-flight tests, audit and reports, following the province’s regulation (Quy chế) and NĐ 154/2026. Authenticate with `Authorization: Bearer <token>` from POST /api/v1/auth/login, or `X-API-Key`. Errors are `{code, message, details}`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // The document (100+ routes) is built on its first request and then cached; building it, and its
  // YAML form for /docs/yaml, holds the event loop for a few hundred ms, so it is done at start-up.
  app.addHook('onReady', async () => {
    app.swagger();
    app.swagger({ yaml: true });
  });

  if (options.dataDir !== undefined) await services.auth.bootstrapAdmin(options.dataDir);

  // A write served here has committed by the time its answer is sent: the session list cache drops
  // its answers before the client can ask again, so a client reads its own writes at once (the
  // change feed's notification may come a moment later). Failed writes drop them too: harmless.
  app.addHook('onSend', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') services.sessionListCache.invalidate();
  });

  await app.register(
    async (api) => {
      const zapi = api.withTypeProvider<ZodTypeProvider>();
      await zapi.register(authRoutes, { services, ...(options.loginRateLimit ? { loginRateLimit: options.loginRateLimit } : {}) });
      await zapi.register(userRoutes, { services });
      await zapi.register(apiKeyRoutes, { services });
      await zapi.register(settingsRoutes, { services });
      await zapi.register(bridgePointRoutes, { services });
      await zapi.register(calendarRoutes, { services });
      await zapi.register(caseRoutes, { services });
      await zapi.register(sessionRoutes, { services });
      await zapi.register(invitationRoutes, { services, publicOrigin: options.publicOrigin });
      await zapi.register(preflightRoutes, { services });
      await zapi.register(auditRoutes, { services });
      await zapi.register(reportRoutes, { services });
      await zapi.register(afterSittingRoutes, { services });
    },
    { prefix: API_PREFIX },
  );
  // The pages behind the giấy mời's QR and typed code (/m), beside the API: they need its services.
  await app.register(joinCodeRoutes, { services });
  if (options.features) await options.features(app);
};
