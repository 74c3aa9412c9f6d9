import { createServer, type Server } from 'node:http';
import { build } from 'esbuild';
import type { types as client } from 'mediasoup-client';
import type { types as server } from 'mediasoup';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, never a browser downloaded by a tool. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium for media tests: fake camera and microphone, no permission prompts, loopback
 * ICE candidates allowed, and nothing that phones home (this network is closed).
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

let bundleCache: string | undefined;
/** mediasoup-client bundled for the browser as `window.mediasoupClient`. */
export async function mediasoupClientBundle(): Promise<string> {
  if (bundleCache !== undefined) return bundleCache;
  const result = await build({
    stdin: { contents: "import * as m from 'mediasoup-client'; Object.assign(globalThis, { mediasoupClient: m });", loader: 'js', resolveDir: process.cwd() },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome100',
    write: false,
    minify: true,
  });
  bundleCache = result.outputFiles[0]!.text;
  return bundleCache;
}

/**
 * Router capabilities and consumer parameters as the page receives them: page.evaluate carries
 * JSON, which the page reads with mediasoup-client's types. Since mediasoup-client 3.24 those name
 * fewer header-extension URIs than mediasoup's (no toffset, which the server still offers for video
 * and the client matches by string at run time), so the server's objects are not assignable to
 * them as they are; a JSON copy is exactly what crosses into the page anyway.
 */
export function toClientCapabilities(caps: server.RtpCapabilities): client.RtpCapabilities {
  return JSON.parse(JSON.stringify(caps)) as client.RtpCapabilities;
}
export function toClientRtpParameters(params: server.RtpParameters): client.RtpParameters {
  return JSON.parse(JSON.stringify(params)) as client.RtpParameters;
}

/** A page origin on 127.0.0.1 (a secure context, so getUserMedia works) serving one blank page. */
export async function blankPageServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html><head><meta charset="utf-8"><title>tiepdan test</title></head><body></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
