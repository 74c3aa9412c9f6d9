import t from 'tap';
import { TiepdanError } from '../../errors.ts';
import { admissionOf, nextStatus, SESSION_ACTIONS, SESSION_STATUSES, type SessionAction, type SessionStatus } from './lifecycle.ts';

// The life-cycle as the issue states it, written out independently of the implementation's table.
const LEGAL: Record<SessionAction, Partial<Record<SessionStatus, SessionStatus>>> = {
  submit: { draft: 'submitted' },
  approve: { submitted: 'approved' },
  reject: { submitted: 'rejected' },
  reopen: { rejected: 'draft' },
  send_invitations: { approved: 'invitations_sent', invitations_sent: 'invitations_sent', tested: 'tested', live: 'live' },
  mark_tested: { invitations_sent: 'tested' },
  go_live: { invitations_sent: 'live', tested: 'live' },
  end: { live: 'ended' },
  archive: { ended: 'archived' },
  cancel: { draft: 'cancelled', submitted: 'cancelled', approved: 'cancelled', invitations_sent: 'cancelled', tested: 'cancelled' },
};

t.test('every action from every status: legal ones move, every illegal one is refused with a code', async (t) => {
  let legal = 0;
  let illegal = 0;
  for (const action of SESSION_ACTIONS) {
    for (const from of SESSION_STATUSES) {
      const expected = LEGAL[action][from];
      if (expected !== undefined) {
        t.equal(nextStatus(action, from), expected, `${action} from ${from} → ${expected}`);
        legal++;
      } else {
        const code = action === 'send_invitations' && ['draft', 'submitted', 'rejected'].includes(from) ? 'INVITATION_BEFORE_APPROVAL' : 'INVALID_TRANSITION';
        let caught: unknown;
        try {
          nextStatus(action, from);
        } catch (err) {
          caught = err;
        }
        t.ok(caught instanceof TiepdanError && caught.code === code, `${action} from ${from} refused: ${code}`);
        illegal++;
      }
    }
  }
  t.equal(legal + illegal, SESSION_ACTIONS.length * SESSION_STATUSES.length);
  t.ok(illegal > 70, `${illegal} illegal transitions checked`);
});

t.test('admission seen by the live-media side', async (t) => {
  const expected: Record<SessionStatus, string> = {
    draft: 'not_open',
    submitted: 'not_open',
    approved: 'not_open',
    invitations_sent: 'open',
    tested: 'open',
    live: 'open',
    ended: 'ended',
    archived: 'ended',
    cancelled: 'not_open',
    rejected: 'not_open',
  };
  for (const s of SESSION_STATUSES) t.equal(admissionOf(s), expected[s], s);
});
