/**
 * /metrics on a real server (embedded PostgreSQL, a real mediasoup worker): Prometheus text with
 * the worker, session, recording, disk, job, event-loop and HTTP series; loopback may scrape, other
 * addresses need METRICS_TOKEN, and once it is set everyone does (requests from elsewhere are
 * injected in-process, no traffic leaves).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import t from 'tap';
import { installErrorHandling } from '../../api/errors.ts';
import { TiepdanServer } from '../../server.ts';
import { silentLogger, tempDataDir, testConfig } from '../../../test/helpers/env.ts';
import { createMetrics } from './metrics.ts';
import { installMetrics, isLoopback } from './metricsRoute.ts';

const TOKEN = 'metrics-token-for-the-test-0123456789';

/** The value of one series in Prometheus text (labels as written, e.g. `{worker="0"}`). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

t.test('isLoopback', async (t) => {
  for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(a), a);
  for (const a of ['192.0.2.1', '::ffff:192.0.2.1', '::', '0.0.0.0', undefined]) t.notOk(isLoopback(a), String(a));
});

t.test('a real server: series, values, and who may scrape', async (t) => {
  const tmp = await tempDataDir();
  const server = await TiepdanServer.start(await testConfig(tmp.dir, { MEDIASOUP_NUM_WORKERS: '1', METRICS_TOKEN: TOKEN }), silentLogger());
  t.teardown(async () => {
    await server.stop();
    await tmp.remove();
  });

  // A producer on worker 0, made as the live layer would (router, transport, producer).
  const router = await server.pool.workers[0]!.worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  t.teardown(() => router.close());
  const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  await transport.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] } });

  await fetch(`${server.url}/readyz`);
  t.equal((await fetch(`${server.url}/metrics`)).status, 401, 'with METRICS_TOKEN set, loopback needs it too (a local reverse proxy makes everyone loopback)');
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(res.status, 200, 'with the token: 200');
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  for (const name of [
    'tiepdan_worker_cpu_seconds_total',
    'tiepdan_worker_up',
    'tiepdan_worker_producers',
    'tiepdan_worker_consumers',
    'tiepdan_live_sessions',
    'tiepdan_live_peers',
    'tiepdan_peer_loss_ratio',
    'tiepdan_peer_rtt_seconds',
    'tiepdan_recordings_active',
    'tiepdan_data_dir_free_bytes',
    'tiepdan_jobs',
    'tiepdan_http_request_duration_seconds',
    'nodejs_eventloop_lag_seconds',
  ]) {
    t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  t.equal(value(text, 'tiepdan_worker_up{worker="0"}'), 1);
  t.equal(value(text, 'tiepdan_worker_producers{worker="0"}'), 1, 'the producer counts on its worker');
  t.equal(value(text, 'tiepdan_worker_consumers{worker="0"}'), 0);
  t.ok((value(text, 'tiepdan_worker_cpu_seconds_total{worker="0"}') ?? -1) > 0, 'worker CPU from getResourceUsage');
  t.ok((value(text, 'tiepdan_data_dir_free_bytes') ?? 0) > 0, 'free space of DATA_DIR');
  t.equal(value(text, 'tiepdan_live_sessions'), 0);
  t.ok((value(text, 'tiepdan_http_request_duration_seconds_count{method="GET",route="/readyz",status_code="200"}') ?? 0) >= 1, 'the /readyz request was timed, by route pattern');
  t.notOk(text.includes(tmp.dir), 'no paths in the metrics');

  const from = (remoteAddress: string, headers: Record<string, string> = {}) => server.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });
  t.equal((await from('192.0.2.7')).statusCode, 401, 'another address without the token: 401');
  t.equal((await from('192.0.2.7', { authorization: `Bearer ${TOKEN}x` })).statusCode, 401, 'a wrong token: 401');
  t.match((await from('192.0.2.7')).json(), { code: 'METRICS_UNAUTHORIZED' });
  t.equal((await from('192.0.2.7', { authorization: `Bearer ${TOKEN}` })).statusCode, 200, 'with METRICS_TOKEN: 200');

  // Without METRICS_TOKEN only loopback: the same collectors on a second app.
  const app: FastifyInstance = Fastify() as unknown as FastifyInstance;
  installErrorHandling(app);
  installMetrics(app, createMetrics({ pool: server.pool, dataDir: tmp.dir, logger: silentLogger() }), undefined);
  t.teardown(() => app.close());
  const refused = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.7', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(refused.statusCode, 403, 'no token configured: other addresses are refused whatever they send');
  t.match(refused.json(), { code: 'METRICS_LOOPBACK_ONLY' });
  t.equal((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 200);
});
