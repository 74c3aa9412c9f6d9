import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import type { Config } from '../../config/config.ts';
import type { WorkerPool } from '../../sfu/WorkerPool.ts';
import type { TlsMaterial } from '../../tls/tlsMaterial.ts';

/** What the banner reads of the started server (the composition root's TiepdanServer has it). */
export interface StartedServer {
  readonly config: Config;
  readonly pool: WorkerPool;
  readonly tls: TlsMaterial | undefined;
  readonly url: string;
  readonly port: number;
}

/**
 * The block a technician reads at start-up, next to the JSON logs: where to open the console, where
 * the first password is, what address browsers are told to send media to, and the CA fingerprint to
 * compare on commune PCs. Written once to standard error, so standard output stays pure JSON for
 * log tools, while a terminal and `journalctl -u tiepdan` both show it. It names the password
 * file, never the password.
 */
export interface BannerFacts {
  startedMs: number;
  /** Console URLs, best first (names the certificate covers). */
  consoleUrls: string[];
  /** The initial admin password file, when it is still there (first start, not yet deleted). */
  adminPasswordFile: string | undefined;
  media: { mode: string; addresses: string[]; ports: number[] };
  tls: { fingerprint256: string; source: string; caUrl: string | undefined } | undefined;
  readyUrl: string;
  metrics: { url: string; protection: 'token' | 'loopback' };
  dataDir: string;
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The addresses someone on another machine can open: the certificate's names, else this machine's. */
function reachableHosts(server: StartedServer): string[] {
  const listen = server.config.http.host;
  if (listen !== '0.0.0.0' && listen !== '::') return [listen];
  const names = server.tls?.hostnames.filter((h) => !h.includes('*')) ?? [hostname(), ...Object.values(networkInterfaces()).flatMap((l) => (l ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address)), '127.0.0.1'];
  // Addresses first (they work without DNS on a commune network), loopback last.
  const score = (h: string) => (h === 'localhost' || h.startsWith('127.') ? 2 : isIP(h) !== 0 ? 0 : 1);
  return [...new Set(names)].sort((a, b) => score(a) - score(b));
}

export function bannerFacts(server: StartedServer, startedMs: number): BannerFacts {
  const scheme = server.tls === undefined ? 'http' : 'https';
  const base = (host: string) => `${scheme}://${hostForUrl(host)}:${server.port}`;
  const hosts = reachableHosts(server);
  const passwordFile = path.join(server.config.dataDir, 'initial-admin-password');
  return {
    startedMs,
    consoleUrls: hosts.map((h) => `${base(h)}/console`),
    adminPasswordFile: existsSync(passwordFile) ? passwordFile : undefined,
    media: { ...server.pool.addresses.summary(), ports: server.pool.workers.map((w) => w.webRtcPort) },
    tls: server.tls === undefined ? undefined : { fingerprint256: server.tls.fingerprint256, source: server.tls.source, caUrl: server.tls.caCertPem === undefined ? undefined : `${base(hosts[0] ?? '127.0.0.1')}/tls/ca.crt` },
    readyUrl: `${server.url}/readyz`,
    metrics: { url: `${server.url}/metrics`, protection: server.config.metrics.token === undefined ? 'loopback' : 'token' },
    dataDir: server.config.dataDir,
  };
}

const MEDIA_MODES: Record<string, string> = {
  configured: 'announced as',
  'listen-ip': 'on the listen address',
  'per-connection': 'the address each browser reached; this machine has',
};

export function formatBanner(f: BannerFacts): string {
  const lines = [
    '',
    `tiepdan is ready (started in ${(f.startedMs / 1000).toFixed(1)} s)`,
    `  Console:      ${f.consoleUrls[0] ?? '(no address)'}`,
    ...f.consoleUrls.slice(1, 4).map((u) => `                ${u}`),
    f.adminPasswordFile === undefined
      ? '  First login:  done (the initial password file was removed)'
      : `  First login:  user "admin", password in ${f.adminPasswordFile} (change it, then delete the file)`,
    `  Media:        UDP/TCP ${f.media.ports.join(', ')}, ${MEDIA_MODES[f.media.mode] ?? f.media.mode} ${f.media.addresses.join(', ') || '(none found)'}`,
    f.tls === undefined
      ? '  HTTPS:        off (TLS=off): browsers give camera and microphone only to https pages or localhost'
      : f.tls.caUrl === undefined
        ? `  HTTPS:        certificate from TLS_CERT_FILE, SHA-256 ${f.tls.fingerprint256}`
        : `  TLS CA:       SHA-256 ${f.tls.fingerprint256}\n                commune PCs install ${f.tls.caUrl} and compare this fingerprint`,
    `  Health:       ${f.readyUrl}`,
    `  Metrics:      ${f.metrics.url} (${f.metrics.protection === 'token' ? 'Authorization: Bearer METRICS_TOKEN, from anywhere' : 'from this machine only; set METRICS_TOKEN for a Prometheus elsewhere'})`,
    `  Data:         ${f.dataDir} (back up with: tiepdan backup --to <dir>)`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
