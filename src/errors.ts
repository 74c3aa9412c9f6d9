import type { ErrorCode, OperatorErrorCode } from './contract/errors.ts';

/**
 * Typed errors with stable machine-readable codes. Every layer throws these with a code from the
 * contract (src/contract/errors.ts) and no transport status: the HTTP layer maps the code to a status
 * and `{ code, message }` (src/api/errors.ts), the signaling layer to an error reply.
 */
export class TiepdanError extends Error {
  readonly code: ErrorCode | OperatorErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode | OperatorErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TiepdanError';
    this.code = code;
    this.details = options.details;
  }
}

/** A configuration problem that stops start-up: lists every bad setting at once. */
export class ConfigError extends TiepdanError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: problems,
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
