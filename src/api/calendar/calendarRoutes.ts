import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import type { ControlServices } from '../../domain/controlServices.ts';
import { actorOf } from '../control/access.ts';
import { errorResponses, isoDate, R } from '../control/schemas.ts';
import { safeText } from '../../domain/common/safeText.ts';

const dayKind = z.enum(['holiday', 'day_off', 'working_day']);
const exceptionSchema = z.object({ date: z.string(), kind: dayKind, name: z.string(), uncertain: z.boolean() }).describe('CalendarException');
const dayInfoSchema = z
  .object({ date: z.string(), workingDay: z.boolean(), reason: z.enum(['weekday', 'weekend', 'holiday', 'day_off', 'working_day']), name: z.string().nullable(), uncertain: z.boolean() })
  .describe('CalendarDay');

const checkRange = (from: string, to: string) => {
  // By the day count, not addDays: a range ending in year 9999 is valid and has no day 400 after it.
  if (to < from || Date.parse(to) - Date.parse(from) > 400 * 86_400_000) throw new TiepdanError('DATE_RANGE_INVALID', 'to must be on or after from, at most 400 days later', { details: [{ field: '/to', message: 'out of range' }] });
};

export const calendarRoutes: FastifyPluginAsyncZod<{ services: ControlServices }> = async (app, { services }) => {
  app.get(
    '/calendar/exceptions',
    {
      config: { access: { roles: R.all } },
      schema: {
        tags: ['calendar'],
        summary: 'Holidays, days off and make-up working days (the editable table); uncertain=true marks dates still to be confirmed',
        querystring: z.object({ from: isoDate.optional(), to: isoDate.optional() }),
        response: { 200: z.array(exceptionSchema), ...errorResponses },
      },
    },
    async (request) => services.calendar.exceptions(request.query.from, request.query.to),
  );

  app.get(
    '/calendar/days',
    {
      config: { access: { roles: R.all } },
      schema: { tags: ['calendar'], summary: 'Each day of a range: working day or not, and why', querystring: z.object({ from: isoDate, to: isoDate }), response: { 200: z.array(dayInfoSchema), ...errorResponses } },
    },
    async (request) => {
      checkRange(request.query.from, request.query.to);
      return services.calendar.days(request.query.from, request.query.to);
    },
  );

  app.get(
    '/calendar/working-days',
    {
      config: { access: { roles: R.all } },
      schema: {
        tags: ['calendar'],
        summary: 'Working-day arithmetic: the date N working days before/after, and the count between two dates',
        querystring: z.object({ date: isoDate, days: z.coerce.number().int().min(-60).max(60).default(-5), until: isoDate.optional() }),
        response: { 200: z.object({ date: z.string(), days: z.number().int(), result: z.string(), between: z.number().int().nullable() }), ...errorResponses },
      },
    },
    async (request) => {
      const { date, days, until } = request.query;
      const cal = await services.calendar.calendar([date, ...(until ? [until] : [])]);
      const result = days < 0 ? cal.subtractWorkingDays(date, -days) : cal.addWorkingDays(date, days);
      return { date, days, result, between: until === undefined ? null : cal.workingDaysBetween(date, until) };
    },
  );

  app.put(
    '/calendar/exceptions/:date',
    {
      config: { access: { roles: R.calendarEditors } },
      schema: {
        tags: ['calendar'],
        summary: 'Add or change a holiday, day off or make-up working day',
        params: z.object({ date: isoDate }),
        body: z.object({ kind: dayKind, name: safeText(200).trim().min(1), uncertain: z.boolean().default(false) }),
        response: { 200: exceptionSchema, ...errorResponses },
      },
    },
    async (request) => services.calendar.put(actorOf(request), { date: request.params.date, ...request.body }),
  );

  app.delete(
    '/calendar/exceptions/:date',
    {
      config: { access: { roles: R.calendarEditors } },
      schema: { tags: ['calendar'], summary: 'Remove an exception (the day follows the Monday–Friday rule again)', params: z.object({ date: isoDate }), response: { 204: z.null(), ...errorResponses } },
    },
    async (request, reply) => {
      await services.calendar.remove(actorOf(request), request.params.date);
      return reply.code(204).send(null);
    },
  );
};
