import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import type { Access } from '../../src/api/control/access.ts';
import { API_KEY_ROLES, USER_ROLES, type Actor, type UserRole } from '../../src/domain/common/roles.ts';
import { InMemorySessionDirectory } from '../../src/domain/sessionDirectory.ts';
import { TiepdanServer } from '../../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../helpers/env.ts';
import { startControlApi } from './harness.ts';

/**
 * The role matrix of the whole server, generated from the route table its one access hook
 * collected (every route declares its access; an undeclared route outside the public list fails at
 * start-up): the control API, the recordings, the pre-flight loopback and the development route.
 * Each route × each user role, each API-key role, an invitation and no credentials is either let
 * through (any answer but 401/403 from the access check) or refused with the status and code the
 * declaration implies.
 */
function concreteUrl(url: string): string {
  return url
    .replace(/:id\b/g, randomUUID())
    .replace(/:jobId\b/g, randomUUID())
    .replace(/:sessionId\b/g, 'matrix-session')
    .replace(/:date\b/g, '2026-03-20')
    .replace(/\*$/, 'seg-0001.mkv');
}

/** The refusal a caller gets when the route is not for them (mirrors access.ts, stated once here). */
function refusal(access: Access, caller: 'user' | 'apiKey' | 'invitation'): string {
  const roles = access.roles as readonly string[];
  if (caller === 'invitation') return 'INVITATION_NOT_ALLOWED';
  if (caller === 'apiKey' && access.apiKey === false) return 'API_KEY_NOT_ALLOWED';
  if (access.invitation === 'live') return 'INVITATION_REQUIRED';
  return roles.length === 0 && access.invitation !== undefined ? 'INVITATION_REQUIRED' : (access.forbiddenCode ?? 'ROLE_FORBIDDEN');
}

/** The public routes: a new one must be added here on purpose. */
const PUBLIC = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /',
  'GET /join/*',
  'GET /test/*',
  'GET /favicon.ico',
  'GET /join',
  'GET /test',
  'GET /console',
  'GET /console/*',
  'GET /assets/:name',
  'GET /ws',
  'GET /live/client.js',
  'GET /live/test.html',
  'GET /openapi.json',
  'POST /api/v1/auth/login',
  'GET /m',
  'GET /m/:code',
  'GET /m/:code/kiem-thu',
  'POST /m',
];

