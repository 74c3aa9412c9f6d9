import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createLogger, type Logger } from '../../src/logging/logger.ts';

/** A fresh data directory under the system temp dir (reachable by the embedded postgres user). */
export async function tempDataDir(prefix = 'tiepdan-test-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** True when `port` is free on 127.0.0.1 for both TCP and UDP. */
export async function canBind(port: number): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  if (!tcp) return false;
  return new Promise<boolean>((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

/**
 * A block of `count` consecutive ports free on UDP and TCP, for WebRtcServers under test (they
 * need fixed ports). Random bases in 51000–59999 keep parallel runs apart and stay outside the
 * RTC_MIN_PORT–RTC_MAX_PORT ranges tests use and the embedded TURN's default relay ports
 * (50000–50999), which the configuration refuses to overlap (a server started without
 * NODE_ENV=test, as in test/process.test.ts, has the embedded TURN on).
 */
export async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 51000 + Math.floor(Math.random() * (9000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canBind(p);
    if (ok) return base;
  }
  throw new Error('no free port block found');
}

/** Configuration for a server under test: ephemeral HTTP, database and WebRtcServer ports. */
export async function testConfig(dataDir: string, overrides: Record<string, string> = {}): Promise<Config> {
  const workers = Number(overrides.MEDIASOUP_NUM_WORKERS ?? 2);
  return loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MEDIASOUP_NUM_WORKERS: String(workers),
    RTC_LISTEN_IP: '127.0.0.1',
    RTC_PORT_BASE: String(await freePortBlock(workers)),
    RTC_MIN_PORT: '40000',
    RTC_MAX_PORT: '49999',
    WORKER_RESPAWN_DELAY_MS: '200',
    // Plain HTTP unless a test asks for HTTPS (TLS: 'auto'): fetch and WebSocket clients stay simple.
    TLS: 'off',
    ...overrides,
  });
}

/** A logger that keeps every line in memory, for asserting on what gets (and never gets) logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ level, pretty: false }, sink), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

export function silentLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
}
