import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ControlServices } from '../../domain/controlServices.ts';
import { qrSvg, renderInvitationHtml } from '../../domain/invitations/printableInvitation.ts';
import { TiepdanError } from '../../errors.ts';
import { actorOf } from '../control/access.ts';
import { errorBody, errorResponses, idParams, R } from '../control/schemas.ts';
import { invitationView as invitationSchema } from '../../contract/views/invitation.ts';
import { sessionView as sessionSchema } from '../../contract/views/session.ts';
import { safeText } from '../../domain/common/safeText.ts';


export const invitationRoutes: FastifyPluginAsyncZod<{ services: ControlServices; publicOrigin: string }> = async (app, { services, publicOrigin }) => {
  const I = services.invitations;

  app.post(
    '/sessions/:id/invitations',
    {
      config: { access: { roles: R.organisers } },
      schema: {
        tags: ['invitations'],
        summary: 'Send the invitations: one per bridge point and participant (only missing ones on later calls)',
        description: 'Refused with INVITATION_BEFORE_APPROVAL while the session is a draft, submitted or rejected. The first call moves an approved session to invitations_sent. Invitations later than 5 working days before the session (N154 Art 23(1)) still go out, with lateNotice=true, and the audit records it.',
        params: idParams,
        response: { 200: z.object({ session: sessionSchema, issued: z.number().int(), lateNotice: z.boolean().describe('sent after the last day of N154 Art 23(1) (session.noticeDeadline): sent anyway, recorded in the audit'), invitations: z.array(invitationSchema) }), ...errorResponses },
      },
    },
    async (request) => I.send(actorOf(request), request.params.id),
  );

  app.get(
    '/sessions/:id/invitations',
    {
      config: { access: { roles: R.invitationReaders } },
      schema: { tags: ['invitations'], summary: 'Invitations of a session (a commune operator sees their point’s)', params: idParams, response: { 200: z.array(invitationSchema), ...errorResponses } },
    },
    async (request) => {
      await services.sessions.get(request.params.id, actorOf(request));
      return I.list(request.params.id, actorOf(request));
    },
  );

  app.post(
    '/sessions/:id/live-credential',
    {
      config: { access: { roles: [...R.chairs, 'technician'] } },
      schema: {
        tags: ['invitations'],
        summary: 'Your own credential for the live session (chair roles: host; technician: statistics only)',
        description: 'Derived from your login, valid at most 12 h and not after the session’s invitations: every moderation and recording action you take in the session is audited with your name.',
        params: idParams,
        response: { 200: z.object({ token: z.string(), role: z.enum(['host', 'technician']), expiresAt: z.string() }), ...errorResponses },
      },
    },
    async (request) => I.issueStaffCredential(actorOf(request), request.params.id),
  );

  app.get(
    '/invitations/:id',
    { config: { access: { roles: R.invitationReaders } }, schema: { tags: ['invitations'], summary: 'One invitation', params: idParams, response: { 200: invitationSchema, ...errorResponses } } },
    async (request) => I.get(request.params.id, actorOf(request)),
  );

  const printable = async (request: FastifyRequest, id: string): Promise<string> => {
    const invitation = await I.get(id, actorOf(request));
    const token = invitation.token;
    if (token === null) throw new TiepdanError('INVITATION_WITHHELD', 'your role may not print the chair’s invitation');
    const session = await services.sessions.get(invitation.sessionId);
    const points = await services.bridgePoints.list({ ids: session.bridgePointIds }, { limit: 500, offset: 0 });
    const settings = await services.settings.get();
    // The QR code and the typed code lead to /m/<code> (joinCodeRoutes.ts), which carries no token;
    // like the links, they use the configured origin, never the request's Host header (L8).
    const origin = publicOrigin;
    const joinCode = await I.joinCode(invitation.id);
    return renderInvitationHtml({
      joinCode,
      codePageUrl: `${origin}/m`,
      qrSvg: await qrSvg(`${origin}/m/${joinCode}`),
      invitation: { ...invitation, token },
      organisation: settings.organisation,
      session,
      slots: await services.preflight.slots(session.id),
      bridgePoints: points.items.map((p) => ({ id: p.id, code: p.code, name: p.name })),
      // Security review L8: the token goes in the fragment, which browsers never send (so it is in
      // no proxy or access log), and the origin is configured, not taken from the Host header (a
      // crafted Host would print links to another server). The pages then drop it from the address bar.
      joinUrl: `${publicOrigin}/join#token=${encodeURIComponent(token)}`,
      testUrl: `${publicOrigin}/test#token=${encodeURIComponent(token)}`,
      issuedOn: services.clock(),
    });
  };

  app.get(
    '/invitations/:id/print',
    {
      config: { access: { roles: R.invitationReaders } },
      schema: {
        tags: ['invitations'],
        summary: 'The printable invitation (giấy mời) as an A4 HTML page',
        params: idParams,
        response: { 200: { description: 'HTML page, prints on A4', content: { 'text/html': { schema: z.string() } } }, ...errorResponses },
      },
    },
    async (request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(await printable(request, request.params.id)),
  );

  app.get(
    '/invitations/:id/print.pdf',
    {
      config: { access: { roles: R.invitationReaders } },
      schema: {
        tags: ['invitations'],
        summary: 'The printable invitation as PDF (A4), printed by the server’s headless Chromium',
        description: '503 PDF_UNAVAILABLE when the server has no Chromium (the HTML page prints from any browser); 503 PDF_BUSY when too many prints wait (one Chromium at a time; the same page asked for twice is printed once).',
        params: idParams,
        response: { 200: { description: 'PDF, A4', content: { 'application/pdf': { schema: z.string().describe('binary PDF') } } }, ...errorResponses, 503: errorBody.describe('PDF_UNAVAILABLE or PDF_BUSY') },
      },
    },
    async (request, reply) => {
      // A client that leaves stops waiting; its print is dropped (or Chromium killed) when no one
      // else waits for the same page (pdfRenderer.ts, security review M13).
      const gone = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      const pdf = await services.pdf.render(await printable(request, request.params.id), { signal: gone.signal });
      return reply
        .type('application/pdf')
        .header('cache-control', 'no-store')
        .header('content-disposition', `inline; filename="giay-moi-${request.params.id.slice(0, 8)}.pdf"`)
        // A Buffer goes out as is (fastify serialises only objects); the schema documents the type.
        .send(pdf as unknown as string);
    },
  );

  app.post(
    '/invitations/:id/revoke',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['invitations'], summary: 'Revoke an invitation (its token stops admitting at once)', params: idParams, body: z.object({ reason: safeText(500).trim().min(1) }), response: { 200: invitationSchema, ...errorResponses } },
    },
    async (request) => I.revoke(actorOf(request), request.params.id, request.body.reason),
  );

  app.post(
    '/invitations/:id/reissue',
    {
      config: { access: { roles: R.organisers } },
      schema: { tags: ['invitations'], summary: 'Revoke and issue a fresh invitation for the same point or participant', params: idParams, response: { 201: invitationSchema, ...errorResponses } },
    },
    async (request, reply) => {
      reply.code(201);
      return I.reissue(actorOf(request), request.params.id);
    },
  );
};
