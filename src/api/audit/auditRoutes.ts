import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { errorResponses, paged, pageQuery, R } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';

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

const anchorSchema = z.object({ seq: z.number().int(), hash: z.string(), keyId: z.string(), at: z.string() }).describe('AuditAnchor');

const verificationSchema = z
  .object({
    valid: z.boolean(),
    checked: z.number().int(),
    firstBrokenSeq: z.number().int().nullable(),
    reason: z.string().nullable(),
    lastHash: z.string(),
    headSeq: z.number().int(),
    keyedFromSeq: z.number().int(),
    anchor: anchorSchema.nullable(),
  })
  .describe('AuditVerification');

export const auditRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/audit',
    {
      config: { access: { roles: R.auditReaders } },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first (who, what, when, before/after; personal data is never in it)',
        querystring: z.object({ ...pageQuery, entity: safeText(60).optional(), entityId: safeText(100).optional(), action: safeText(100).optional() }),
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
        summary:
          'Recompute the keyed hash chain and check it against its anchor (DATA_DIR/audit.anchor): reports the first record that was changed, removed or reordered, and a tail cut off. ' +
          'Optionally also against an anchor kept elsewhere (seq and hash from an export’s chain-of-custody record or a printout).',
        querystring: z
          .object({ seq: z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(), hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits').optional() })
          .refine((q) => (q.seq === undefined) === (q.hash === undefined), 'seq and hash go together'),
        response: { 200: verificationSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { seq, hash } = request.query;
      return services.audit.verify(seq !== undefined && hash !== undefined ? { seq, hash } : undefined);
    },
  );
};
