import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { actorOf } from '../control/access.ts';
import { boolQuery, errorResponses, idParams, paged, pageQuery, R, roleEnum } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';
import { userView as userSchema } from '../../contract/views/user.ts';

const password = safeText(200).min(10, 'at least 10 characters');

export const userRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/users',
    {
      config: { access: { roles: ['admin', 'auditor'] } },
      schema: {
        tags: ['users'],
        summary: 'List users',
        querystring: z.object({ ...pageQuery, role: roleEnum.optional(), active: boolQuery.optional() }),
        response: { 200: paged(userSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, offset, role, active } = request.query;
      return services.auth.listUsers({ ...(role ? { role } : {}), ...(active !== undefined ? { active } : {}) }, { limit, offset });
    },
  );

  app.post(
    '/users',
    {
      config: { access: { roles: R.admin, apiKey: false } },
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        body: z.object({
          username: safeText(60).trim().min(2).regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, dot, dash, underscore'),
          displayName: safeText(120).trim().min(1),
          role: roleEnum,
          password,
          bridgePointId: z.uuid().nullable().default(null).describe('required for commune_operator: the point they operate'),
        }),
        response: { 201: userSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return services.auth.createUser(actorOf(request), request.body);
    },
  );

  app.get(
    '/users/:id',
    {
      config: { access: { roles: ['admin', 'auditor'] } },
      schema: { tags: ['users'], summary: 'One user', params: idParams, response: { 200: userSchema, ...errorResponses } },
    },
    async (request) => services.auth.getUser(request.params.id),
  );

  app.patch(
    '/users/:id',
    {
      config: { access: { roles: R.admin, apiKey: false } },
      schema: {
        tags: ['users'],
        summary: 'Change a user’s name, role, bridge point, or disable/unlock the account (role change or disabling revokes its tokens)',
        params: idParams,
        body: z.object({ displayName: safeText(120).trim().min(1).optional(), role: roleEnum.optional(), active: z.boolean().optional(), bridgePointId: z.uuid().nullable().optional(), unlock: z.boolean().optional() }),
        response: { 200: userSchema, ...errorResponses },
      },
    },
    async (request) => services.auth.updateUser(actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/users/:id/password',
    {
      config: { access: { roles: R.admin, apiKey: false } },
      schema: { tags: ['users'], summary: 'Set a user’s password (administrator reset)', params: idParams, body: z.object({ password }), response: { 204: z.null(), ...errorResponses } },
    },
    async (request, reply) => {
      await services.auth.setPassword(actorOf(request), request.params.id, request.body.password);
      return reply.code(204).send(null);
    },
  );
};
