import { loadConfig } from './config/config.ts';
import { ConfigError } from './errors.ts';
import { createLogger } from './logging/logger.ts';
import { TiepdanServer } from './server.ts';
import { bannerFacts, formatBanner } from './ops/banner/startupBanner.ts';

/** Starts the server and stops it gracefully on SIGTERM/SIGINT (forced after SHUTDOWN_TIMEOUT_MS). */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger(config.log);
  let server: TiepdanServer;
  const started = Date.now();
  try {
    server = await TiepdanServer.start(config, logger);
    // For the technician: a readable block on standard error (standard output stays JSON lines).
    process.stderr.write(formatBanner(bannerFacts(server, Date.now() - started)));
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exitCode = 1;
    return;
  }
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received');
    const force = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
