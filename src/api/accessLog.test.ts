/** The access log: one line per request, written when it completes, with what an operator reads. */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { pino } from 'pino';
import t from 'tap';
import { AccessLog } from './accessLog.ts';

t.test('one line per request, at completion, with method, url, status and time', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const app = Fastify({ loggerInstance: pino({ level: 'info' }, sink), logController: new AccessLog() });
  app.get('/ok', async () => ({ ok: true }));
  app.get('/secret/:token', { logSerializers: { req: (r: { method: string; routeOptions: { url?: string } }) => ({ method: r.method, url: r.routeOptions.url }) } }, async () => ({ ok: true }));
  app.get('/fails', async () => {
    throw new Error('broken on purpose');
  });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/ok?x=1' })).statusCode, 200);
  const ok = lines.filter((l) => (l.req as { url?: string } | undefined)?.url === '/ok?x=1');
  t.equal(ok.length, 1, 'one line for the request');
  t.equal(ok[0]?.msg, 'request completed');
  t.same(ok[0]?.res, { statusCode: 200 });
  t.equal((ok[0]?.req as { method?: string }).method, 'GET');
  t.type(ok[0]?.responseTime, 'number');
  t.notOk(lines.some((l) => l.msg === 'incoming request'), 'no line when the request comes in');

  t.equal((await app.inject({ method: 'GET', url: '/secret/s3cr3t-token' })).statusCode, 200);
  t.notOk(lines.some((l) => JSON.stringify(l).includes('s3cr3t-token')), 'a route’s log serializers apply: the secret in its path is not logged');
  t.ok(lines.some((l) => l.msg === 'request completed' && (l.req as { url?: string }).url === '/secret/:token'), '…its pattern is');

  t.equal((await app.inject({ method: 'GET', url: '/fails' })).statusCode, 500);
  const failed = lines.filter((l) => (l.req as { url?: string } | undefined)?.url === '/fails');
  t.equal(failed.filter((l) => l.msg === 'request completed').length, 1, 'one access line for the failed request: ' + JSON.stringify(failed.map((l) => l.msg)));
  t.same(failed.find((l) => l.msg === 'request completed')?.res, { statusCode: 500 });
  t.ok(lines.some((l) => l.level === 50), 'the error itself is logged at error level');
});
