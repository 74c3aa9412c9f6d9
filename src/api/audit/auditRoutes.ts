import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { errorResponses, paged, pageQuery, R } from '../control/schemas.ts';

const recordSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actorId: z.string(),
    actorLabel: z.string(),
    action: z.string(),
    entity: z.string(),
    entityId: z.string(),
    before: z.unknown(),
    after: z.unknown(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .describe('AuditRecord');

export const auditRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/audit',
    {
      config: { access: { roles: R.auditReaders } },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (who, what, when, before/after; personal data is never in it)',
        querystring: z.object({ ...pageQuery, entity: z.string().max(60).optional(), entityId: z.string().max(100).optional(), action: z.string().max(100).optional() }),
        response: { 200: paged(recordSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, offset, entity, entityId, action } = request.query;
      return services.audit.list({ ...(entity ? { entity } : {}), ...(entityId ? { entityId } : {}), ...(action ? { action } : {}) }, { limit, offset });
    },
  );

  app.get(
    '/audit/verify',
    {
      config: { access: { roles: R.auditReaders } },
      schema: {
        tags: ['audit'],
        summary: 'Recompute the hash chain; reports the first record that was changed, removed or reordered',
        response: { 200: z.object({ valid: z.boolean(), checked: z.number().int(), firstBrokenSeq: z.number().int().nullable(), reason: z.string().nullable(), lastHash: z.string() }), ...errorResponses },
      },
    },
    async () => services.audit.verify(),
  );
};
