import { DENOUNCER_IDENTITY_ROLES, PERSONAL_DATA_ROLES, type UserRole } from '../common/roles.ts';

/**
 * Who may see the personal data of the people in a case. Every citizen's personal data is
 * confidential (NĐ 154/2026 Art 12(2)); a denouncer's identity — every person on a tố cáo case —
 * only the reception board and the inspectorate (Luật Tố cáo Art 8(3), 9(1)(b)). The Chủ tịch
 * reads a tố cáo case whose denouncer does not ask for identity protection (the only kind that goes
 * online, N154 Art 20(4)): he decides on it and receives the denouncer (law review §5.4(b), issue
 * 11 item 6). `undefined` stands for anything that leaves the central point: logs, audit snapshots, exports.
 */
export function canSeePersonalData(role: UserRole | undefined, caseType: string, identityProtectionWaived = false): boolean {
  if (role === undefined) return false;
  if (caseType !== 'to_cao') return PERSONAL_DATA_ROLES.includes(role);
  return DENOUNCER_IDENTITY_ROLES.includes(role) || (role === 'approver' && identityProtectionWaived);
}

/** Fields of a person that identify them. */
export const PERSONAL_FIELDS = ['fullName', 'idNumber', 'address', 'phone', 'note'] as const;
