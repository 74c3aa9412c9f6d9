import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { AfterSittingServices } from '../../domain/afterSitting/afterSittingServices.ts';
import { noticeInput } from '../../domain/afterSitting/conclusionNotice.ts';
import { outcomeInput } from '../../domain/afterSitting/outcomeService.ts';
import { registerCsv, registerPatch, registerXlsx, renderRegisterHtml } from '../../domain/afterSitting/registerStore.ts';
import { localDate } from '../../domain/common/clock.ts';
import { actorOf } from '../control/access.ts';
import { errorBody, errorResponses, idParams, isoDate, paged, pageQuery, R } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';
import { followUpView as followUpSchema, noticeView as noticeSchema, outcomeView as outcomeSchema, registerEntryView as registerEntrySchema } from '../../contract/views/afterSitting.ts';

const periodQuery = z.object({ from: isoDate, to: isoDate });
const html = { description: 'HTML page', content: { 'text/html': { schema: z.string() } } };
const pdf = { description: 'PDF', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } };
const pdfErrors = { ...errorResponses, 503: errorBody.describe('PDF_UNAVAILABLE or PDF_BUSY') };

/**
 * After the sitting (issue 11): per-case outcomes (N154 Art 25(3)), the Sổ tiếp công dân (Art 27,
 * Mẫu 03/TCD), follow-up timers, and the Thông báo kết luận (Art 25(2)).
 */
