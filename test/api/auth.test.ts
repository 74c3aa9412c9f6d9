import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { TiepdanServer } from '../../src/server.ts';
import { memoryLogger, tempDataDir, testConfig } from '../helpers/env.ts';

/** Auth on the real server (composition root): first admin, login, lockout, rate limit, logout, API keys. */
t.test('auth on a freshly started server', async (t) => {
  const tmp = await tempDataDir();
  const { logger, lines } = memoryLogger('info');
  const server = await TiepdanServer.start(await testConfig(tmp.dir), logger);
  t.teardown(async () => {
    await server.stop();
    await tmp.remove();
  });
  const api = async (method: string, url: string, o: { token?: string; apiKey?: string; body?: unknown } = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.apiKey) headers['x-api-key'] = o.apiKey;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${url}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };

  // The first start created `admin` and wrote its password once, owner-only.
  const file = path.join(tmp.dir, 'initial-admin-password');
  const mode = (await stat(file)).mode & 0o777;
  t.equal(mode, 0o600, 'initial-admin-password is 0600');
  const password = (await readFile(file, 'utf8')).trim();
  t.ok(password.length >= 20, 'a long random password');
  const logged = lines().join('\n');
  t.match(logged, /initial-admin-password/, 'the log names the file');
  t.notOk(logged.includes(password), 'the password itself is never logged');

  const login = await api('POST', '/api/v1/auth/login', { body: { username: 'admin', password } });
  t.equal(login.status, 200);
  t.equal(login.body.tokenType, 'Bearer');
  t.ok(Date.parse(login.body.expiresAt) > Date.now() + 7 * 3600_000, 'token expires in about 8 hours');
  const admin = login.body.token as string;
  t.match((await api('GET', '/api/v1/auth/me', { token: admin })).body, { kind: 'user', role: 'admin', label: 'admin' });

  // Users and lockout.
  const created = await api('POST', '/api/v1/users', { token: admin, body: { username: 'ban.tcd', displayName: 'Cán bộ Ban TCD', role: 'reception_board', password: 'mat-khau-dai-1' } });
  t.equal(created.status, 201);
  t.equal((await api('POST', '/api/v1/users', { token: admin, body: { username: 'ban.tcd', displayName: 'x', role: 'auditor', password: 'mat-khau-dai-2' } })).body.code, 'USERNAME_TAKEN');
  t.equal((await api('POST', '/api/v1/users', { token: admin, body: { username: 'short', displayName: 'x', role: 'auditor', password: 'short' } })).status, 400, 'short passwords refused');
  const operator = await api('POST', '/api/v1/users', { token: admin, body: { username: 'op', displayName: 'x', role: 'commune_operator', password: 'mat-khau-dai-3' } });
  t.equal(operator.status, 400);
  t.equal(operator.body.code, 'BRIDGE_POINT_REQUIRED', 'a commune operator needs their bridge point');
  for (let i = 0; i < 5; i++) {
    const r = await api('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'wrong-password' } });
    t.equal(r.body.code, 'LOGIN_FAILED', `failure ${i + 1}`);
  }
  const locked = await api('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'mat-khau-dai-1' } });
  t.equal(locked.status, 401, 'locked after five failures, even with the right password');
  t.same(locked.body, (await api('POST', '/api/v1/auth/login', { body: { username: 'nobody-here', password: 'mat-khau-dai-1' } })).body, 'and answered exactly like an unknown user');
  await api('PATCH', `/api/v1/users/${created.body.id}`, { token: admin, body: { unlock: true } });
  const board = await api('POST', '/api/v1/auth/login', { body: { username: 'BAN.TCD', password: 'mat-khau-dai-1' } });
  t.equal(board.status, 200, 'an administrator unlocks; user names are case-insensitive');
  t.equal((await api('GET', '/api/v1/users', { token: board.body.token })).body.code, 'ROLE_FORBIDDEN');
  t.equal((await api('POST', '/api/v1/auth/login', { body: { username: 'nobody', password: 'x' } })).body.code, 'LOGIN_FAILED', 'unknown users look the same');

  // Logout revokes the token at once.
  t.equal((await api('POST', '/api/v1/auth/logout', { token: board.body.token })).status, 204);
  const after = await api('GET', '/api/v1/auth/me', { token: board.body.token });
  t.equal(after.status, 401);
  t.equal(after.body.code, 'TOKEN_REVOKED');

  // Disabling a user revokes their tokens.
  const again = (await api('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'mat-khau-dai-1' } })).body.token as string;
  await api('PATCH', `/api/v1/users/${created.body.id}`, { token: admin, body: { active: false } });
  t.equal((await api('GET', '/api/v1/auth/me', { token: again })).status, 401, 'disabled user is out');
  t.equal((await api('POST', '/api/v1/auth/login', { body: { username: 'ban.tcd', password: 'mat-khau-dai-1' } })).body.code, 'LOGIN_FAILED');

  // API keys for integrations.
  const key = await api('POST', '/api/v1/api-keys', { token: admin, body: { name: 'csdl-quoc-gia', role: 'auditor' } });
  t.equal(key.status, 201);
  t.match(key.body.key, /^tdk_/);
  t.equal((await api('GET', '/api/v1/reports/annual?year=2026', { apiKey: key.body.key })).status, 200, 'X-API-Key works');
  t.equal((await api('GET', '/api/v1/reports/annual?year=2026', { token: key.body.key })).status, 200, 'and as a bearer credential');
  t.equal((await api('POST', '/api/v1/cases', { apiKey: key.body.key, body: {} })).status, 403, 'with its role only');
  t.notOk(JSON.stringify((await api('GET', '/api/v1/api-keys', { token: admin })).body).includes(key.body.key), 'the key is never shown again');
  await api('DELETE', `/api/v1/api-keys/${key.body.apiKey.id}`, { token: admin });
  t.equal((await api('GET', '/api/v1/reports/annual?year=2026', { apiKey: key.body.key })).body.code, 'API_KEY_INVALID', 'revoked keys stop working');

  // Rate limit on login: 20 attempts a minute from one address.
  let limited: { status: number; body: { code: string }; headers: Headers } | undefined;
  for (let i = 0; i < 30 && limited === undefined; i++) {
    const r = await api('POST', '/api/v1/auth/login', { body: { username: `guess${i}`, password: 'x' } });
    if (r.status === 429) limited = r;
  }
  t.ok(limited, 'rate limited');
  t.equal(limited?.body.code, 'LOGIN_RATE_LIMITED');
  t.ok(Number(limited?.headers.get('retry-after')) > 0, 'with Retry-After');

  const all = lines().join('\n');
  for (const secret of [password, 'mat-khau-dai-1', admin, key.body.key]) t.notOk(all.includes(secret), 'no password, token or key in the logs');
  // The control API answers through the same server as the rest.
  t.equal((await fetch(`${server.url}/openapi.json`)).status, 200);
  t.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

t.test('a second start does not create another admin', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  let server = await TiepdanServer.start(await testConfig(tmp.dir), memoryLogger().logger);
  const first = await readFile(path.join(tmp.dir, 'initial-admin-password'), 'utf8');
  await server.stop();
  server = await TiepdanServer.start(await testConfig(tmp.dir), memoryLogger().logger);
  t.teardown(() => server.stop());
  t.equal(await readFile(path.join(tmp.dir, 'initial-admin-password'), 'utf8'), first, 'the file is left as it was');
  const users = await server.database.db.selectFrom('users').select('username').execute();
  t.same(users.map((u) => u.username), ['admin']);
});

t.test('the initial admin password file is deleted once that password is changed (security review L14)', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const server = await TiepdanServer.start(await testConfig(tmp.dir), memoryLogger().logger);
  t.teardown(() => server.stop());
  const file = path.join(tmp.dir, 'initial-admin-password');
  const call = async (method: string, url: string, body: unknown, token?: string) => {
    const res = await fetch(`${server.url}${url}`, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const initial = (await readFile(file, 'utf8')).trim();
  const admin = (await call('POST', '/api/v1/auth/login', { username: 'admin', password: initial })).body.token as string;
  const other = await call('POST', '/api/v1/users', { username: 'ban.tcd', displayName: 'Cán bộ', role: 'reception_board', password: 'mat-khau-dai-1' }, admin);
  t.equal(other.status, 201);
  const board = (await call('POST', '/api/v1/auth/login', { username: 'ban.tcd', password: 'mat-khau-dai-1' })).body.token as string;
  t.equal((await call('POST', '/api/v1/auth/password', { currentPassword: 'mat-khau-dai-1', newPassword: 'mat-khau-dai-2' }, board)).status, 204);
  t.ok((await stat(file)).isFile(), 'another user changing their password leaves the file');
  t.equal((await call('POST', '/api/v1/auth/password', { currentPassword: 'wrong-password', newPassword: 'mat-khau-moi-cua-admin' }, admin)).status, 400);
  t.ok((await stat(file)).isFile(), 'a refused change leaves it');
  t.equal((await call('POST', '/api/v1/auth/password', { currentPassword: initial, newPassword: 'mat-khau-moi-cua-admin' }, admin)).status, 204);
  await t.rejects(stat(file), { code: 'ENOENT' }, 'the admin’s first password change deletes the file');
  t.equal((await call('POST', '/api/v1/auth/login', { username: 'admin', password: 'mat-khau-moi-cua-admin' })).status, 200, 'and the new password works');
});
