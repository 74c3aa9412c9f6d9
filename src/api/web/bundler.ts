import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser pages: each is one entry under src/web/apps/<name>/main.ts. */
export const WEB_APPS = ['room', 'preflight', 'console'] as const;
export type WebApp = (typeof WEB_APPS)[number];

export interface BuiltAsset {
  body: Buffer;
  gzip: Buffer;
  contentType: string;
  /** Short content hash, used as a cache-busting query string. */
  hash: string;
}

export interface WebBundle {
  /** By file name: `room.js`, `room.css`, … */
  assets: Map<string, BuiltAsset>;
  builtInMs: number;
}

const APPS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/apps');

/**
 * Bundles the pages with esbuild into memory: one JS and one CSS file per page, no code splitting
 * (each page is opened on its own by a different person; one request each keeps old commune PCs
 * on slow links simple). Targets the browsers communes have (Chromium/Edge ≥ 90, Firefox ≥ 90).
 */
export async function buildWebBundle(): Promise<WebBundle> {
  const started = Date.now();
  // esbuild is loaded only when a page is first asked for: API-only processes never pay for it.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: Object.fromEntries(WEB_APPS.map((app) => [app, path.join(APPS_DIR, app, 'main.ts')])),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome90', 'edge90', 'firefox90'],
    minify: true,
    sourcemap: false,
    write: false,
    outdir: '/bundle',
    legalComments: 'none',
    // Vietnamese text as UTF-8, not \u escapes: smaller and readable (served with charset=utf-8).
    charset: 'utf8',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const assets = new Map<string, BuiltAsset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    const body = Buffer.from(file.contents);
    assets.set(name, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      contentType: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      hash: createHash('sha256').update(body).digest('hex').slice(0, 12),
    });
  }
  return { assets, builtInMs: Date.now() - started };
}
