import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { afterSittingRoutes } from '../afterSitting/afterSittingRoutes.ts';
import { apiKeyRoutes } from '../apiKeys/apiKeyRoutes.ts';
import { auditRoutes } from '../audit/auditRoutes.ts';
import { authRoutes } from '../auth/authRoutes.ts';
import { bridgePointRoutes } from '../bridgePoints/bridgePointRoutes.ts';
import { calendarRoutes } from '../calendar/calendarRoutes.ts';
import { caseRoutes } from '../cases/caseRoutes.ts';
import { invitationRoutes } from '../invitations/invitationRoutes.ts';
import { preflightRoutes } from '../preflight/preflightRoutes.ts';
import { reportRoutes } from '../reports/reportRoutes.ts';
import { sessionRoutes } from '../sessions/sessionRoutes.ts';
import { settingsRoutes } from '../settings/settingsRoutes.ts';
import { userRoutes } from '../users/userRoutes.ts';
import { installAccessControl, type RouteEntry } from './access.ts';

export const API_PREFIX = '/api/v1';

export interface ControlApiOptions {
  services: ControlServices;
  /** Where the first administrator's password is written on an empty database (unset: no bootstrap). */
  dataDir?: string;
  loginRateLimit?: { max: number; windowMs: number };
  /** Filled with every route and its access rule (the role-matrix test reads it). */
  routeTable?: RouteEntry[];
}

/**
 * The control API under /api/v1, its OpenAPI document at /openapi.json and the browsable docs at
 * /docs. Encapsulated: the zod validator/serializer and the access hook apply to these routes only.
 */
export const controlApiPlugin: FastifyPluginAsync<ControlApiOptions> = async (app, options) => {
  const { services } = options;
  const routeTable = options.routeTable ?? [];
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

  installAccessControl(app, services, routeTable, API_PREFIX);
  if (options.dataDir !== undefined) await services.auth.bootstrapAdmin(options.dataDir);

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
      await zapi.register(invitationRoutes, { services });
      await zapi.register(preflightRoutes, { services });
      await zapi.register(auditRoutes, { services });
      await zapi.register(reportRoutes, { services });
      await zapi.register(afterSittingRoutes, { services });
    },
    { prefix: API_PREFIX },
  );
};
