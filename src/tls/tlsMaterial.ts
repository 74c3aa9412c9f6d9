import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config/config.ts';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';

const run = promisify(execFile);

/** What the HTTPS server needs, plus what an operator needs to trust it. */
export interface TlsMaterial {
  key: Buffer;
  /** Server certificate, followed by the local CA certificate when we generated it. */
  cert: Buffer;
  /** Where the certificate came from: the configured files, or generated under DATA_DIR/tls. */
  source: 'files' | 'generated';
  /** The local CA certificate (PEM) that commune PCs import to trust a generated certificate. */
  caCertPem: string | undefined;
  /** SHA-256 fingerprint of the CA (generated) or the server certificate (files), for checking by eye. */
  fingerprint256: string;
  /** Names and addresses the server certificate covers. */
  hostnames: string[];
  validTo: Date;
}

/** Certificates are renewed this long before they expire. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const SERVER_CERT_DAYS = 825;
const CA_DAYS = 3650;

/**
 * The names a generated certificate covers by default: how commune PCs reach this machine (its host
 * name and IPv4 addresses, the announced media address) plus loopback for the operator's own browser.
 */
export function defaultTlsHostnames(config: Pick<Config, 'http' | 'mediasoup'>): string[] {
  const names = new Set<string>([hostname(), 'localhost', '127.0.0.1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const address of list ?? []) {
      if (address.family === 'IPv4' && !address.internal) names.add(address.address);
    }
  }
  for (const a of config.mediasoup.announcedAddresses) names.add(a);
  if (config.http.host !== '0.0.0.0' && config.http.host !== '::') names.add(config.http.host);
  return [...names].filter((n) => n.length > 0);
}

