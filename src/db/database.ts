import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../logging/logger.ts';
import { redactUrl } from '../logging/logger.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embeddedPostgres.ts';
import type { DatabaseSchema } from './schema.ts';

export type Db = Kysely<DatabaseSchema>;

/** A connected database: the embedded server when DATABASE_URL is unset, any PostgreSQL ≥ 14 otherwise. */
export interface DatabaseHandle {
  db: Db;
  embedded: boolean;
  /** True when a trivial query answers within the timeout (for /readyz). */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url: string | undefined;
  dataDir: string;
  embeddedPort: number;
  logger: Logger;
  maxConnections?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.logger.child({ component: 'db' });
  let embedded: EmbeddedDatabase | undefined;
  let url = options.url;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedPort, logger: options.logger });
    url = embedded.url;
  }
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server must not crash the process; the pool replaces it.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle database connection failed'));
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    throw err;
  }
  logger.info({ url: redactUrl(url), embedded: embedded !== undefined }, 'database connected');

  return {
    db,
    embedded: embedded !== undefined,
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          sql`select 1`.execute(db).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), timeoutMs);
          }),
        ]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
