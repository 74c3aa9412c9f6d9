import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { resultInput } from '../../domain/preflight/preflightService.ts';
import { TiepdanError } from '../../errors.ts';
import { LoginRateLimiter } from '../../domain/auth/loginRateLimiter.ts';
import { actorOf } from '../control/access.ts';
import { errorBody, errorResponses, idParams, R } from '../control/schemas.ts';
import { matrixView, notPassedView as notPassedSchema, resultView as resultSchema, slotView as slotSchema } from '../../contract/views/preflight.ts';


/**
 * Results one invitation may report per window. A real test run reports one result, a retry a few
 * more; every result is an audit row appended under the chain's lock, so an invitation holder (not
 * a person on record) must not be able to write them in a loop (security review L6).
 */
export const INVITATION_RESULTS_PER_WINDOW = { max: 12, windowMs: 10 * 60_000 };

export const preflightRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  const P = services.preflight;
  const invitationResults = new LoginRateLimiter(services.liveStore, 'preflight-result', INVITATION_RESULTS_PER_WINDOW.max, INVITATION_RESULTS_PER_WINDOW.windowMs);
  /** A commune operator sees the tests of sessions their own point is in (security review L4); sessions.get checks it. */
  const scoped = async (id: string, actor: ReturnType<typeof actorOf>) => {
    await services.sessions.get(id, actor);
  };

  app.get(
    '/sessions/:id/preflight',
    {
      config: { access: { roles: R.all } },
      schema: {
        tags: ['preflight'],
        summary: 'Test matrix: bridge points × slots (T-1 working day, rehearsal, T-2 h, T-1 h all connected) and the points that have not passed',
        params: idParams,
        response: {
          200: matrixView,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await scoped(request.params.id, actorOf(request));
      return P.matrix(request.params.id);
    },
  );

  app.get(
    '/sessions/:id/preflight/not-passed',
    { config: { access: { roles: R.all } }, schema: { tags: ['preflight'], summary: 'Bridge points whose latest test did not pass (or that have none)', params: idParams, response: { 200: z.array(notPassedSchema), ...errorResponses } } },
    async (request) => {
      await scoped(request.params.id, actorOf(request));
      return P.notPassed(request.params.id);
    },
  );

  app.patch(
    '/preflight/slots/:id',
    {
      config: { access: { roles: R.slotEditors } },
      schema: { tags: ['preflight'], summary: 'Move a test slot', params: idParams, body: z.object({ startsAt: z.iso.datetime({ offset: true }) }), response: { 200: slotSchema, ...errorResponses } },
    },
    async (request) => P.moveSlot(actorOf(request), request.params.id, request.body.startsAt),
  );

  app.get(
    '/preflight/invitation',
    {
      config: { access: { roles: [], invitation: true } },
      schema: {
        tags: ['preflight'],
        summary: 'For an endpoint, with its invitation token: its session (title, times, status), its bridge point, the test slots and its own results',
        response: {
          200: z.object({
            session: z.object({ id: z.string(), title: z.string(), scheduledStart: z.string(), scheduledEnd: z.string(), status: z.string() }),
            bridgePoint: z.object({ id: z.string(), name: z.string() }).nullable(),
            displayName: z.string(),
            slots: z.array(slotSchema),
            results: z.array(resultSchema),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const session = await services.sessions.get(actor.sessionId ?? '');
      const matrix = await P.matrix(session.id);
      const point = matrix.points.find((p) => p.bridgePointId === actor.bridgePointId);
      return {
        session: { id: session.id, title: session.title, scheduledStart: session.scheduledStart, scheduledEnd: session.scheduledEnd, status: session.status },
        bridgePoint: point === undefined ? null : { id: point.bridgePointId, name: point.name },
        displayName: actor.label,
        slots: matrix.slots,
        results: point === undefined ? [] : point.cells.flatMap((c) => (c.result === null ? [] : [c.result])),
      };
    },
  );

  app.post(
    '/preflight/results',
    {
      config: { access: { roles: R.testers, invitation: true } },
      schema: {
        tags: ['preflight'],
        summary: 'Report a connection test (from the endpoint’s test run with its invitation token, or a technician/operator)',
        description: 'passed = connected, camera and microphone work, RTT, loss and bitrate within the settings’ limits; problems lists what failed. slotId omitted: the slot nearest in time.',
        body: resultInput,
        response: { 201: resultSchema, ...errorResponses, 429: errorBody.describe(`More than ${INVITATION_RESULTS_PER_WINDOW.max} results from one invitation in ${INVITATION_RESULTS_PER_WINDOW.windowMs / 60_000} minutes (PREFLIGHT_RATE_LIMITED)`) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      if (actor.kind === 'invitation') {
        const wait = await invitationResults.hit(actor.id);
        if (wait > 0) {
          reply.header('retry-after', String(wait));
          throw new TiepdanError('PREFLIGHT_RATE_LIMITED', `too many test results from this invitation; wait ${wait} s`, { details: { retryAfterSeconds: wait } });
        }
      }
      reply.code(201);
      return P.report(actor, request.body);
    },
  );
};
