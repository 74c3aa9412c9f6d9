import { DENOUNCER_IDENTITY_ROLES, PERSONAL_DATA_ROLES, type UserRole } from '../common/roles.ts';

/**
 * Who may see the personal data of the people in a case. Every citizen's personal data is
 * confidential (NĐ 154/2026 Art 12(2)); a denouncer's identity — every person on a tố cáo case —
 * only the reception board and the inspectorate (Luật Tố cáo Art 8(3), 9(1)(b)).
 * `undefined` stands for anything that leaves the central point: logs, audit snapshots, exports.
 */
export function canSeePersonalData(role: UserRole | undefined, caseType: string): boolean {
  if (role === undefined) return false;
  return caseType === 'to_cao' ? DENOUNCER_IDENTITY_ROLES.includes(role) : PERSONAL_DATA_ROLES.includes(role);
}

/** Fields of a person that identify them. */
export const PERSONAL_FIELDS = ['fullName', 'idNumber', 'address', 'phone', 'note'] as const;
