import { TiepdanError } from '../../errors.ts';
import type { Actor, UserRole } from '../../domain/common/roles.ts';

/**
 * Who may end a recording's protection, and who may then delete it (security review H2): no
 * single person destroys evidence. A legal hold is released by the inspectorate or the reception
 * board; only an administrator deletes. The two sets never share a role, and the deletion also
 * checks people, not only roles: the deleter must not be whoever released the last hold or set
 * the retention date in force (a user whose role was changed in between is still the same person).
 */
export const HOLD_RELEASE_ROLES = ['reception_board', 'inspectorate'] as const satisfies readonly UserRole[];
export const DELETE_ROLES = ['admin'] as const satisfies readonly UserRole[];
/** Setting a hold or extending retention only protects: every governing role may. */
export const GOVERN_ROLES = ['admin', 'reception_board', 'inspectorate'] as const satisfies readonly UserRole[];

// A future edit that lets one role both release and delete would undo the rule: refuse to start.
if (DELETE_ROLES.some((r) => (HOLD_RELEASE_ROLES as readonly string[]).includes(r))) throw new Error('a role may not both release legal holds and delete recordings');

const includes = (roles: readonly UserRole[], role: UserRole | undefined): boolean => role !== undefined && roles.includes(role);

/** An accountable person, not an integration key or the system, ends protection and deletes. */
function requirePerson(actor: Actor, what: string): void {
  if (actor.kind !== 'user') throw new TiepdanError('RECORDING_PERSON_REQUIRED', `${what} needs a person's login, not an API key`);
}

/**
 * Retention only grows: a new date lies after today and not before the date in force. "Keep
 * until someone decides" (no date) is only the starting state; a legal hold is the way to keep a
 * recording indefinitely, so a date is never taken back to none (that would allow a shorter one
 * afterwards).
 */
export function checkRetentionChange(current: string | null, next: string, today: string): void {
  if (next <= today) throw new TiepdanError('RETENTION_IN_PAST', `a retention date must lie after today (${today}); ${next} does not`);
  if (current !== null && next < current) {
    throw new TiepdanError('RETENTION_SHORTENED', `retention can only be extended: this recording is kept until ${current}`, { details: { retentionUntil: current } });
  }
}

export function checkHoldRelease(actor: Actor): void {
  if (!includes(HOLD_RELEASE_ROLES, actor.role)) {
    throw new TiepdanError('LEGAL_HOLD_RELEASE_FORBIDDEN', `a legal hold is released by ${HOLD_RELEASE_ROLES.join(' or ')}, never by the role that deletes (${DELETE_ROLES.join(', ')})`);
  }
  requirePerson(actor, 'releasing a legal hold');
}

export interface DeletionState {
  status: string;
  live: boolean;
  legalHold: boolean;
  legalHoldReason: string;
  retentionUntil: string | null;
  retentionSetBy: string | null;
  legalHoldReleasedBy: string | null;
  activeJobs: number;
}

/** Every reason a deletion is refused, in the order a user fixes them. */
export function checkDeletion(sessionId: string, s: DeletionState, actor: Actor, today: string): void {
  if (!includes(DELETE_ROLES, actor.role)) throw new TiepdanError('ROLE_FORBIDDEN', `only ${DELETE_ROLES.join(', ')} deletes recordings`);
  requirePerson(actor, 'deleting a recording');
  if (s.status === 'deleted') throw new TiepdanError('RECORDING_DELETED', `session ${sessionId}'s recording was deleted already`);
  if (s.live || s.status === 'recording') throw new TiepdanError('RECORDING_IN_PROGRESS', 'stop the recording first');
  if (s.activeJobs > 0) throw new TiepdanError('RECORDING_BUSY', `a job (playable copy, verification or export) is queued or running for session ${sessionId}`);
  if (s.legalHold) throw new TiepdanError('RECORDING_LEGAL_HOLD', `session ${sessionId} is under legal hold: ${s.legalHoldReason}`);
  if (s.retentionUntil === null || s.retentionUntil > today) {
    throw new TiepdanError('RECORDING_RETENTION_ACTIVE', `session ${sessionId} must be kept ${s.retentionUntil ? `until ${s.retentionUntil}` : '(no retention date set)'}`);
  }
  if (s.legalHoldReleasedBy === actor.id) throw new TiepdanError('RECORDING_SECOND_PERSON_REQUIRED', 'you released the legal hold on this recording: someone else deletes it');
  if (s.retentionSetBy === actor.id) throw new TiepdanError('RECORDING_SECOND_PERSON_REQUIRED', 'you set the retention date in force: someone else deletes the recording');
}
