import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config/config.ts';
import { startEmbeddedPostgres } from '../../db/embeddedPostgres.ts';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';

/** The table owner's connection a backup reads through (the application's role may not read everything it must). */
export interface OwnerConnection {
  db: Kysely<unknown>;
  source: 'embedded-running' | 'embedded-stopped' | 'external';
  close(): Promise<void>;
}

function connect(url: string): Kysely<unknown> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  // A dropped idle connection must not crash the CLI; the query that needs it reports the error.
  pool.on('error', () => undefined);
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * The embedded PostgreSQL serving DATA_DIR/postgres right now, if any: its port from
 * postmaster.pid (line 4), when the pid there is a live postgres process.
 */
export async function runningEmbeddedPort(dataDir: string): Promise<number | undefined> {
  const pgDir = path.join(dataDir, 'postgres');
  let lines: string[];
  try {
    lines = (await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!(pid > 0) || !(port > 0) || path.resolve(lines[1] ?? '') !== path.resolve(pgDir)) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('postgres') ? port : undefined;
}

/**
 * External database: DATABASE_OWNER_URL (or DATABASE_URL when one role does both). Embedded and
 * the server running: its PostgreSQL, as the owner (DATA_DIR/postgres.secret) — starting a second
 * one on the same directory would fail, and a backup should not need downtime. Embedded and
 * stopped: started for the backup on a free loopback port, stopped afterwards.
 */
export async function connectOwner(config: Config, logger: Logger): Promise<OwnerConnection> {
  const external = config.database.ownerUrl ?? config.database.url;
  if (external !== undefined) {
    const db = connect(external);
    return { db, source: 'external', close: () => db.destroy() };
  }
  if (!existsSync(path.join(config.dataDir, 'postgres', 'PG_VERSION'))) {
    throw new TiepdanError('BACKUP_NO_DATABASE', `no embedded database in ${config.dataDir} (and DATABASE_URL is not set): check DATA_DIR`);
  }
  const port = await runningEmbeddedPort(config.dataDir);
  if (port !== undefined) {
    const password = (await readFile(path.join(config.dataDir, 'postgres.secret'), 'utf8')).trim();
    const db = connect(`postgresql://tiepdan:${encodeURIComponent(password)}@127.0.0.1:${port}/tiepdan`);
    return { db, source: 'embedded-running', close: () => db.destroy() };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: 0, logger });
  const db = connect(embedded.url);
  return {
    db,
    source: 'embedded-stopped',
    close: async () => {
      await db.destroy();
      await embedded.stop();
    },
  };
}
