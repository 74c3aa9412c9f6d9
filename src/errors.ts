/**
 * Typed errors with stable machine-readable codes. Every layer throws these; the HTTP layer maps
 * them to a status and `{ code, message }`, the signaling layer to an error reply.
 */
export class TiepdanError extends Error {
  readonly code: string;
  /** HTTP status the API uses for this error; layers without HTTP ignore it. */
  readonly status: number;
  readonly details: unknown;

  constructor(code: string, message: string, options: { status?: number; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TiepdanError';
    this.code = code;
    this.status = options.status ?? 500;
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
