import t from 'tap';
import { createCase, passingResult } from './fixtures.ts';
import { startControlApi } from './harness.ts';
import { recordsAutomatically } from '../../src/live/recordingPolicy.ts';

/** The province's points: 1 central, 110 communes, 25 wards (135 units after the 2025 merger) — invented names. */
function provinceCsv(): string {
  const rows = ['code;name;kind;address;contact_name;contact_phone;contact_email;network_notes', 'TT;Điểm cầu trung tâm - Trụ sở Tiếp công dân tỉnh;central;Quy Nhơn;Tổ kỹ thuật;0256000000;;"Cáp quang 1 Gbps; UPS"'];
  for (let i = 1; i <= 110; i++) rows.push(`X${String(i).padStart(3, '0')};UBND xã Số ${i};commune;;Văn phòng xã;;;`);
  for (let i = 1; i <= 25; i++) rows.push(`P${String(i).padStart(3, '0')};UBND phường Số ${i};ward;;;;;"4G dự phòng"`);
  return rows.join('\r\n');
}

t.test('the whole workflow, from importing the bridge points to the annual report', async (t) => {
  const h = await startControlApi({ now: new Date('2026-04-01T02:00:00Z') });
  t.teardown(() => h.close());

  await t.test('bridge points: CSV import, errors by line, sample data, filters and pagination', async (t) => {
    const before = (await h.call('GET', '/api/v1/bridge-points', { as: 'technician' })).body.total;
    const bad = await h.call('POST', '/api/v1/bridge-points/import', {
      as: 'technician',
      headers: { 'content-type': 'text/csv' },
      body: 'code,name,kind\nX1,Xã Một,commune\nX 2,,village\nX1,Trùng,commune\n',
    });
    t.equal(bad.status, 400);
    t.equal(bad.body.code, 'CSV_INVALID');
    t.match(bad.body.details, [{ line: 3, field: 'code' }, { line: 3, field: 'name' }, { line: 3, field: 'kind' }, { line: 4, field: 'code', message: /twice/ }]);
    t.equal((await h.call('GET', '/api/v1/bridge-points', { as: 'technician' })).body.total, before, 'nothing imported from a bad file');
    t.equal((await h.call('POST', '/api/v1/bridge-points/import', { as: 'technician', headers: { 'content-type': 'text/csv' }, body: 'name,kind\nA,commune\n' })).body.code, 'CSV_HEADER_INVALID');

    const imported = await h.call('POST', '/api/v1/bridge-points/import', { as: 'technician', headers: { 'content-type': 'text/csv' }, body: `\uFEFF${provinceCsv()}` });
    t.same(imported.body, { created: 136, updated: 0, total: 136 });
    const again = await h.call('POST', '/api/v1/bridge-points/import', { as: 'reception_board', headers: { 'content-type': 'text/csv; charset=utf-8' }, body: provinceCsv().replace('UBND xã Số 7;', 'UBND xã Số Bảy;') });
    t.same(again.body, { created: 0, updated: 136, total: 136 }, 're-import updates by code');
    t.equal((await h.call('GET', '/api/v1/bridge-points?q=Số%20Bảy', { as: 'commune_operator' })).body.total, 1);
    const wards = await h.call('GET', '/api/v1/bridge-points?kind=ward&limit=10&offset=20', { as: 'auditor' });
    t.equal(wards.body.total, 25);
    t.equal(wards.body.items.length, 5, 'last page');
    const central = await h.call('GET', '/api/v1/bridge-points?kind=central', { as: 'auditor' });
    t.equal(central.body.items[0].networkNotes, 'Cáp quang 1 Gbps; UPS', 'quoted fields with separators');

    const samples = await h.call('POST', '/api/v1/bridge-points/sample-data', { as: 'admin' });
    t.equal(samples.body.length, 4);
    t.ok(samples.body.every((p: { isSample: boolean; name: string }) => p.isSample && p.name.startsWith('[MẪU]')), 'samples are clearly marked');
    t.equal((await h.call('GET', '/api/v1/bridge-points?sample=true', { as: 'admin' })).body.total, 4);
    t.equal((await h.call('GET', '/api/v1/bridge-points?limit=0', { as: 'admin' })).status, 400, 'bad paging is a 400');
  });

  const point = async (code: string) => (await h.call('GET', `/api/v1/bridge-points?q=${code}`, { as: 'admin' })).body.items.find((p: { code: string }) => p.code === code).id as string;
  const TT = await point('TT');
  const X001 = await point('X001');
  const P001 = await point('P001');

  await t.test('a session from draft to archive', async (t) => {
    const c1 = await createCase(h, { criteria: ['a', 'c'], communeBridgePointId: X001, agencies: ['Sở Nông nghiệp và Môi trường'], groupSize: 6 });
    const c2 = await createCase(h, { type: 'kien_nghi', title: 'Kiến nghị về đường giao thông', criteria: ['c'], communeBridgePointId: P001 });
    const operator = await h.services.auth.createUser({ kind: 'system', id: 'test', role: 'admin', label: 'test', bridgePointId: null }, { username: 'op.x001', displayName: 'Cán bộ xã 1', role: 'commune_operator', password: 'operator-pass-1', bridgePointId: X001 });
    const opToken = (await h.services.auth.mintToken(operator.id, 'commune_operator')).token;

    const created = await h.call('POST', '/api/v1/sessions', {
      as: 'reception_board',
      body: {
        title: 'Tiếp công dân định kỳ tháng 4/2026',
        scheduledStart: '2026-04-15T08:00:00+07:00',
        scheduledEnd: '2026-04-15T11:30:00+07:00',
        location: 'Trụ sở Tiếp công dân tỉnh',
        chairTitle: 'Chủ tịch UBND tỉnh',
        chairUserId: h.users.approver.id,
        caseIds: [c1, c2],
        bridgePointIds: [TT, X001, P001],
        participants: [{ role: 'host', label: 'Chủ trì' }, { role: 'technician', label: 'Kỹ thuật trung tâm', bridgePointId: TT }],
      },
    });
    t.equal(created.status, 201);
    const s = created.body.id as string;
    t.equal(created.body.status, 'draft');
    t.equal(created.body.submissionDeadline, '2026-04-08', '5 working days before Wed 15/4/2026');
    t.equal((await h.call('PATCH', `/api/v1/sessions/${s}`, { as: 'inspectorate', body: { notes: 'Mời Sở NN&MT' } })).body.notes, 'Mời Sở NN&MT');
    t.equal((await h.call('PATCH', `/api/v1/sessions/${s}`, { as: 'inspectorate', body: { scheduledEnd: '2026-04-15T07:00:00+07:00' } })).body.code, 'SESSION_SCHEDULE_INVALID');
    t.equal((await h.call('GET', `/api/v1/sessions/${s}`, { token: opToken })).status, 200, 'the operator sees a session of their point');

    t.equal((await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: { comment: 'Kính trình' } })).body.status, 'submitted');
    const rejected = await h.call('POST', `/api/v1/sessions/${s}/decision`, { as: 'approver', body: { decision: 'rejected', comment: 'Bổ sung hồ sơ' } });
    t.equal(rejected.body.status, 'rejected');
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/reopen`, { as: 'reception_board' })).body.status, 'draft');
    await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/decision`, { as: 'approver', body: { decision: 'approved', comment: 'Đồng ý' } })).body.status, 'approved');
    t.same((await h.call('GET', `/api/v1/sessions/${s}/approvals`, { as: 'auditor' })).body.map((a: { kind: string }) => a.kind), ['submitted', 'rejected', 'submitted', 'approved']);
    t.equal((await h.services.directory.get(s))?.admission, 'not_open', 'approved is not open yet');

    const sent = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'inspectorate' });
    t.equal(sent.body.issued, 5, '3 bridge points + 2 participants');
    // Invitations sent opens the rehearsal; automatic recording waits for the session to go live.
    const rehearsal = await h.services.directory.get(s);
    t.match(rehearsal, { id: s, admission: 'open', lobbyEnabled: true, live: false, participantRecordingAllowed: false });
    t.notOk(rehearsal !== undefined && recordsAutomatically(rehearsal), 'not recorded automatically during the rehearsal');
    const mine = await h.call('GET', `/api/v1/sessions/${s}/invitations`, { token: opToken });
    t.same(mine.body.map((i: { bridgePointId: string }) => i.bridgePointId), [X001], 'the operator sees only their invitation');
    const other = sent.body.invitations.find((i: { bridgePointId: string | null }) => i.bridgePointId === P001);
    t.equal((await h.call('GET', `/api/v1/invitations/${other.id}`, { token: opToken })).status, 403);

    const print = await h.call('GET', `/api/v1/invitations/${mine.body[0].id}/print`, { token: opToken, headers: { host: 'tiepdan.gialai.local' } });
    t.equal(print.status, 200);
    t.match(print.headers['content-type'], /text\/html/);
    t.match(print.text, /GIẤY MỜI/);
    t.match(print.text, /UBND xã Số 1/);
    t.match(print.text, /08 giờ 00, thứ Tư, ngày 15\/4\/2026/, 'session time, with its weekday');
    t.match(print.text, /14 giờ 00, thứ Ba, ngày 14\/4\/2026/, 'the T-1 working day test');
    t.match(print.text, /https:\/\/tiepdan\.gialai\.local\/m\/[A-HJ-NP-Z2-9]{5}-?[A-HJ-NP-Z2-9]{5}/, 'the short-code link, from the configured origin (L8)');
    t.match(print.text, /Ban Tiếp công dân tỉnh trân trọng kính mời/, 'the issuer as a proper name (law review §3)');
    t.notMatch(print.text, /\bmicro\b/, 'micrô, as on the pages');
    t.match(print.text, /Tổng duyệt/);
    t.match(print.text, /3 điểm cầu/, 'number and list of points');
    // Security review L8: the configured origin, whatever Host the request carried; the token in the fragment.
    t.match(print.text, /https:\/\/tiepdan\.gialai\.local\/join#token=td1\./, 'the login link');
    const crafted = await h.call('GET', `/api/v1/invitations/${mine.body[0].id}/print`, { token: opToken, headers: { host: 'evil.example' } });
    t.notOk(crafted.text.includes('evil.example'), 'a crafted Host header does not reach the printed links');
    t.notOk(/\/(join|test)\/td1\./.test(crafted.text), 'no token in a link path');
    t.match(print.text, /@page \{ size: A4/);
    t.notOk(print.text.includes('Nguyễn Văn Khiếu'), 'no complainant name on the invitation');
    // The same page printed by the real headless Chromium: a PDF of one or two A4 pages.
    const pdf = await h.app.inject({ method: 'GET', url: `/api/v1/invitations/${mine.body[0].id}/print.pdf`, headers: { authorization: `Bearer ${opToken}` } });
    t.equal(pdf.statusCode, 200, pdf.statusCode === 200 ? 'PDF printed' : pdf.body);
    t.equal(pdf.headers['content-type'], 'application/pdf');
    t.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    const pages = (pdf.rawPayload.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    t.ok(pages >= 1 && pages <= 2, `the invitation prints on ${pages} A4 page(s)`);
    t.match(pdf.rawPayload.toString('latin1'), /\/MediaBox\s*\[0 0 59[45](\.\d+)? 841(\.\d+)?\]/, 'A4 page size');

    // Tests: a technician, the operator, and an endpoint itself report; the matrix shows the gaps.
    const matrix0 = await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'technician' });
    t.equal(matrix0.body.points.length, 3);
    t.equal(matrix0.body.slots.length, 4);
    t.equal(matrix0.body.notPassed.length, 3);
    const daySlot = matrix0.body.slots.find((x: { kind: string }) => x.kind === 'day_before').id;
    t.equal((await h.call('POST', '/api/v1/preflight/results', { as: 'technician', body: { sessionId: s, slotId: daySlot, bridgePointId: TT, ...passingResult } })).status, 201);
    t.equal((await h.call('POST', '/api/v1/preflight/results', { token: opToken, body: { sessionId: s, slotId: daySlot, bridgePointId: X001, ...passingResult, icePath: 'tcp' } })).status, 201);
    t.equal((await h.call('POST', '/api/v1/preflight/results', { token: opToken, body: { sessionId: s, bridgePointId: P001, ...passingResult } })).body.code, 'PREFLIGHT_OTHER_POINT');
    const endpointToken = other.token as string;
    const failed = await h.call('POST', '/api/v1/preflight/results', { token: endpointToken, body: { sessionId: s, slotId: daySlot, bridgePointId: P001, connected: true, icePath: 'relay', rttMs: 900, lossPct: 1, bitrateKbps: 100, camera: true, microphone: true } });
    t.same(failed.body.problems, ['rtt_too_high', 'bitrate_too_low']);
    const matrix1 = await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'auditor' });
    const cell = (p: string) => matrix1.body.points.find((x: { bridgePointId: string }) => x.bridgePointId === p).cells.find((c: { slotId: string }) => c.slotId === daySlot).status;
    t.same([cell(TT), cell(X001), cell(P001)], ['passed', 'passed', 'failed']);
    t.same(matrix1.body.notPassed, [{ bridgePointId: P001, name: 'UBND phường Số 1', lastResult: 'failed' }]);
    // The retest two hours before passes; moving a slot is allowed and logged.
    const hoursSlot = matrix1.body.slots.find((x: { kind: string }) => x.kind === 'hours_before').id;
    t.equal((await h.call('PATCH', `/api/v1/preflight/slots/${hoursSlot}`, { as: 'technician', body: { startsAt: '2026-04-15T06:30:00+07:00' } })).body.startsAt, '2026-04-14T23:30:00.000Z');
    await h.call('POST', '/api/v1/preflight/results', { token: endpointToken, body: { sessionId: s, slotId: hoursSlot, bridgePointId: P001, ...passingResult, icePath: 'relay' } });
    const mineView = await h.call('GET', '/api/v1/preflight/invitation', { token: endpointToken });
    t.match(mineView.body, { session: { id: s, status: 'invitations_sent' }, bridgePoint: { id: P001, name: 'UBND phường Số 1' }, displayName: 'UBND phường Số 1' });
    t.equal(mineView.body.slots.length, 4);
    t.equal(mineView.body.results.length, 2, 'its own results only');
    t.equal((await h.call('GET', '/api/v1/preflight/invitation', { as: 'technician' })).status, 403, 'for invitation holders only');
    // A participant invited at a bridge point reports with its invitation's subject (as the browser test page does).
    const tech = sent.body.invitations.find((i: { role: string }) => i.role === 'technician');
    const viaSubject = await h.call('POST', '/api/v1/preflight/results', { token: tech.token, body: { sessionId: s, bridgePointId: tech.subject, ...passingResult } });
    t.equal(viaSubject.status, 201);
    t.equal(viaSubject.body.bridgePointId, TT, 'recorded for the participant’s bridge point');
    const host = sent.body.invitations.find((i: { role: string }) => i.role === 'host');
    t.equal((await h.call('POST', '/api/v1/preflight/results', { token: host.token, body: { sessionId: s, bridgePointId: host.subject, ...passingResult } })).body.code, 'PREFLIGHT_NO_BRIDGE_POINT');
    // "Tested" wants every point passed in the T-1 working-day slot: P001 failed there.
    const notYet = await h.call('POST', `/api/v1/sessions/${s}/mark-tested`, { as: 'technician' });
    t.equal(notYet.body.code, 'PREFLIGHT_NOT_PASSED', 'the pass at T-2 h does not make up for the failed T-1 WD test');
    t.same(notYet.body.details.notPassed.map((p: { bridgePointId: string; missing: string[] }) => [p.bridgePointId, p.missing]), [[P001, ['day_before']]]);
    // The go-live gate wants every point passed at T-1 WD and T-2 h and connected at T-1 h.
    const early = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'reception_board', body: {} });
    t.equal(early.body.code, 'GO_LIVE_TESTS_NOT_PASSED', 'a failed T-1 WD test and missing slots are not made good by one later pass');
    await h.call('POST', '/api/v1/preflight/results', { token: endpointToken, body: { sessionId: s, slotId: daySlot, bridgePointId: P001, ...passingResult } });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/mark-tested`, { as: 'technician' })).body.status, 'tested', 'once P001 passed its T-1 WD retest');
    t.equal((await h.call('PUT', `/api/v1/sessions/${s}/minutes`, { as: 'reception_board', body: { text: 'x', outcomes: [] } })).body.code, 'MINUTES_NOT_ALLOWED');
    const allSlot = matrix1.body.slots.find((x: { kind: string }) => x.kind === 'all_connected').id;
    for (const [slotId, point] of [[hoursSlot, TT], [hoursSlot, X001], [allSlot, TT], [allSlot, X001], [allSlot, P001]] as const) {
      t.equal((await h.call('POST', '/api/v1/preflight/results', { as: 'technician', body: { sessionId: s, slotId, bridgePointId: point, ...passingResult } })).status, 201);
    }
    const live = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'reception_board', body: {} });
    t.equal(live.body.status, 'live');
    t.equal(live.body.goLiveOverrideReason, null, 'no override needed');

    const minutes = await h.call('PUT', `/api/v1/sessions/${s}/minutes`, {
      as: 'inspectorate',
      body: { text: 'Biên bản buổi tiếp…', outcomes: [{ caseId: c1, outcome: 'hen_tra_loi', note: 'Trả lời trong 10 ngày làm việc' }, { caseId: c2, outcome: 'chuyen_don' }] },
    });
    t.equal(minutes.status, 200);
    t.same(minutes.body.outcomes.map((o: { outcome: string }) => o.outcome), ['hen_tra_loi', 'chuyen_don']);
    t.equal((await h.call('PUT', `/api/v1/sessions/${s}/minutes`, { as: 'inspectorate', body: { text: 'x', outcomes: [{ caseId: TT, outcome: 'khac' }] } })).body.code, 'CASE_NOT_ON_AGENDA');
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/end`, { as: 'approver' })).body.status, 'ended');
    t.equal((await h.services.directory.get(s))?.admission, 'ended');
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/archive`, { as: 'admin' })).body.status, 'archived');

    const list = await h.call('GET', '/api/v1/sessions?status=archived&from=2026-04-01T00:00:00%2B07:00&to=2026-04-30T00:00:00%2B07:00', { as: 'auditor' });
    t.equal(list.body.total, 1);
    t.equal((await h.call('GET', '/api/v1/sessions?status=draft', { as: 'auditor' })).body.total, 0);
    t.equal((await h.call('GET', '/api/v1/sessions?status=bogus', { as: 'auditor' })).status, 400);

    const report = await h.call('GET', '/api/v1/reports/annual?year=2026', { as: 'approver' });
    t.match(report.body, {
      year: 2026,
      sessions: { total: 1, held: 1, byStatus: { archived: 1 }, goLiveOverrides: 0 },
      cases: { total: 2, byType: { khieu_nai: 1, kien_nghi: 1, to_cao: 0, phan_anh: 0 }, byCriterion: { a: 1, c: 2, b: 0, d: 0 }, byOutcome: { hen_tra_loi: 1, chuyen_don: 1 } },
      bridgePoints: { used: 3, codes: ['P001', 'TT', 'X001'] },
      tests: { total: 11, passed: 10, failed: 1, bySlotKind: { day_before: { passed: 4, failed: 1 }, hours_before: { passed: 3, failed: 0 }, all_connected: { passed: 3, failed: 0 } }, byIcePath: { udp: 8, tcp: 1, relay: 2 } },
    });
    const csv = await h.call('GET', '/api/v1/reports/annual.csv?year=2026', { as: 'auditor' });
    t.match(csv.headers['content-type'], /text\/csv/);
    t.match(csv.text, /^\uFEFFsection,key,value\r\n/);
    t.match(csv.text, /cases_by_type,khieu_nai,1\r\n/);
    t.match(csv.text, /tests,failed,1\r\n/);
    t.match(csv.text, /tests,passed,10\r\n/);
    t.match(csv.text, /bridge_points,used,3\r\n/);
    t.same((await h.call('GET', '/api/v1/reports/annual?year=2025', { as: 'auditor' })).body.sessions.total, 0, 'other years are empty');
    t.equal((await h.call('GET', '/api/v1/reports/annual?year=abc', { as: 'auditor' })).status, 400);
  });
});
