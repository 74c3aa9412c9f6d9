import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DEFAULT_SESSION_SETTINGS, type LiveSessionSettings } from '../domain/sessionDirectory.ts';
import { TiepdanError } from '../errors.ts';
import { PARTICIPANT_ROLES, type TokenSigner } from '../tokens/tokenSigner.ts';

export interface DevSessionsOptions {
  /** Where sessions made here are stored (the in-memory directory). */
  store: { put(settings: LiveSessionSettings): void };
  tokens: TokenSigner;
}

const bodySchema = z.object({
  title: z.string().min(1).max(200).default('Phiên thử'),
  maxPeers: z.number().int().min(1).max(500).optional(),
  lobbyEnabled: z.boolean().optional(),
  endpointsSeeEachOther: z.boolean().optional(),
  ttlSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(8 * 3600),
  participants: z
    .array(
      z.object({
        subject: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only'),
        role: z.enum(PARTICIPANT_ROLES),
        displayName: z.string().min(1).max(120).optional(),
      }),
    )
    .min(1)
    .max(100),
});

/**
 * Development-only (DEV_SESSIONS=true): makes an open session in the in-memory directory and
 * returns one invitation token per participant, until the control API issues real ones. Registered
 * by src/api/app.ts inside the control API's scope (so it is documented and in the role matrix).
 */
export const devSessionsPlugin: FastifyPluginAsync<DevSessionsOptions> = async (app, { store, tokens }) => {
  app.post(
    '/api/v1/live/sessions',
    {
      // Makes sessions and invitations outside every rule of the regulation: staff only, and only
      // in development (the access hook refuses to start if this route exists without DEV_SESSIONS).
      config: { access: { roles: ['admin', 'technician'], devOnly: true, apiKey: false } },
      schema: { tags: ['development'], summary: 'DEV_SESSIONS only: an open in-memory session and one invitation token per participant' },
    },
    async (request, reply) => {
      const parsed = bodySchema.safeParse(request.body ?? {});
      if (!parsed.success) {
        throw new TiepdanError('VALIDATION_FAILED', 'invalid session request', {
          details: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
        });
      }
      const body = parsed.data;
      const id = randomUUID();
      store.put({
        ...DEFAULT_SESSION_SETTINGS,
        id,
        title: body.title,
        maxPeers: body.maxPeers ?? DEFAULT_SESSION_SETTINGS.maxPeers,
        lobbyEnabled: body.lobbyEnabled ?? false,
        endpointsSeeEachOther: body.endpointsSeeEachOther ?? false,
      });
      const participants = body.participants.map((p) => {
        const { token } = tokens.issue({ kind: 'invitation', sessionId: id, subject: p.subject, role: p.role, displayName: p.displayName, ttlSeconds: body.ttlSeconds });
        // The token goes in the fragment: browsers never send it to the server in a request line.
        return { subject: p.subject, role: p.role, token, joinPath: `/live/test.html#session=${id}&token=${encodeURIComponent(token)}` };
      });
      return reply.status(201).send({ sessionId: id, participants });
    },
  );
};
