import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths redacted from every log line. Tokens, passwords and complainants' personal data must
 * never reach a log file (they stay in the database).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.token',
  '*.secret',
  '*.passphrase',
  '*.databaseUrl',
  'password',
  'token',
  'secret',
];

export interface LoggerSettings {
  level: string;
  pretty: boolean;
}

/** The root logger; components take `logger.child({ component, sessionId, peerId })`. */
export function createLogger(settings: LoggerSettings, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'tiepdan' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  // Pretty printing is for a developer's terminal only: production logs stay JSON for tools.
  if (settings.pretty && destination === undefined) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return destination === undefined ? pino(options) : pino(options, destination as pino.DestinationStream);
}

/** Hides the password part of a connection URL before it is logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
