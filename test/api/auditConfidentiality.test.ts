import { sql } from 'kysely';
import t from 'tap';
import { memoryLogger } from '../helpers/env.ts';
import { approve, createCase, createPoint, createSession } from './fixtures.ts';
import { startControlApi } from './harness.ts';

const COMPLAINANT = 'Nguyễn Văn Khiếu';
const DENOUNCER = 'Trần Thị Tố Giác';
const DENOUNCER_ID = '052199009999';

t.test('confidentiality and the audit hash chain', async (t) => {
  const { logger, lines } = memoryLogger('debug');
  const h = await startControlApi({ now: new Date('2026-02-02T02:00:00Z'), logger });
  t.teardown(() => h.close());
  const point = await createPoint(h, 'XA');
  const complaint = await createCase(h);
  const denunciation = await createCase(h, {
    type: 'to_cao',
    title: 'Tố cáo sai phạm trong quản lý đất đai',
    summary: `Người tố cáo ${DENOUNCER} phản ánh…`,
    criteria: ['c'],
    identityProtectionWaived: true,
    waiverNote: 'Đơn ngày 15/1/2026',
    people: [{ role: 'denouncer', fullName: DENOUNCER, idNumber: DENOUNCER_ID, address: 'phường Mẫu' }],
  });

  await t.test('who sees which personal data', async (t) => {
    for (const role of ['reception_board', 'inspectorate'] as const) {
      const r = await h.call('GET', `/api/v1/cases/${denunciation}`, { as: role });
      t.equal(r.body.people[0].fullName, DENOUNCER, `${role} sees the denouncer`);
      t.equal(r.body.personalDataHidden, false);
    }
    const chair = await h.call('GET', `/api/v1/cases/${denunciation}`, { as: 'approver' });
    t.equal(chair.body.people[0].fullName, null, 'the chairman does not see a denouncer’s identity');
    t.equal(chair.body.summary, null, 'nor the summary that names them');
    t.equal(chair.body.people[0].role, 'denouncer', 'but sees that there is one');
    t.equal((await h.call('GET', `/api/v1/cases/${complaint}`, { as: 'approver' })).body.people[0].fullName, COMPLAINANT, 'the chairman sees a complainant');
    const auditor = await h.call('GET', '/api/v1/cases', { as: 'auditor' });
    t.ok(
      auditor.body.items.every((c: { personalDataHidden: boolean; people: { fullName: string | null }[] }) => c.personalDataHidden && c.people.every((p) => p.fullName === null)),
      'the auditor sees no personal data at all',
    );
    t.equal((await h.call('GET', `/api/v1/cases/${denunciation}`, { as: 'technician' })).status, 403, 'technicians do not read cases');
  });

  await t.test('personal data never reaches the audit log, the logs or the report', async (t) => {
    const s = await createSession(h, { caseIds: [complaint, denunciation], bridgePointIds: [point] });
    await approve(h, s);
    await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' });
    await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'approver', body: { override: { reason: 'thử' } } });
    await h.call('PUT', `/api/v1/sessions/${s}/minutes`, { as: 'reception_board', body: { text: `Ông ${COMPLAINANT} trình bày…`, outcomes: [{ caseId: complaint, outcome: 'thu_ly' }] } });
    await h.call('PATCH', `/api/v1/cases/${denunciation}`, { as: 'inspectorate', body: { people: [{ role: 'denouncer', fullName: `${DENOUNCER} (sửa)` }] } });

    const audit = await h.call('GET', '/api/v1/audit?limit=500', { as: 'auditor' });
    t.ok(audit.body.total > 10, `${audit.body.total} audit records`);
    const auditText = JSON.stringify(audit.body);
    for (const secret of [COMPLAINANT, DENOUNCER, DENOUNCER_ID]) t.notOk(auditText.includes(secret), `audit log has no "${secret}"`);
    const caseUpdate = audit.body.items.find((r: { action: string }) => r.action === 'case.update');
    t.match(caseUpdate, { actorId: h.users.inspectorate.id, entity: 'case', entityId: denunciation, before: { people: [{ role: 'denouncer', fullName: null }] } }, 'who, what, before/after — redacted');
    t.notOk(JSON.stringify(audit.body).includes('"token":"td1.'), 'nor invitation tokens');

    const csv = (await h.call('GET', '/api/v1/reports/annual.csv?year=2026', { as: 'auditor' })).text;
    const json = (await h.call('GET', '/api/v1/reports/annual?year=2026', { as: 'auditor' })).text;
    for (const secret of [COMPLAINANT, DENOUNCER, DENOUNCER_ID]) {
      t.notOk(csv.includes(secret) || json.includes(secret), `report has no "${secret}"`);
      t.notOk(lines().some((l) => l.includes(secret)), `logs have no "${secret}"`);
    }
    t.notOk(lines().some((l) => l.includes('td1.')), 'logs have no token');
  });

  await t.test('concurrent changes keep one unbroken chain', async (t) => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => h.call('POST', '/api/v1/bridge-points', { as: 'technician', body: { code: `C${i}`, name: `Xã song song ${i}`, kind: 'commune' } })),
    );
    t.ok(results.every((r) => r.status === 201), '40 parallel creations');
    const audit = await h.call('GET', '/api/v1/audit?action=bridge_point.create&limit=100', { as: 'auditor' });
    t.equal(audit.body.items.filter((r: { actorId: string }) => r.actorId === h.users.technician.id).length, 40, 'each one audited');
    t.match((await h.call('GET', '/api/v1/audit/verify', { as: 'auditor' })).body, { valid: true });
  });

  await t.test('append-only, and tampering with one row is detected by the verify API', async (t) => {
    const ok = await h.call('GET', '/api/v1/audit/verify', { as: 'auditor' });
    t.match(ok.body, { valid: true, firstBrokenSeq: null });
    t.ok(ok.body.checked > 10);

    await t.rejects(sql`update audit_log set actor_label = 'someone else' where seq = 3`.execute(h.database.db), /append-only/, 'the database refuses updates');
    await t.rejects(sql`delete from audit_log where seq = 3`.execute(h.database.db), /append-only/, 'and deletes');

    // Someone with owner rights switches the guard off and edits one record.
    await sql`alter table audit_log disable trigger audit_log_no_update`.execute(h.database.db);
    const target = await sql<{ seq: string; after: unknown }>`select seq, after from audit_log where action = 'session.go_live' limit 1`.execute(h.database.db);
    const seq = Number(target.rows[0]!.seq);
    await sql`update audit_log set after = jsonb_set(after, '{reason}', '"không có gì"') where seq = ${seq}`.execute(h.database.db);
    const broken = await h.call('GET', '/api/v1/audit/verify', { as: 'inspectorate' });
    t.equal(broken.status, 200);
    t.match(broken.body, { valid: false, firstBrokenSeq: seq, reason: /changed/ }, `record ${seq} reported`);
    // Putting the content back but deleting a record: the link breaks at the next one.
    await sql`update audit_log set after = ${JSON.stringify(target.rows[0]!.after)}::jsonb where seq = ${seq}`.execute(h.database.db);
    t.match((await h.call('GET', '/api/v1/audit/verify', { as: 'admin' })).body, { valid: true }, 'restored');
    await sql`delete from audit_log where seq = ${seq - 1}`.execute(h.database.db);
    t.match((await h.call('GET', '/api/v1/audit/verify', { as: 'admin' })).body, { valid: false, firstBrokenSeq: seq, reason: /removed/ }, 'a removed record is detected');
    await sql`alter table audit_log enable trigger audit_log_no_update`.execute(h.database.db);
  });
});
