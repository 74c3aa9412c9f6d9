import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TiepdanError } from '../../errors.ts';
import { isApiKey } from '../../domain/auth/authService.ts';
import type { ControlServices } from '../../domain/controlServices.ts';
import type { Actor, UserRole } from '../../domain/common/roles.ts';

/**
 * Every control-API route declares who may call it in `config.access`; a route without it fails
 * at start-up, so no route can forget its role check. The table of routes and roles collected
 * here drives the role-matrix test and the OpenAPI descriptions.
 */
export interface Access {
  /** Roles allowed; 'public' needs no credentials (login only). */
  roles: readonly UserRole[] | 'public';
  /** An endpoint's invitation token is accepted too (pre-flight results). */
  invitation?: boolean;
  /** The 403 code for other roles (default ROLE_FORBIDDEN), e.g. APPROVER_ROLE_REQUIRED. */
  forbiddenCode?: string;
  /** Open to a user whose password an administrator reset (change it, who am I, log out). */
  passwordChange?: boolean;
}

export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    actor: Actor | undefined;
    tokenJti: string | undefined;
  }
}

/** The authenticated actor of a request (routes with roles always have one). */
export function actorOf(request: FastifyRequest): Actor {
  if (request.actor === undefined) throw new TiepdanError('AUTH_REQUIRED', 'log in first', { status: 401 });
  return request.actor;
}

export function installAccessControl(app: FastifyInstance, services: ControlServices, routeTable: RouteEntry[], prefix: string): void {
  app.decorateRequest('actor', undefined);
  app.decorateRequest('tokenJti', undefined);

  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) return;
    const access = route.config?.access;
    if (access === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routeTable.push({ method, url: route.url, access });
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access.roles === 'public') return;
    const header = request.headers.authorization;
    const apiKeyHeader = request.headers['x-api-key'];
    let actor: Actor;
    if (typeof apiKeyHeader === 'string' && apiKeyHeader !== '') {
      actor = await services.auth.authenticateApiKey(apiKeyHeader);
    } else if (typeof header === 'string' && /^bearer /i.test(header)) {
      const credential = header.slice(7).trim();
      if (isApiKey(credential)) actor = await services.auth.authenticateApiKey(credential);
      else {
        const authenticated = await services.auth.authenticateBearer(credential);
        request.tokenJti = authenticated.jti;
        const { jti: _jti, passwordChangeRequired, ...rest } = authenticated;
        if (passwordChangeRequired === true && access.passwordChange !== true) {
          throw new TiepdanError('PASSWORD_CHANGE_REQUIRED', 'an administrator set your password: choose your own first (POST /api/v1/auth/password)', { status: 403 });
        }
        actor = rest;
      }
    } else {
      throw new TiepdanError('AUTH_REQUIRED', 'this route needs a bearer token (POST /api/v1/auth/login) or an X-API-Key header', { status: 401 });
    }
    if (actor.kind === 'invitation') {
      if (access.invitation !== true) throw new TiepdanError('INVITATION_NOT_ALLOWED', 'an invitation token does not open this route', { status: 403 });
    } else if (actor.role === undefined || !access.roles.includes(actor.role)) {
      throw new TiepdanError(access.forbiddenCode ?? 'ROLE_FORBIDDEN', `the ${actor.role ?? 'unknown'} role may not do this (allowed: ${access.roles.join(', ')})`, {
        status: 403,
      });
    }
    request.actor = actor;
  });
}
