import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { TiepdanError } from '../errors.ts';

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

let bundle: Promise<string> | undefined;

/**
 * The browser client library (src/web, around mediasoup-client) as one IIFE script exposing
 * `window.tiepdan`. Bundled with esbuild on first request and kept in memory.
 */
export function clientBundle(): Promise<string> {
  bundle ??= (async () => {
    // esbuild is a development dependency: a production install without it answers 503 here.
    const { build } = await import('esbuild').catch(() => {
      throw new TiepdanError('CLIENT_BUNDLE_UNAVAILABLE', 'the client bundle needs esbuild (npm install --include=dev)');
    });
    const result = await build({
      entryPoints: [`${WEB_DIR}index.ts`],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: ['chrome100', 'firefox100', 'edge100'],
      write: false,
      minify: true,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  })();
  bundle.catch(() => {
    bundle = undefined;
  });
  return bundle;
}

/** GET /live/client.js (the client library) and GET /live/test.html (a bare page that joins and shows remote videos). */
export const clientPagePlugin: FastifyPluginAsync = async (app) => {
  app.get('/live/client.js', async (_request, reply) => {
    return reply.type('application/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await clientBundle());
  });
  app.get('/live/test.html', async (_request, reply) => {
    const html = await readFile(`${WEB_DIR}test.html`, 'utf8');
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });
};
