import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileMigrationProvider, Migrator, sql, type MigrationResultSet } from 'kysely';
import type { Kysely } from 'kysely';
import { TiepdanError } from '../errors.ts';
import type { DatabaseHandle } from './database.ts';
import type { Logger } from '../logging/logger.ts';

/** The project's migrations/ folder (TypeScript files, loaded directly by Node's type stripping). */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export function createMigrator<T>(db: Kysely<T>, folder: string = MIGRATIONS_DIR): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: folder }),
    migrationTableName: 'tiepdan_migration',
    migrationLockTableName: 'tiepdan_migration_lock',
  });
}

function check(result: MigrationResultSet, logger: Logger, what: string): string[] {
  const names: string[] = [];
  for (const r of result.results ?? []) {
    if (r.status === 'Success') names.push(r.migrationName);
    logger.info({ migration: r.migrationName, direction: r.direction, status: r.status }, what);
  }
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new TiepdanError('DB_MIGRATION_FAILED', `migration ${failed ?? '(unknown)'} failed: ${String(result.error)}`, { cause: result.error });
  }
  return names;
}

// Every entry point runs as the owner (DatabaseHandle.asOwner): the application's role may not
// create or alter tables, nor write the migrator's own tables.

/** Applies every pending migration; returns the names applied (empty when up to date). */
export async function migrateToLatest(database: DatabaseHandle, logger: Logger): Promise<string[]> {
  return database.asOwner(async (db) => check(await createMigrator(db).migrateToLatest(), logger.child({ component: 'migrator' }), 'migration applied'));
}

/** Applies migrations up to and including `name` (tests: a database as an older version left it). */
export async function migrateTo(database: DatabaseHandle, name: string, logger: Logger): Promise<string[]> {
  return database.asOwner(async (db) => check(await createMigrator(db).migrateTo(name), logger.child({ component: 'migrator' }), 'migration applied'));
}

/** The CLI flag that lets `migrate down` drop tables holding rows. */
export const DESTROY_FLAG = '--i-know-this-destroys-evidence';

/**
 * Rows in the tables the most recent migration's `down` would drop or cut (its `downDestroys`),
 * only those holding any. Recordings, cases, invitations and the audit log are the evidence of
 * citizen receptions: a single `tiepdan migrate down` (or two) used to drop them for good
 * (security review L12).
 */
export async function rowsDownWouldDestroy(database: DatabaseHandle, folder: string = MIGRATIONS_DIR): Promise<{ migration: string; tables: { table: string; rows: number }[] } | undefined> {
  return database.asOwner(async (db) => {
    const last = (await createMigrator(db, folder).getMigrations()).filter((m) => m.executedAt !== undefined).at(-1);
    if (last === undefined) return undefined;
    const mod = (await import(pathToFileURL(path.join(folder, `${last.name}.ts`)).href)) as { downDestroys?: readonly string[] };
    const tables: { table: string; rows: number }[] = [];
    for (const table of mod.downDestroys ?? []) {
      const r = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
      const rows = Number(r.rows[0]?.n ?? 0);
      if (rows > 0) tables.push({ table, rows });
    }
    return { migration: last.name, tables };
  });
}

/**
 * Rolls back the most recent migration; returns its name, if any. Refuses (MIGRATE_DOWN_DESTROYS_DATA,
 * nothing changed) when that would drop rows, unless `destroyData` is set.
 */
export async function migrateDown(database: DatabaseHandle, logger: Logger, options: { destroyData?: boolean } = {}): Promise<string[]> {
  const log = logger.child({ component: 'migrator' });
  const at = await rowsDownWouldDestroy(database);
  if (at !== undefined && at.tables.length > 0) {
    const list = at.tables.map((t) => `${t.table} (${t.rows} row${t.rows === 1 ? '' : 's'})`).join(', ');
    if (options.destroyData !== true) {
      throw new TiepdanError(
        'MIGRATE_DOWN_DESTROYS_DATA',
        `rolling back ${at.migration} would permanently delete ${list}; nothing was changed. Take a backup first (tiepdan backup --to <dir>); to roll back anyway, add ${DESTROY_FLAG}`,
      );
    }
    log.warn({ migration: at.migration, tables: at.tables }, 'rolling back a migration that deletes rows, as asked');
  }
  return database.asOwner(async (db) => check(await createMigrator(db).migrateDown(), log, 'migration rolled back'));
}

/** Rolls back every migration (development and tests). */
export async function migrateToEmpty(database: DatabaseHandle, logger: Logger): Promise<string[]> {
  const { NO_MIGRATIONS } = await import('kysely');
  return database.asOwner(async (db) => check(await createMigrator(db).migrateTo(NO_MIGRATIONS), logger.child({ component: 'migrator' }), 'migration rolled back'));
}

export async function migrationStatus(database: DatabaseHandle): Promise<{ name: string; executedAt: Date | undefined }[]> {
  const list = await database.asOwner((db) => createMigrator(db).getMigrations());
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}
