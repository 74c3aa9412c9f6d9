import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';

/**
 * A plain-HTTP listener that only redirects to the HTTPS server: someone typing the machine's
 * address without "https://" lands on the secure page instead of a connection error. It serves
 * nothing else, so no page ever runs without TLS.
 */
export class HttpRedirectServer {
  readonly server: Server;
  readonly #httpsPort: number;

  private constructor(server: Server, httpsPort: number) {
    this.server = server;
    this.#httpsPort = httpsPort;
  }

  static async listen(options: { host: string; port: number; httpsPort: number }): Promise<HttpRedirectServer> {
    const server = createServer();
    const redirect = new HttpRedirectServer(server, options.httpsPort);
    server.on('request', (req, res) => {
      const location = redirect.locationFor(req.headers.host, req.url ?? '/');
      res.writeHead(location === undefined ? 400 : 308, {
        ...(location === undefined ? {} : { location }),
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(location === undefined ? 'Bad Host header\n' : `Use ${location}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return redirect;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** https://<same host>:<https port><path>, or undefined for a Host header that is not a plain host. */
  locationFor(hostHeader: string | undefined, url: string): string | undefined {
    if (hostHeader === undefined) return undefined;
    const bracketed = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(hostHeader);
    const host = bracketed ? bracketed[1]! : hostHeader.replace(/:\d+$/, '');
    const valid = isIP(host) !== 0 || /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/.test(host);
    if (!valid) return undefined;
    const shown = host.includes(':') ? `[${host}]` : host;
    const path = url.startsWith('/') ? url : '/';
    return `https://${shown}${this.#httpsPort === 443 ? '' : `:${this.#httpsPort}`}${path}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
