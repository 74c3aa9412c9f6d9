import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, type MigrationResultSet } from 'kysely';
import type { Kysely } from 'kysely';
import { TiepdanError } from '../errors.ts';
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

/** Applies every pending migration; returns the names applied (empty when up to date). */
export async function migrateToLatest<T>(db: Kysely<T>, logger: Logger): Promise<string[]> {
  return check(await createMigrator(db).migrateToLatest(), logger.child({ component: 'migrator' }), 'migration applied');
}

/** Rolls back the most recent migration; returns its name, if any. */
export async function migrateDown<T>(db: Kysely<T>, logger: Logger): Promise<string[]> {
  return check(await createMigrator(db).migrateDown(), logger.child({ component: 'migrator' }), 'migration rolled back');
}

/** Rolls back every migration (development and tests). */
export async function migrateToEmpty<T>(db: Kysely<T>, logger: Logger): Promise<string[]> {
  const { NO_MIGRATIONS } = await import('kysely');
  return check(await createMigrator(db).migrateTo(NO_MIGRATIONS), logger.child({ component: 'migrator' }), 'migration rolled back');
}

export async function migrationStatus<T>(db: Kysely<T>): Promise<{ name: string; executedAt: Date | undefined }[]> {
  const list = await createMigrator(db).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}
