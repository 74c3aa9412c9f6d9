import { mkdir, readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { TiepdanServer } from '../../src/server.ts';
import { browserKind } from '../helpers/browser.ts';

/** Screenshots of the main pages go here (git-ignored), to be looked at. */
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/web');

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  // A run in Firefox keeps its own pictures beside Chromium's.
  const file = path.join(ARTIFACTS, `${name}${browserKind() === 'firefox' ? '-firefox' : ''}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** JSON calls to the control API over the server's own HTTPS, trusting only its generated CA. */
export class ApiClient {
  readonly base: string;
  readonly #ca: string | undefined;
  token: string | undefined;

  constructor(base: string, ca: string | undefined) {
    this.base = base;
    this.#ca = ca;
  }

  static async forServer(server: TiepdanServer): Promise<ApiClient> {
    const ca = server.tls ? await readFile(path.join(server.config.dataDir, 'tls', 'ca.crt'), 'utf8') : undefined;
    return new ApiClient(server.url, ca);
  }

  call<T>(method: string, urlPath: string, body?: unknown, token = this.token): Promise<{ status: number; body: T }> {
    const url = new URL(urlPath, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        {
          method,
          ...(this.#ca ? { ca: this.#ca } : {}),
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  async ok<T>(method: string, urlPath: string, body?: unknown, token?: string): Promise<T> {
    const r = await this.call<T>(method, urlPath, body, token ?? this.token);
    if (r.status >= 400) throw new Error(`${method} ${urlPath} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async login(username: string, password: string): Promise<string> {
    const r = await this.ok<{ token: string }>('POST', '/api/v1/auth/login', { username, password });
    return r.token;
  }
}

/** Collects page errors and failed requests, for assertions and for the report when a step fails. */
export function watchPage(page: Page, name: string, log: string[]): void {
  page.on('pageerror', (e) => log.push(`[${name}] pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') log.push(`[${name}] console: ${m.text()}`);
  });
}

export async function newPage(context: BrowserContext, name: string, log: string[]): Promise<Page> {
  const page = await context.newPage();
  watchPage(page, name, log);
  return page;
}

/** Polls until `check` returns a truthy value (the machine is shared: no tight timing). */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
