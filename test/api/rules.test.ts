import { sql } from 'kysely';
import t from 'tap';
import { SESSION_ACTIONS, SESSION_STATUSES, TRANSITIONS, type SessionAction } from '../../src/domain/sessions/lifecycle.ts';
import { approve, createCase, createPoint, createSession, passingResult } from './fixtures.ts';
import { startControlApi, type ControlApiHarness } from './harness.ts';
import { HTTP_STATUS } from '../../src/api/errors.ts';

// One embedded PostgreSQL for the whole file. The clock starts on Monday 2/2/2026, 09:00 in Gia Lai.
const at = (local: string) => new Date(`${local}+07:00`);

t.test('rules of the regulation, each with its error code', async (t) => {
  const h: ControlApiHarness = await startControlApi({ now: at('2026-02-02T09:00:00') });
  t.teardown(() => h.close());
  const central = await createPoint(h, 'TT', 'central');
  const communeA = await createPoint(h, 'XA');
  const communeB = await createPoint(h, 'XB');
  const goodCase = await createCase(h);

  await t.test('CASE_CRITERIA_REQUIRED: no submission while a case has no criterion a–d', async (t) => {
    const bare = await createCase(h, { criteria: [] });
    const s = await createSession(h, { caseIds: [goodCase, bare], bridgePointIds: [central, communeA] });
    const r = await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} });
    t.equal(r.status, 409);
    t.equal(r.body.code, 'CASE_CRITERIA_REQUIRED');
    t.same(r.body.details.cases.map((c: { caseId: string }) => c.caseId), [bare], 'names the case lacking a criterion');
    await h.call('PATCH', `/api/v1/cases/${bare}`, { as: 'inspectorate', body: { criteria: ['c'] } });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} })).status, 200, 'accepted once it has one');
  });

  await t.test('SESSION_NO_CASES and SESSION_NO_BRIDGE_POINTS', async (t) => {
    const empty = await createSession(h, { bridgePointIds: [central] });
    t.match((await h.call('POST', `/api/v1/sessions/${empty}/submit`, { as: 'reception_board', body: {} })).body, { code: 'SESSION_NO_CASES' });
    const noPoints = await createSession(h, { caseIds: [goodCase] });
    t.match((await h.call('POST', `/api/v1/sessions/${noPoints}/submit`, { as: 'reception_board', body: {} })).body, { code: 'SESSION_NO_BRIDGE_POINTS' });
  });

  await t.test('DENUNCIATION_IDENTITY_NOT_WAIVED: a tố cáo goes online only with the waiver', async (t) => {
    const denunciation = await createCase(h, { type: 'to_cao', criteria: ['c'], people: [{ role: 'denouncer', fullName: 'Trần Thị Tố' }] });
    const s = await createSession(h, { caseIds: [denunciation], bridgePointIds: [central, communeA] });
    const r = await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} });
    t.equal(r.status, 409);
    t.equal(r.body.code, 'DENUNCIATION_IDENTITY_NOT_WAIVED');
    await h.call('PATCH', `/api/v1/cases/${denunciation}`, { as: 'inspectorate', body: { identityProtectionWaived: true, waiverNote: 'Đơn đề nghị ngày 20/1/2026' } });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} })).status, 200, 'accepted with the recorded waiver');
  });

  await t.test('SUBMISSION_TOO_LATE: 5 working days, counted across Tết 2026 (16–20/2)', async (t) => {
    // Session Monday 23/2/2026. Five working days before, skipping Tết: Monday 9/2.
    const s = await createSession(h, { caseIds: [goodCase], bridgePointIds: [central, communeA] });
    t.equal((await h.call('GET', `/api/v1/sessions/${s}`, { as: 'reception_board' })).body.submissionDeadline, '2026-02-09');
    h.clock.now = at('2026-02-10T08:00:00');
    const late = await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} });
    t.equal(late.status, 409);
    t.equal(late.body.code, 'SUBMISSION_TOO_LATE');
    t.match(late.body.details, { today: '2026-02-10', latestSubmissionDate: '2026-02-09', requiredWorkingDays: 5, workingDaysAhead: 4 });
    h.clock.now = at('2026-02-09T16:30:00');
    const onTime = await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} });
    t.equal(onTime.status, 200, 'on the last allowed day');
    const history = await h.call('GET', `/api/v1/sessions/${s}/approvals`, { as: 'auditor' });
    t.match(history.body, [{ kind: 'submitted', workingDaysAhead: 5 }]);
    h.clock.now = at('2026-02-02T09:00:00');
  });

  await t.test('a make-up Saturday added through the calendar API counts as a working day', async (t) => {
    // Session Monday 16/3/2026; normally the last day is Monday 9/3. Tuesday 10/3 is too late…
    const s = await createSession(h, { start: '2026-03-16T08:00:00+07:00', end: '2026-03-16T11:00:00+07:00', caseIds: [goodCase], bridgePointIds: [central] });
    h.clock.now = at('2026-03-10T09:00:00');
    t.match((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} })).body, { code: 'SUBMISSION_TOO_LATE', details: { latestSubmissionDate: '2026-03-09' } });
    // …until Saturday 14/3 becomes a make-up working day.
    const put = await h.call('PUT', '/api/v1/calendar/exceptions/2026-03-14', { as: 'reception_board', body: { kind: 'working_day', name: 'Làm bù (thử nghiệm)' } });
    t.equal(put.status, 200);
    t.match((await h.call('GET', '/api/v1/calendar/working-days?date=2026-03-16&days=-5', { as: 'technician' })).body, { result: '2026-03-10' });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} })).status, 200);
    t.equal((await h.call('DELETE', '/api/v1/calendar/exceptions/2026-03-14', { as: 'admin' })).status, 204);
    t.match((await h.call('GET', '/api/v1/calendar/days?from=2026-03-14&to=2026-03-14', { as: 'auditor' })).body, [{ workingDay: false, reason: 'weekend' }]);
    t.equal((await h.call('PUT', '/api/v1/calendar/exceptions/2026-03-14', { as: 'technician', body: { kind: 'holiday', name: 'x' } })).status, 403, 'technicians do not edit the calendar');
    // Security review H5: one auditor's 10,000-year count kept the main thread busy for 308 s.
    const started = performance.now();
    const huge = await h.call('GET', '/api/v1/calendar/working-days?date=0001-01-01&until=9999-12-31', { as: 'auditor' });
    const ms = performance.now() - started;
    t.equal(huge.status, 200);
    t.ok((huge.body as { between: number }).between > 2_600_000, 'the count over 10,000 years');
    t.ok(ms < 500, `answered in ${ms.toFixed(0)} ms, not minutes`);
    h.clock.now = at('2026-02-02T09:00:00');
  });

  await t.test('the seeded make-up Saturday 26/4/2025 is the last day for a session on 7/5/2025', async (t) => {
    const s = await createSession(h, { start: '2025-05-07T08:00:00+07:00', end: '2025-05-07T11:00:00+07:00', caseIds: [goodCase], bridgePointIds: [central] });
    h.clock.now = at('2025-04-28T08:00:00');
    t.match((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} })).body, { code: 'SUBMISSION_TOO_LATE', details: { latestSubmissionDate: '2025-04-26' } });
    h.clock.now = at('2025-04-26T10:00:00');
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} })).status, 200);
    h.clock.now = at('2026-02-02T09:00:00');
  });

  await t.test('APPROVER_ROLE_REQUIRED, INVITATION_BEFORE_APPROVAL, SESSION_LOCKED', async (t) => {
    const s = await createSession(h, { caseIds: [goodCase], bridgePointIds: [central, communeA] });
    t.match((await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' })).body, { code: 'INVITATION_BEFORE_APPROVAL' }, 'not on a draft');
    await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} });
    const inv = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'inspectorate' });
    t.equal(inv.status, 409);
    t.equal(inv.body.code, 'INVITATION_BEFORE_APPROVAL', 'not while awaiting approval');
    for (const role of ['reception_board', 'inspectorate', 'admin', 'technician'] as const) {
      const r = await h.call('POST', `/api/v1/sessions/${s}/decision`, { as: role, body: { decision: 'approved' } });
      t.equal(r.status, 403, `${role} cannot approve`);
      t.equal(r.body.code, 'APPROVER_ROLE_REQUIRED');
    }
    const edit = await h.call('PATCH', `/api/v1/sessions/${s}`, { as: 'reception_board', body: { title: 'Đổi tên' } });
    t.equal(edit.status, 409);
    t.equal(edit.body.code, 'SESSION_LOCKED', 'a submitted proposal is locked');
    const ok = await h.call('POST', `/api/v1/sessions/${s}/decision`, { as: 'approver', body: { decision: 'approved', comment: 'Đồng ý' } });
    t.equal(ok.status, 200);
    t.equal(ok.body.status, 'approved');
    const slots = await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'technician' });
    t.same(
      slots.body.slots.map((x: { kind: string; startsAt: string }) => [x.kind, x.startsAt]),
      [
        ['day_before', at('2026-02-13T14:00:00').toISOString()], // T-1 working day is Friday 13/2, before Tết
        ['rehearsal', at('2026-02-13T15:30:00').toISOString()],
        ['hours_before', at('2026-02-23T06:00:00').toISOString()],
        ['all_connected', at('2026-02-23T07:00:00').toISOString()],
      ],
      'test slots at T-1 working day (across Tết), rehearsal, T-2 h and T-1 h',
    );
  });

  await t.test('Đ4.2 per case: approving, the chairman leaves cases out, each with its reason', async (t) => {
    const second = await createCase(h, { title: 'Kiến nghị về đường giao thông' });
    const s = await createSession(h, { caseIds: [goodCase, second], bridgePointIds: [communeA] });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} })).status, 200);
    const decide = (rejectedCases: unknown[]) => h.call('POST', `/api/v1/sessions/${s}/decision`, { as: 'approver', body: { decision: 'approved', rejectedCases } });
    const noReason = await decide([{ caseId: second, reason: ' ' }]);
    t.equal(noReason.status, 400);
    t.equal(noReason.body.code, 'REJECTION_REASON_REQUIRED', 'a case left out needs its reason');
    const stranger = await decide([{ caseId: '00000000-0000-4000-8000-000000000000', reason: 'x' }]);
    t.equal(stranger.body.code, 'CASE_NOT_ON_AGENDA');
    const all = await decide([{ caseId: goodCase, reason: 'Chưa đủ hồ sơ' }, { caseId: second, reason: 'Đã giải quyết' }]);
    t.equal(all.body.code, 'SESSION_NO_CASES', 'leaving every case out is a rejection, not an approval');
    t.equal((await h.call('GET', `/api/v1/sessions/${s}`, { as: 'auditor' })).body.cases.length, 2, 'a refused decision changes nothing');
    const ok = await decide([{ caseId: second, reason: 'Vụ việc đang được Sở Xây dựng giải quyết' }]);
    t.equal(ok.status, 200, ok.text);
    t.equal(ok.body.status, 'approved');
    t.same(ok.body.cases.map((c: { caseId: string }) => c.caseId), [goodCase], 'the case left out is off the agenda');
    const history = await h.call('GET', `/api/v1/sessions/${s}/approvals`, { as: 'auditor' });
    t.match(history.body.find((a: { kind: string }) => a.kind === 'case_rejected'), { actorId: h.users.approver.id, comment: /: Vụ việc đang được Sở Xây dựng giải quyết$/ }, 'the per-case decision is in the history');
    const log = await h.call('GET', `/api/v1/audit?entity=session&entityId=${s}&action=session.case_rejected`, { as: 'auditor' });
    t.match(log.body.items[0], { actorId: h.users.approver.id, after: { caseId: second, reason: 'Vụ việc đang được Sở Xây dựng giải quyết' } }, 'and in the audit, with the chairman');
  });

  await t.test('go-live only when every point passed at T-1 WD and T-2 h and was connected at T-1 h; only the approver may override, and it is logged', async (t) => {
    // The chair is the Chủ tịch or a deputy (approver role), not the staff preparing the session (law review §5.2).
    const staffChair = await h.call('POST', '/api/v1/sessions', { as: 'reception_board', body: { title: 'x', scheduledStart: '2026-02-23T08:00:00+07:00', scheduledEnd: '2026-02-23T11:00:00+07:00', chairUserId: h.users.reception_board.id } });
    t.equal(staffChair.status, 400);
    t.equal(staffChair.body.code, 'CHAIR_NOT_APPROVER');
    const s = await createSession(h, { caseIds: [goodCase], bridgePointIds: [central, communeA, communeB], chairUserId: h.users.approver.id });
    await approve(h, s);
    const sent = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' });
    t.equal(sent.status, 200);
    t.equal(sent.body.session.status, 'invitations_sent');
    t.equal(sent.body.issued, 3);
    const tokenOf = (point: string) => sent.body.invitations.find((i: { bridgePointId: string }) => i.bridgePointId === point).token as string;
    const slots = (await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'technician' })).body.slots as { id: string; kind: string }[];
    const slot = (kind: string) => slots.find((x) => x.kind === kind)!.id;
    const report = (point: string, kind: string, extra: Record<string, unknown> = {}) =>
      h.call('POST', '/api/v1/preflight/results', { token: tokenOf(point), body: { sessionId: s, slotId: slot(kind), bridgePointId: point, ...passingResult, ...extra } });

    // The endpoints' test runs post their results with their invitation tokens, in each slot.
    for (const point of [central, communeA]) {
      for (const kind of ['day_before', 'hours_before', 'all_connected']) {
        const r = await report(point, kind);
        t.equal(r.status, 201, r.text);
        t.equal(r.body.passed, true);
      }
    }
    // Commune B failed the day before, skipped the T-1 h connection, and passed once at T-2 h.
    const bad = await report(communeB, 'day_before', { icePath: 'tcp', lossPct: 12, microphone: false });
    t.equal(bad.body.passed, false);
    t.same(bad.body.problems, ['microphone', 'loss_too_high']);
    t.equal((await report(communeB, 'hours_before')).body.passed, true);
    const other = await h.call('POST', '/api/v1/preflight/results', { token: tokenOf(communeB), body: { sessionId: s, bridgePointId: communeA, ...passingResult } });
    t.equal(other.status, 403, 'an endpoint reports for itself only');
    t.equal(other.body.code, 'PREFLIGHT_OTHER_POINT');

    // As a technician: a commune operator sees only its own point's sessions (security review L4).
    const notPassed = await h.call('GET', `/api/v1/sessions/${s}/preflight/not-passed`, { as: 'technician' });
    t.same(notPassed.body, [], 'by its latest result alone commune B looks ready');
    const matrix = await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'technician' });
    t.same(matrix.body.goLiveGaps.map((p: { bridgePointId: string; missing: string[] }) => [p.bridgePointId, p.missing]), [[communeB, ['day_before', 'all_connected']]], 'the gate sees the skipped slots');
    t.same(matrix.body.testedGaps.map((p: { bridgePointId: string; missing: string[] }) => [p.bridgePointId, p.missing]), [[communeB, ['day_before']]], '"tested" looks at the T-1 working-day slot');

    // PREFLIGHT_NOT_PASSED: "tested" asks for a pass in the T-1 working-day slot, not a latest pass.
    const notTested = await h.call('POST', `/api/v1/sessions/${s}/mark-tested`, { as: 'technician' });
    t.equal(notTested.status, 409);
    t.equal(notTested.body.code, 'PREFLIGHT_NOT_PASSED', 'the later pass at T-2 h does not make up for the failed T-1 WD test');
    t.same(notTested.body.details.notPassed.map((p: { bridgePointId: string; missing: string[] }) => [p.bridgePointId, p.missing]), [[communeB, ['day_before']]], 'names the point and the slot');
    t.equal((await h.database.db.selectFrom('sessions').select('status').where('id', '=', s).executeTakeFirstOrThrow()).status, 'invitations_sent', 'status unchanged');

    const refused = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'reception_board', body: {} });
    t.equal(refused.status, 409);
    t.equal(refused.body.code, 'GO_LIVE_TESTS_NOT_PASSED', 'one late pass does not stand in for the T-1 WD test and the T-1 h connection');
    t.same(refused.body.details.notPassed.map((p: { bridgePointId: string; missing: string[] }) => [p.bridgePointId, p.missing]), [[communeB, ['day_before', 'all_connected']]]);
    for (const role of ['reception_board', 'inspectorate'] as const) {
      const notChair = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: role, body: { override: { reason: 'Xã B dùng điện thoại' } } });
      t.equal(notChair.status, 403, `${role} may not override the tests`);
      t.equal(notChair.body.code, 'GO_LIVE_OVERRIDE_CHAIR_ONLY');
    }
    const chair = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'approver', body: { override: { reason: 'Xã B tham gia qua điểm cầu dự phòng' } } });
    t.equal(chair.status, 200, chair.text);
    t.equal(chair.body.status, 'live');
    t.equal(chair.body.goLiveOverrideReason, 'Xã B tham gia qua điểm cầu dự phòng');
    const log = await h.call('GET', `/api/v1/audit?entity=session&entityId=${s}&action=session.go_live`, { as: 'auditor' });
    t.match(log.body.items[0], { actorId: h.users.approver.id, after: { status: 'live', override: true, reason: 'Xã B tham gia qua điểm cầu dự phòng', notPassed: [{ bridgePointId: communeB, missing: ['day_before', 'all_connected'] }] } });

    // Every required slot passed: no override is needed.
    const s2 = await createSession(h, { caseIds: [goodCase], bridgePointIds: [communeA] });
    await approve(h, s2);
    const sent2 = await h.call('POST', `/api/v1/sessions/${s2}/invitations`, { as: 'reception_board' });
    const slots2 = (await h.call('GET', `/api/v1/sessions/${s2}/preflight`, { as: 'technician' })).body.slots as { id: string; kind: string }[];
    for (const kind of ['day_before', 'hours_before']) {
      await h.call('POST', '/api/v1/preflight/results', { token: sent2.body.invitations[0].token, body: { sessionId: s2, slotId: slots2.find((x) => x.kind === kind)!.id, bridgePointId: communeA, ...passingResult } });
    }
    t.equal((await h.call('POST', `/api/v1/sessions/${s2}/mark-tested`, { as: 'technician' })).body.status, 'tested');
    t.equal((await h.call('POST', `/api/v1/sessions/${s2}/go-live`, { as: 'reception_board', body: {} })).body.code, 'GO_LIVE_TESTS_NOT_PASSED', 'not yet connected at T-1 h');
    // Connected at T-1 h (the all-connected check asks for the connection, not the quality).
    await h.call('POST', '/api/v1/preflight/results', { token: sent2.body.invitations[0].token, body: { sessionId: s2, slotId: slots2.find((x) => x.kind === 'all_connected')!.id, bridgePointId: communeA, ...passingResult, lossPct: 12 } });
    t.equal((await h.call('POST', `/api/v1/sessions/${s2}/go-live`, { as: 'reception_board', body: {} })).body.status, 'live');
  });

  await t.test('life-cycle over the API: every action from every status; illegal ones refused first', async (t) => {
    const s = await createSession(h, { caseIds: [goodCase], bridgePointIds: [communeA], chairUserId: h.users.approver.id });
    const call = (action: SessionAction) => {
      const base = `/api/v1/sessions/${s}`;
      switch (action) {
        case 'submit':
          return h.call('POST', `${base}/submit`, { as: 'reception_board', body: {} });
        case 'approve':
          return h.call('POST', `${base}/decision`, { as: 'approver', body: { decision: 'approved' } });
        case 'reject':
          return h.call('POST', `${base}/decision`, { as: 'approver', body: { decision: 'rejected', comment: 'Chưa đủ hồ sơ' } });
        case 'reopen':
          return h.call('POST', `${base}/reopen`, { as: 'inspectorate' });
        case 'send_invitations':
          return h.call('POST', `${base}/invitations`, { as: 'inspectorate' });
        case 'mark_tested':
          return h.call('POST', `${base}/mark-tested`, { as: 'technician' });
        case 'go_live':
          return h.call('POST', `${base}/go-live`, { as: 'approver', body: { override: { reason: 'kiểm tra vòng đời' } } });
        case 'end':
          return h.call('POST', `${base}/end`, { as: 'approver' });
        case 'archive':
          return h.call('POST', `${base}/archive`, { as: 'admin' });
        case 'cancel':
          return h.call('POST', `${base}/cancel`, { as: 'reception_board', body: { reason: 'kiểm tra' } });
      }
    };
    let refused = 0;
    for (const from of SESSION_STATUSES) {
      for (const action of SESSION_ACTIONS) {
        await sql`update sessions set status = ${from} where id = ${s}`.execute(h.database.db);
        const r = await call(action);
        const legal = TRANSITIONS[action].from.includes(from);
        if (legal) {
          t.ok(r.status === 200 || (r.body?.code !== 'INVALID_TRANSITION' && r.body?.code !== 'INVITATION_BEFORE_APPROVAL'), `${action} from ${from} is allowed (${r.status} ${r.body?.code ?? r.body?.status})`);
        } else {
          const code = action === 'send_invitations' && ['draft', 'submitted', 'rejected'].includes(from) ? 'INVITATION_BEFORE_APPROVAL' : 'INVALID_TRANSITION';
          t.equal(r.status, 409, `${action} from ${from} refused`);
          t.equal(r.body.code, code);
          const after = await h.database.db.selectFrom('sessions').select('status').where('id', '=', s).executeTakeFirstOrThrow();
          t.equal(after.status, from, 'status unchanged');
          refused++;
        }
      }
    }
    t.ok(refused >= 70, `${refused} illegal transitions refused over HTTP`);
  });

  await t.test('other layers asking for a session by a foreign id get a 404, not a crash', async (t) => {
    await t.rejects(h.services.sessions.get('session-api'), { code: 'SESSION_NOT_FOUND' });
    t.equal(HTTP_STATUS.SESSION_NOT_FOUND, 404, 'which the API answers with 404');
    await t.rejects(h.services.preflight.matrix('x'), { code: 'SESSION_NOT_FOUND' });
  });

  await t.test('invitations: expiry, revocation and re-issue', async (t) => {
    const s = await createSession(h, { caseIds: [goodCase], bridgePointIds: [communeA], participants: [{ role: 'host', label: 'Chủ trì' }, { role: 'observer', label: 'Thanh tra tỉnh' }] });
    await approve(h, s);
    const sent = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' });
    t.equal(sent.body.issued, 3, 'one per bridge point and per participant');
    const again = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' });
    t.equal(again.body.issued, 0, 'sending again issues only missing ones');
    const endpoint = sent.body.invitations.find((i: { role: string }) => i.role === 'endpoint');
    const host = sent.body.invitations.find((i: { role: string }) => i.role === 'host');
    t.equal(host.displayName, 'Chủ trì', 'display name is the role label');
    const claims = h.signer.verify(endpoint.token, h.clock.now);
    t.match(claims, { kind: 'invitation', sid: s, sub: communeA, role: 'endpoint', name: 'Điểm cầu XA', jti: endpoint.jti });
    t.equal(endpoint.expiresAt, new Date(at('2026-02-23T11:00:00').getTime() + 4 * 3600_000).toISOString(), 'valid until 4 h after the scheduled end');

    // Revoke and re-issue: the old jti is revoked for the signaling layer, the new one is not.
    const reissued = await h.call('POST', `/api/v1/invitations/${endpoint.id}/reissue`, { as: 'inspectorate' });
    t.equal(reissued.status, 201);
    t.not(reissued.body.jti, endpoint.jti);
    t.equal(await h.services.directory.isTokenRevoked(endpoint.jti), true, 'old token revoked');
    t.equal(await h.services.directory.isTokenRevoked(reissued.body.jti), false, 'new token admitted');
    const old = await h.call('POST', '/api/v1/preflight/results', { token: endpoint.token, body: { sessionId: s, bridgePointId: communeA, ...passingResult } });
    t.equal(old.status, 401);
    t.equal(old.body.code, 'TOKEN_REVOKED');
    const revoked = await h.call('POST', `/api/v1/invitations/${host.id}/revoke`, { as: 'reception_board', body: { reason: 'đổi người chủ trì' } });
    t.equal(revoked.body.status, 'revoked');

    // Expiry: after the session (+ grace) the token no longer opens anything.
    h.clock.now = new Date(at('2026-02-23T15:00:01').getTime());
    const expired = await h.call('POST', '/api/v1/preflight/results', { token: reissued.body.token, body: { sessionId: s, bridgePointId: communeA, ...passingResult } });
    t.equal(expired.status, 401);
    t.equal(expired.body.code, 'TOKEN_EXPIRED');
    t.equal((await h.call('GET', `/api/v1/invitations/${reissued.body.id}`, { as: 'reception_board' })).body.status, 'expired');
    t.throws(() => h.signer.verify(reissued.body.token, h.clock.now), { code: 'TOKEN_EXPIRED' });
    t.match((await h.call('POST', `/api/v1/invitations/${endpoint.id}/reissue`, { as: 'inspectorate' })).body, { code: 'SESSION_IN_PAST' }, 'no invitation for a past session');
    h.clock.now = at('2026-02-02T09:00:00');

    // Cancelling revokes every invitation.
    const s2 = await createSession(h, { caseIds: [goodCase], bridgePointIds: [communeB] });
    await approve(h, s2);
    const sent2 = await h.call('POST', `/api/v1/sessions/${s2}/invitations`, { as: 'reception_board' });
    t.equal((await h.services.directory.get(s2))?.admission, 'open');
    await h.call('POST', `/api/v1/sessions/${s2}/cancel`, { as: 'reception_board', body: { reason: 'Thiên tai' } });
    t.equal(await h.services.directory.isTokenRevoked(sent2.body.invitations[0].jti), true);
    t.equal((await h.services.directory.get(s2))?.admission, 'not_open');
  });
});
