import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { SESSION_STATUSES } from '../../domain/sessions/lifecycle.ts';
import { CASE_OUTCOMES, sessionInput } from '../../domain/sessions/sessionService.ts';
import { actorOf } from '../control/access.ts';
import { errorResponses, idParams, paged, pageQuery, patchOf, R } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';
import { sessionView as sessionSchema } from '../../contract/views/session.ts';


const lifecycle =
  'Life-cycle: draft → submitted → approved → invitations_sent → tested → live → ended → archived; cancelled (from draft to tested) and rejected (from submitted; reopen makes it a draft again). An action from any other status is refused with 409 INVALID_TRANSITION before any other rule.';

/** The encoded JSON of list answers, by answer object (see GET /sessions): as is, and gzipped when first asked for. */
const serializedLists = new WeakMap<object, { json: Buffer; gzip?: Buffer }>();

/**
 * Sends bytes as they are (fastify serializes no Buffer). The one cast is at the call: the
 * schema-typed send() accepts only the answer's shape, whose bytes these are.
 */
function sendBytes(reply: FastifyReply, bytes: Buffer): void {
  void reply.send(bytes);
}

/** Whether the client takes gzip (`Accept-Encoding`, RFC 9110 §12.5.3; `gzip;q=0` refuses it). */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

