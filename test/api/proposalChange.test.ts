import { sql } from 'kysely';
import t from 'tap';
import { approve, createCase, createPoint, createSession, passingResult } from './fixtures.ts';
import { startControlApi, type ControlApiHarness } from './harness.ts';

// Security review M8: the proposal's rules (criteria, the denouncer's waiver) ran only at submission
// and approval; a case on an approved session could then change and the session still went live.
const at = (local: string) => new Date(`${local}+07:00`);

t.test('a case changed after approval: the session goes back to the chairman; go-live re-checks', async (t) => {
  const h: ControlApiHarness = await startControlApi({ now: at('2026-02-02T09:00:00') });
  t.teardown(() => h.close());
  const communeA = await createPoint(h, 'XA');

  await t.test("the review's sequence: khiếu nại approved, then turned into a tố cáo without the waiver", async (t) => {
    const c = await createCase(h, { type: 'khieu_nai', criteria: ['a'] });
    const s = await createSession(h, { caseIds: [c], bridgePointIds: [communeA], chairUserId: h.users.approver.id });
    await approve(h, s);
    const sent = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' });
    t.equal(sent.body.session.status, 'invitations_sent');
    const token = sent.body.invitations[0].token as string;
    t.equal((await h.call('POST', '/api/v1/preflight/results', { token, body: { sessionId: s, bridgePointId: communeA, ...passingResult } })).status, 201);

    // The change is kept (it may be the denouncer withdrawing consent) …
    const patch = await h.call('PATCH', `/api/v1/cases/${c}`, { as: 'reception_board', body: { type: 'to_cao', identityProtectionWaived: false } });
    t.equal(patch.status, 200, patch.text);
    t.equal(patch.body.type, 'to_cao');
    // … and the session waits for the chairman again.
    const session = await h.call('GET', `/api/v1/sessions/${s}`, { as: 'reception_board' });
    t.equal(session.body.status, 'submitted');
    t.match(session.body.statusReason, /VV-.* changed \(type\)/);
    const history = await h.call('GET', `/api/v1/sessions/${s}/approvals`, { as: 'auditor' });
    t.match(history.body.at(-1), { kind: 'returned', actorId: h.users.reception_board.id });
    const log = await h.call('GET', `/api/v1/audit?entity=session&entityId=${s}&action=session.returned_for_approval`, { as: 'auditor' });
    t.match(log.body.items[0], { actorId: h.users.reception_board.id, before: { status: 'invitations_sent' }, after: { status: 'submitted', caseId: c, fields: ['type'] } });

    // The review's attack: go-live (and re-sending invitations) is now refused.
    const live = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'approver', body: { override: { reason: 'thử' } } });
    t.equal(live.status, 409);
    t.equal(live.body.code, 'INVALID_TRANSITION');
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' })).body.code, 'INVITATION_BEFORE_APPROVAL');
    // The chairman cannot approve it as it is …
    const again = await h.call('POST', `/api/v1/sessions/${s}/decision`, { as: 'approver', body: { decision: 'approved', comment: 'Đồng ý' } });
    t.equal(again.body.code, 'DENUNCIATION_IDENTITY_NOT_WAIVED');
    // … until the waiver is recorded (that change, on a submitted session, sends nothing back).
    await h.call('PATCH', `/api/v1/cases/${c}`, { as: 'inspectorate', body: { identityProtectionWaived: true, waiverNote: 'Đơn ngày 20/1/2026' } });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/decision`, { as: 'approver', body: { decision: 'approved', comment: 'Đồng ý lại' } })).status, 200);
    const resent = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' });
    t.equal(resent.body.issued, 0, 'the invitations already sent stay valid');
    // The re-approval kept the test slots, so the result recorded before still counts for its slot
    // (the working day before); the later slots are still to come, so the chairman starts with his
    // logged override (the go-live gate of issue 11).
    const gate = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'reception_board', body: {} });
    t.equal(gate.body.code, 'GO_LIVE_TESTS_NOT_PASSED');
    t.same(gate.body.details.notPassed[0].missing, ['hours_before', 'all_connected'], 'the test recorded before the change still counts for its slot');
    const goLive = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'approver', body: { override: { reason: 'Kiểm thử trực tiếp trước giờ tiếp' } } });
    t.equal(goLive.status, 200, goLive.text);
    t.equal(goLive.body.status, 'live');

    // A live session cannot go back: the change waits until it ends.
    const duringLive = await h.call('PATCH', `/api/v1/cases/${c}`, { as: 'reception_board', body: { criteria: [] } });
    t.equal(duringLive.status, 409);
    t.equal(duringLive.body.code, 'CASE_ON_LIVE_SESSION');
    t.same((await h.call('GET', `/api/v1/cases/${c}`, { as: 'reception_board' })).body.criteria, ['a']);
    t.equal((await h.call('PATCH', `/api/v1/cases/${c}`, { as: 'reception_board', body: { title: 'Tố cáo cán bộ địa chính' } })).status, 200, 'other fields stay editable');
  });

  await t.test('go-live re-checks the proposal even when a change bypassed the service', async (t) => {
    const c = await createCase(h, { criteria: ['b'] });
    const s = await createSession(h, { caseIds: [c], bridgePointIds: [communeA], chairUserId: h.users.approver.id });
    await approve(h, s);
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' })).status, 200);
    // Data from before the rule existed, or an edit straight in the database.
    await sql`update cases set criteria = '{}' where id = ${c}`.execute(h.database.db);
    const live = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'approver', body: { override: { reason: 'thử' } } });
    t.equal(live.status, 409);
    t.equal(live.body.code, 'PROPOSAL_NO_LONGER_VALID');
    t.match(live.body.details, { rule: 'CASE_CRITERIA_REQUIRED', cases: [{ caseId: c }] });
    t.equal((await h.call('GET', `/api/v1/sessions/${s}`, { as: 'reception_board' })).body.status, 'invitations_sent');
  });
});
