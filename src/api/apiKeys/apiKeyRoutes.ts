import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { actorOf } from '../control/access.ts';
import { errorResponses, idParams, R, roleEnum } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';
import { apiKeyView as apiKeySchema } from '../../contract/views/user.ts';

/** API keys for integrations (e.g. the national database connector): sent as X-API-Key. */
export const apiKeyRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/api-keys',
    { config: { access: { roles: R.admin } }, schema: { tags: ['api-keys'], summary: 'List API keys (never the keys themselves)', response: { 200: z.array(apiKeySchema), ...errorResponses } } },
    async () => services.auth.listApiKeys(),
  );

  app.post(
    '/api-keys',
    {
      config: { access: { roles: R.admin, apiKey: false } },
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key; the key is shown only in this answer',
        body: z.object({ name: safeText(100).trim().min(1), role: roleEnum }),
        response: { 201: z.object({ key: z.string(), apiKey: apiKeySchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return services.auth.createApiKey(actorOf(request), request.body);
    },
  );

  app.delete(
    '/api-keys/:id',
    { config: { access: { roles: R.admin, apiKey: false } }, schema: { tags: ['api-keys'], summary: 'Revoke an API key', params: idParams, response: { 200: apiKeySchema, ...errorResponses } } },
    async (request) => services.auth.revokeApiKey(actorOf(request), request.params.id),
  );
};
