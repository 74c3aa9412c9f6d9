import { z } from 'zod';
import { ALL_ROLES, type UserRole } from '../../domain/common/roles.ts';

export const errorBody = z
  .object({
    code: z.string().describe('stable machine-readable code'),
    message: z.string(),
    details: z.unknown().optional(),
  })
  .describe('Error');

/** Error answers every authenticated route may give, documented once. */
export const errorResponses = {
  400: errorBody.describe('Invalid input: details lists each field and what is wrong'),
  401: errorBody.describe('Not authenticated (AUTH_REQUIRED, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, API_KEY_INVALID)'),
  403: errorBody.describe('The caller’s role may not do this (ROLE_FORBIDDEN or the rule’s code)'),
  404: errorBody.describe('Not found'),
  409: errorBody.describe('State conflict: a rule of the regulation or the life-cycle refuses it (see code)'),
} as const;

export const idParams = z.object({ id: z.uuid() });

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('page size (1–500)'),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

export const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export { paged } from '../../contract/views/paged.ts';

export { userRoleEnum as roleEnum } from '../../contract/views/user.ts';
export const isoDate = z.iso.date().describe('YYYY-MM-DD');

/** Roles groups, named once so the route table reads like the permission policy. */
export const R = {
  all: ALL_ROLES,
  staff: ['admin', 'reception_board', 'inspectorate', 'approver', 'technician', 'auditor'] as UserRole[],
  organisers: ['reception_board', 'inspectorate'] as UserRole[],
  caseReaders: ['reception_board', 'inspectorate', 'approver', 'auditor'] as UserRole[],
  admin: ['admin'] as UserRole[],
  approver: ['approver'] as UserRole[],
  auditReaders: ['admin', 'auditor', 'inspectorate'] as UserRole[],
  reportReaders: ['admin', 'reception_board', 'inspectorate', 'approver', 'auditor'] as UserRole[],
  pointEditors: ['admin', 'technician', 'reception_board'] as UserRole[],
  calendarEditors: ['admin', 'reception_board'] as UserRole[],
  invitationReaders: ['reception_board', 'inspectorate', 'technician', 'commune_operator'] as UserRole[],
  testers: ['admin', 'technician', 'commune_operator', 'reception_board'] as UserRole[],
  slotEditors: ['admin', 'technician', 'reception_board'] as UserRole[],
  chairs: ['reception_board', 'inspectorate', 'approver'] as UserRole[],
  archivers: ['admin', 'reception_board', 'inspectorate'] as UserRole[],
  minutesReaders: ['reception_board', 'inspectorate', 'approver'] as UserRole[],
} as const;

/**
 * A PATCH body from a create schema: every field optional and without its default (zod 4 applies
 * defaults inside optional fields, which would reset omitted fields).
 */
export function patchOf<T extends z.ZodObject>(schema: T): z.ZodType<Partial<z.output<T>>, Partial<z.input<T>>> {
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => [key, (field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType)).optional()]),
  );
  return z.object(shape).strict() as unknown as z.ZodType<Partial<z.output<T>>, Partial<z.input<T>>>;
}
