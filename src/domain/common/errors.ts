import type { ErrorCode } from '../../contract/errors.ts';
import { TiepdanError } from '../../errors.ts';

/** What can be missing, and the literal code each one answers with (so the code list stays greppable and typed). */
const NOT_FOUND_CODES = {
  'api key': 'API_KEY_NOT_FOUND',
  'bridge point': 'BRIDGE_POINT_NOT_FOUND',
  'calendar day': 'CALENDAR_DAY_NOT_FOUND',
  case: 'CASE_NOT_FOUND',
  'conclusion notice': 'CONCLUSION_NOTICE_NOT_FOUND',
  'follow-up': 'FOLLOW_UP_NOT_FOUND',
  invitation: 'INVITATION_NOT_FOUND',
  'minutes version': 'MINUTES_VERSION_NOT_FOUND',
  'preflight slot': 'PREFLIGHT_SLOT_NOT_FOUND',
  'register entry': 'REGISTER_ENTRY_NOT_FOUND',
  session: 'SESSION_NOT_FOUND',
  user: 'USER_NOT_FOUND',
} as const satisfies Record<string, ErrorCode>;

export const notFound = (what: keyof typeof NOT_FOUND_CODES, id: string): TiepdanError => new TiepdanError(NOT_FOUND_CODES[what], `${what} ${id} not found`);

// The helpers below say what kind of refusal a call site means; the status each code answers with is
// chosen at the API edge (src/api/errors.ts HTTP_STATUS), not here.
export const conflict = (code: ErrorCode, message: string, details?: unknown): TiepdanError => new TiepdanError(code, message, { details });

export const forbidden = (code: ErrorCode, message: string): TiepdanError => new TiepdanError(code, message);

export const badRequest = (code: ErrorCode, message: string, details?: unknown): TiepdanError => new TiepdanError(code, message, { details });

/** PostgreSQL unique violation → a 409 with a code; anything else goes on. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

/** PostgreSQL foreign-key violation. */
export function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23503';
}
