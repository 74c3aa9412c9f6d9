import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { ErrorCode } from '../../contract/errors.ts';
import { TiepdanError } from '../../errors.ts';
import { isApiKey } from '../../domain/auth/authService.ts';
import type { Actor, UserRole } from '../../domain/common/roles.ts';
import type { TokenClaims } from '../../tokens/tokenSigner.ts';
import type { TokenStanding } from '../../domain/sessionDirectory.ts';

/**
 * One access system for every HTTP route of the server (issue 10 item 3). Every route declares
 * who may call it in `config.access`; the hook installed on the root instance enforces it, so no
 * plugin has a role check of its own to forget. A route without a declaration fails at start-up,
 * unless it is one of the few public routes below (which are then listed as public). The table
 * collected here drives the role-matrix test.
 */
export interface Access {
  /** Roles allowed; 'public' needs no credentials (allowed only for PUBLIC_ROUTES). */
  roles: readonly UserRole[] | 'public';
  /**
   * An invitation token is accepted too. `true`: one the control API issued and has not revoked
   * (the actor carries its session and bridge point). `'live'`: any invitation this server signed
   * and has not revoked, as the signaling socket accepts it (development sessions' too).
   */
  invitation?: true | 'live';
  /** An API key is accepted (default true). False where a person must act or see evidence. */
  apiKey?: boolean;
  /** Registered only with DEV_SESSIONS=true: start-up fails if one appears otherwise. */
  devOnly?: boolean;
  /** The 403 code for other roles (default ROLE_FORBIDDEN), e.g. APPROVER_ROLE_REQUIRED. */
  forbiddenCode?: ErrorCode;
  /** Open to a user whose password an administrator reset (change it, who am I, log out). */
  passwordChange?: boolean;
}

export interface RouteEntry {
  method: string;
  url: string;
  access: Access;
}

/**
 * The routes that need no credentials, and why. Everything else declares `config.access`.
 * `/ws` authenticates each join with the token in its first message (src/signaling), `/metrics`
 * with METRICS_TOKEN or loopback (src/ops/metrics); the rest are pages, their assets, health probes,
 * the API's own description, the login that gives a token and the join-code exchange.
 */
const PUBLIC_ROUTES: readonly string[] = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /',
  'GET /favicon.ico',
  'GET /join',
  'GET /join/*',
  'GET /test',
  'GET /test/*',
  'GET /console',
  'GET /console/*',
  'GET /assets/:name',
  'GET /tls/ca.crt',
  'GET /live/client.js',
  'GET /live/test.html',
  'GET /ws',
  'GET /openapi.json',
  'POST /api/v1/auth/login',
  // The giấy mời's QR and typed join code: the code is the credential, exchanged for the invitation
  // token, rate-limited per address and audited (src/api/invitations/joinCodeRoutes.ts).
  'GET /m',
  'GET /m/:code',
  'GET /m/:code/kiem-thu',
  'POST /m',
];
/** The browsable API docs (@fastify/swagger-ui registers its own static routes under it). */
const PUBLIC_PREFIXES: readonly string[] = ['GET /docs'];

const isPublicRoute = (method: string, url: string): boolean => {
  const key = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  return PUBLIC_ROUTES.includes(key) || PUBLIC_PREFIXES.some((p) => key === p || key.startsWith(`${p}/`));
};

/** How credentials become an actor; the control API's AuthService and the live token checks. */
export interface AccessAuthenticators {
  /** A bearer token (user or control-API invitation); undefined when the control API is not wired. */
  bearer?: (token: string) => Promise<Actor & { jti: string; passwordChangeRequired?: boolean }>;
  apiKey?: (key: string) => Promise<Actor>;
  /** For `invitation: 'live'` routes: signature and expiry, then the live directory's revocation list. */
  liveInvitation?: { verify(token: string): TokenClaims; standing(claims: TokenClaims): Promise<TokenStanding> };
}

export interface AccessOptions extends AccessAuthenticators {
  /** DEV_SESSIONS: development-only routes may exist. */
  devRoutes?: boolean;
  /** Filled with every route and its access rule. */
  routeTable?: RouteEntry[];
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
  if (request.actor === undefined) throw new TiepdanError('AUTH_REQUIRED', 'log in first');
  return request.actor;
}

const PUBLIC: Access = { roles: 'public' };

