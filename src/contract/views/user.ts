import { z } from 'zod';

/**
 * User roles of the control API (who logs in), distinct from participant roles inside a live
 * session (host, central, endpoint, observer, technician — see src/tokens).
 */
export const USER_ROLES = [
  'admin', // system administrator (Văn phòng UBND tỉnh, IT)
  'reception_board', // Ban Tiếp công dân tỉnh
  'inspectorate', // Thanh tra tỉnh
  'approver', // Chủ tịch UBND tỉnh or the deputy who chairs
  'technician', // kỹ thuật viên at the central point
  'commune_operator', // operator of one commune/ward bridge point
  'auditor', // read-only auditor
] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const userRoleEnum = z.enum(USER_ROLES);

/** A staff account (`GET /users`, and the `user` of a login answer). */
export const userView = z
  .object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    role: userRoleEnum,
    bridgePointId: z.string().nullable(),
    active: z.boolean(),
    lockedUntil: z.string().nullable(),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .describe('User');
export type UserView = z.infer<typeof userView>;

/** An API key as listed (never the key itself). */
export const apiKeyView = z
  .object({ id: z.string(), name: z.string(), role: userRoleEnum, keyPrefix: z.string(), createdAt: z.string(), revokedAt: z.string().nullable(), lastUsedAt: z.string().nullable() })
  .describe('ApiKey');
export type ApiKeyView = z.infer<typeof apiKeyView>;
