import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { annualReport, annualReportCsv } from '../../domain/reports/annualReport.ts';
import { errorResponses, R } from '../control/schemas.ts';

const counts = z.record(z.string(), z.number().int());
const reportSchema = z
  .object({
    year: z.number().int(),
    generatedAt: z.string(),
    sessions: z.object({ total: z.number().int(), held: z.number().int(), byStatus: counts, goLiveOverrides: z.number().int() }),
    cases: z.object({ total: z.number().int(), byType: counts, byCriterion: counts, byOutcome: counts }),
    bridgePoints: z.object({ used: z.number().int(), codes: z.array(z.string()) }),
    tests: z.object({ total: z.number().int(), passed: z.number().int(), failed: z.number().int(), bySlotKind: z.record(z.string(), z.object({ passed: z.number().int(), failed: z.number().int() })), byIcePath: counts }),
  })
  .describe('AnnualReport');

const yearQuery = z.object({ year: z.coerce.number().int().min(2020).max(2100) });

/** The yearly review (Quy chế Điều 8.1.d): counts only, no personal data. */
export const reportRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/reports/annual',
    {
      config: { access: { roles: R.reportReaders } },
      schema: { tags: ['reports'], summary: 'Annual report: sessions, cases by type/criterion/outcome, bridge points used, tests passed/failed', querystring: yearQuery, response: { 200: reportSchema, ...errorResponses } },
    },
    async (request) => annualReport(services.db, request.query.year, services.clock()),
  );

  app.get(
    '/reports/annual.csv',
    {
      config: { access: { roles: R.reportReaders } },
      schema: {
        tags: ['reports'],
        summary: 'The annual report as CSV (section,key,value)',
        querystring: yearQuery,
        response: { 200: { description: 'CSV, UTF-8 with BOM', content: { 'text/csv': { schema: z.string() } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const csv = annualReportCsv(await annualReport(services.db, request.query.year, services.clock()));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="tiepdan-report-${request.query.year}.csv"`)
        .send(`\uFEFF${csv}`);
    },
  );
};
