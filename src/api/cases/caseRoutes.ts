import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CASE_CRITERIA, CASE_TYPES, caseInput } from '../../domain/cases/caseStore.ts';
import type { ControlServices } from '../../domain/controlServices.ts';
import { actorOf } from '../control/access.ts';
import { errorResponses, idParams, paged, pageQuery, patchOf, R } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';
import { caseView as caseSchema } from '../../contract/views/case.ts';


const caseDescription =
  'Personal data (people, summary, prior handling, requests) is visible to the reception board, the inspectorate and the chairman; on a denunciation (tố cáo) only to the reception board and the inspectorate. Other roles get it blanked (personalDataHidden=true).';

export const caseRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/cases',
    {
      config: { access: { roles: R.caseReaders } },
      schema: {
        tags: ['cases'],
        summary: 'List cases (vụ việc)',
        description: caseDescription,
        querystring: z.object({ ...pageQuery, type: z.enum(CASE_TYPES).optional(), criterion: z.enum(CASE_CRITERIA).optional(), q: safeText(100).optional().describe('matches reference or title') }),
        response: { 200: paged(caseSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, offset, type, criterion, q } = request.query;
      return services.cases.list({ ...(type ? { type } : {}), ...(criterion ? { criterion } : {}), ...(q ? { q } : {}) }, { limit, offset }, actorOf(request).role);
    },
  );

  app.post(
    '/cases',
    {
      config: { access: { roles: R.organisers } },
      schema: {
        tags: ['cases'],
        summary: 'Record a case: type, criteria a–d (Quy chế Điều 4.1), people involved, commune, agencies, prior handling',
        description: caseDescription,
        body: caseInput,
        response: { 201: caseSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return services.cases.create(actorOf(request), request.body);
    },
  );

  app.get(
    '/cases/:id',
    { config: { access: { roles: R.caseReaders } }, schema: { tags: ['cases'], summary: 'One case', description: caseDescription, params: idParams, response: { 200: caseSchema, ...errorResponses } } },
    async (request) => services.cases.get(request.params.id, actorOf(request).role),
  );

  app.patch(
    '/cases/:id',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['cases'], summary: 'Change a case (people, when given, replace the list)', params: idParams, body: patchOf(caseInput), response: { 200: caseSchema, ...errorResponses } },
    },
    async (request) => services.cases.update(actorOf(request), request.params.id, request.body),
  );
};
