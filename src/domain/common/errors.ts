import { TiepdanError } from '../../errors.ts';

export const notFound = (what: string, id: string): TiepdanError =>
  new TiepdanError(`${what.toUpperCase().replace(/ /g, '_')}_NOT_FOUND`, `${what} ${id} not found`, { status: 404 });

export const conflict = (code: string, message: string, details?: unknown): TiepdanError =>
  new TiepdanError(code, message, { status: 409, details });

export const forbidden = (code: string, message: string): TiepdanError => new TiepdanError(code, message, { status: 403 });

export const badRequest = (code: string, message: string, details?: unknown): TiepdanError =>
  new TiepdanError(code, message, { status: 400, details });

/** PostgreSQL unique violation → a 409 with a code; anything else goes on. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

/** PostgreSQL foreign-key violation. */
export function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23503';
}
