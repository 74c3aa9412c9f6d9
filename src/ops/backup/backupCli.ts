import { parseArgs } from 'node:util';
import type { Config } from '../../config/config.ts';
import { TiepdanError } from '../../errors.ts';
import { createLogger } from '../../logging/logger.ts';
import { runBackup } from './backup.ts';
import { runRestore } from './restore.ts';

export const BACKUP_USAGE = `  backup --to <dir>                      database (one consistent snapshot, server may run), keys and
                                         settings of DATA_DIR, recordings, SHA-256 of each in backup.json
  restore <dir>                          into an empty DATA_DIR (server stopped); checks every hash first
`;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

// The CLI's JSON log goes to standard error: standard output carries the one-line summary.
const cliLogger = (config: Config) => createLogger({ level: config.log.level, pretty: false }, process.stderr);

export async function backupCli(args: string[], config: Config): Promise<void> {
  let to: string | undefined;
  try {
    ({ to } = parseArgs({ args, options: { to: { type: 'string' } } }).values);
  } catch (err) {
    throw new TiepdanError('CLI_USAGE', `${(err as Error).message}\n${BACKUP_USAGE}`);
  }
  if (to === undefined) throw new TiepdanError('CLI_USAGE', `missing --to <dir>\n${BACKUP_USAGE}`);
  const r = await runBackup(config, to, cliLogger(config));
  const rows = r.manifest.database.tables.reduce((n, t) => n + t.rows, 0);
  process.stdout.write(
    `backup written to ${r.dir} in ${(r.ms / 1000).toFixed(1)} s: ${rows} database rows (${r.manifest.database.source}), ` +
      `${r.manifest.dataFiles.length} key/setting files, ${r.manifest.recordings.sessions} recordings (${r.manifest.recordings.files.length} files), ${mb(r.bytes)}\n`,
  );
}

export async function restoreCli(args: string[], config: Config): Promise<void> {
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({ args, allowPositionals: true, options: {} }));
  } catch (err) {
    throw new TiepdanError('CLI_USAGE', `${(err as Error).message}\n${BACKUP_USAGE}`);
  }
  if (positionals.length !== 1) throw new TiepdanError('CLI_USAGE', `give the backup directory\n${BACKUP_USAGE}`);
  const r = await runRestore(config, positionals[0]!, cliLogger(config));
  process.stdout.write(
    `restored the backup of ${r.manifest.createdAt} into ${config.dataDir} in ${(r.ms / 1000).toFixed(1)} s` +
      `${r.upgraded.length > 0 ? `; upgraded with ${r.upgraded.join(', ')}` : ''}. Start tiepdan; then check GET /api/v1/audit/verify\n`,
  );
}