export const afterSittingRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  const A = new AfterSittingServices(services);

  /** A PDF printed by the server's Chromium; a client that leaves stops waiting (pdfRenderer.ts). */
  const sendPdf = async (reply: FastifyReply, page: string, filename: string) => {
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const out = await services.pdf.render(page, { signal: gone.signal });
    return reply.type('application/pdf').header('cache-control', 'no-store').header('content-disposition', `inline; filename="${filename}"`).send(out as unknown as string);
  };
  const sendHtml = (reply: FastifyReply, page: string) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);

  // ——— outcomes ———
  app.get(
    '/sessions/:id/outcomes',
    { config: { access: { roles: R.minutesReaders } }, schema: { tags: ['after the sitting'], summary: 'Each agenda case’s outcome: the chair’s conclusion, answer or deadline and contact, transfer and document', params: idParams, response: { 200: z.array(outcomeSchema), ...errorResponses } } },
    async (request) => A.outcomes.list(request.params.id),
  );

  app.put(
    '/sessions/:id/outcomes',
    {
      config: { access: { roles: R.organisers } },
      schema: {
        tags: ['after the sitting'],
        summary: 'Record outcomes (while live or ended): fills each case’s line in the sổ and plans its follow-up timers',
        description:
          'hen_tra_loi needs answerDeadline and contactPerson, tra_loi_truc_tiep an answer, chuyen_don a transferTarget (400 VALIDATION_FAILED with the field). 409 OUTCOMES_NOT_ALLOWED outside live/ended; 400 CASE_NOT_ON_AGENDA, OUTCOME_DEADLINE_BEFORE_SESSION.',
        params: idParams,
        body: z.object({ outcomes: z.array(outcomeInput).min(1).max(50) }),
        response: { 200: z.array(outcomeSchema), ...errorResponses },
      },
    },
    async (request) => A.outcomes.save(actorOf(request), request.params.id, request.body.outcomes),
  );

  // ——— Sổ tiếp công dân ———
  app.get(
    '/register',
    {
      config: { access: { roles: R.caseReaders } },
      schema: {
        tags: ['after the sitting'],
        summary: 'The Sổ tiếp công dân for a period (at most 366 days): the people’s columns follow the case’s confidentiality',
        querystring: periodQuery.extend({ ...pageQuery, sessionId: z.uuid().optional() }),
        response: { 200: paged(registerEntrySchema), ...errorResponses },
      },
    },
    async (request) => {
      const { from, to, sessionId, limit, offset } = request.query;
      return A.register.list({ from, to, ...(sessionId ? { sessionId } : {}) }, { limit, offset }, actorOf(request).role);
    },
  );

  app.patch(
    '/register/:id',
    {
      config: { access: { roles: ['reception_board'] } },
      schema: { tags: ['after the sitting'], summary: 'Correct a line of the sổ (reception board); the fill from outcomes then leaves it alone but for “hướng xử lý”', params: idParams, body: registerPatch, response: { 200: registerEntrySchema, ...errorResponses } },
    },
    async (request) => A.register.update(actorOf(request), request.params.id, request.body),
  );

  const registerTitle = (from: string, to: string) => `Sổ tiếp công dân từ ${from} đến ${to}`;
  const registerPage = async (actor: ReturnType<typeof actorOf>, from: string, to: string, format: string) => {
    const entries = await A.register.period(actor, from, to, format);
    return renderRegisterHtml({ organisation: (await services.settings.get()).organisation, from, to, entries, printedOn: localDate(services.clock()) });
  };

  app.get(
    '/register/print',
    { config: { access: { roles: R.caseReaders } }, schema: { tags: ['after the sitting'], summary: 'The sổ for a period as an A4 landscape page (at most 200 lines: REGISTER_TOO_LARGE)', querystring: periodQuery, response: { 200: html, ...errorResponses } } },
    async (request, reply) => sendHtml(reply, await registerPage(actorOf(request), request.query.from, request.query.to, 'html')),
  );

  app.get(
    '/register/print.pdf',
    { config: { access: { roles: R.caseReaders } }, schema: { tags: ['after the sitting'], summary: 'The sổ for a period as PDF (A4 landscape)', querystring: periodQuery, response: { 200: pdf, ...pdfErrors } } },
    async (request, reply) => sendPdf(reply, await registerPage(actorOf(request), request.query.from, request.query.to, 'pdf'), `so-tiep-cong-dan-${request.query.from}.pdf`),
  );

  app.get(
    '/register/export.csv',
    {
      config: { access: { roles: R.caseReaders } },
      schema: { tags: ['after the sitting'], summary: 'The sổ for a period as CSV (UTF-8 with BOM; the 12 columns of Mẫu 03/TCD), for keying into the national database', querystring: periodQuery, response: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } }, ...errorResponses } },
    },
    async (request, reply) => {
      const { from, to } = request.query;
      const csv = registerCsv(await A.register.period(actorOf(request), from, to, 'csv'));
      return reply.type('text/csv; charset=utf-8').header('cache-control', 'no-store').header('content-disposition', `attachment; filename="so-tiep-cong-dan-${from}-${to}.csv"`).send(`\uFEFF${csv}`);
    },
  );

  app.get(
    '/register/export.xlsx',
    {
      config: { access: { roles: R.caseReaders } },
      schema: {
        tags: ['after the sitting'],
        summary: 'The sổ for a period as an Excel workbook (A4 landscape page set-up)',
        querystring: periodQuery,
        response: { 200: { description: 'XLSX', content: { 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: z.string().describe('binary XLSX') } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { from, to } = request.query;
      const xlsx = await registerXlsx(await A.register.period(actorOf(request), from, to, 'xlsx'), registerTitle(from, to));
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="so-tiep-cong-dan-${from}-${to}.xlsx"`)
        .send(xlsx as unknown as string);
    },
  );

  // ——— follow-ups ———
  app.get(
    '/follow-ups',
    {
      config: { access: { roles: R.minutesReaders } },
      schema: {
        tags: ['after the sitting'],
        summary: 'Follow-up items with their legal timers (working days left; overdue / due soon)',
        querystring: z.object({ ...pageQuery, status: z.enum(['open', 'done']).optional(), sessionId: z.uuid().optional(), caseId: z.uuid().optional() }),
        response: { 200: paged(followUpSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, offset, status, sessionId, caseId } = request.query;
      return A.followUps.list({ ...(status ? { status } : {}), ...(sessionId ? { sessionId } : {}), ...(caseId ? { caseId } : {}) }, { limit, offset });
    },
  );

  app.get(
    '/follow-ups/due',
    {
      config: { access: { roles: R.minutesReaders } },
      schema: {
        tags: ['after the sitting'],
        summary: 'The console home’s list: open items overdue or due within N working days',
        querystring: z.object({ withinWorkingDays: z.coerce.number().int().min(1).max(60).default(3), limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ items: z.array(followUpSchema), overdue: z.number().int(), dueSoon: z.number().int() }), ...errorResponses },
      },
    },
    async (request) => A.followUps.due(request.query.withinWorkingDays, request.query.limit),
  );

  app.post(
    '/follow-ups/:id/close',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['after the sitting'], summary: 'Close a follow-up item with its outcome (409 FOLLOW_UP_DONE if closed already)', params: idParams, body: z.object({ result: safeText(5000).trim().min(1) }), response: { 200: followUpSchema, ...errorResponses } },
    },
    async (request) => A.followUps.close(actorOf(request), request.params.id, request.body.result),
  );

  // ——— the minutes' versions and their print ———
  app.get(
    '/sessions/:id/minutes/versions',
    {
      config: { access: { roles: R.minutesReaders } },
      schema: {
        tags: ['after the sitting'],
        summary: 'Every saved version of the minutes, newest first (number, fingerprint, length, author, time)',
        params: idParams,
        response: { 200: z.array(z.object({ version: z.number().int(), sha256: z.string(), length: z.number().int(), writtenBy: z.string().nullable(), writtenAt: z.string() }).describe('MinutesVersion')), ...errorResponses },
      },
    },
    async (request) => A.minutes.versions(request.params.id),
  );

  app.get(
    '/sessions/:id/minutes/print',
    {
      config: { access: { roles: R.minutesReaders } },
      schema: {
        tags: ['after the sitting'],
        summary: 'The biên bản in its official structure (A4 HTML): attendees at each point, content, each case’s conclusion, signatures',
        params: idParams,
        querystring: z.object({ version: z.coerce.number().int().min(1).max(1_000_000).optional() }),
        response: { 200: html, ...errorResponses },
      },
    },
    async (request, reply) => sendHtml(reply, await A.minutes.render(request.params.id, request.query.version)),
  );

  // ——— Thông báo kết luận ———
  app.post(
    '/sessions/:id/conclusion-notices/preview',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['after the sitting'], summary: 'The conclusion notice as it would be issued now (HTML, not recorded)', params: idParams, body: noticeInput, response: { 200: html, ...errorResponses } },
    },
    async (request, reply) => sendHtml(reply, await A.notices.preview(request.params.id, request.body)),
  );

  app.post(
    '/sessions/:id/conclusion-notices',
    {
      config: { access: { roles: R.organisers } },
      schema: {
        tags: ['after the sitting'],
        summary: 'Issue the Thông báo kết luận (N154 Art 25(2)): numbered, frozen, audited',
        description: '409 NOTICE_NOT_ALLOWED before the session ended; 409 NOTICE_OUTCOMES_MISSING while a case has no conclusion; 409 NOTICE_NUMBER_TAKEN.',
        params: idParams,
        body: noticeInput,
        response: { 201: noticeSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.code(201);
      return A.notices.issue(actorOf(request), request.params.id, request.body);
    },
  );

  app.get(
    '/sessions/:id/conclusion-notices',
    { config: { access: { roles: R.minutesReaders } }, schema: { tags: ['after the sitting'], summary: 'The notices issued for a session', params: idParams, response: { 200: z.array(noticeSchema), ...errorResponses } } },
    async (request) => A.notices.list(request.params.id),
  );

  app.get(
    '/conclusion-notices/:id/print',
    { config: { access: { roles: R.minutesReaders } }, schema: { tags: ['after the sitting'], summary: 'An issued notice as it was issued (A4 HTML)', params: idParams, response: { 200: html, ...errorResponses } } },
    async (request, reply) => sendHtml(reply, (await A.notices.html(request.params.id)).html),
  );

  app.get(
    '/conclusion-notices/:id/print.pdf',
    { config: { access: { roles: R.minutesReaders } }, schema: { tags: ['after the sitting'], summary: 'An issued notice as PDF (A4)', params: idParams, response: { 200: pdf, ...pdfErrors } } },
    async (request, reply) => {
      const { notice, html: page } = await A.notices.html(request.params.id);
      return sendPdf(reply, page, `thong-bao-ket-luan-${notice.number.replace(/[^\w-]+/g, '-')}.pdf`);
    },
  );
};
