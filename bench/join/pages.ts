/**
 * The two benchmark pages of bench/join-vs-raw.ts, built with esbuild and served from one small
 * HTTP server on 127.0.0.1 (a secure context for getUserMedia). A real server is needed: Chromium's
 * local-network-access checks refuse a loopback WebSocket from a page the harness fulfils itself.
 */
import { createServer } from 'node:http';
import path from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [path.join(here, entry)],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome100',
    write: false,
    minify: true,
    logLevel: 'silent',
  });
  // Inlined in a <script>: a literal </script> inside would end it early.
  return result.outputFiles[0]!.text.replaceAll('</script', '<\\/script');
}

const page = (scripts: string) => `<!doctype html><html><head><meta charset="utf-8"><title>join bench</title></head><body>${scripts}</body></html>`;

/**
 * Serves /tiepdan.html (loads `clientScriptUrl`, the tiepdan server's own /live/client.js) and
 * /raw.html (mediasoup-client bundled in).
 */
export async function servePages(clientScriptUrl: string): Promise<{ tiepdanUrl: string; rawUrl: string; close(): Promise<void> }> {
  const [tiepdan, raw] = await Promise.all([bundle('tiepdanPage.ts'), bundle('rawPage.ts')]);
  const pages = new Map([
    ['/tiepdan.html', page(`<script src="${clientScriptUrl}"></script><script>${tiepdan}</script>`)],
    ['/raw.html', page(`<script>${raw}</script>`)],
  ]);
  const server = createServer((req, res) => {
    const body = pages.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return {
    tiepdanUrl: `${base}/tiepdan.html`,
    rawUrl: `${base}/raw.html`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
