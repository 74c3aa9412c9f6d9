/**
 * Runs Firefox inside a commune namespace while Playwright drives it from the root namespace.
 *
 * Playwright talks to Firefox over WebDriver BiDi, a WebSocket that Firefox opens on the loopback
 * of *its* namespace, which the root namespace cannot reach. Unix sockets are not namespaced, so:
 * this process (started inside the namespace by the wrapper script) starts Firefox, and when
 * Firefox prints "WebDriver BiDi listening on ws://127.0.0.1:<port>" it serves a Unix socket that
 * forwards to that port and prints the line again with the root-side port the test listens on
 * (`bridgeRootPort` in browsers.ts forwards that one to the Unix socket). The control connection
 * therefore never crosses the commune's shaped veth link. Firefox accepts a WebSocket only when the
 * Host header names its own port, so it is told to listen on the very port number the root side
 * uses (ports are per namespace: in the fresh commune namespace that number is free).
 *
 * Usage: node firefoxBridge.ts <unix socket> <root-side port> <firefox binary> [firefox args…]
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';

const [socketPath, rootPort, firefoxBin, ...firefoxArgs] = process.argv.slice(2);
if (socketPath === undefined || rootPort === undefined || firefoxBin === undefined) {
  process.stderr.write('usage: firefoxBridge.ts <unix socket> <root-side port> <firefox> [args…]\n');
  process.exit(2);
}

const args = firefoxArgs.map((a) => (a.startsWith('--remote-debugging-port') ? `--remote-debugging-port=${rootPort}` : a));
// Same process group as this one: Playwright kills the group, which takes Firefox too.
const firefox = spawn(firefoxBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
let connections = 0;

function stopFirefox(): void {
  if (firefox.exitCode !== null || firefox.signalCode !== null) return;
  firefox.kill('SIGTERM');
  setTimeout(() => firefox.kill('SIGKILL'), 3000).unref();
}

/** Serves the Unix socket; `ready` runs once it accepts connections. */
function serveBridge(bidiPort: number, ready: () => void): void {
  const server = createServer((client) => {
    connections++;
    const upstream = connect({ host: '127.0.0.1', port: bidiPort });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => {
      close();
      // Playwright went away (closed the browser, or its process died): Firefox must not outlive it.
      if (--connections === 0) stopFirefox();
    });
  });
  server.listen(socketPath, ready);
}

function relay(stream: NodeJS.ReadableStream, out: NodeJS.WritableStream): void {
  const lines = createInterface({ input: stream });
  lines.on('line', (line) => {
    const m = /WebDriver BiDi listening on ws:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)/.exec(line);
    if (m) {
      // Told to Playwright only once the socket is there, so its first connection cannot miss it.
      serveBridge(Number(m[1]), () => out.write(`WebDriver BiDi listening on ws://127.0.0.1:${rootPort}\n`));
      return;
    }
    out.write(`${line}\n`);
  });
}

relay(firefox.stdout, process.stdout);
relay(firefox.stderr, process.stderr);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stopFirefox);
firefox.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
