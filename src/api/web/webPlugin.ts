import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import { buildWebBundle, type WebApp, type WebBundle } from './bundler.ts';

export interface WebPluginOptions {
  /** The local CA certificate to offer at /tls/ca.crt (only when the server generated its own). */
  caCertPem?: string | undefined;
}

const TITLES: Record<WebApp, string> = {
  room: 'Phòng họp trực tuyến – Tiếp công dân',
  preflight: 'Kiểm thử kết nối – Tiếp công dân',
  console: 'Điều hành – Tiếp công dân trực tuyến',
};

/** Headers for every page: no framing, no referrer (links carry invitations), media only from here. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'permissions-policy': 'camera=(self), microphone=(self), fullscreen=(self), display-capture=(self)',
} as const;

/**
 * Scripts only from this server, always. `connect-src 'self'` (security review L14): CSP Level 3
 * lets 'self' match ws:/wss: to the page's own host and port, so the signaling socket needs no
 * `ws:`/`wss:` wildcard (which allowed connections to any host). The console also allows inline styles: the printable
 * invitation it opens (the control API's HTML, fetched with the operator's token and shown from a
 * blob: URL, which inherits this policy) carries its own <style>.
 */
function contentSecurityPolicy(name: WebApp): string {
  const styles = name === 'console' ? "'self' 'unsafe-inline'" : "'self'";
  return `default-src 'self'; script-src 'self'; style-src ${styles}; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;
}

const invitationParams = z.object({ '*': z.string().min(8).max(4096).regex(/^[A-Za-z0-9._~-]+$/) });
const assetParams = z.object({ name: z.string().regex(/^[a-z]+\.(js|css)$/) });

/**
 * A mistyped invitation link (issue 11 item 9): the person at the commune gets a page in Vietnamese
 * that says what to do, not the API's JSON. It needs no script, so it shows even where the bundle
 * cannot load.
 */
function badLinkPage(reply: FastifyReply, page: 'join' | 'test'): FastifyReply {
  const what = page === 'join' ? 'vào buổi tiếp công dân trực tuyến' : 'kiểm thử kết nối';
  const html = `<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Đường liên kết không đúng – Tiếp công dân</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5">
<h1 style="font-size: 1.4rem">Đường liên kết không đúng</h1>
<p data-code="INVITATION_MALFORMED">Đường liên kết để ${what} bị gõ sai hoặc thiếu ký tự.</p>
<ul>
<li>Hãy mở lại đường liên kết trong thư điện tử hoặc tin nhắn của Ban Tiếp công dân tỉnh (bấm vào, không gõ lại bằng tay).</li>
<li>Nếu chỉ có giấy mời in, hãy đề nghị Ban Tiếp công dân tỉnh gửi đường liên kết qua thư điện tử hoặc tin nhắn.</li>
<li>Nếu giấy mời đã hết hạn hoặc bị thu hồi, hãy đề nghị gửi giấy mời mới.</li>
</ul>
</body>
</html>
`;
  return reply.status(404).headers({ ...PAGE_HEADERS, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'" }).send(html);
}

/** Invitation links carry a credential: request logs show the route, never the token. */
const redactedRequestLog = {
  req: (req: FastifyRequest) => ({ method: req.method, url: req.routeOptions.url ?? '/', remoteAddress: req.ip }),
};

/**
 * Serves the browser apps: the endpoint room at /join/<invitation>, the pre-flight test at
 * /test/<invitation>, the console (with the administration pages) at /console, and their bundles
 * at /assets/. Bundles are built by esbuild on first request and kept in memory.
 */
export const webPlugin: FastifyPluginAsync<WebPluginOptions> = async (app, options) => {
  let bundle: Promise<WebBundle> | undefined;
  const getBundle = (): Promise<WebBundle> => {
    bundle ??= buildWebBundle().catch((err: unknown) => {
      bundle = undefined; // let the next request try again (e.g. after a fix in development)
      app.log.error({ error: (err as Error).message.slice(0, 2000) }, 'web bundle build failed');
      throw new TiepdanError('WEB_BUILD_FAILED', 'the web pages could not be built');
    });
    return bundle;
  };

  const page = async (name: WebApp, reply: FastifyReply) => {
    const built = await getBundle();
    const js = built.assets.get(`${name}.js`);
    const css = built.assets.get(`${name}.css`);
    const html = `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${TITLES[name]}</title>
${css ? `<link rel="stylesheet" href="/assets/${name}.css?v=${css.hash}">` : ''}
<script type="module" src="/assets/${name}.js?v=${js?.hash ?? ''}"></script>
</head>
<body class="app-${name}">
<div id="app" class="app"><p class="boot">Đang tải…</p></div>
<noscript><p>Trang này cần JavaScript. Hãy dùng trình duyệt Chrome, Edge hoặc Firefox bản mới.</p></noscript>
</body>
</html>
`;
    return reply.headers({ ...PAGE_HEADERS, 'content-security-policy': contentSecurityPolicy(name) }).send(html);
  };

  app.get('/', async (_request, reply) => reply.redirect('/console', 302));

  // Wildcards, not `:invitation`: a token is longer than the router's 100-character parameter limit.
  // Old links (/join/<token>, already printed on paper invitations) still work: they are sent on to
  // the fragment form (security review L8), so the page's address, its history entry and any
  // later request carry no token; this one request is logged by its route only. A mistyped one
  // gets a page in Vietnamese that says what to do.
  const toFragment = (where: '/join' | '/test') => async (request: FastifyRequest, reply: FastifyReply) => {
    const parsed = invitationParams.safeParse(request.params);
    if (!parsed.success) return badLinkPage(reply, where === '/join' ? 'join' : 'test');
    return reply.status(302).headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).redirect(`${where}#token=${encodeURIComponent(parsed.data['*'])}`);
  };
  app.get('/join/*', { logSerializers: redactedRequestLog }, toFragment('/join'));
  app.get('/test/*', { logSerializers: redactedRequestLog }, toFragment('/test'));
  // Browsers ask for it on every page; an empty answer keeps the logs free of 404s.
  app.get('/favicon.ico', async (_request, reply) => reply.status(204).header('cache-control', 'public, max-age=86400').send());
  // The printed invitation's links carry the token in the fragment (#token=…), which never reaches us.
  app.get('/join', async (_request, reply) => page('room', reply));
  app.get('/test', async (_request, reply) => page('preflight', reply));
  app.get('/console', async (_request, reply) => page('console', reply));
  app.get('/console/*', async (_request, reply) => page('console', reply));

  app.get('/assets/:name', async (request, reply) => {
    const parsed = assetParams.safeParse(request.params);
    const asset = parsed.success ? (await getBundle()).assets.get(parsed.data.name) : undefined;
    if (asset === undefined) throw new TiepdanError('NOT_FOUND', 'no such asset');
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    void reply.headers({
      'content-type': asset.contentType,
      // The HTML names each asset with its content hash, so a cached copy is never stale.
      'cache-control': (request.query as Record<string, unknown>).v === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      etag: `"${asset.hash}"`,
    });
    if (request.headers['if-none-match'] === `"${asset.hash}"`) return reply.status(304).send();
    if (gzip) return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  });

  if (options.caCertPem !== undefined) {
    const pem = options.caCertPem;
    // What a technician downloads on a commune PC to trust this server (see the README).
    app.get('/tls/ca.crt', async (_request, reply) =>
      reply.headers({ 'content-type': 'application/x-x509-ca-cert', 'content-disposition': 'attachment; filename="tiepdan-ca.crt"' }).send(pem),
    );
  }
};
