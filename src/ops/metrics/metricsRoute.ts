import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { TiepdanError } from '../../errors.ts';
import type { TiepdanMetrics } from './metrics.ts';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (a dual-stack socket reports ::ffff:127.0.0.1). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (\S+)$/i.exec(header ?? '');
  if (m === null) return false;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  // Constant time, so the token cannot be found a byte at a time from response times.
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * GET /metrics, and the request-duration hook. With METRICS_TOKEN set, every scrape must present
 * it as a bearer token, loopback included: a reverse proxy on the same machine would otherwise make
 * every outside request look local. Without it only loopback may scrape (a Prometheus on the server
 * itself): media and session counts are nobody's business on the LAN.
 * Installed on the root instance (not as an encapsulated plugin) so the hook sees every route.
 */
export function installMetrics(app: FastifyInstance, metrics: TiepdanMetrics, token: string | undefined): void {
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern (/api/v1/sessions/:id), never the URL: ids and tokens stay out of labels.
    metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token === undefined && !isLoopback(request.socket.remoteAddress)) {
      throw new TiepdanError('METRICS_LOOPBACK_ONLY', 'metrics are served to this machine only; set METRICS_TOKEN to scrape from elsewhere');
    }
    if (token !== undefined && !tokenMatches(request.headers.authorization, token)) {
      reply.header('www-authenticate', 'Bearer realm="tiepdan metrics"');
      throw new TiepdanError('METRICS_UNAUTHORIZED', 'metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    const body = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  });
}
