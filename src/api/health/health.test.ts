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
  const body = (await ready.json()) as { media: { mode: string; addresses: string[]; ports: number[] } };
  t.match(body, { status: 'ready', database: 'ok', workers: { total: 2, alive: 2 } });
  // The test config binds media to 127.0.0.1, so that is what is announced, on both workers' ports.
  t.same(body.media, { mode: 'listen-ip', addresses: ['127.0.0.1'], ports: [server.config.mediasoup.webRtcPortBase, server.config.mediasoup.webRtcPortBase + 1] }, 'readyz says where media goes');

  // A dead worker makes the server not ready until the pool has replaced it.
  const replaced = once(server.pool, 'workerreplaced');
  const died = once(server.pool, 'workerdied');
  process.kill(server.pool.workers[1]!.pid, 'SIGKILL');
  await died;
  const during = await fetch(`${server.url}/readyz`);
  t.equal(during.status, 503, 'readyz is 503 while a worker is dead');
  t.match(await during.json(), { status: 'not_ready', database: 'ok', workers: { total: 2, alive: 1 } });
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

t.test('defaults: no 0.0.0.0 candidate; the address the browser reached comes first', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  // The README's defaults for media: listen on every address, nothing announced by hand.
  const server = await TiepdanServer.start(await testConfig(tmp.dir, { RTC_LISTEN_IP: '0.0.0.0' }), silentLogger());
  t.teardown(() => server.stop());
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { media: { mode: string; addresses: string[] } };
  t.equal(ready.media.mode, 'per-connection');
  t.notOk(ready.media.addresses.some((a) => a === '0.0.0.0' || a === '::'), 'the unspecified address is never announced');
  const router = await server.pool.workers[0]!.worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  t.teardown(() => router.close());
  const transport = await router.createWebRtcTransport({ webRtcServer: server.pool.workers[0]!.webRtcServer, enableUdp: true, enableTcp: true, preferUdp: true });
  const candidates = server.pool.addresses.candidatesFor(transport.iceCandidates, '198.18.7.1');
  t.equal(candidates[0]!.address, '198.18.7.1', 'the reached address is the best candidate');
  t.equal(candidates[0]!.protocol, 'udp', 'over UDP');
  t.ok(candidates.every((c) => c.address !== '0.0.0.0'), 'no candidate names 0.0.0.0');
  const lastUdp = candidates.filter((c) => c.protocol === 'udp').at(-1)!;
  t.ok(candidates.filter((c) => c.protocol === 'tcp').every((c) => c.priority < lastUdp.priority), 'every UDP candidate outranks every TCP one');
  t.equal(new Set(candidates.map((c) => c.foundation)).size, candidates.length, 'one foundation per candidate');
});