t.test('the whole server: each route × each role, API key, invitation and no credentials', async (t) => {
  const data = await tempDataDir('tiepdan-matrix-');
  t.teardown(() => data.remove());
  // DEV_SESSIONS with the in-memory directory: the development route exists, so it is checked too.
  const server = await TiepdanServer.start(await testConfig(data.dir, { DEV_SESSIONS: 'true' }), silentLogger(), { sessionDirectory: new InMemorySessionDirectory() });
  t.teardown(() => server.stop());
  const { routeTable, control } = server;
  const inject = async (method: string, url: string, headers: Record<string, string>) => {
    const hasBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);
    const r = await server.app.inject({ method: method as 'GET', url, headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) }, ...(hasBody ? { payload: '{}' } : {}) });
    let body: { code?: string } = {};
    try {
      body = JSON.parse(r.body) as { code?: string };
    } catch {
      // not JSON (a page, a file): no code
    }
    return { status: r.statusCode, code: body.code, text: r.body };
  };

  const publicRoutes = routeTable.filter((r) => r.access.roles === 'public' && !r.url.startsWith('/docs')).map((r) => `${r.method} ${r.url}`);
  t.same([...publicRoutes].sort(), [...PUBLIC].sort(), 'the public routes are exactly the listed ones (plus the /docs pages)');
  const routes = routeTable.filter((r) => r.access.roles !== 'public');
  t.ok(routes.length >= 70, `${routes.length} protected routes`);
  for (const url of ['/api/v1/recordings', '/api/v1/recordings/:sessionId/segments/*', '/web/preflight/loopback', '/web/preflight/loopback/:id/stats', '/api/v1/live/sessions']) {
    t.ok(routes.some((r) => r.url === url), `${url} is in the table`);
  }

  const system: Actor = { kind: 'system', id: 'test', role: 'admin', label: 'test-setup', bridgePointId: null };
  const point = await control.bridgePoints.create(system, { code: 'MATRIX', name: 'Điểm cầu thử', kind: 'commune', address: '', contactName: '', contactPhone: '', contactEmail: '', networkNotes: '', active: true });
  const users = {} as Record<UserRole, string>;
  for (const role of USER_ROLES) {
    users[role] = (await control.auth.createUser(system, { username: `m-${role}`, displayName: role, role, password: `password-${role}-123`, bridgePointId: role === 'commune_operator' ? point.id : null })).id;
  }
  const keys = {} as Record<UserRole, string>;
  for (const role of API_KEY_ROLES) keys[role] = (await control.auth.createApiKey(system, { name: `m-${role}`, role })).key;
  // An invitation the control API issued (a row in invitations): valid for every invitation route.
  const session = await server.database.db
    .insertInto('sessions')
    .values({ title: 'matrix', scheduled_start: new Date(), scheduled_end: new Date(Date.now() + 3600_000), chair_user_id: null, go_live_override_reason: null, created_by: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  const issued = server.live.tokens.issue({ kind: 'invitation', sessionId: session.id, subject: 'x', role: 'endpoint', displayName: 'Xã thử', ttlSeconds: 600 });
  await server.database.db
    .insertInto('invitations')
    .values({ session_id: session.id, bridge_point_id: null, participant_id: null, subject: 'x', role: 'endpoint', display_name: 'Xã thử', jti: issued.claims.jti, token: issued.token, issued_at: new Date(), expires_at: new Date(issued.claims.exp * 1000), revoked_at: null, issued_by: null })
    .execute();

  const matrix: string[] = [];
  let allowed = 0;
  let refused = 0;
  const expect = async (route: { method: string; url: string; access: Access }, who: string, headers: Record<string, string>, allow: boolean, caller: 'user' | 'apiKey' | 'invitation') => {
    const r = await inject(route.method, concreteUrl(route.url), headers);
    if (allow) {
      const accessRefusal = r.status === 401 || (r.status === 403 && ['ROLE_FORBIDDEN', 'APPROVER_ROLE_REQUIRED', 'INVITATION_REQUIRED', 'INVITATION_NOT_ALLOWED', 'API_KEY_NOT_ALLOWED', 'API_KEY_ROLE_RETIRED'].includes(r.code ?? ''));
      t.notOk(accessRefusal, `${who} may ${route.method} ${route.url} (got ${r.status} ${r.code ?? ''})`);
      t.ok(r.status < 500, `${route.method} ${route.url} as ${who}: no server error (${r.status} ${r.text.slice(0, 200)})`);
      allowed++;
    } else {
      t.same([r.status, r.code], [403, refusal(route.access, caller)], `${who} may not ${route.method} ${route.url}`);
      refused++;
    }
    return allow ? '✓' : '·';
  };
  for (const route of routes) {
    const roles = route.access.roles as readonly UserRole[];
    const row: string[] = [];
    for (const role of USER_ROLES) {
      // A fresh token per call: logout revokes the token it is called with.
      const token = (await control.auth.mintToken(users[role], role)).token;
      row.push(await expect(route, role, { authorization: `Bearer ${token}` }, roles.includes(role) && route.access.invitation !== 'live', 'user'));
    }
    row.push('|');
    for (const role of API_KEY_ROLES) {
      row.push(await expect(route, `API key (${role})`, { 'x-api-key': keys[role] }, roles.includes(role) && route.access.apiKey !== false && route.access.invitation !== 'live', 'apiKey'));
    }
    row.push('|');
    row.push(await expect(route, 'invitation', { authorization: `Bearer ${issued.token}` }, route.access.invitation !== undefined, 'invitation'));
    const none = await inject(route.method, concreteUrl(route.url), {});
    t.same([none.status, none.code], [401, 'AUTH_REQUIRED'], `no credentials: ${route.method} ${route.url}`);
    matrix.push(`${row.join(' ')}  ${route.method} ${route.url}${route.access.devOnly ? ' (DEV_SESSIONS only)' : ''}`);
  }
  t.comment(`users: ${USER_ROLES.join(', ')} | API keys: ${API_KEY_ROLES.join(', ')} | invitation\n${matrix.join('\n')}`);
  t.ok(allowed > 0 && refused > 0, `${allowed} allowed, ${refused} refused`);

  await t.test('/openapi.json documents every protected route of the server, valid OpenAPI 3.1', async (t) => {
    const doc = JSON.parse((await server.app.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: Record<string, Record<string, { summary?: string; tags?: string[] }>> };
    const result = await new Validator().validate(structuredClone(doc));
    t.ok(result.valid, `valid ${result.valid ? '' : JSON.stringify(result.errors).slice(0, 1000)}`);
    for (const route of routes) {
      const op = doc.paths[route.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}')]?.[route.method.toLowerCase()];
      t.ok(op !== undefined && typeof op.summary === 'string', `${route.method} ${route.url} is documented with a summary`);
    }
  });

  await t.test('forged, unknown and staff tokens where they do not belong', async (t) => {
    t.same(await inject('GET', '/api/v1/sessions', { authorization: 'Bearer td1.eyJ4IjoxfQ.forged' }).then((r) => [r.status, r.code]), [401, 'TOKEN_INVALID']);
    const { token } = server.live.tokens.issue({ kind: 'invitation', sessionId: randomUUID(), subject: randomUUID(), role: 'endpoint', displayName: 'Xã thử', ttlSeconds: 600 });
    // Unknown to the invitations table: treated as revoked by the control API.
    t.equal((await inject('GET', '/api/v1/sessions', { authorization: `Bearer ${token}` })).code, 'TOKEN_REVOKED');
    t.equal((await inject('GET', '/api/v1/preflight/invitation', { authorization: `Bearer ${token}` })).code, 'TOKEN_REVOKED');
  });
});

/** An API refusal carries its code; a page (the join-code pages) answers in Vietnamese HTML instead. */
function refusalHasCode(r: { headers: Record<string, unknown>; body: string }): boolean {
  if (String(r.headers['content-type'] ?? '').startsWith('text/html')) return r.body.includes('lang="vi"');
  try {
    return typeof (JSON.parse(r.body) as { code?: unknown }).code === 'string';
  } catch {
    return false;
  }
}

t.test('bad input on every route: never a 500; every refusal has a code', async (t) => {
  const h = await startControlApi();
  t.teardown(() => h.close());
  const garbage: { payload: string; type: string }[] = [
    { payload: '{', type: 'application/json' },
    { payload: '[]', type: 'application/json' },
    { payload: 'null', type: 'application/json' },
    { payload: '"text"', type: 'application/json' },
    { payload: '12', type: 'application/json' },
    { payload: JSON.stringify({ title: 1, scheduledStart: 'tomorrow', caseIds: ['x'], people: 'many', criteria: ['z'], limit: -1, decision: 'maybe', kind: {}, role: 'king', startsAt: 5 }), type: 'application/json' },
    { payload: JSON.stringify({ name: 'x'.repeat(100_000) }), type: 'application/json' },
    { payload: '<xml/>', type: 'application/xml' },
  ];
  let checked = 0;
  for (const route of h.routeTable) {
    const role = route.access.roles === 'public' ? undefined : route.access.roles[0]!;
    const token = role === undefined ? undefined : (await h.services.auth.mintToken(h.users[role].id, role)).token;
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const urls = [route.url.replace(/:id\b/g, 'not-a-uuid').replace(/:date\b/g, '2026-02-30'), `${route.url.replace(/:id\b/g, '00000000-0000-0000-0000-000000000000').replace(/:date\b/g, '2026-13-01')}?limit=abc&offset=-5&year=x&from=yesterday&status=nope&kind=x&active=maybe`];
    for (const url of urls) {
      if (['POST', 'PUT', 'PATCH'].includes(route.method)) {
        for (const g of garbage) {
          const r = await h.app.inject({ method: route.method as 'POST', url, headers: { ...headers, 'content-type': g.type }, payload: g.payload });
          t.ok(r.statusCode < 500 && (r.statusCode < 400 || refusalHasCode(r)), `${route.method} ${url} with ${g.payload.slice(0, 30)}: ${r.statusCode} ${r.body.slice(0, 120)}`);
          checked++;
        }
      } else {
        const r = await h.app.inject({ method: route.method as 'GET', url, headers });
        t.ok(r.statusCode < 500 && (r.statusCode < 400 || refusalHasCode(r)), `${route.method} ${url}: ${r.statusCode} ${r.body.slice(0, 120)}`);
        checked++;
      }
    }
  }
  t.ok(checked > 300, `${checked} bad requests, none answered with a 5xx`);
});
