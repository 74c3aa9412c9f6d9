import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BRIDGE_POINT_KINDS, bridgePointInput, CSV_COLUMNS, CSV_MAX_ROWS } from '../../domain/bridgePoints/bridgePointStore.ts';
import type { ControlServices } from '../../domain/controlServices.ts';
import { actorOf } from '../control/access.ts';
import { boolQuery, errorBody, errorResponses, idParams, paged, pageQuery, patchOf, R } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';
import { bridgePointView as bridgePointSchema } from '../../contract/views/bridgePoint.ts';

export const bridgePointRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  // CSV uploads arrive as text/csv (or text/plain).
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 2 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.get(
    '/bridge-points',
    {
      config: { access: { roles: R.all } },
      schema: {
        tags: ['bridge-points'],
        summary: 'List bridge points (central point, communes, wards)',
        querystring: z.object({ ...pageQuery, kind: z.enum(BRIDGE_POINT_KINDS).optional(), active: boolQuery.optional(), sample: boolQuery.optional(), q: safeText(100).optional().describe('matches code or name') }),
        response: { 200: paged(bridgePointSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, offset, kind, active, sample, q } = request.query;
      return services.bridgePoints.list({ ...(kind ? { kind } : {}), ...(active !== undefined ? { active } : {}), ...(sample !== undefined ? { sample } : {}), ...(q ? { q } : {}) }, { limit, offset });
    },
  );

  app.post(
    '/bridge-points',
    { config: { access: { roles: R.pointEditors } }, schema: { tags: ['bridge-points'], summary: 'Create a bridge point', body: bridgePointInput, response: { 201: bridgePointSchema, ...errorResponses } } },
    async (request, reply) => {
      reply.code(201);
      return services.bridgePoints.create(actorOf(request), request.body);
    },
  );

  app.post(
    '/bridge-points/import',
    {
      config: { access: { roles: R.pointEditors } },
      schema: {
        tags: ['bridge-points'],
        summary: 'Import bridge points from CSV (Content-Type: text/csv); all or nothing',
        description: `Header row required; columns: ${CSV_COLUMNS.join(', ')} (code, name, kind required; kind is central, commune, ward or agency). Comma or semicolon separated, UTF-8. Existing codes are updated. Any bad line rejects the file with CSV_INVALID and every problem by line. At most ${CSV_MAX_ROWS} rows (413 CSV_TOO_MANY_ROWS).`,
        body: z.string().min(1).max(2 * 1024 * 1024),
        response: { 200: z.object({ created: z.number().int(), updated: z.number().int(), total: z.number().int() }), ...errorResponses, 413: errorBody.describe(`CSV_TOO_MANY_ROWS: more than ${CSV_MAX_ROWS} bridge points in one file`) },
      },
    },
    async (request) => services.bridgePoints.importCsv(actorOf(request), request.body),
  );

  app.post(
    '/bridge-points/sample-data',
    {
      config: { access: { roles: R.admin } },
      schema: { tags: ['bridge-points'], summary: 'Add the development sample points (marked [MẪU], isSample=true); idempotent', response: { 200: z.array(bridgePointSchema), ...errorResponses } },
    },
    async (request) => services.bridgePoints.seedSamples(actorOf(request)),
  );

  app.get(
    '/bridge-points/:id',
    { config: { access: { roles: R.all } }, schema: { tags: ['bridge-points'], summary: 'One bridge point', params: idParams, response: { 200: bridgePointSchema, ...errorResponses } } },
    async (request) => services.bridgePoints.get(request.params.id),
  );

  app.patch(
    '/bridge-points/:id',
    {
      config: { access: { roles: R.pointEditors } },
      schema: { tags: ['bridge-points'], summary: 'Change a bridge point (contacts, network notes, active)', params: idParams, body: patchOf(bridgePointInput), response: { 200: bridgePointSchema, ...errorResponses } },
    },
    async (request) => services.bridgePoints.update(actorOf(request), request.params.id, request.body),
  );
};
