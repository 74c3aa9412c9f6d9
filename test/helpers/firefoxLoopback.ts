/**
 * Starts Firefox ESR for Playwright on this machine's own loopback, with the BiDi shim between
 * them (test/network/bidiShim.ts: Playwright sends a command this Firefox lacks, for every new
 * context). Firefox accepts a WebSocket only when the Host header names its own port, so the shim
 * listens on the same port number on another loopback address (127.0.0.2) and names Firefox's own
 * address in the Host header it passes on. The network tests' firefoxBridge.ts does the same across a
 * network namespace; here there is none.
 *
 * Usage (as Playwright's executable, through a wrapper script):
 *   node firefoxLoopback.ts <firefox binary> [firefox args…]
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { shimBidi } from '../network/bidiShim.ts';

export const SHIM_HOST = '127.0.0.2';
const [firefoxBin, ...firefoxArgs] = process.argv.slice(2);
if (firefoxBin === undefined) {
  process.stderr.write('usage: firefoxLoopback.ts <firefox> [args…]\n');
  process.exit(2);
}

/** A port free on this loopback (Firefox checks the Host header's port against the one it was given, so not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const port = await freePort();
const args = firefoxArgs.map((a) => (a.startsWith('--remote-debugging-port') ? `--remote-debugging-port=${port}` : a));
// Same process group as this one: Playwright kills the group, which takes Firefox too.
const firefox = spawn(firefoxBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
let connections = 0;

function stopFirefox(): void {
  if (firefox.exitCode !== null || firefox.signalCode !== null) return;
  firefox.kill('SIGTERM');
  setTimeout(() => firefox.kill('SIGKILL'), 3000).unref();
}

function serveShim(port: number, ready: () => void): void {
  const server = createServer((client) => {
    connections++;
    shimBidi(client, connect({ host: '127.0.0.1', port }), undefined, undefined, `127.0.0.1:${port}`);
    client.on('close', () => {
      // Playwright went away (closed the browser, or its process died): Firefox must not outlive it.
      if (--connections === 0) stopFirefox();
    });
  });
  server.listen(port, SHIM_HOST, ready);
}

function relay(stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  const lines = createInterface({ input: stream });
  lines.on('line', (line) => {
    const m = /WebDriver BiDi listening on ws:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/.exec(line);
    if (m) {
      const port = Number(m[1]);
      // Told to Playwright only once the shim listens, so its first connection cannot miss it.
      serveShim(port, () => out.write(`WebDriver BiDi listening on ws://${SHIM_HOST}:${port}\n`));
      return;
    }
    out.write(`${line}\n`);
  });
}

relay(firefox.stdout, process.stdout);
relay(firefox.stderr, process.stderr);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stopFirefox);
firefox.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
