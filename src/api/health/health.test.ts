import { once } from 'node:events';
import t from 'tap';
import { TiepdanServer } from '../../server.ts';
import { silentLogger, tempDataDir, testConfig } from '../../../test/helpers/env.ts';

t.test('/healthz and /readyz on a real server with the embedded database', async (t) => {
  const tmp = await tempDataDir();
  const server = await TiepdanServer.start(await testConfig(tmp.dir), silentLogger());
  t.teardown(async () => {
    await server.stop();
    await tmp.remove();
  });

  const health = await fetch(`${server.url}/healthz`);
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok' });

  const ready = await fetch(`${server.url}/readyz`);
  t.equal(ready.status, 200);
  t.same(await ready.json(), { status: 'ready', database: 'ok', workers: { total: 2, alive: 2 } });

  // A dead worker makes the server not ready until the pool has replaced it.
  const replaced = once(server.pool, 'workerreplaced');
  const died = once(server.pool, 'workerdied');
  process.kill(server.pool.workers[1]!.pid, 'SIGKILL');
  await died;
  const during = await fetch(`${server.url}/readyz`);
  t.equal(during.status, 503, 'readyz is 503 while a worker is dead');
  t.same(await during.json(), { status: 'not_ready', database: 'ok', workers: { total: 2, alive: 1 } });
  await replaced;
  const after = await fetch(`${server.url}/readyz`);
  t.equal(after.status, 200, 'and 200 again after replacement');

  const missing = await fetch(`${server.url}/nope`);
  t.equal(missing.status, 404);
  t.match(await missing.json(), { code: 'NOT_FOUND' });
});

t.test('graceful stop: the port is released and the database stopped', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const server = await TiepdanServer.start(await testConfig(tmp.dir), silentLogger());
  const url = server.url;
  await server.stop();
  await t.rejects(fetch(`${url}/healthz`), 'nothing answers after stop');
  await server.stop(); // idempotent
  // The same data directory starts again: the embedded database was shut down cleanly.
  const again = await TiepdanServer.start(await testConfig(tmp.dir), silentLogger());
  t.equal((await fetch(`${again.url}/readyz`)).status, 200);
  await again.stop();
});
