import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { redactUrl } from '../logging/logger.ts';
import { readOrCreateSecret, startEmbeddedPostgres, type EmbeddedDatabase } from './embeddedPostgres.ts';
import { auditLogOverreach, currentRole, EMBEDDED_APP_ROLE, ensureLoginRole, grantAppPrivileges } from './roles.ts';
import type { DatabaseSchema } from './schema.ts';
import { ChangeFeed } from './changeFeed.ts';

export type Db = Kysely<DatabaseSchema>;

/** A connected database: the embedded server when DATABASE_URL is unset, any PostgreSQL ≥ 14 otherwise. */
export interface DatabaseHandle {
  /** The application's pool, as the application role (not a superuser; see roles.ts). */
  db: Db;
  embedded: boolean;
  /** Role names; `separate` is false when one external role both owns the tables and runs the application. */
  roles: { app: string; owner: string; separate: boolean };
  /**
   * Runs `fn` as the owner (migrations): a short-lived connection of its own, after which the
   * application role's grants are applied again (new tables; audit_log stays SELECT+INSERT).
   * With a single external role it is the application's pool.
   */
  asOwner<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** A LISTEN on `channel` as the application role, on a connection of its own (closed by `close`). */
  listen(channel: string): Promise<ChangeFeed>;
  /** True when a trivial query answers within the timeout (for /readyz). */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** DATABASE_URL: the application's role on an external PostgreSQL; unset: the embedded one. */
  url: string | undefined;
  /** DATABASE_OWNER_URL: the owner's role for migrations (external only); unset: `url` does both. */
  ownerUrl?: string | undefined;
  /** DATABASE_ALLOW_SUPERUSER: start even if the application's role is a superuser (logged as an error). */
  allowSuperuser?: boolean;
  dataDir: string;
  embeddedPort: number;
  logger: Logger;
  maxConnections?: number;
}

function connect(url: string, max: number, logger: Logger): Db {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server must not crash the process; the pool replaces it.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle database connection failed'));
  return new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
}

async function withConnection<T>(url: string, logger: Logger, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = connect(url, 1, logger);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/**
 * The embedded server: the bootstrap superuser owns the database; the application gets
 * `tiepdan_app` (password in DATA_DIR/postgres-app.secret, 0600). Both the role and its grants are
 * (re)made on every start, so a data directory from a version without the role upgrades itself.
 */
async function provisionEmbeddedAppRole(embedded: EmbeddedDatabase, dataDir: string, logger: Logger): Promise<string> {
  const password = await readOrCreateSecret(path.join(dataDir, 'postgres-app.secret'));
  await withConnection(embedded.url, logger, async (owner) => {
    await ensureLoginRole(owner, EMBEDDED_APP_ROLE, password);
    await grantAppPrivileges(owner, EMBEDDED_APP_ROLE);
  });
  return embedded.urlFor(EMBEDDED_APP_ROLE, password);
}

/**
 * The application's role must not be a superuser: a superuser switches the audit log's trigger
 * off, rewrites it, and runs OS commands (COPY … TO PROGRAM). Refused unless explicitly allowed.
 */
async function checkAppRole(db: Db, options: { allowSuperuser: boolean; embedded: boolean }, logger: Logger): Promise<string> {
  const role = await currentRole(db);
  if (role.superuser) {
    if (options.embedded || !options.allowSuperuser) {
      throw new TiepdanError(
        'DB_APP_ROLE_SUPERUSER',
        `the database role "${role.name}" the application connects as is a superuser: give the application a role of its own that is not ` +
          '(README, Database: two roles), and put the owner in DATABASE_OWNER_URL; DATABASE_ALLOW_SUPERUSER=true starts anyway',
      );
    }
    logger.error({ role: role.name }, 'SECURITY: the application connects to PostgreSQL as a SUPERUSER (DATABASE_ALLOW_SUPERUSER=true): the audit log is not protected by the database; see README, Database: two roles');
  } else if (role.extraPowers.length > 0) {
    logger.warn({ role: role.name, powers: role.extraPowers }, 'the application database role has powers it does not need');
  }
  return role.name;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.logger.child({ component: 'db' });
  if (options.url === undefined && options.ownerUrl !== undefined) throw new TiepdanError('DB_OWNER_URL_WITHOUT_URL', 'DATABASE_OWNER_URL needs DATABASE_URL (the embedded database manages its own roles)');
  let embedded: EmbeddedDatabase | undefined;
  let url = options.url;
  let ownerUrl = options.ownerUrl ?? options.url;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedPort, logger: options.logger });
    try {
      url = await provisionEmbeddedAppRole(embedded, options.dataDir, logger);
    } catch (err) {
      await embedded.stop();
      throw err;
    }
    ownerUrl = embedded.url;
  }
  const db = connect(url, options.maxConnections ?? 10, logger);
  const appUrl = url;
  /** Closed with the database. */
  const feeds = new Set<ChangeFeed>();
  let roles: DatabaseHandle['roles'];
  try {
    await sql`select 1`.execute(db);
    const app = await checkAppRole(db, { allowSuperuser: options.allowSuperuser ?? false, embedded: embedded !== undefined }, logger);
    const owner = ownerUrl === url || ownerUrl === undefined ? app : await withConnection(ownerUrl, logger, async (o) => (await currentRole(o)).name);
    roles = { app, owner, separate: owner !== app };
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    throw err;
  }
  logger.info({ url: redactUrl(url), embedded: embedded !== undefined, role: roles.app, owner: roles.owner }, 'database connected');

  const warnIfAuditLogWritable = async () => {
    const overreach = await auditLogOverreach(db).catch((err: unknown) => {
      logger.warn({ err }, 'cannot check the application role’s privileges on audit_log');
      return [];
    });
    if (overreach.length > 0) {
      logger.warn(
        { role: roles.app, overreach },
        'the application database role can change audit_log: it is then protected only by its trigger and its keyed hash chain; set DATABASE_OWNER_URL to a separate owner role (README, Database: two roles)',
      );
    }
  };

  return {
    db,
    embedded: embedded !== undefined,
    roles,
    async asOwner(fn) {
      if (!roles.separate || ownerUrl === undefined) {
        const result = await fn(db);
        await warnIfAuditLogWritable();
        return result;
      }
      const result = await withConnection(ownerUrl, logger, async (owner) => {
        try {
          return await fn(owner);
        } finally {
          // Also after a failed migration: the ones before it may have made tables.
          await grantAppPrivileges(owner, roles.app).catch((err: unknown) => logger.error({ err }, 'cannot grant the application role its privileges'));
        }
      });
      await warnIfAuditLogWritable();
      return result;
    },
    async listen(channel) {
      const feed = new ChangeFeed(appUrl, channel, logger);
      feeds.add(feed);
      // Not listening yet is not fatal: the feed retries, and caches on it read the database meanwhile.
      await feed.start().catch((err: unknown) => logger.warn({ err }, 'change feed not listening yet'));
      return feed;
    },
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
      for (const feed of feeds) await feed.close();
      await db.destroy();
      await embedded?.stop();
    },
  };
}
