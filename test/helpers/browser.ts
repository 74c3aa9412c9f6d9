import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { types as client } from 'mediasoup-client';
import type { types as server } from 'mediasoup';
import { chromium, firefox, type Browser } from 'playwright-core';

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

/** Debian's Firefox ESR (commune PCs run it beside Chromium). */
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/lib/firefox-esr/firefox-esr';

/**
 * Headless Firefox ESR over WebDriver BiDi, through firefoxLoopback.ts (the shim for what this
 * Firefox lacks): fake camera and microphone, no prompts, nothing that phones home.
 */
export async function launchFirefox(): Promise<Browser> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tiepdan-firefox-'));
  const exe = path.join(dir, 'firefox.sh');
  const bridge = path.join(import.meta.dirname, 'firefoxLoopback.ts');
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  await writeFile(exe, `#!/bin/sh\nexec ${[process.execPath, bridge, FIREFOX].map(quote).join(' ')} "$@"\n`);
  await chmod(exe, 0o755);
  const browser = await firefox.launch({
    channel: 'moz-firefox',
    executablePath: exe,
    headless: true,
    timeout: 60_000,
    firefoxUserPrefs: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.autoplay.default': 0,
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'toolkit.telemetry.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
    },
  });
  browser.on('disconnected', () => void rm(dir, { recursive: true, force: true }));
  return browser;
}

/** The browser a console test runs in: Chromium, or Firefox ESR when TIEPDAN_BROWSER=firefox. */
export function browserKind(): 'chromium' | 'firefox' {
  return process.env.TIEPDAN_BROWSER === 'firefox' ? 'firefox' : 'chromium';
}

export function launchBrowser(): Promise<Browser> {
  return browserKind() === 'firefox' ? launchFirefox() : launchChromium();
}
