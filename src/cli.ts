import { loadConfig } from './config/config.ts';
import { ConfigError, TiepdanError } from './errors.ts';
import { createLogger } from './logging/logger.ts';
import { openDatabase } from './db/database.ts';
import { migrateDown, migrateToLatest, migrationStatus } from './db/migrator.ts';
import { main } from './main.ts';
import { recordingsCli, RECORDINGS_USAGE } from './recording/recordingsCli.ts';
import { serviceCli, SERVICE_USAGE } from './ops/service/serviceCli.ts';
import { backupCli, restoreCli, BACKUP_USAGE } from './ops/backup/backupCli.ts';

const USAGE = `usage: tiepdan <command>

  start                 start the server (same as npm start)
  migrate [up]          apply pending database migrations
  migrate down          roll back the most recent migration
  migrate status        list migrations and when they ran
${RECORDINGS_USAGE}${BACKUP_USAGE}${SERVICE_USAGE}`;

async function migrate(sub: string | undefined): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ ...config.log, pretty: false });
  const database = await openDatabase({ url: config.database.url, ownerUrl: config.database.ownerUrl, allowSuperuser: config.database.allowSuperuser, dataDir: config.dataDir, embeddedPort: config.database.embeddedPort, logger });
  try {
    if (sub === undefined || sub === 'up') {
      const applied = await migrateToLatest(database, logger);
      process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`);
    } else if (sub === 'down') {
      const undone = await migrateDown(database, logger);
      process.stdout.write(undone.length === 0 ? 'nothing to roll back\n' : `rolled back: ${undone.join(', ')}\n`);
    } else if (sub === 'status') {
      for (const m of await migrationStatus(database)) {
        process.stdout.write(`${m.executedAt ? m.executedAt.toISOString() : 'pending                 '}  ${m.name}\n`);
      }
    } else {
      throw new TiepdanError('CLI_USAGE', `unknown migrate command "${sub}"\n${USAGE}`);
    }
  } finally {
    await database.close();
  }
}

export async function runCli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'start':
        await main();
        return;
      case 'recordings':
        await recordingsCli(rest, loadConfig());
        return;
      case 'service-files':
        await serviceCli(rest);
        return;
      case 'backup':
        await backupCli(rest, loadConfig());
        return;
      case 'restore':
        await restoreCli(rest, loadConfig());
        return;
      case 'migrate':
        await migrate(rest[0]);
        return;
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return;
      default:
        throw new TiepdanError('CLI_USAGE', `unknown command "${command}"\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 78;
    } else if (err instanceof TiepdanError) {
      process.stderr.write(`${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  }
}
