import type { FastifyError, FastifyInstance } from 'fastify';
import { type CodedError, type ErrorCode, isErrorCode, type OperatorErrorCode } from '../contract/errors.ts';
import { TiepdanError } from '../errors.ts';

/**
 * Body of every error answer: a stable code for programs, a message for people. `code` is a string
 * rather than an ErrorCode because fastify's own 4xx refusals (FST_ERR_…) are passed through as they are.
 */
export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/**
 * The HTTP status of each code, chosen here at the API edge and nowhere else (issue 12 item 2: media,
 * recording and domain code throw codes, not statuses). A `Record` over the whole union, so a new code
 * without a status does not compile. Signaling-only codes are listed too (they may surface through the
 * dev and loopback routes); 500 where a code means the server failed.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  ACCOUNT_BRIDGE_POINT_MISSING: 403,
  ACCOUNT_DISABLED: 401,
  ACCOUNT_LOCKED: 423,
  ALREADY_JOINED: 500,
  API_KEY_INVALID: 401,
  API_KEY_NOT_ALLOWED: 403,
  API_KEY_NOT_FOUND: 404,
  API_KEY_ROLE_FORBIDDEN: 400,
  API_KEY_ROLE_RETIRED: 403,
  APPROVER_PERSON_REQUIRED: 403,
  APPROVER_ROLE_REQUIRED: 403,
  AUDIT_CHAIN_NOT_MIGRATED: 500,
  AUDIT_KEY_INVALID: 500,
  AUDIT_KEY_MISSING: 500,
  AUTH_REQUIRED: 401,
  AUTH_UNAVAILABLE: 503,
  BAD_JSON: 400,
  BAD_MESSAGE: 400,
  BAD_REQUEST: 400,
  BRIDGE_POINT_CODE_TAKEN: 409,
  BRIDGE_POINT_FORBIDDEN: 403,
  BRIDGE_POINT_KIND_IN_USE: 409,
  BRIDGE_POINT_NOT_FOUND: 404,
  BRIDGE_POINT_NOT_IN_SESSION: 400,
  BRIDGE_POINT_REQUIRED: 400,
  CALENDAR_DAY_NOT_FOUND: 404,
  CANNOT_TARGET_SELF: 500,
  CASE_CRITERIA_REQUIRED: 409,
  CASE_NOT_FOUND: 404,
  CASE_NOT_ON_AGENDA: 400,
  CASE_ON_LIVE_SESSION: 409,
  CASE_REFERENCE_TAKEN: 409,
  CHAIR_NOT_APPROVER: 400,
  CLIENT_BUNDLE_UNAVAILABLE: 503,
  CONCLUSION_NOTICE_NOT_FOUND: 404,
  CONSUMER_NOT_FOUND: 404,
  CSV_EMPTY: 400,
  CSV_HEADER_INVALID: 400,
  CSV_INVALID: 400,
  CSV_TOO_MANY_ROWS: 413,
  CURRENT_PASSWORD_WRONG: 400,
  DATE_OUT_OF_RANGE: 400,
  DATE_RANGE_INVALID: 400,
  DENUNCIATION_IDENTITY_NOT_WAIVED: 409,
  EXPORT_ALREADY_QUEUED: 409,
  EXPORT_DECRYPT_FAILED: 400,
  EXPORT_DESTINATION_CHANGED: 400,
  EXPORT_DESTINATION_EXISTS: 409,
  EXPORT_DESTINATION_FULL: 507,
  EXPORT_DESTINATION_INVALID: 400,
  EXPORT_DESTINATION_MISSING: 400,
  EXPORT_DESTINATION_NOT_ALLOWED: 400,
  EXPORT_DESTINATION_NOT_MOUNTED: 400,
  EXPORT_DESTINATION_ON_RECORDINGS: 400,
  EXPORT_DESTINATION_READ_ONLY: 400,
  EXPORT_FAILED: 500,
  EXPORT_FILE_TOO_LARGE: 400,
  EXPORT_IMAGE_FAILED: 500,
  EXPORT_MEDIA_TOO_SMALL: 400,
  EXPORT_NOT_CONFIGURED: 409,
  EXPORT_PASSPHRASE_WEAK: 400,
  EXPORT_READBACK_MISMATCH: 500,
  EXPORT_WRITE_FAILED: 500,
  FILE_NOT_FOUND: 404,
  FOLLOW_UP_DONE: 409,
  FOLLOW_UP_NOT_FOUND: 404,
  FORBIDDEN: 403,
  FS_BAD_NAME: 500,
  GO_LIVE_OVERRIDE_CHAIR_ONLY: 403,
  GO_LIVE_TESTS_NOT_PASSED: 409,
  INTERNAL: 500,
  INVALID_DATA: 400,
  INVALID_TRANSITION: 409,
  INVITATION_BEFORE_APPROVAL: 409,
  INVITATION_NOT_ALLOWED: 403,
  INVITATION_NOT_FOUND: 404,
  INVITATION_OTHER_POINT: 403,
  INVITATION_REQUIRED: 403,
  INVITATION_SESSION_CLOSED: 409,
  INVITATION_WITHHELD: 403,
  IN_LOBBY: 403,
  JOBS_BUSY: 503,
  JOB_FAILED: 500,
  JOB_INTERRUPTED: 500,
  JOB_NOT_FOUND: 404,
  JOIN_CODE_EXPIRED: 410,
  JOIN_CODE_MALFORMED: 400,
  JOIN_CODE_RATE_LIMITED: 429,
  JOIN_CODE_REVOKED: 410,
  JOIN_CODE_UNKNOWN: 404,
  LEASE_HELD: 409,
  LEGAL_HOLD_RELEASE_FORBIDDEN: 403,
  LOCAL_RECORDING_FORBIDDEN: 403,
  LOGIN_FAILED: 401,
  LOGIN_RATE_LIMITED: 429,
  MEDIA_REJECTED: 400,
  MESSAGE_TOO_LARGE: 413,
  METRICS_LOOPBACK_ONLY: 403,
  METRICS_UNAUTHORIZED: 401,
  MINUTES_NOT_ALLOWED: 409,
  MINUTES_VERSION_CONFLICT: 409,
  MINUTES_VERSION_NOT_FOUND: 404,
  MUTED_BY_HOST: 403,
  NOTICE_NOT_ALLOWED: 409,
  NOTICE_NUMBER_TAKEN: 409,
  NOTICE_OUTCOMES_MISSING: 409,
  NOT_FOUND: 404,
  NOT_JOINED: 500,
  NOT_LAYERED: 400,
  NO_WORKER_AVAILABLE: 503,
  OUTCOMES_NOT_ALLOWED: 409,
  OUTCOME_CASE_TWICE: 400,
  OUTCOME_DEADLINE_BEFORE_SESSION: 400,
  PASSWORD_CHANGE_REQUIRED: 403,
  PDF_ABANDONED: 499,
  PDF_BUSY: 503,
  PDF_FAILED: 500,
  PDF_UNAVAILABLE: 503,
  PEER_EJECTED: 500,
  PEER_EXISTS: 409,
  PEER_NOT_FOUND: 404,
  PLAYABLE_FAILED: 500,
  PREFLIGHT_NOT_OPEN: 409,
  PREFLIGHT_NOT_PASSED: 409,
  PREFLIGHT_NO_BRIDGE_POINT: 409,
  PREFLIGHT_NO_SLOTS: 409,
  PREFLIGHT_OTHER_POINT: 403,
  PREFLIGHT_RATE_LIMITED: 429,
  PREFLIGHT_SLOT_NOT_FOUND: 404,
  PRODUCER_NOT_FOUND: 404,
  PROPOSAL_NO_LONGER_VALID: 409,
  PROTOCOL_VERSION_UNSUPPORTED: 500,
  RATE_LIMITED: 429,
  RECORDING_AUDIT_REQUIRED: 500,
  RECORDING_BUSY: 409,
  RECORDING_CODEC_UNSUPPORTED: 500,
  RECORDING_DB_REQUIRED: 500,
  RECORDING_DELETED: 409,
  RECORDING_DENOUNCER_PROTECTED: 403,
  RECORDING_DISK_LOW: 507,
  RECORDING_EMPTY: 409,
  RECORDING_IN_PROGRESS: 409,
  RECORDING_LEGAL_HOLD: 409,
  RECORDING_MANIFEST_CLOSED: 500,
  RECORDING_MANIFEST_INVALID: 500,
  RECORDING_MANIFEST_UNREADABLE: 500,
  RECORDING_NOT_FOUND: 404,
  RECORDING_NOT_RUNNING: 409,
  RECORDING_OPEN: 409,
  RECORDING_PERSON_REQUIRED: 403,
  RECORDING_RETENTION_ACTIVE: 409,
  RECORDING_RUNNING: 409,
  RECORDING_SDP_UNSAFE: 500,
  RECORDING_SECOND_PERSON_REQUIRED: 403,
  RECORDING_STOP_REASON_REQUIRED: 400,
  RECORDING_UNAVAILABLE: 503,
  REGISTER_ENTRY_CONFIDENTIAL: 403,
  REGISTER_ENTRY_NOT_FOUND: 404,
  REGISTER_PERIOD_INVALID: 400,
  REGISTER_TOO_LARGE: 400,
  REJECTION_REASON_REQUIRED: 400,
  RETENTION_IN_PAST: 400,
  RETENTION_SHORTENED: 409,
  ROLE_FORBIDDEN: 403,
  SEAT_IN_USE: 500,
  SEGMENT_NOT_FOUND: 404,
  SESSION_ENDED: 410,
  SESSION_FULL: 409,
  SESSION_IN_PAST: 409,
  SESSION_LOCKED: 409,
  SESSION_NOT_FOUND: 404,
  SESSION_NOT_LIVE_READY: 409,
  SESSION_NOT_OPEN: 500,
  SESSION_NO_BRIDGE_POINTS: 409,
  SESSION_NO_CASES: 409,
  SESSION_SCHEDULE_INVALID: 400,
  SHUTTING_DOWN: 503,
  SOURCE_IN_USE: 409,
  STAFF_CREDENTIAL_ROLE: 403,
  STAFF_CREDENTIAL_USERS_ONLY: 403,
  SUBMISSION_TOO_LATE: 409,
  TEST_NOT_FOUND: 404,
  TEST_STARTING: 409,
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  TOKEN_KEY_TOO_SHORT: 500,
  TOKEN_REVOKED: 401,
  TOKEN_TTL_INVALID: 400,
  TOKEN_WRONG_SESSION: 500,
  TOO_MANY_PRODUCERS: 409,
  TOO_MANY_TESTS: 503,
  TOO_MANY_TRANSPORTS: 409,
  TRANSPORT_NOT_FOUND: 404,
  UNKNOWN_METHOD: 400,
  USERNAME_TAKEN: 409,
  USER_NOT_FOUND: 404,
  USER_TOKEN_REQUIRED: 403,
  VALIDATION_FAILED: 400,
  WEB_BUILD_FAILED: 500,
  WORKER_BIN_MISSING: 500,
  WORKER_POOL_CLOSED: 503,
  WORKER_START_FAILED: 500,
  WRONG_TRANSPORT: 400,
};

/** Status for a thrown code; start-up and command-line codes never reach HTTP and count as a server failure. */
export function httpStatusOf(code: ErrorCode | OperatorErrorCode): number {
  return isErrorCode(code) ? HTTP_STATUS[code] : 500;
}

/** Maps errors to `{ code, message }` with the right status; never leaks stack traces. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | TiepdanError | Error, request, reply) => {
    if (error instanceof TiepdanError) {
      const status = httpStatusOf(error.code);
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      const body: ErrorBody = { code: error.code, message: error.message };
      if (error.details !== undefined) body.details = error.details;
      return reply.status(status).send(body);
    }
    const fe = error as FastifyError;
    if (fe.validation !== undefined) {
      return reply.status(400).send({
        code: 'VALIDATION_FAILED',
        message: fe.message,
        // Works for ajv (JSON schema) and fastify-type-provider-zod errors alike: `in` says which
        // part of the request (body, querystring, params, headers), `field` the JSON pointer in it.
        details: fe.validation.map((v) => ({ in: fe.validationContext ?? 'body', field: v.instancePath || v.params?.missingProperty || '', message: v.message })),
      } satisfies CodedError);
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ code: fe.code ?? 'BAD_REQUEST', message: fe.message } satisfies ErrorBody);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal server error' } satisfies CodedError);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` } satisfies CodedError),
  );
}
