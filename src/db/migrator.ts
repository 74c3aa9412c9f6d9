import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely';
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

/** Rolls back the most recent migration; returns its name, if any. */
export async function migrateDown(database: DatabaseHandle, logger: Logger): Promise<string[]> {
  return database.asOwner(async (db) => check(await createMigrator(db).migrateDown(), logger.child({ component: 'migrator' }), 'migration rolled back'));
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
