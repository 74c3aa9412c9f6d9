import Fastify from 'fastify';
import t from 'tap';
import { installErrorHandling } from '../errors.ts';
import { installAccessControl, type RouteEntry } from './access.ts';

/** The start-up half of the one access hook: no route can forget to declare who may call it. */
const appWith = (devRoutes = false) => {
  const app = Fastify();
  // The API edge gives errors their status (HTTP_STATUS), as buildApp does.
  installErrorHandling(app);
  const routeTable: RouteEntry[] = [];
  installAccessControl(app, { devRoutes, routeTable });
  return { app, routeTable };
};

t.test('a route without config.access outside the public list stops start-up', async (t) => {
  const { app } = appWith();
  t.throws(() => app.get('/api/v1/forgotten', async () => ({ secret: true })), /GET \/api\/v1\/forgotten declares no access/);
  await app.close();
});

t.test('a plugin cannot escape the hook by encapsulation', async (t) => {
  const { app } = appWith();
  await t.rejects(async () => {
    await app.register(async (child) => {
      child.post('/web/something', async () => 'x');
    });
    await app.ready();
  }, /POST \/web\/something declares no access/);
  await app.close();
});

t.test('only listed routes may be public; development routes need DEV_SESSIONS', async (t) => {
  const { app } = appWith();
  t.throws(() => app.get('/api/v1/open', { config: { access: { roles: 'public' } } }, async () => 'x'), /declares itself public but is not on the list/);
  t.throws(() => app.post('/api/v1/live/sessions', { config: { access: { roles: ['admin'], devOnly: true } } }, async () => 'x'), /development-only route .* without DEV_SESSIONS/);
  await app.close();
  const dev = appWith(true);
  dev.app.post('/api/v1/live/sessions', { config: { access: { roles: ['admin'], devOnly: true } } }, async () => 'x');
  dev.app.get('/healthz', async () => 'ok');
  await dev.app.ready();
  t.same(
    dev.routeTable.map((r) => [r.method, r.url, r.access.roles]),
    [
      ['POST', '/api/v1/live/sessions', ['admin']],
      ['GET', '/healthz', 'public'],
    ],
    'both in the table; the undeclared public route is listed as public',
  );
  const anonymous = await dev.app.inject({ method: 'POST', url: '/api/v1/live/sessions' });
  t.equal(anonymous.statusCode, 401, 'and the hook asks for credentials');
  t.equal((await dev.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  await dev.app.close();
});
