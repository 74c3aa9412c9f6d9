import { once } from 'node:events';
import t from 'tap';
import { WorkerPool } from './WorkerPool.ts';
import { silentLogger } from '../../test/helpers/env.ts';
import { testPoolOptions } from '../../test/helpers/pool.ts';

const mediaCodecs = [
  { kind: 'audio' as const, mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video' as const, mimeType: 'video/VP8', clockRate: 90000 },
];

const options = (numWorkers: number) => testPoolOptions(numWorkers);

t.test('the pool starts the configured number of real workers, each with its WebRtcServer', async (t) => {
  const pool = await WorkerPool.start(await options(3), silentLogger());
  t.teardown(() => pool.close());
  t.equal(pool.size, 3);
  t.equal(new Set(pool.workers.map((w) => w.pid)).size, 3, 'three distinct worker processes');
  t.ok(pool.allAlive);
  for (const w of pool.workers) {
    const dump = await w.webRtcServer.dump();
    const ports = dump.udpSockets.map((s) => s.port).concat(dump.tcpServers.map((s) => s.port));
    t.same(ports, [w.webRtcPort, w.webRtcPort], `worker ${w.index} listens on UDP and TCP ${w.webRtcPort}`);
    t.equal(w.webRtcPort, pool.workers[0]!.webRtcPort + w.index, 'ports are consecutive from the base');
  }
});

t.test('a router and a WebRtcTransport can be created on each worker; routers go to the least-loaded one', async (t) => {
  const pool = await WorkerPool.start(await options(2), silentLogger());
  t.teardown(() => pool.close());
  const used = new Set<number>();
  for (let i = 0; i < 2; i++) {
    const { router, worker } = await pool.createRouter({ mediaCodecs });
    used.add(worker.index);
    const transport = await router.createWebRtcTransport({ webRtcServer: worker.webRtcServer, enableUdp: true, enableTcp: true });
    t.ok(transport.iceCandidates.some((c) => c.protocol === 'udp' && c.port === worker.webRtcPort), 'UDP candidate on the worker port');
    t.ok(transport.iceCandidates.some((c) => c.protocol === 'tcp' && c.port === worker.webRtcPort), 'TCP candidate on the worker port');
    t.ok(transport.dtlsParameters.fingerprints.length > 0, 'DTLS fingerprints offered');
    // A producer makes this worker the loaded one, so the next router lands on the other worker.
    const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, comedia: true });
    await plain.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1000 + i }] },
    });
    t.equal(worker.load, 1, 'the producer counts as load');
  }
  t.same([...used].sort(), [0, 1], 'the two routers were placed on different workers');
});

t.test('kill -9 of a worker process is detected and the worker replaced', async (t) => {
  const pool = await WorkerPool.start(await options(2), silentLogger());
  t.teardown(() => pool.close());
  const victim = pool.workers[0]!;
  const died = once(pool, 'workerdied');
  const replaced = once(pool, 'workerreplaced');
  const killedAt = Date.now();
  process.kill(victim.pid, 'SIGKILL');
  const [deathEvent] = (await died) as [{ index: number; pid: number }];
  t.equal(deathEvent.pid, victim.pid, 'death reported for the killed pid');
  t.notOk(pool.allAlive, 'the pool is not whole while the worker is down');
  const [replacement] = (await replaced) as [{ index: number; pid: number; previousPid: number }];
  const ms = Date.now() - killedAt;
  t.ok(ms < 5000, `replaced within seconds (${ms} ms)`);
  t.equal(replacement.index, 0);
  t.not(replacement.pid, victim.pid, 'a new process');
  t.ok(pool.allAlive, 'whole again');
  const fresh = pool.workers.find((w) => w.index === 0)!;
  const router = await fresh.worker.createRouter({ mediaCodecs });
  const transport = await router.createWebRtcTransport({ webRtcServer: fresh.webRtcServer, enableUdp: true });
  t.ok(transport.iceCandidates.some((c) => c.port === victim.webRtcPort), 'the replacement serves the same WebRtcServer port');
});
