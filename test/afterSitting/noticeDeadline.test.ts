import { sql } from 'kysely';
import t from 'tap';
import { approve, createCase, createPoint, createSession } from '../api/fixtures.ts';
import { startControlApi } from '../api/harness.ts';

t.test('N154 Art 23(1): invitations later than 5 working days before are flagged and audited, not lost (issue 11 item 7)', async (t) => {
  const h = await startControlApi({ now: new Date('2026-04-01T02:00:00Z') });
  t.teardown(() => h.close());
  const X1 = await createPoint(h, 'X001');
  const c = await createCase(h);
  // Wed 15/4/2026: five working days before is Wed 8/4.
  const late = await createSession(h, { start: '2026-04-15T08:00:00+07:00', end: '2026-04-15T11:00:00+07:00', caseIds: [c], bridgePointIds: [X1] });
  const onTime = await createSession(h, { start: '2026-04-16T08:00:00+07:00', end: '2026-04-16T11:00:00+07:00', caseIds: [await createCase(h)], bridgePointIds: [X1] });
  t.equal((await h.call('GET', `/api/v1/sessions/${late}`, { as: 'reception_board' })).body.noticeDeadline, '2026-04-08');
  await approve(h, late);
  await approve(h, onTime);

  h.clock.now = new Date('2026-04-09T02:00:00Z'); // Thu 9/4: a day late for the 15th, in time for the 16th
  const sentLate = await h.call('POST', `/api/v1/sessions/${late}/invitations`, { as: 'reception_board' });
  t.equal(sentLate.status, 200, 'the invitations still go out');
  t.equal(sentLate.body.lateNotice, true);
  const sentOnTime = await h.call('POST', `/api/v1/sessions/${onTime}/invitations`, { as: 'reception_board' });
  t.equal(sentOnTime.body.lateNotice, false, 'Thu 9/4 is the fifth working day before Thu 16/4');
  const audit = await sql<{ entity_id: string; after: { notice: { late: boolean; latestNoticeDate: string } } }>`select entity_id, after from audit_log where action = 'session.send_invitations' order by seq`.execute(h.database.db);
  t.match(audit.rows, [{ entity_id: late, after: { notice: { late: true, latestNoticeDate: '2026-04-08' } } }, { entity_id: onTime, after: { notice: { late: false, latestNoticeDate: '2026-04-09' } } }]);
});
