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

export const ALL_ROLES: readonly UserRole[] = USER_ROLES;

/** Roles that see complainants' personal data at all. */
export const PERSONAL_DATA_ROLES: readonly UserRole[] = ['reception_board', 'inspectorate', 'approver'];
/**
 * Roles an API key may have: none whose views carry complainants' personal data (an integration
 * is nobody, and nobody to hold to account for a read), none that decides (the approver), and no
 * commune operator (a key is bound to no bridge point). Security review M10, L5.
 */
export const API_KEY_ROLES: readonly UserRole[] = ['admin', 'technician', 'auditor'];
/** A denouncer's identity: the reception board and the inspectorate only (Luật Tố cáo Art 8–9). */
export const DENOUNCER_IDENTITY_ROLES: readonly UserRole[] = ['reception_board', 'inspectorate'];

/** Who is acting: a user (bearer token), an integration (API key) or an invitation holder. */
export interface Actor {
  kind: 'user' | 'api_key' | 'invitation' | 'system';
  id: string;
  /** Role for authorisation (an invitation holder has none of the user roles). */
  role: UserRole | undefined;
  /** A label for the audit log: username, key name or bridge point name. */
  label: string;
  /** Commune operators are bound to their bridge point; invitations to theirs. */
  bridgePointId: string | null;
  /** For invitation holders: the session the invitation admits to, and the token's subject. */
  sessionId?: string;
  subject?: string;
}

export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'system', role: undefined, label: 'system', bridgePointId: null };
