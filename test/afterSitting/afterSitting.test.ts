import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import t from 'tap';
import { nthWorkingDayAfter } from '../../src/domain/afterSitting/deadlines.ts';
import { addDays } from '../../src/domain/calendar/workingDays.ts';
import { createCase, createPoint, createSession } from '../api/fixtures.ts';
import { startControlApi } from '../api/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts/after-sitting');

t.test('after the sitting: outcomes → sổ → follow-ups → conclusion notice (issue 11 items 1–4)', async (t) => {
  const h = await startControlApi({ now: new Date('2026-08-01T02:00:00Z') });
  t.teardown(() => h.close());
  const setStatus = (id: string, status: string) => h.database.db.updateTable('sessions').set({ status }).where('id', '=', id).execute();

  const X1 = await createPoint(h, 'X001');
  const c1 = await createCase(h, { communeBridgePointId: X1, agencies: ['UBND xã Mẫu'], priorHandling: 'Quyết định giải quyết lần đầu số 12/QĐ-UBND' });
  const c2 = await createCase(h, {
    type: 'to_cao',
    title: 'Tố cáo cán bộ địa chính xã',
    summary: 'Nội dung tố cáo',
    identityProtectionWaived: true,
    people: [{ role: 'denouncer', fullName: 'Trần Thị Tố', idNumber: '052099004321', address: 'thôn 5, xã Mẫu' }],
  });
  // Thu 20/8/2026: the 10 working days run over the make-up Saturday 22/8 and the 31/8–2/9 break.
  const s = await createSession(h, { start: '2026-08-20T08:00:00+07:00', end: '2026-08-20T11:00:00+07:00', caseIds: [c1, c2], bridgePointIds: [X1] });
  const put = (body: unknown, as: 'reception_board' | 'inspectorate' | 'auditor' | 'approver' = 'reception_board') => h.call('PUT', `/api/v1/sessions/${s}/outcomes`, { as, body });
  const promised = { caseId: c1, outcome: 'hen_tra_loi', conclusion: 'Giao Sở Nông nghiệp và Môi trường kiểm tra, báo cáo.', answerDeadline: '2026-09-15', contactPerson: 'Ông Lê Văn Cán bộ, Phó Chánh Văn phòng Sở NN&MT, 0269 3800 000' };
  const taken = { caseId: c2, outcome: 'thu_ly', conclusion: 'Thụ lý tố cáo theo quy định.', documentNumber: '45/TB-TTr', documentDate: '2026-08-21' };

  await t.test('outcomes: validated by outcome, only while live or ended, by the organisers', async (t) => {
    t.equal((await put({ outcomes: [promised] })).body.code, 'OUTCOMES_NOT_ALLOWED', 'a draft has no outcomes');
    await setStatus(s, 'live');
    const noDeadline = await put({ outcomes: [{ ...promised, answerDeadline: null, contactPerson: '' }] });
    t.equal(noDeadline.status, 400);
    t.equal(noDeadline.body.code, 'VALIDATION_FAILED');
    t.match(JSON.stringify(noDeadline.body.details), /answerDeadline/);
    t.match(JSON.stringify(noDeadline.body.details), /contactPerson/, 'N154 Art 25(3): deadline and contact person');
    t.match(JSON.stringify((await put({ outcomes: [{ caseId: c1, outcome: 'chuyen_don', conclusion: 'Chuyển' }] })).body.details), /transferTarget/);
    t.match(JSON.stringify((await put({ outcomes: [{ caseId: c1, outcome: 'tra_loi_truc_tiep', conclusion: 'Đã trả lời' }] })).body.details), /answer/);
    t.equal((await put({ outcomes: [{ ...promised, conclusion: 'x'.repeat(5001) }] })).status, 400, 'bounded texts');
    t.equal((await put({ outcomes: [{ ...promised, answerDeadline: '2026-08-19' }] })).body.code, 'OUTCOME_DEADLINE_BEFORE_SESSION');
    t.equal((await put({ outcomes: [{ ...promised, caseId: '00000000-0000-4000-8000-000000000000' }] })).body.code, 'CASE_NOT_ON_AGENDA');
    t.equal((await put({ outcomes: [promised, promised] })).body.code, 'OUTCOME_CASE_TWICE');
    t.equal((await put({ outcomes: [promised] }, 'auditor')).status, 403);
    t.equal((await put({ outcomes: [promised] }, 'approver')).status, 403, 'the chairman concludes; the board records');

    const saved = await put({ outcomes: [promised, taken] });
    t.equal(saved.status, 200, saved.text);
    t.match(saved.body[0], { caseId: c1, outcome: 'hen_tra_loi', answerDeadline: '2026-09-15', contactPerson: /Lê Văn/ });
    t.match(saved.body[1], { caseId: c2, outcome: 'thu_ly', documentNumber: '45/TB-TTr', documentDate: '2026-08-21' });
    const session = await h.call('GET', `/api/v1/sessions/${s}`, { as: 'reception_board' });
    t.same(session.body.cases.map((c: { outcome: string }) => c.outcome), ['hen_tra_loi', 'thu_ly'], 'the agenda (and so the annual report) has the codes');
    t.equal((await h.call('GET', `/api/v1/sessions/${s}/outcomes`, { as: 'approver' })).body.length, 2, 'the chairman reads them');
  });

  let entry1 = '';
  await t.test('the sổ: one line per case, the case’s confidentiality, edited by the reception board', async (t) => {
    const q = '/api/v1/register?from=2026-08-01&to=2026-08-31';
    const board = await h.call('GET', q, { as: 'reception_board' });
    t.equal(board.body.total, 2);
    const [l1, l2] = board.body.items;
    entry1 = l1.id;
    t.match(l1, { caseId: c1, receptionDate: '2026-08-20', namesAddresses: 'Nguyễn Văn Khiếu – thôn 3, xã Mẫu', idNumbers: '052088001234', classification: 'Khiếu nại', handling: 'khac', handlingDetail: /Hẹn trả lời trước ngày 15\/09\/2026; người liên hệ: Ông Lê Văn/ });
    t.match(l1.agenciesHandled, /UBND xã Mẫu\. Quyết định giải quyết lần đầu số 12\/QĐ-UBND/);
    t.match(l2, { caseId: c2, handling: 'thu_ly', handlingDetail: /văn bản số 45\/TB-TTr ngày 21\/08\/2026/, namesAddresses: /Trần Thị Tố/ });
    const chair = (await h.call('GET', q, { as: 'approver' })).body.items;
    t.equal(chair[0].namesAddresses, 'Nguyễn Văn Khiếu – thôn 3, xã Mẫu');
    t.match(chair[1], { namesAddresses: null, idNumbers: null, content: null, personalDataHidden: true }, 'a denouncer stays hidden from the chairman, as on the case');
    t.ok((await h.call('GET', q, { as: 'auditor' })).body.items.every((e: { namesAddresses: null }) => e.namesAddresses === null), 'the auditor sees no personal data');
    t.equal((await h.call('GET', q, { as: 'technician' })).status, 403);
    t.equal((await h.call('GET', '/api/v1/register?from=2026-01-01&to=2027-01-02', { as: 'reception_board' })).body.code, 'REGISTER_PERIOD_INVALID', 'a period is at most a year');
    t.equal((await h.call('GET', '/api/v1/register?from=2026-02-01&to=2026-01-01', { as: 'reception_board' })).body.code, 'REGISTER_PERIOD_INVALID');

    t.equal((await h.call('PATCH', `/api/v1/register/${entry1}`, { as: 'inspectorate', body: { note: 'x' } })).status, 403, 'the reception board keeps the sổ');
    t.equal((await h.call('PATCH', `/api/v1/register/${entry1}`, { as: 'reception_board', body: { stt: 3 } })).status, 400, 'unknown fields refused');
    const edited = await h.call('PATCH', `/api/v1/register/${entry1}`, { as: 'reception_board', body: { namesAddresses: 'Nguyễn Văn Khiếu – thôn 3, xã Mẫu, tỉnh Gia Lai', resultTracking: 'Chờ Sở NN&MT báo cáo', groupSize: 2 } });
    t.equal(edited.status, 200, edited.text);
    t.match(edited.body, { resultTracking: 'Chờ Sở NN&MT báo cáo', groupSize: 2, editedAt: /2026/ });
    // A changed outcome refreshes "hướng xử lý" only: the board's own words stay.
    await put({ outcomes: [{ ...promised, outcome: 'chuyen_don', transferTarget: 'Sở Nông nghiệp và Môi trường', documentNumber: '101/BTCD-TD' }] });
    const after = (await h.call('GET', q, { as: 'reception_board' })).body.items[0];
    t.match(after, { namesAddresses: /tỉnh Gia Lai/, groupSize: 2, handling: 'chuyen_don', handlingDetail: 'Chuyển đơn đến Sở Nông nghiệp và Môi trường; văn bản số 101/BTCD-TD' });
    await put({ outcomes: [promised] });
  });

  await t.test('prints and exports for a period: HTML and PDF (A4 landscape), CSV and XLSX, audited', async (t) => {
    const period = 'from=2026-08-01&to=2026-08-31';
    const page = await h.call('GET', `/api/v1/register/print?${period}`, { as: 'reception_board' });
    t.equal(page.status, 200);
    t.match(page.text, /SỔ TIẾP CÔNG DÂN/);
    t.match(page.text, /size: A4 landscape/);
    t.match(page.text, /Trả lại đơn và hướng dẫn/);
    const csv = await h.call('GET', `/api/v1/register/export.csv?${period}`, { as: 'reception_board' });
    t.equal(csv.text.charCodeAt(0), 0xfeff, 'BOM for Excel');
    const lines = csv.text.slice(1).trim().split('\r\n');
    t.equal(lines.length, 3);
    t.match(lines[0], /^STT,Ngày tiếp,Họ tên – Địa chỉ,/);
    t.match(lines[1], /^1,20\/08\/2026,"Nguyễn Văn Khiếu – thôn 3, xã Mẫu, tỉnh Gia Lai",052088001234,/);
    const chairCsv = await h.call('GET', `/api/v1/register/export.csv?${period}`, { as: 'approver' });
    t.match(chairCsv.text, /\(giữ bí mật\)/);
    t.notMatch(chairCsv.text, /Trần Thị Tố|052099004321/, 'the export keeps the denouncer hidden too');

    const xres = await h.app.inject({ method: 'GET', url: `/api/v1/register/export.xlsx?${period}`, headers: { authorization: `Bearer ${h.users.reception_board.token}` } });
    t.equal(xres.statusCode, 200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xres.rawPayload as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    t.equal(ws.getRow(2).getCell(1).value, 'STT');
    t.equal(ws.getRow(2).getCell(12).value, 'Ghi chú', 'the 12 columns of Mẫu 03/TCD');
    t.equal(ws.getRow(3).getCell(4).value, '052088001234');
    t.equal(ws.getRow(4).getCell(8).value, 'Thụ lý để giải quyết; văn bản số 45/TB-TTr ngày 21/08/2026');
    t.equal(ws.pageSetup.orientation, 'landscape');

    const pdf = await h.app.inject({ method: 'GET', url: `/api/v1/register/print.pdf?${period}`, headers: { authorization: `Bearer ${h.users.reception_board.token}` } });
    if (h.services.pdf.available) {
      t.equal(pdf.statusCode, 200);
      t.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
      await mkdir(ARTIFACTS, { recursive: true });
      await writeFile(path.join(ARTIFACTS, 'so-tiep-cong-dan.pdf'), pdf.rawPayload);
    } else t.equal(pdf.json().code, 'PDF_UNAVAILABLE');

    const audit = await sql<{ action: string; after: unknown }>`select action, after from audit_log where action like 'register.%' order by seq`.execute(h.database.db);
    t.match(audit.rows.map((r) => r.action), ['register.update', 'register.export', 'register.export', 'register.export', 'register.export', 'register.export']);
    const everything = JSON.stringify((await sql`select * from audit_log`.execute(h.database.db)).rows);
    t.notMatch(everything, /Nguyễn Văn Khiếu|Trần Thị Tố|052088001234|Lê Văn Cán bộ/, 'no personal data in the audit log');
  });

  await t.test('follow-ups: legal timers in working days, due soon / overdue, closed with the outcome', async (t) => {
    const list = (await h.call('GET', `/api/v1/follow-ups?sessionId=${s}`, { as: 'reception_board' })).body.items as { id: string; caseId: string; kind: string; dueDate: string; state: string }[];
    const of = (caseId: string, kind: string) => list.find((f) => f.caseId === caseId && f.kind === kind);
    t.equal(of(c1, 'reply_to_citizen')?.dueDate, '2026-09-07', '10 working days after Thu 20/8/2026: Sat 22/8 counts, 31/8–2/9 do not');
    t.equal(of(c1, 'chair_deadline')?.dueDate, '2026-09-15', 'the deadline the chair set');
    t.equal(of(c2, 'handling_limit')?.dueDate, '2026-10-04', '45 days after the reception');
    t.equal(of(c2, 'reply_to_citizen')?.dueDate, '2026-09-07');
    t.equal(list.length, 4, 'no handling limit for a promised answer, and the dropped transfer’s timers went away');

    h.clock.now = new Date('2026-09-03T02:00:00Z'); // Thu 3/9: 7/9 is 2 working days ahead
    const due = await h.call('GET', '/api/v1/follow-ups/due?withinWorkingDays=3', { as: 'reception_board' });
    t.same(due.body.items.map((f: { kind: string; state: string; workingDaysLeft: number }) => [f.kind, f.state, f.workingDaysLeft]), [['reply_to_citizen', 'due_soon', 2], ['reply_to_citizen', 'due_soon', 2]]);
    h.clock.now = new Date('2026-09-08T02:00:00Z');
    const late = await h.call('GET', '/api/v1/follow-ups/due', { as: 'approver' });
    t.match(late.body, { overdue: 2 });
    t.equal(late.body.items[0].state, 'overdue');
    t.equal(late.body.items[0].workingDaysLeft, -1);
    t.equal((await h.call('GET', '/api/v1/follow-ups/due?withinWorkingDays=61', { as: 'approver' })).status, 400, 'bounded');

    const id = of(c1, 'reply_to_citizen')!.id;
    t.equal((await h.call('POST', `/api/v1/follow-ups/${id}/close`, { as: 'auditor', body: { result: 'x' } })).status, 403);
    t.equal((await h.call('POST', `/api/v1/follow-ups/${id}/close`, { as: 'reception_board', body: { result: '' } })).status, 400);
    const closed = await h.call('POST', `/api/v1/follow-ups/${id}/close`, { as: 'reception_board', body: { result: 'Đã gửi Thông báo số 102/TB-BTCD cho công dân ngày 08/9/2026' } });
    t.match(closed.body, { status: 'done', state: 'done', result: /102\/TB-BTCD/ });
    t.equal((await h.call('POST', `/api/v1/follow-ups/${id}/close`, { as: 'reception_board', body: { result: 'lại' } })).body.code, 'FOLLOW_UP_DONE');
    await put({ outcomes: [promised] });
    t.equal((await h.call('GET', `/api/v1/follow-ups?status=done`, { as: 'reception_board' })).body.total, 1, 'saving the outcome again keeps a closed item closed');
    t.equal((await h.call('GET', '/api/v1/follow-ups/due', { as: 'reception_board' })).body.overdue, 1);
  });

  await t.test('the Thông báo kết luận: issued after the sitting, numbered, frozen, audited', async (t) => {
    const body = { signerTitle: 'Trưởng Ban Tiếp công dân tỉnh', signerName: 'Phạm Văn Trưởng', recipients: ['Chủ tịch UBND tỉnh (để báo cáo)', 'Sở Nông nghiệp và Môi trường', 'UBND xã Mẫu'] };
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/conclusion-notices`, { as: 'reception_board', body })).body.code, 'NOTICE_NOT_ALLOWED', 'not while the session is live');
    await setStatus(s, 'ended');
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/conclusion-notices`, { as: 'reception_board', body: { ...body, recipients: [] } })).status, 400, 'a notice has its nơi nhận');
    const preview = await h.call('POST', `/api/v1/sessions/${s}/conclusion-notices/preview`, { as: 'reception_board', body });
    t.match(preview.text, /01\/TB-BTCD/);
    const issued = await h.call('POST', `/api/v1/sessions/${s}/conclusion-notices`, { as: 'reception_board', body: { ...body, issuedDate: '2026-08-24' } });
    t.equal(issued.status, 201, issued.text);
    t.match(issued.body, { number: '01/TB-BTCD', issuedDate: '2026-08-24', signerName: 'Phạm Văn Trưởng', htmlSha256: /^[0-9a-f]{64}$/ });
    t.equal((await h.call('POST', `/api/v1/sessions/${s}/conclusion-notices`, { as: 'reception_board', body: { ...body, number: '01/TB-BTCD' } })).body.code, 'NOTICE_NUMBER_TAKEN');
    const page = await h.call('GET', `/api/v1/conclusion-notices/${issued.body.id}/print`, { as: 'approver' });
    for (const part of [/Số: 01\/TB-BTCD/, /Gia Lai, ngày 24 tháng 8 năm 2026/, /THÔNG BÁO/, /Nơi nhận:/, /- Lưu: VT\./, /TRƯỞNG BAN TIẾP CÔNG DÂN TỈNH/, /Phạm Văn Trưởng/, /Ban Tiếp công dân tỉnh thông báo/, /Thời hạn trả lời: trước ngày 15\/09\/2026\. Người liên hệ: Ông Lê Văn/, /Văn bản số 45\/TB-TTr ngày 21\/08\/2026/]) t.match(page.text, part);
    t.notMatch(page.text, /Nguyễn Văn Khiếu|Trần Thị Tố/, 'the notice names cases, not people');
    // Issued means frozen: a later change of outcome does not rewrite it, and the database refuses edits.
    await setStatus(s, 'live');
    await put({ outcomes: [{ ...promised, conclusion: 'Kết luận đã sửa sau khi ban hành' }] });
    t.notMatch((await h.call('GET', `/api/v1/conclusion-notices/${issued.body.id}/print`, { as: 'approver' })).text, /đã sửa/);
    const refused = await sql`update conclusion_notices set number = 'x'`.execute(h.database.db).then(() => 'accepted', (err: { code?: string }) => err.code ?? 'error');
    t.equal(refused, '42501', 'the application role may not update an issued notice');
    t.match((await h.call('GET', `/api/v1/sessions/${s}/conclusion-notices`, { as: 'inspectorate' })).body, [{ number: '01/TB-BTCD' }]);
    const audit = await sql<{ after: { number: string } }>`select after from audit_log where action = 'session.conclusion_notice'`.execute(h.database.db);
    t.equal(audit.rows[0]?.after.number, '01/TB-BTCD');
    if (h.services.pdf.available) {
      const pdf = await h.app.inject({ method: 'GET', url: `/api/v1/conclusion-notices/${issued.body.id}/print.pdf`, headers: { authorization: `Bearer ${h.users.reception_board.token}` } });
      t.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
      await writeFile(path.join(ARTIFACTS, 'thong-bao-ket-luan.pdf'), pdf.rawPayload);
    }
  });

  await t.test('the minutes: versioned (no silent overwrite), printable in the official structure, frozen when archived', async (t) => {
    const m = (body: unknown) => h.call('PUT', `/api/v1/sessions/${s}/minutes`, { as: 'reception_board', body });
    t.equal((await h.call('GET', `/api/v1/sessions/${s}/minutes`, { as: 'approver' })).body.version, 0);
    t.equal((await m({ text: 'Công dân trình bày nội dung khiếu nại.', baseVersion: 0 })).body.version, 1);
    const stale = await m({ text: 'Bản của người thứ hai', baseVersion: 0 });
    t.equal(stale.status, 409);
    t.match(stale.body, { code: 'MINUTES_VERSION_CONFLICT', details: { baseVersion: 0, currentVersion: 1 } }, 'a save over a newer version is refused');
    t.equal((await m({ text: 'Công dân trình bày; Sở NN&MT báo cáo.', baseVersion: 1 })).body.version, 2);
    t.equal((await m({ text: 'Công dân trình bày; Sở NN&MT báo cáo.', baseVersion: 2 })).body.version, 2, 'the same text again is no new version');
    t.equal((await m({ text: 'Không gửi phiên bản', outcomes: [] })).body.version, 3, 'a client that sends no baseVersion still leaves a version behind');
    const versions = await h.call('GET', `/api/v1/sessions/${s}/minutes/versions`, { as: 'inspectorate' });
    t.same(versions.body.map((v: { version: number }) => v.version), [3, 2, 1]);
    const print = await h.call('GET', `/api/v1/sessions/${s}/minutes/print?version=2`, { as: 'approver' });
    for (const part of [/BIÊN BẢN BUỔI TIẾP CÔNG DÂN TRỰC TUYẾN/, /I\. Thành phần tham dự/, /Điểm cầu X001/, /Sở NN&amp;MT báo cáo/, /Bản ghi biên bản số 2/, /III\. Ý kiến kết luận của người chủ trì/, /VV-2026-00001/, /NGƯỜI CHỦ TRÌ/]) t.match(print.text, part);
    t.equal((await h.call('GET', `/api/v1/sessions/${s}/minutes/print?version=9`, { as: 'approver' })).status, 404);
    const refused = await sql`update minutes_versions set text = 'x'`.execute(h.database.db).then(() => 'accepted', (err: { code?: string }) => err.code ?? 'error');
    t.equal(refused, '42501', 'versions cannot be rewritten');
    await setStatus(s, 'archived');
    t.equal((await m({ text: 'Sửa sau lưu trữ', baseVersion: 3 })).body.code, 'MINUTES_NOT_ALLOWED', 'frozen once archived');
    t.match((await h.call('GET', `/api/v1/sessions/${s}/minutes/print`, { as: 'approver' })).text, /không còn sửa được/);
  });
});

t.test('nthWorkingDayAfter (bisection over the arithmetic count) agrees with the day-by-day walk', async (t) => {
  const h = await startControlApi();
  t.teardown(() => h.close());
  const cal = await h.services.calendar.calendar();
  let checked = 0;
  for (let d = '2025-12-01'; d <= '2027-12-31'; d = addDays(d, 3)) {
    for (const n of [1, 3, 10, 45]) {
      if (nthWorkingDayAfter(cal, d, n) !== cal.addWorkingDays(d, n)) t.fail(`${d} + ${n}`);
      checked++;
    }
  }
  t.ok(checked > 900, `${checked} dates and counts agree`);
  t.throws(() => nthWorkingDayAfter(cal, '2026-01-01', 0), RangeError);
  const started = performance.now();
  nthWorkingDayAfter(cal, '2026-01-01', 400);
  t.ok(performance.now() - started < 50, 'the largest count stays far below the event-loop budget');
});
