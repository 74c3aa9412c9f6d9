import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { TiepdanServer } from '../../server.ts';
import { InMemorySessionDirectory } from '../../domain/sessionDirectory.ts';
import { memoryLogger, tempDataDir, testConfig } from '../../../test/helpers/env.ts';

t.test('the pages, their bundles and the pre-flight loopback routes', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const { logger, lines } = memoryLogger('info');
  // An in-memory session directory: this test revokes a token without going through the control API.
  const directory = new InMemorySessionDirectory();
  const server = await TiepdanServer.start(await testConfig(data.dir, { LOG_LEVEL: 'info' }), logger, { sessionDirectory: directory });
  t.teardown(() => server.stop());
  const app = server.app;
  const { token } = server.live.tokens.issue({ kind: 'invitation', sessionId: '7b0c2d1e-0000-4000-8000-000000000001', subject: 'x01', role: 'endpoint', displayName: 'UBND xã Tân Phú', ttlSeconds: 600 });

  // Security review L8: an old printed link (/join/<token>) goes on to the fragment form.
  const old = await app.inject({ method: 'GET', url: `/join/${token}` });
  t.equal(old.statusCode, 302, 'an old /join/<token> link is redirected');
  t.equal(old.headers.location, `/join#token=${token}`, 'to /join#token=…, which browsers never send');
  t.equal(old.headers['cache-control'], 'no-store');
  const oldTest = await app.inject({ method: 'GET', url: `/test/${token}` });
  t.equal(oldTest.headers.location, `/test#token=${token}`, 'the same for the test page');
  const join = await app.inject({ method: 'GET', url: '/join' });
  t.equal(join.statusCode, 200, 'the room page is served for /join');
  t.match(join.body, /<html lang="vi">/, 'Vietnamese by default');
  t.match(join.body, /<script type="module" src="\/assets\/room\.js\?v=[0-9a-f]{12}">/, 'the page loads its hashed bundle');
  t.match(join.headers['content-security-policy'], /default-src 'self'/, 'a content security policy');
  t.equal(join.headers['referrer-policy'], 'no-referrer', 'links with invitations are not leaked as referrers');
  t.match(join.headers['permissions-policy'], /camera=\(self\)/, 'camera allowed for this origin only');
  t.notOk(lines().some((l) => l.includes(token)), 'the token never appears in the logs');
  t.ok(lines().some((l) => l.includes('/join/*')), 'the request is logged by its route');

  for (const url of ['/join', '/test', '/console', '/console/anything']) {
    const r = await app.inject({ method: 'GET', url });
    t.equal(r.statusCode, 200, `${url} serves a page`);
  }
  const root = await app.inject({ method: 'GET', url: '/' });
  t.equal(root.headers.location, '/console', 'the root goes to the console');
  for (const url of ['/join/not%20a%20token!', '/test/short', '/join/td1.abc%27%3Cscript%3E']) {
    const bad = await app.inject({ method: 'GET', url });
    t.equal(bad.statusCode, 404, `${url}: a malformed invitation path is a 404`);
    // A person at a commune reads it: a Vietnamese page that says what to do, not JSON (issue 11 item 9).
    t.match(bad.headers['content-type'], /text\/html/, `${url}: a page, not JSON`);
    t.match(bad.body, /Đường liên kết không đúng/);
    t.match(bad.body, /đề nghị Ban Tiếp công dân tỉnh gửi/, 'it says what to do');
    t.notMatch(bad.body, /<script|\{"code"/, 'no script, no JSON');
  }

  const hash = /room\.js\?v=([0-9a-f]{12})/.exec(join.body)![1];
  const js = await app.inject({ method: 'GET', url: `/assets/room.js?v=${hash}`, headers: { 'accept-encoding': 'gzip' } });
  t.equal(js.statusCode, 200);
  t.equal(js.headers['content-encoding'], 'gzip', 'served compressed');
  t.match(js.headers['cache-control'], /immutable/, 'hashed assets are cached for good');
  t.ok(gunzipSync(js.rawPayload).toString('utf8').includes('Vào buổi tiếp'), 'the bundle carries the Vietnamese strings with their diacritics');
  t.equal((await app.inject({ method: 'GET', url: '/assets/room.js', headers: { 'if-none-match': `"${hash}"` } })).statusCode, 304, 'revalidation answers 304');
  t.equal((await app.inject({ method: 'GET', url: '/assets/../../etc/passwd' })).statusCode, 404, 'no path traversal');
  t.equal((await app.inject({ method: 'GET', url: '/assets/nothing.js' })).statusCode, 404, 'unknown asset is a 404');

  // Loopback routes: the invitation is the credential; bad input gets a clear error.
  const noAuth = await app.inject({ method: 'POST', url: '/web/preflight/loopback', payload: { transport: 'udp' } });
  t.equal(noAuth.statusCode, 401, 'no token: 401');
  t.equal(noAuth.json().code, 'AUTH_REQUIRED', 'the code every route gives (one access hook)');
  const forged = await app.inject({ method: 'POST', url: '/web/preflight/loopback', headers: { authorization: 'Bearer td1.abc.def' }, payload: { transport: 'udp' } });
  t.equal(forged.json().code, 'TOKEN_INVALID', 'a made-up token is refused');
  const userToken = server.live.tokens.issue({ kind: 'user', subject: 'u1', role: 'admin', ttlSeconds: 60 }).token;
  const byUser = await app.inject({ method: 'POST', url: '/web/preflight/loopback', headers: { authorization: `Bearer ${userToken}` }, payload: { transport: 'udp' } });
  t.same([byUser.statusCode, byUser.json().code], [403, 'INVITATION_REQUIRED'], 'a user token is not an invitation');
  const auth = { authorization: `Bearer ${token}` };
  const badBody = await app.inject({ method: 'POST', url: '/web/preflight/loopback', headers: auth, payload: { transport: 'carrier-pigeon' } });
  t.equal(badBody.statusCode, 400, 'bad body: 400');
  t.equal(badBody.json().code, 'VALIDATION_FAILED');
  const created = await app.inject({ method: 'POST', url: '/web/preflight/loopback', headers: auth, payload: { transport: 'tcp' } });
  t.equal(created.statusCode, 201, 'a loopback test starts');
  const body = created.json() as { id: string; send: { iceCandidates: { protocol: string }[] } };
  t.ok(body.send.iceCandidates.length > 0 && body.send.iceCandidates.every((c) => c.protocol === 'tcp'), 'a TCP test offers TCP candidates only');
  const stats = await app.inject({ method: 'GET', url: `/web/preflight/loopback/${body.id}/stats`, headers: auth });
  t.equal(stats.statusCode, 200, 'stats of a running test');
  const other = server.live.tokens.issue({ kind: 'invitation', sessionId: '7b0c2d1e-0000-4000-8000-000000000001', subject: 'x02', role: 'endpoint', ttlSeconds: 600 }).token;
  t.equal((await app.inject({ method: 'GET', url: `/web/preflight/loopback/${body.id}/stats`, headers: { authorization: `Bearer ${other}` } })).statusCode, 404, 'another invitation cannot touch this test');
  const badConnect = await app.inject({ method: 'POST', url: `/web/preflight/loopback/${body.id}/connect`, headers: auth, payload: { transportId: 'nope', dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } } });
  t.equal(badConnect.json().code, 'TRANSPORT_NOT_FOUND', 'an unknown transport is refused');
  t.equal((await app.inject({ method: 'DELETE', url: `/web/preflight/loopback/${body.id}`, headers: auth })).statusCode, 200, 'the test closes');
  t.equal((await app.inject({ method: 'GET', url: `/web/preflight/loopback/${body.id}/stats`, headers: auth })).statusCode, 404, 'and is gone');
  t.equal((await app.inject({ method: 'GET', url: '/web/preflight/loopback/not-a-uuid/stats', headers: auth })).statusCode, 400, 'a malformed id is a 400');
  const revoked = server.live.tokens.issue({ kind: 'invitation', sessionId: '7b0c2d1e-0000-4000-8000-000000000001', subject: 'x03', role: 'endpoint', ttlSeconds: 600 });
  directory.revoke(revoked.claims.jti);
  const refused = await app.inject({ method: 'POST', url: '/web/preflight/loopback', headers: { authorization: `Bearer ${revoked.token}` }, payload: { transport: 'udp' } });
  t.equal(refused.json().code, 'TOKEN_REVOKED', 'a revoked invitation runs no test');
});
