import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Config } from '../../config/config.ts';
import { openDatabase } from '../../db/database.ts';
import { migrateTo, migrateToLatest, MIGRATIONS_DIR } from '../../db/migrator.ts';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
import { copyHashed, verifyEntries } from './hashedFiles.ts';
import { loadDatabase } from './logicalDump.ts';
import { readManifest, type BackupManifest, type FileEntry } from './manifest.ts';
import { runningEmbeddedPort } from './ownerConnection.ts';

export interface RestoreResult {
  manifest: BackupManifest;
  /** Migrations newer than the backup's, applied after loading it (an upgrade). */
  upgraded: string[];
  ms: number;
}

async function knownMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((f) => /\.(ts|js|mjs)$/.test(f)).map((f) => f.replace(/\.(ts|js|mjs)$/, '')).sort();
}

/** Copies backup files into DATA_DIR, checking each copy's hash against the manifest as it goes. */
async function restoreFiles(backupDir: string, entries: readonly FileEntry[], prefix: string, targetRoot: string): Promise<void> {
  for (const e of entries) {
    const rel = e.path.slice(prefix.length + 1);
    const h = await copyHashed(path.join(backupDir, e.path), path.join(targetRoot, rel), e.mode & 0o700 ? e.mode & 0o700 : 0o600);
    if (h.sha256 !== e.sha256) throw new TiepdanError('RESTORE_COPY_FAILED', `${e.path}: the copy in DATA_DIR does not match its hash (disk error?)`);
  }
}

/**
 * `tiepdan restore DIR` into an empty DATA_DIR (server stopped): checks every file of the backup
 * against backup.json first, so a damaged backup changes nothing; then copies keys, settings and
 * recordings, creates the database (embedded: a new cluster with new passwords), applies the
 * backup's migrations, loads the rows, and applies this version's newer migrations.
 */
export async function runRestore(config: Config, from: string, logger: Logger): Promise<RestoreResult> {
  const log = logger.child({ component: 'restore' });
  const started = Date.now();
  const backupDir = path.resolve(from);
  const manifest = await readManifest(backupDir);
  await verifyEntries(backupDir, [...manifest.database.tables.map((t) => t.file), ...manifest.dataFiles, ...manifest.recordings.files]);
  log.info({ files: manifest.dataFiles.length + manifest.recordings.files.length + manifest.database.tables.length }, 'backup verified');

  const known = await knownMigrations();
  const unknown = manifest.database.migrations.filter((m) => !known.includes(m));
  if (unknown.length > 0) {
    throw new TiepdanError('RESTORE_BACKUP_NEWER', `the backup was made by a newer tiepdan (migrations ${unknown.join(', ')} are unknown here): install that version or newer, then restore`);
  }
  if (config.database.url === undefined) {
    if (await runningEmbeddedPort(config.dataDir)) throw new TiepdanError('RESTORE_SERVER_RUNNING', 'tiepdan is running on this DATA_DIR: stop it first (systemctl stop tiepdan)');
    const present = await readdir(config.dataDir).catch(() => [] as string[]);
    if (present.length > 0) throw new TiepdanError('RESTORE_TARGET_NOT_EMPTY', `DATA_DIR ${config.dataDir} is not empty: restore into an empty one (move the old one aside, e.g. mv ${config.dataDir} ${config.dataDir}.old)`);
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await restoreFiles(backupDir, manifest.dataFiles, 'data', config.dataDir);
  await restoreFiles(backupDir, manifest.recordings.files, 'recordings', path.join(config.dataDir, 'recordings'));
  log.info('keys, settings and recordings copied');

  const database = await openDatabase({ url: config.database.url, ownerUrl: config.database.ownerUrl, allowSuperuser: config.database.allowSuperuser, dataDir: config.dataDir, embeddedPort: config.database.embeddedPort, logger });
  try {
    if (config.database.url !== undefined) {
      // An external database must be a new one: rows of its own would be wiped by the load.
      const used = await database.asOwner(async (db) => {
        const r = await sql<{ used: boolean }>`select (to_regclass('public.users') is not null and exists (select 1 from users)) as used`.execute(db).catch(() => undefined);
        return r?.rows[0]?.used === true;
      });
      if (used) throw new TiepdanError('RESTORE_TARGET_NOT_EMPTY', 'the database in DATABASE_URL already has users: restore into a new, empty database');
    }
    const last = manifest.database.migrations.at(-1)!;
    await migrateTo(database, last, logger);
    await database.asOwner((db) => loadDatabase(db, backupDir, manifest.database, log));
    log.info({ tables: manifest.database.tables.length }, 'database loaded');
    const upgraded = await migrateToLatest(database, logger);
    return { manifest, upgraded, ms: Date.now() - started };
  } finally {
    await database.close();
  }
}
