import { USER_ROLES, type UserRole } from '../../contract/views/user.ts';

/** The roles are declared in the contract (src/contract/views/user.ts): the console reads them too. */
export { USER_ROLES, type UserRole };

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
