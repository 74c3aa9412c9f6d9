import t from 'tap';
import { AUTH_CACHE_TTL_MS } from '../../src/domain/auth/verifiedCredentials.ts';
import { startControlApi } from './harness.ts';

/**
 * Verified tokens and API keys are kept for a few seconds (issue 14 item 4: no database round trip
 * per request for them). What a user would notice must not change: a logout, a disabled account, a
 * revoked key stop working at the next request; roles are still checked on every request; and a
 * revocation written into the database behind the server's back holds within AUTH_CACHE_TTL_MS.
 */
t.test('verified credentials: revocation bound and scopes', async (t) => {
  const h = await startControlApi({ now: new Date('2026-02-02T02:00:00Z') });
  t.teardown(() => h.close());
  const later = (ms: number) => {
    h.clock.now = new Date(h.clock.now.getTime() + ms);
  };

  await t.test('a token revoked through the API stops at once, even while it is kept', async (t) => {
    const login = await h.call('POST', '/api/v1/auth/login', { body: { username: 't-reception_board', password: 'password-reception_board-123' } });
    t.equal(login.status, 200, login.text);
    const token = login.body.token as string;
    t.equal((await h.call('GET', '/api/v1/sessions', { token })).status, 200, 'verified, and now kept');
    t.equal((await h.call('POST', '/api/v1/auth/logout', { token })).status, 204);
    const after = await h.call('GET', '/api/v1/sessions', { token });
    t.same([after.status, after.body.code], [401, 'TOKEN_REVOKED'], 'the logout is seen at the next request');
  });

  await t.test('disabling a user or changing their point is seen at the next request', async (t) => {
    const made = await h.call('POST', '/api/v1/users', { as: 'admin', body: { username: 'ban.tam', displayName: 'Ban tạm', role: 'reception_board', password: 'mat-khau-ban-tam-1' } });
    t.equal(made.status, 201, made.text);
    const token = (await h.services.auth.mintToken(made.body.id, 'reception_board')).token;
    t.equal((await h.call('GET', '/api/v1/sessions', { token })).status, 200);
    t.equal((await h.call('PATCH', `/api/v1/users/${made.body.id}`, { as: 'admin', body: { active: false } })).status, 200);
    const after = await h.call('GET', '/api/v1/sessions', { token });
    t.equal(after.status, 401, 'disabled: refused at once');
  });

  await t.test('roles are checked on every request, kept or not', async (t) => {
    const token = h.users.auditor.token;
    t.equal((await h.call('GET', '/api/v1/sessions', { token })).status, 200, 'kept after this');
    const refused = await h.call('POST', '/api/v1/cases', { token, body: { type: 'kien_nghi', title: 'x' } });
    t.same([refused.status, refused.body.code], [403, 'ROLE_FORBIDDEN'], 'a kept auditor token still may not record a case');
  });

  await t.test('a token revoked behind the server’s back stops within the stated bound', async (t) => {
    const token = h.users.technician.token;
    t.equal((await h.call('GET', '/api/v1/sessions', { token })).status, 200);
    await h.database.db.updateTable('auth_tokens').set({ revoked_at: h.clock.now }).where('user_id', '=', h.users.technician.id).execute();
    later(AUTH_CACHE_TTL_MS);
    const after = await h.call('GET', '/api/v1/sessions', { token });
    t.same([after.status, after.body.code], [401, 'TOKEN_REVOKED'], `refused ${AUTH_CACHE_TTL_MS} ms after the row changed`);
  });

  await t.test('an API key: revoked through the API at once, behind the server’s back within the bound', async (t) => {
    const first = await h.call('POST', '/api/v1/api-keys', { as: 'admin', body: { name: 'bao-cao-1', role: 'auditor' } });
    const second = await h.call('POST', '/api/v1/api-keys', { as: 'admin', body: { name: 'bao-cao-2', role: 'auditor' } });
    t.equal(first.status, 201, first.text);
    const use = (key: string) => h.call('GET', '/api/v1/sessions', { headers: { 'x-api-key': key } });
    t.equal((await use(first.body.key)).status, 200);
    t.equal((await use(second.body.key)).status, 200);
    t.equal((await h.call('DELETE', `/api/v1/api-keys/${first.body.apiKey.id}`, { as: 'admin' })).status, 200);
    t.same([(await use(first.body.key)).status, (await use(first.body.key)).body.code], [401, 'API_KEY_INVALID'], 'revoked: refused at once');

    await h.database.db.updateTable('api_keys').set({ revoked_at: h.clock.now }).where('id', '=', second.body.apiKey.id).execute();
    later(AUTH_CACHE_TTL_MS);
    t.equal((await use(second.body.key)).status, 401, `refused ${AUTH_CACHE_TTL_MS} ms after the row changed`);
  });
});
