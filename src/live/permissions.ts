/**
 * Who may do what in a live session, as pure functions (no mediasoup, no sockets): the one place
 * the role rules live. The signaling method table declares which permission each request needs
 * (signaling/methods.ts) and checks it here; the room asks `canSee` and `joinsInLobby`.
 */
import { TiepdanError } from '../errors.ts';
import type { ParticipantRole } from '../tokens/tokenSigner.ts';

/** What each role may do with media. Technicians see stats only; observers receive only. */
export interface RolePermissions {
  produce: boolean;
  consume: boolean;
  /** Mute, eject, admit from the lobby, end the session. */
  moderate: boolean;
  /** Read other peers' transport/producer/consumer statistics. */
  inspect: boolean;
  /** Waits in the lobby when the session has one. */
  waitsInLobby: boolean;
}

/** A permission a request may require (`waitsInLobby` is a placement rule, not a permission). */
export type Permission = Exclude<keyof RolePermissions, 'waitsInLobby'>;

export const ROLE_PERMISSIONS: Record<ParticipantRole, RolePermissions> = {
  host: { produce: true, consume: true, moderate: true, inspect: true, waitsInLobby: false },
  central: { produce: true, consume: true, moderate: false, inspect: false, waitsInLobby: true },
  endpoint: { produce: true, consume: true, moderate: false, inspect: false, waitsInLobby: true },
  observer: { produce: false, consume: true, moderate: false, inspect: false, waitsInLobby: true },
  technician: { produce: false, consume: false, moderate: false, inspect: true, waitsInLobby: false },
};

/** Label the recorder and other peers see when a peer has no display name (role label, no personal data). */
export const ROLE_LABELS: Record<ParticipantRole, string> = {
  host: 'Chủ trì (điểm cầu trung tâm)',
  central: 'Điểm cầu trung tâm',
  endpoint: 'Điểm cầu',
  observer: 'Quan sát viên',
  technician: 'Kỹ thuật viên',
};

/** What the rules need to know of a participant. */
export interface Participant {
  readonly role: ParticipantRole;
  readonly admitted: boolean;
}

/** The room settings the rules read. */
export interface VisibilitySettings {
  readonly lobbyEnabled: boolean;
  readonly endpointsSeeEachOther: boolean;
}

/** Whether `viewer` receives `owner`'s media: communes see each other only when the chair allows. */
export function canSee(viewer: Participant, owner: Participant, settings: VisibilitySettings): boolean {
  if (viewer === owner || !ROLE_PERMISSIONS[viewer.role].consume || !viewer.admitted || !owner.admitted) return false;
  if (viewer.role === 'endpoint' && owner.role === 'endpoint') return settings.endpointsSeeEachOther;
  return true;
}

/**
 * Whether `viewer` is told of `owner` at all (the join answer's peer list, peerJoined, peerLeft):
 * communes that may not see each other are not told of each other either. Their page would hide
 * them anyway (web/apps/room), a commune needs no list of the others, and in a province-size
 * session telling every commune of every other was the signaling's O(N²) work: 136 communes
 * joining made 18,000 notifications (issue 14). Everyone else is told of everyone admitted.
 */
export function knowsOf(viewer: Participant, owner: Participant, settings: VisibilitySettings): boolean {
  if (viewer.role === 'endpoint' && owner.role === 'endpoint') return settings.endpointsSeeEachOther;
  return true;
}

/** Whether a newcomer of `role` waits in the lobby; `contested` seats always do (security review M1). */
export function joinsInLobby(role: ParticipantRole, settings: VisibilitySettings, contested = false): boolean {
  return contested || (settings.lobbyEnabled && ROLE_PERMISSIONS[role].waitsInLobby);
}

/** What a permission lets a role do, as the FORBIDDEN message says it. */
const ACTION: Record<Permission, string> = {
  produce: 'send media',
  consume: 'receive media',
  moderate: 'moderate the session',
  inspect: "read other participants' statistics",
};

/** Throws FORBIDDEN unless `role` has `permission`; `what` names the action for the message. */
export function requirePermission(role: ParticipantRole, permission: Permission, what = ACTION[permission]): void {
  if (!ROLE_PERMISSIONS[role][permission]) throw new TiepdanError('FORBIDDEN', `your role may not ${what}`);
}

/** Throws IN_LOBBY while the participant waits for a host to admit it. */
export function requireAdmitted(participant: Participant): void {
  if (!participant.admitted) throw new TiepdanError('IN_LOBBY', 'waiting in the lobby until the host admits you');
}