function declaredAccess(route: RouteOptions, devRoutes: boolean): Access {
  const method = [route.method].flat()[0] ?? 'GET';
  const access = route.config?.access;
  if (access === undefined) {
    if (isPublicRoute(method, route.url)) return PUBLIC;
    throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access) and is not one of the public routes (src/api/control/access.ts)`);
  }
  if (access.roles === 'public' && !isPublicRoute(method, route.url)) throw new Error(`route ${String(route.method)} ${route.url} declares itself public but is not on the list of public routes`);
  if (access.devOnly === true && !devRoutes) throw new Error(`development-only route ${String(route.method)} ${route.url} registered without DEV_SESSIONS`);
  return access;
}

/**
 * Installs the one access hook on the root instance (before any plugin registers routes, so
 * onRoute sees them all): each route's rule is checked at start-up and enforced on every request.
 */
export function installAccessControl(app: FastifyInstance, options: AccessOptions): void {
  const devRoutes = options.devRoutes === true;
  app.decorateRequest('actor', undefined);
  app.decorateRequest('tokenJti', undefined);

  app.addHook('onRoute', (route) => {
    const access = declaredAccess(route, devRoutes);
    // Public routes without a declaration get one, so the request hook reads every route alike.
    route.config = { ...route.config, access };
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      options.routeTable?.push({ method, url: route.url, access });
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    // Unmatched requests (the 404 handler) have no route: nothing to open.
    if (access === undefined || access.roles === 'public') return;
    if (access.devOnly === true && !devRoutes) throw new TiepdanError('NOT_FOUND', 'no such route');
    request.actor = await authenticate(request, access, options);
  });
}

async function authenticate(request: FastifyRequest, access: Access, auth: AccessAuthenticators): Promise<Actor> {
  const roles = access.roles as readonly UserRole[];
  const header = request.headers.authorization;
  const apiKeyHeader = request.headers['x-api-key'];
  const bearer = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
  const key = typeof apiKeyHeader === 'string' && apiKeyHeader !== '' ? apiKeyHeader : bearer !== undefined && isApiKey(bearer) ? bearer : undefined;
  let actor: Actor;
  if (key !== undefined) {
    if (auth.apiKey === undefined) throw unavailable();
    actor = await auth.apiKey(key);
    if (access.apiKey === false) throw new TiepdanError('API_KEY_NOT_ALLOWED', 'this needs a person logged in, not an API key');
  } else if (bearer !== undefined && access.invitation === 'live') {
    // A live route (the pre-flight loopback) takes invitations only, as the signaling socket does.
    if (auth.liveInvitation === undefined) throw unavailable();
    const claims = auth.liveInvitation.verify(bearer);
    if (claims.kind !== 'invitation') throw new TiepdanError('INVITATION_REQUIRED', 'an invitation token opens this route (the link the organiser sent)');
    // Fail closed (security review L1): only an invitation the store issued, for this session,
    // subject and role, runs; a token signed with the key but never issued does not.
    const standing = await auth.liveInvitation.standing(claims);
    if (standing === 'revoked') throw new TiepdanError('TOKEN_REVOKED', 'this invitation was revoked; ask the organiser for a new one');
    if (standing !== 'valid') throw new TiepdanError('TOKEN_INVALID', 'the token is not valid');
    request.tokenJti = claims.jti;
    return { kind: 'invitation', id: claims.jti, role: undefined, label: claims.name ?? claims.sub, bridgePointId: null, sessionId: claims.sid, subject: claims.sub };
  } else if (bearer !== undefined) {
    if (auth.bearer === undefined) throw unavailable();
    const { jti, passwordChangeRequired, ...rest } = await auth.bearer(bearer);
    request.tokenJti = jti;
    if (passwordChangeRequired === true && access.passwordChange !== true) {
      throw new TiepdanError('PASSWORD_CHANGE_REQUIRED', 'an administrator set your password: choose your own first (POST /api/v1/auth/password)');
    }
    actor = rest;
  } else {
    throw new TiepdanError('AUTH_REQUIRED', access.invitation === 'live' ? 'an invitation token is needed (Authorization: Bearer …)' : 'this route needs a bearer token (POST /api/v1/auth/login) or an X-API-Key header');
  }
  if (actor.kind === 'invitation') {
    if (access.invitation !== true) throw new TiepdanError('INVITATION_NOT_ALLOWED', 'an invitation token does not open this route');
  } else if (actor.role === undefined || !roles.includes(actor.role)) {
    const code = roles.length === 0 && access.invitation !== undefined ? 'INVITATION_REQUIRED' : (access.forbiddenCode ?? 'ROLE_FORBIDDEN');
    throw new TiepdanError(code, roles.length === 0 ? 'an invitation token opens this route, no staff login' : `the ${actor.role ?? 'unknown'} role may not do this (allowed: ${roles.join(', ')})`);
  }
  return actor;
}

const unavailable = () => new TiepdanError('AUTH_UNAVAILABLE', 'authentication is not configured on this server');