export const sessionRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  const S = services.sessions;

  app.get(
    '/sessions',
    {
      config: { access: { roles: R.all } },
      schema: {
        tags: ['sessions'],
        summary: 'List reception sessions (a commune operator sees only those of their bridge point)',
        querystring: z.object({
          ...pageQuery,
          status: z.enum(SESSION_STATUSES).optional(),
          from: z.iso.datetime({ offset: true }).optional().describe('scheduled start at or after'),
          to: z.iso.datetime({ offset: true }).optional().describe('scheduled start at or before'),
          bridgePointId: z.uuid().optional(),
        }),
        response: { 200: paged(sessionSchema), ...errorResponses },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { limit, offset, status, from, to, bridgePointId } = request.query;
      const point = actor.role === 'commune_operator' ? (actor.bridgePointId ?? '00000000-0000-0000-0000-000000000000') : bridgePointId;
      const page = await S.list({ ...(status ? { status } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}), ...(point ? { bridgePointId: point } : {}) }, { limit, offset });
      // A cached answer is the same object each time: its JSON (checked by the response schema
      // once, by reply.serialize) is kept with it, as UTF-8 bytes and gzipped, and goes with the
      // object when the cache drops it. Writing the 24 KB string was most of what a request cost
      // (encoding it to UTF-8 and copying it to the socket: ~160 µs of ~450); gzipped it is ~3 KB,
      // which a commune's thin link also notices.
      let encoded = serializedLists.get(page);
      if (encoded === undefined) {
        const serialized = reply.serialize(page);
        if (typeof serialized !== 'string') return page; // not the schema's serializer: let fastify do it
        encoded = { json: Buffer.from(serialized, 'utf8') };
        serializedLists.set(page, encoded);
      }
      void reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
      // Compressed only when the answer is kept (the cache is on): each answer is gzipped once.
      if (services.sessionListCache.active && acceptsGzip(request.headers['accept-encoding'])) {
        encoded.gzip ??= gzipSync(encoded.json, { level: 6 });
        void reply.header('content-encoding', 'gzip');
        sendBytes(reply as unknown as FastifyReply, encoded.gzip);
      } else {
        sendBytes(reply as unknown as FastifyReply, encoded.json);
      }
      return;
    },
  );

  app.post(
    '/sessions',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['sessions'], summary: 'Create a draft session: schedule, chair, cases on the agenda, bridge points, participants', description: lifecycle, body: sessionInput, response: { 201: sessionSchema, ...errorResponses } },
    },
    async (request, reply) => {
      reply.code(201);
      return S.create(actorOf(request), request.body);
    },
  );

  app.get(
    '/sessions/:id',
    { config: { access: { roles: R.all } }, schema: { tags: ['sessions'], summary: 'One session', params: idParams, response: { 200: sessionSchema, ...errorResponses } } },
    async (request) => S.get(request.params.id, actorOf(request)),
  );

  app.patch(
    '/sessions/:id',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['sessions'], summary: 'Edit a draft (SESSION_LOCKED once submitted)', params: idParams, body: patchOf(sessionInput), response: { 200: sessionSchema, ...errorResponses } },
    },
    async (request) => S.update(actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/sessions/:id/submit',
    {
      config: { access: { roles: R.organisers } },
      schema: {
        tags: ['sessions'],
        summary: 'Submit for the chairman’s approval',
        description: `Rules: SESSION_NO_CASES, SESSION_NO_BRIDGE_POINTS, CASE_CRITERIA_REQUIRED (each case needs a criterion a–d), DENUNCIATION_IDENTITY_NOT_WAIVED (tố cáo only with a waiver), SUBMISSION_TOO_LATE (at least N working days — default 5 — before the session, by the working-day calendar). ${lifecycle}`,
        params: idParams,
        body: z.object({ comment: safeText(2000).default('') }).default({ comment: '' }),
        response: { 200: sessionSchema, ...errorResponses },
      },
    },
    async (request) => S.submit(actorOf(request), request.params.id, request.body.comment),
  );

  app.post(
    '/sessions/:id/decision',
    {
      config: { access: { roles: R.approver, forbiddenCode: 'APPROVER_ROLE_REQUIRED', apiKey: false } },
      schema: {
        tags: ['sessions'],
        summary: 'The chairman approves or rejects (approver role only: APPROVER_ROLE_REQUIRED); approving, he may leave cases out, each with its reason (rejectedCases: off the agenda, kept in the history; CASE_NOT_ON_AGENDA, REJECTION_REASON_REQUIRED, SESSION_NO_CASES when none is left); approval creates the test slots',
        params: idParams,
        body: z.object({
          decision: z.enum(['approved', 'rejected']),
          comment: safeText(2000).default(''),
          // Đ4.2: consent is per case; approving, the chairman may leave cases out, each with its reason.
          rejectedCases: z.array(z.object({ caseId: z.uuid(), reason: safeText(2000) })).max(200).default([]),
        }),
        response: { 200: sessionSchema, ...errorResponses },
      },
    },
    async (request) => S.decide(actorOf(request), request.params.id, request.body.decision, request.body.comment, request.body.rejectedCases),
  );

  app.post(
    '/sessions/:id/reopen',
    { config: { access: { roles: R.organisers } }, schema: { tags: ['sessions'], summary: 'Turn a rejected proposal back into a draft', params: idParams, response: { 200: sessionSchema, ...errorResponses } } },
    async (request) => S.reopen(actorOf(request), request.params.id),
  );

  app.post(
    '/sessions/:id/cancel',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['sessions'], summary: 'Cancel (revokes every invitation)', params: idParams, body: z.object({ reason: safeText(2000).trim().min(1) }), response: { 200: sessionSchema, ...errorResponses } },
    },
    async (request) => S.cancel(actorOf(request), request.params.id, request.body.reason),
  );

  app.post(
    '/sessions/:id/mark-tested',
    {
      config: { access: { roles: [...R.organisers, 'technician'] } },
      schema: { tags: ['sessions'], summary: 'Record that every bridge point passed its tests (PREFLIGHT_NOT_PASSED otherwise)', params: idParams, response: { 200: sessionSchema, ...errorResponses } },
    },
    async (request) => S.markTested(actorOf(request), request.params.id),
  );

  app.post(
    '/sessions/:id/go-live',
    {
      config: { access: { roles: R.chairs } },
      schema: {
        tags: ['sessions'],
        summary: 'Open the session',
        description: 'Only when every bridge point passed its test in the T-1 working day and T-2 h slots and was connected in the T-1 h slot (GO_LIVE_TESTS_NOT_PASSED, with the list and each point’s missing slots); otherwise the approver role (the Chủ tịch or the deputy who chairs) may override with a reason, which is logged (GO_LIVE_OVERRIDE_CHAIR_ONLY for anyone else, the session’s creator included).',
        params: idParams,
        body: z.object({ override: z.object({ reason: safeText(2000).trim().min(3) }).optional() }).default({}),
        response: { 200: sessionSchema, ...errorResponses },
      },
    },
    async (request) => S.goLive(actorOf(request), request.params.id, request.body.override),
  );

  app.post(
    '/sessions/:id/end',
    { config: { access: { roles: R.chairs } }, schema: { tags: ['sessions'], summary: 'End a live session', params: idParams, response: { 200: sessionSchema, ...errorResponses } } },
    async (request) => S.end(actorOf(request), request.params.id),
  );

  app.post(
    '/sessions/:id/archive',
    { config: { access: { roles: R.archivers } }, schema: { tags: ['sessions'], summary: 'Archive an ended session', params: idParams, response: { 200: sessionSchema, ...errorResponses } } },
    async (request) => S.archive(actorOf(request), request.params.id),
  );

  app.get(
    '/sessions/:id/approvals',
    {
      config: { access: { roles: R.staff } },
      schema: {
        tags: ['sessions'],
        summary: 'Submission and decision history',
        params: idParams,
        response: { 200: z.array(z.object({ kind: z.string(), actorId: z.string().nullable(), comment: z.string(), workingDaysAhead: z.number().int().nullable(), at: z.string() })), ...errorResponses },
      },
    },
    async (request) => S.approvals(request.params.id),
  );

  const minutesSchema = z
    .object({ sessionId: z.string(), text: z.string(), version: z.number().int().describe('latest version (0: none); send it back as baseVersion'), updatedAt: z.string().nullable(), outcomes: z.array(z.object({ caseId: z.string(), outcome: z.string().nullable(), note: z.string() })) })
    .describe('Minutes');

  app.get(
    '/sessions/:id/minutes',
    { config: { access: { roles: R.minutesReaders } }, schema: { tags: ['sessions'], summary: 'The minutes (biên bản) and each case’s outcome', params: idParams, response: { 200: minutesSchema, ...errorResponses } } },
    async (request) => S.getMinutes(request.params.id),
  );

  app.put(
    '/sessions/:id/minutes',
    {
      config: { access: { roles: R.organisers } },
      schema: {
        tags: ['sessions'],
        summary: 'Write the minutes and outcomes (during or after the session: MINUTES_NOT_ALLOWED otherwise); each changed text is a new version, and a baseVersion older than the latest is 409 MINUTES_VERSION_CONFLICT',
        params: idParams,
        body: z.object({ text: safeText(200_000), baseVersion: z.number().int().min(0).max(1_000_000).optional(), outcomes: z.array(z.object({ caseId: z.uuid(), outcome: z.enum(CASE_OUTCOMES), note: safeText(2000).default('') })).max(50).default([]) }),
        response: { 200: minutesSchema, ...errorResponses },
      },
    },
    async (request) => S.putMinutes(actorOf(request), request.params.id, request.body),
  );
};
