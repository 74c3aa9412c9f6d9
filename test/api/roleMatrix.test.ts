import { randomUUID } from 'node:crypto';
import t from 'tap';
import { USER_ROLES } from '../../src/domain/common/roles.ts';
import { startControlApi } from './harness.ts';

/**
 * The role matrix, generated from the route table the server itself collected (every route
 * declares its roles; a route without a declaration fails at start-up): each role × each route is
 * either let through (any answer but 401/403) or refused with 403 and a code. Also: no
 * credentials → 401 everywhere, and an invitation token opens only the routes meant for it.
 */
function concreteUrl(url: string): string {
  return url.replace(/:id\b/g, randomUUID()).replace(/:date\b/g, '2026-03-20');
}

t.test('each role × each route: allowed or 403', async (t) => {
  const h = await startControlApi();
  t.teardown(() => h.close());
  const routes = h.routeTable.filter((r) => r.access.roles !== 'public');
  t.ok(routes.length >= 50, `${routes.length} protected routes`);
  t.same(
    h.routeTable.filter((r) => r.access.roles === 'public').map((r) => `${r.method} ${r.url}`),
    ['POST /api/v1/auth/login'],
    'login is the only public route',
  );

  let allowed = 0;
  let forbidden = 0;
  const matrix: string[] = [];
  for (const route of routes) {
    const roles = route.access.roles as readonly string[];
    const row: string[] = [];
    for (const role of USER_ROLES) {
      // A fresh token per call: logout revokes the token it is called with.
      const token = (await h.services.auth.mintToken(h.users[role].id, role)).token;
      const hasBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
      const r = await h.call(route.method as 'GET', concreteUrl(route.url), { token, ...(hasBody ? { body: {} } : {}) });
      if (roles.includes(role)) {
        t.ok(r.status !== 401 && !(r.status === 403 && ['ROLE_FORBIDDEN', 'APPROVER_ROLE_REQUIRED'].includes(r.body?.code)), `${role} may ${route.method} ${route.url} (got ${r.status} ${r.body?.code ?? ''})`);
        t.ok(r.status < 500, `${route.method} ${route.url} as ${role}: no server error (${r.status} ${r.text.slice(0, 200)})`);
        allowed++;
        row.push('✓');
      } else {
        t.equal(r.status, 403, `${role} may not ${route.method} ${route.url}`);
        t.equal(r.body.code, route.access.forbiddenCode ?? 'ROLE_FORBIDDEN');
        forbidden++;
        row.push('·');
      }
    }
    matrix.push(`${row.join(' ')}  ${route.method} ${route.url}`);
  }
  t.comment(`roles: ${USER_ROLES.join(', ')}\n${matrix.join('\n')}`);
  t.ok(allowed > 0 && forbidden > 0, `${allowed} allowed, ${forbidden} forbidden`);

  await t.test('no credentials: 401 on every protected route', async (t) => {
    for (const route of routes) {
      const r = await h.call(route.method as 'GET', concreteUrl(route.url), { as: 'nobody', ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: {} } : {}) });
      t.equal(r.status, 401, `${route.method} ${route.url}`);
      t.equal(r.body.code, 'AUTH_REQUIRED');
    }
    const forged = await h.call('GET', '/api/v1/sessions', { token: 'td1.eyJ4IjoxfQ.forged' });
    t.equal(forged.status, 401);
    t.equal(forged.body.code, 'TOKEN_INVALID');
  });

  await t.test('an invitation token opens only the pre-flight result route', async (t) => {
    const { token } = h.signer.issue({ kind: 'invitation', sessionId: randomUUID(), subject: randomUUID(), role: 'endpoint', displayName: 'Xã thử', ttlSeconds: 600 });
    // Unknown to the invitations table: treated as revoked everywhere.
    t.equal((await h.call('GET', '/api/v1/sessions', { token })).body.code, 'TOKEN_REVOKED');
    const inv = await h.database.db
      .insertInto('sessions')
      .values({ title: 'matrix', scheduled_start: new Date(), scheduled_end: new Date(Date.now() + 3600_000), chair_user_id: null, go_live_override_reason: null, created_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const issued = h.signer.issue({ kind: 'invitation', sessionId: inv.id, subject: 'x', role: 'endpoint', displayName: 'Xã thử', ttlSeconds: 600 });
    await h.database.db
      .insertInto('invitations')
      .values({ session_id: inv.id, bridge_point_id: null, participant_id: null, subject: 'x', role: 'endpoint', display_name: 'Xã thử', jti: issued.claims.jti, token: issued.token, issued_at: new Date(), expires_at: new Date(issued.claims.exp * 1000), revoked_at: null, issued_by: null })
      .execute();
    for (const route of routes) {
      const r = await h.call(route.method as 'GET', concreteUrl(route.url), { token: issued.token, ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: {} } : {}) });
      if (route.access.invitation === true) t.not(r.status, 403, `${route.method} ${route.url} accepts invitations`);
      else {
        t.equal(r.status, 403, `${route.method} ${route.url} refuses invitations`);
        t.equal(r.body.code, 'INVITATION_NOT_ALLOWED');
      }
    }
  });
});

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
          t.ok(r.statusCode < 500 && (r.statusCode < 400 || typeof JSON.parse(r.body).code === 'string'), `${route.method} ${url} with ${g.payload.slice(0, 30)}: ${r.statusCode} ${r.body.slice(0, 120)}`);
          checked++;
        }
      } else {
        const r = await h.app.inject({ method: route.method as 'GET', url, headers });
        t.ok(r.statusCode < 500 && (r.statusCode < 400 || typeof JSON.parse(r.body).code === 'string'), `${route.method} ${url}: ${r.statusCode} ${r.body.slice(0, 120)}`);
        checked++;
      }
    }
  }
  t.ok(checked > 300, `${checked} bad requests, none answered with a 5xx`);
});
