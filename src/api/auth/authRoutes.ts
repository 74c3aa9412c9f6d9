import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import { LoginRateLimiter } from '../../domain/auth/loginRateLimiter.ts';
import type { ControlServices } from '../../domain/controlServices.ts';
import { actorOf } from '../control/access.ts';
import { errorBody, errorResponses, R, roleEnum } from '../control/schemas.ts';
import { userView as userSchema } from '../../contract/views/user.ts';
import { safeText } from '../../domain/common/safeText.ts';

export const passwordSchema = safeText(200).min(10, 'at least 10 characters');

export interface AuthRouteOptions {
  services: ControlServices;
  /** Login attempts per client address per window (default 20 per minute). */
  loginRateLimit?: { max: number; windowMs: number };
}

export const authRoutes: FastifyPluginAsyncZod<AuthRouteOptions> = async (app, { services, loginRateLimit }) => {
  const limiter = new LoginRateLimiter(services.liveStore, 'login', loginRateLimit?.max ?? 20, loginRateLimit?.windowMs ?? 60_000);

  app.post(
    '/auth/login',
    {
      config: { access: { roles: 'public' } },
      schema: {
        tags: ['auth'],
        security: [],
        summary: 'Log in with user name and password; returns a bearer token with its expiry',
        description:
          'Five wrong passwords in a row lock the account for 15 minutes; while locked every attempt, even with the right password, gets the same LOGIN_FAILED (401) as an unknown user or a wrong password, so the answer tells no one which accounts exist or are locked. More than 20 attempts a minute from one address get LOGIN_RATE_LIMITED (429).',
        body: z.object({ username: safeText(100).trim().min(1), password: safeText(200).min(1) }),
        response: {
          200: z.object({
            token: z.string(),
            tokenType: z.literal('Bearer'),
            expiresAt: z.string(),
            user: userSchema,
            passwordChangeRequired: z.boolean().describe('an administrator set this password: every route but POST /auth/password, GET /auth/me and POST /auth/logout answers PASSWORD_CHANGE_REQUIRED (403) until the user chooses their own'),
          }),
          400: errorResponses[400],
          401: errorBody.describe('Wrong user name or password, or the account is locked or disabled: one answer for all (LOGIN_FAILED)'),
          429: errorBody.describe('Too many login attempts from this address (LOGIN_RATE_LIMITED)'),
        },
      },
    },
    async (request, reply) => {
      const wait = await limiter.hit(request.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw new TiepdanError('LOGIN_RATE_LIMITED', `too many login attempts; wait ${wait} s`, { details: { retryAfterSeconds: wait } });
      }
      const result = await services.auth.login(request.body.username, request.body.password);
      return { token: result.token, tokenType: 'Bearer' as const, expiresAt: result.expiresAt, user: result.user, passwordChangeRequired: result.passwordChangeRequired };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: { roles: R.all, passwordChange: true } },
      schema: { tags: ['auth'], summary: 'Revoke the bearer token used for this request', response: { 204: z.null().describe('logged out'), ...errorResponses } },
    },
    async (request, reply) => {
      if (request.tokenJti !== undefined) await services.auth.logout(actorOf(request), request.tokenJti);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      config: { access: { roles: R.all, passwordChange: true } },
      schema: {
        tags: ['auth'],
        summary: 'Who the credentials belong to',
        response: {
          200: z.object({ kind: z.enum(['user', 'api_key', 'invitation', 'system']), id: z.string(), role: roleEnum.nullable(), label: z.string(), bridgePointId: z.string().nullable() }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const a = actorOf(request);
      return { kind: a.kind, id: a.id, role: a.role ?? null, label: a.label, bridgePointId: a.bridgePointId };
    },
  );

  app.post(
    '/auth/password',
    {
      config: { access: { roles: R.all, passwordChange: true } },
      schema: {
        tags: ['auth'],
        summary: 'Change one’s own password (every token of the user is revoked: log in again)',
        description: 'A wrong currentPassword (CURRENT_PASSWORD_WRONG, 400) counts against the same lock as a failed login: five in a row lock the account for 15 minutes (here ACCOUNT_LOCKED, 423; at login the usual LOGIN_FAILED).',
        body: z.object({ currentPassword: safeText(200).min(1), newPassword: passwordSchema }),
        response: { 204: z.null().describe('changed'), ...errorResponses, 423: errorBody.describe('Locked after repeated wrong passwords (ACCOUNT_LOCKED)') },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      if (actor.kind !== 'user') throw new TiepdanError('USER_TOKEN_REQUIRED', 'only a logged-in user changes a password');
      await services.auth.setPassword(actor, actor.id, request.body.newPassword, request.body.currentPassword);
      return reply.code(204).send(null);
    },
  );
};
