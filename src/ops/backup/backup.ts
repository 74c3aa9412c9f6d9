import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config/config.ts';
import { MIGRATIONS_DIR } from '../../db/migrator.ts';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
import { copyTree, listFiles } from './hashedFiles.ts';
import { dumpDatabase } from './logicalDump.ts';
import { BACKUP_FORMAT, writeManifest, type BackupManifest } from './manifest.ts';
import { connectOwner } from './ownerConnection.ts';

/**
 * What of DATA_DIR is not copied as files: the PostgreSQL cluster (dumped logically instead) and
 * its two passwords (a restore makes a new cluster with new ones), and the recordings (their own
 * part of the backup).
 */
export const DATA_DIR_EXCLUDED = new Set(['postgres', 'postgres.secret', 'postgres-app.secret', 'recordings']);

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
  ms: number;
  bytes: number;
}

async function emptyTarget(dir: string, dataDir: string): Promise<void> {
  const inside = path.relative(dataDir, dir);
  if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) {
    throw new TiepdanError('BACKUP_TARGET_INSIDE_DATA_DIR', `the backup directory ${dir} is inside DATA_DIR: put it on another disk (a USB drive under /media or /mnt)`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await readdir(dir)).length > 0) throw new TiepdanError('BACKUP_TARGET_NOT_EMPTY', `${dir} is not empty: give a new directory for each backup`);
}

export async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(MIGRATIONS_DIR, '..', 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/**
 * `tiepdan backup --to DIR`, with the server running or stopped. Order matters for the audit
 * chain: DATA_DIR's files (audit.anchor among them) are copied before the database snapshot, so the
 * anchor in a backup is never ahead of the audit rows in it (an anchor ahead would look like a cut
 * tail); recordings come last, so every recording the snapshot knows as closed is complete.
 */
export async function runBackup(config: Config, to: string, logger: Logger): Promise<BackupResult> {
  const log = logger.child({ component: 'backup' });
  const started = Date.now();
  const dir = path.resolve(to);
  if (!(await stat(config.dataDir).catch(() => undefined))?.isDirectory()) throw new TiepdanError('BACKUP_NO_DATA_DIR', `DATA_DIR ${config.dataDir} does not exist`);
  await emptyTarget(dir, config.dataDir);

  const dataFiles = await copyTree(config.dataDir, path.join(dir, 'data'), await listFiles(config.dataDir, DATA_DIR_EXCLUDED), 'data');
  log.info({ files: dataFiles.length }, 'keys and settings copied');

  const owner = await connectOwner(config, logger);
  let database: Omit<BackupManifest['database'], 'source'>;
  try {
    await mkdir(path.join(dir, 'database'), { mode: 0o700 });
    database = await dumpDatabase(owner.db, dir, 'database', log);
  } finally {
    await owner.close();
  }
  log.info({ tables: database.tables.length, rows: database.tables.reduce((n, t) => n + t.rows, 0), source: owner.source }, 'database dumped');

  const recordingsDir = path.join(config.dataDir, 'recordings');
  const recordingFiles = await copyTree(recordingsDir, path.join(dir, 'recordings'), await listFiles(recordingsDir), 'recordings');
  const sessions = new Set(recordingFiles.map((f) => f.path.split('/')[1])).size;
  log.info({ sessions, files: recordingFiles.length }, 'recordings copied');

  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: new Date(started).toISOString(),
    version: await packageVersion(),
    database: { ...database, source: owner.source },
    dataFiles,
    recordings: { sessions, files: recordingFiles },
  };
  await writeManifest(dir, manifest);
  const bytes = [...dataFiles, ...recordingFiles, ...database.tables.map((t) => t.file)].reduce((n, f) => n + f.size, 0);
  return { dir, manifest, ms: Date.now() - started, bytes };
}
