/**
 * Debian's Chromium and Firefox ESR started inside a commune namespace (so all their traffic takes
 * the commune's link), driven by Playwright from the root namespace.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { chromium, firefox, type Browser } from 'playwright-core';
import { CHROMIUM } from '../helpers/browser.ts';
import { shimBidi } from './bidiShim.ts';
import type { Commune } from './netLab.ts';

export type BrowserKind = 'chromium' | 'firefox';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/lib/firefox-esr/firefox-esr';
const IP = '/usr/sbin/ip';
const BRIDGE = path.join(import.meta.dirname, 'firefoxBridge.ts');

/** As launchChromium's (test/helpers/browser.ts): fake devices, nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // A page in a background tab or an occluded window must not be throttled: it is measured.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
];

/** Firefox's equivalents: fake camera and microphone, no prompts, sound allowed to play. */
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'toolkit.telemetry.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
};

const shQuote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

async function wrapper(file: string, command: string[]): Promise<string> {
  await writeFile(file, `#!/bin/sh\nexec ${command.map(shQuote).join(' ')} "$@"\n`);
  await chmod(file, 0o755);
  return file;
}

/**
 * Root-namespace end of the Firefox control bridge: TCP on 127.0.0.1 → the Unix socket, through
 * the shim that answers what Firefox ESR lacks (bidiShim.ts).
 */
function bridgeRootPort(socketPath: string): Promise<Server> {
  const server = createServer((client) => shimBidi(client, connect({ path: socketPath })));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export interface CommuneBrowser {
  browser: Browser;
  kind: BrowserKind;
  close(): Promise<void>;
}

/** Launches `kind` inside the commune's namespace; `tmp` holds the wrapper script (and Firefox's socket). */
export async function launchInCommune(kind: BrowserKind, commune: Commune, tmp: string): Promise<CommuneBrowser> {
  if (kind === 'chromium') {
    const exe = await wrapper(path.join(tmp, `chromium-${commune.ns}.sh`), [IP, 'netns', 'exec', commune.ns, CHROMIUM]);
    const browser = await chromium.launch({ executablePath: exe, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    return { browser, kind, close: () => browser.close().catch(() => undefined) };
  }
  const socketPath = path.join(tmp, `bidi-${commune.ns}.sock`);
  const root = await bridgeRootPort(socketPath);
  const address = root.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const exe = await wrapper(path.join(tmp, `firefox-${commune.ns}.sh`), [IP, 'netns', 'exec', commune.ns, process.execPath, BRIDGE, socketPath, String(port), FIREFOX]);
  try {
    const browser = await firefox.launch({ channel: 'moz-firefox', executablePath: exe, headless: true, firefoxUserPrefs: FIREFOX_PREFS, timeout: 60_000 });
    return {
      browser,
      kind,
      close: async () => {
        await browser.close().catch(() => undefined);
        root.close();
      },
    };
  } catch (err) {
    root.close();
    throw err;
  }
}
