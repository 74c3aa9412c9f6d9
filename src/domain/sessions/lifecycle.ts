import { SESSION_STATUSES, type SessionStatus } from '../../contract/views/session.ts';
import { conflict } from '../common/errors.ts';

/**
 * The session life-cycle: draft → submitted → approved → invitations_sent → tested → live →
 * ended → archived, plus cancelled and rejected. Each action names the states it may start from;
 * anything else is refused with INVALID_TRANSITION (409), before any other rule is checked.
 */
export { SESSION_STATUSES, type SessionStatus };

export const SESSION_ACTIONS = ['submit', 'approve', 'reject', 'reopen', 'send_invitations', 'mark_tested', 'go_live', 'end', 'archive', 'cancel'] as const;
export type SessionAction = (typeof SESSION_ACTIONS)[number];

export const TRANSITIONS: Record<SessionAction, { from: readonly SessionStatus[]; to: SessionStatus | 'same' }> = {
  submit: { from: ['draft'], to: 'submitted' },
  approve: { from: ['submitted'], to: 'approved' },
  reject: { from: ['submitted'], to: 'rejected' },
  // A rejected proposal may be revised and submitted again.
  reopen: { from: ['rejected'], to: 'draft' },
  // Sending again after the first time issues only the missing invitations.
  send_invitations: { from: ['approved', 'invitations_sent', 'tested', 'live'], to: 'invitations_sent' },
  mark_tested: { from: ['invitations_sent'], to: 'tested' },
  go_live: { from: ['invitations_sent', 'tested'], to: 'live' },
  end: { from: ['live'], to: 'ended' },
  archive: { from: ['ended'], to: 'archived' },
  cancel: { from: ['draft', 'submitted', 'approved', 'invitations_sent', 'tested'], to: 'cancelled' },
};

/** Statuses before approval: an invitation now breaks "no invitation before approval". */
export const BEFORE_APPROVAL: readonly SessionStatus[] = ['draft', 'submitted', 'rejected'];

export function nextStatus(action: SessionAction, from: SessionStatus): SessionStatus {
  const t = TRANSITIONS[action];
  if (!t.from.includes(from)) {
    if (action === 'send_invitations' && BEFORE_APPROVAL.includes(from)) {
      throw conflict('INVITATION_BEFORE_APPROVAL', `no invitation before the chairman's approval (session is ${from})`, { status: from });
    }
    throw conflict('INVALID_TRANSITION', `cannot ${action.replace(/_/g, ' ')} a session that is ${from}`, { action, from, allowedFrom: t.from });
  }
  if (t.to === 'same') return from;
  // Re-sending invitations keeps a tested or live session where it is.
  if (action === 'send_invitations' && from !== 'approved') return from;
  return t.to;
}

/** What the live-media side sees (SessionDirectory admission). */
export function admissionOf(status: SessionStatus): 'open' | 'not_open' | 'ended' {
  switch (status) {
    case 'invitations_sent':
    case 'tested':
    case 'live':
      return 'open';
    case 'ended':
    case 'archived':
      return 'ended';
    default:
      return 'not_open';
  }
}