function subjectAltName(hostnames: readonly string[]): string {
  return hostnames.map((h) => (isIP(h) !== 0 ? `IP:${h}` : `DNS:${h}`)).join(',');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 60_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new TiepdanError('TLS_OPENSSL_MISSING', 'the openssl command is needed to generate a certificate (apt-get install openssl), or set TLS_CERT_FILE and TLS_KEY_FILE');
    throw new TiepdanError('TLS_GENERATION_FAILED', `openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when `cert` covers every name, and stays valid for more than RENEW_BEFORE_MS. */
function stillGood(cert: X509Certificate, hostnames: readonly string[], now: number): boolean {
  if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return false;
  return hostnames.every((h) => (isIP(h) !== 0 ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined));
}

/**
 * Generated material lives in DATA_DIR/tls: a local CA (ca.key, ca.crt) made once, and a server
 * certificate signed by it (server.key, server.crt) re-made whenever the names change or it nears
 * expiry. Commune PCs trust the CA once; a new server certificate then needs nothing on their side.
 * (A self-signed server certificate that is its own CA is refused by Firefox as a server
 * certificate, hence two certificates.)
 */
export async function generatedTls(dir: string, hostnames: readonly string[], logger: Logger, now = Date.now()): Promise<TlsMaterial> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const caKey = path.join(dir, 'ca.key');
  const caCrt = path.join(dir, 'ca.crt');
  const serverKey = path.join(dir, 'server.key');
  const serverCrt = path.join(dir, 'server.crt');

  let caPem = await readIfPresent(caCrt);
  const caKeyPem = await readIfPresent(caKey);
  if (caPem === undefined || caKeyPem === undefined || Date.parse(new X509Certificate(caPem).validTo) - now < RENEW_BEFORE_MS) {
    logger.info({ dir }, 'generating the local certificate authority for HTTPS');
    await openssl([
      'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', caKey, '-out', caCrt, '-days', String(CA_DAYS), '-sha256',
      '-subj', `/O=tiepdan/CN=tiepdan local CA ${hostname().replace(/[^A-Za-z0-9.-]/g, '-')} ${new Date(now).toISOString().slice(0, 10)}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      // Windows and OpenSSL take a CA's EKU as the limit of what it may vouch for: with its key alone
      // (a copied DATA_DIR) one can make HTTPS certificates, but no code-signing or e-mail ones
      // (security review M9). No nameConstraints on purpose: the CA is installed once on every
      // commune PC, and constraining it to today's names and addresses would make a new server
      // address mean reinstalling it everywhere (see README, HTTPS).
      '-addext', 'extendedKeyUsage=serverAuth',
    ]);
    await chmod(caKey, 0o600);
    await rm(serverCrt, { force: true }); // signed by the old CA
    caPem = await readFile(caCrt);
  }

  let serverPem = await readIfPresent(serverCrt);
  let keyPem = await readIfPresent(serverKey);
  const ca = new X509Certificate(caPem);
  const current = serverPem === undefined ? undefined : new X509Certificate(serverPem);
  if (serverPem === undefined || keyPem === undefined || current === undefined || !current.checkIssued(ca) || !stillGood(current, hostnames, now)) {
    logger.info({ hostnames }, 'generating the HTTPS server certificate');
    const csr = path.join(dir, 'server.csr');
    const ext = path.join(dir, 'server.ext');
    const commonName = hostnames.find((h) => isIP(h) === 0 && h !== 'localhost') ?? hostnames[0] ?? 'localhost';
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', serverKey, '-out', csr, '-subj', `/O=tiepdan/CN=${commonName}`]);
    await chmod(serverKey, 0o600);
    await writeFile(
      ext,
      [
        `subjectAltName=${subjectAltName(hostnames)}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectKeyIdentifier=hash',
        'authorityKeyIdentifier=keyid',
      ].join('\n'),
      { mode: 0o600 },
    );
    await openssl([
      'x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', String(SERVER_CERT_DAYS), '-sha256', '-extfile', ext, '-out', serverCrt,
    ]);
    await rm(csr, { force: true });
    await rm(ext, { force: true });
    serverPem = await readFile(serverCrt);
    keyPem = await readFile(serverKey);
  }
  const server = new X509Certificate(serverPem);
  return {
    key: keyPem,
    cert: Buffer.concat([serverPem, Buffer.from('\n'), caPem]),
    source: 'generated',
    caCertPem: caPem.toString('utf8'),
    fingerprint256: ca.fingerprint256,
    hostnames: [...hostnames],
    validTo: new Date(server.validTo),
  };
}

/** TLS_CERT_FILE/TLS_KEY_FILE as given (a province CA's certificate, a chain file is fine). */
export async function tlsFromFiles(certFile: string, keyFile: string): Promise<TlsMaterial> {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = await readFile(certFile);
    key = await readFile(keyFile);
  } catch (err) {
    throw new TiepdanError('TLS_FILES_UNREADABLE', `cannot read the TLS certificate or key: ${(err as Error).message}`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new TiepdanError('TLS_FILES_UNREADABLE', `${certFile} is not a PEM certificate`);
  }
  const names = (x509.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  return { key, cert, source: 'files', caCertPem: undefined, fingerprint256: x509.fingerprint256, hostnames: names, validTo: new Date(x509.validTo) };
}

/** The TLS material the configuration asks for, or undefined for plain HTTP (TLS=off). */
export async function loadTls(config: Pick<Config, 'tls' | 'dataDir' | 'http' | 'mediasoup'>, logger: Logger): Promise<TlsMaterial | undefined> {
  const log = logger.child({ component: 'tls' });
  if (config.tls.mode === 'off') return undefined;
  let material: TlsMaterial;
  if (config.tls.certFile !== undefined && config.tls.keyFile !== undefined) {
    material = await tlsFromFiles(config.tls.certFile, config.tls.keyFile);
  } else {
    const hostnames = config.tls.hostnames ?? defaultTlsHostnames(config);
    material = await generatedTls(path.join(config.dataDir, 'tls'), hostnames, log);
  }
  if (material.validTo.getTime() < Date.now()) log.warn({ validTo: material.validTo }, 'the TLS certificate has expired: browsers will refuse it');
  log.info({ source: material.source, hostnames: material.hostnames, validTo: material.validTo, fingerprint256: material.fingerprint256 }, 'HTTPS certificate');
  return material;
}
