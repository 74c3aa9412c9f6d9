import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { readAnchor } from '../../src/domain/audit/auditAnchor.ts';
import { recordHash } from '../../src/domain/audit/auditChain.ts';
import { AuditKey } from '../../src/domain/audit/auditKey.ts';
import { ManifestWriter } from '../../src/recording/manifest/manifest.ts';
import { sessionDirFor } from '../../src/recording/recorder/sessionRecorder.ts';
import { RecordingService } from '../../src/recording/recordingService.ts';
import { memoryLogger, silentLogger } from '../helpers/env.ts';
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
    waiverNote: `Ông ${DENOUNCER} ký cam kết ngày 15/1/2026`,
    criteriaNote: `Theo đơn của ông ${DENOUNCER}`,
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
    t.equal(chair.body.waiverNote, null, 'nor the consent note that names them (M7)');
    t.equal(chair.body.criteriaNote, null, 'nor the criteria note');
    t.match((await h.call('GET', `/api/v1/cases/${denunciation}`, { as: 'inspectorate' })).body.waiverNote, DENOUNCER, 'the inspectorate reads the consent note');
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

  await t.test('the application role cannot touch the log (security review H4)', async (t) => {
    const app = h.database.db;
    t.equal((await sql<{ rolsuper: boolean }>`select rolsuper from pg_roles where rolname = current_user`.execute(app)).rows[0]?.rolsuper, false, 'the application pool is not a superuser');
    await t.rejects(sql`alter table audit_log disable trigger user`.execute(app), /must be owner/, 'ALTER TABLE … DISABLE TRIGGER USER is refused');
    await t.rejects(sql`delete from audit_log where seq > 3`.execute(app), /permission denied/, 'DELETE is refused');
    await t.rejects(sql`update audit_log set actor_label = 'someone else' where seq = 3`.execute(app), /permission denied/, 'UPDATE is refused');
    await t.rejects(sql`truncate audit_log`.execute(app), /permission denied/, 'TRUNCATE is refused');
    // A row the role inserts itself cannot carry a keyed hash.
    const last = await app.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    await sql`insert into audit_log (seq, at, actor_id, actor_label, action, entity, entity_id, prev_hash, hash)
      values (${Number(last.seq) + 1000}, now(), 'x', 'x', 'case.delete', 'case', 'x', ${last.hash}, ${'f'.repeat(64)})`.execute(app);
    t.match((await h.call('GET', '/api/v1/audit/verify', { as: 'auditor' })).body, { valid: false, firstBrokenSeq: Number(last.seq) + 1000, reason: /keyed hash/ }, 'a forged row is reported');
    await h.database.asOwner(async (db) => {
      await sql`alter table audit_log disable trigger user`.execute(db);
      await sql`delete from audit_log where seq = ${Number(last.seq) + 1000}`.execute(db);
      await sql`alter table audit_log enable trigger user`.execute(db);
    });
    t.match((await h.call('GET', '/api/v1/audit/verify', { as: 'auditor' })).body, { valid: true }, 'valid again once it is gone');
  });

  await t.test('the owner (a DBA, or root) rewriting rows or cutting the tail is detected by the verify API', async (t) => {
    const anchor = await h.services.audit.anchorNow();
    const ok = await h.call('GET', '/api/v1/audit/verify', { as: 'auditor' });
    t.match(ok.body, { valid: true, firstBrokenSeq: null, keyedFromSeq: 1, anchor: { seq: anchor!.seq, hash: anchor!.hash } });
    t.ok(ok.body.checked > 10);
    const saved = await h.database.asOwner((db) => db.selectFrom('audit_log').selectAll().orderBy('seq').execute());
    const asOwner = (fn: (db: typeof h.database.db) => Promise<unknown>) =>
      h.database.asOwner(async (db) => {
        await sql`alter table audit_log disable trigger user`.execute(db);
        await fn(db);
        await sql`alter table audit_log enable trigger user`.execute(db);
      });
    const restore = () =>
      asOwner(async (db) => {
        await sql`delete from audit_log`.execute(db);
        for (const r of saved) await db.insertInto('audit_log').values({ ...r, before: r.before === null ? null : JSON.stringify(r.before), after: r.after === null ? null : JSON.stringify(r.after) } as never).execute();
      });
    const goLive = saved.find((r) => r.action === 'session.go_live')!;
    const seq = Number(goLive.seq);

    // One row edited, its plain SHA-256 chain recomputed to the end, as the old unkeyed chain allowed.
    await asOwner(async (db) => {
      await sql`update audit_log set after = jsonb_set(after, '{reason}', '"không có gì"') where seq = ${seq}`.execute(db);
      const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>=', String(seq)).orderBy('seq').execute();
      let prev = saved.find((r) => Number(r.seq) === seq)!.prev_hash;
      const plain = { key: new AuditKey(Buffer.alloc(32)), keyedFromSeq: Number.MAX_SAFE_INTEGER };
      for (const r of rows) {
        const hash = recordHash({ seq: Number(r.seq), at: r.at.toISOString(), actorId: r.actor_id, actorLabel: r.actor_label, action: r.action, entity: r.entity, entityId: r.entity_id, before: r.before, after: r.after, prevHash: prev }, plain);
        await sql`update audit_log set prev_hash = ${prev}, hash = ${hash} where seq = ${r.seq}`.execute(db);
        prev = hash;
      }
    });
    const rewritten = await h.call('GET', '/api/v1/audit/verify', { as: 'inspectorate' });
    t.equal(rewritten.status, 200);
    t.match(rewritten.body, { valid: false, firstBrokenSeq: seq, reason: /keyed hash/ }, `record ${seq} rewritten and re-hashed: reported`);
    await restore();
    t.match((await h.call('GET', '/api/v1/audit/verify', { as: 'admin' })).body, { valid: true }, 'restored');

    // A record removed in the middle: the link breaks at the next one.
    const before = saved[saved.indexOf(goLive) - 1]!;
    await asOwner((db) => sql`delete from audit_log where seq = ${before.seq}`.execute(db));
    t.match((await h.call('GET', '/api/v1/audit/verify', { as: 'admin' })).body, { valid: false, firstBrokenSeq: seq, reason: /removed/ }, 'a removed record is detected');
    await restore();

    // The tail cut off: the chain that is left is intact, but ends below the anchor.
    const kept = Number(saved.at(-4)!.seq);
    await asOwner((db) => sql`delete from audit_log where seq > ${kept}`.execute(db));
    const cut = await h.call('GET', '/api/v1/audit/verify', { as: 'auditor' });
    t.match(cut.body, { valid: false, firstBrokenSeq: kept + 1, headSeq: kept, reason: /removed from the end/ }, 'a cut tail is detected');
    // The anchor survives a restart that follows the cut: it never moves back.
    await h.services.audit.anchorNow();
    t.match(await readAnchor(path.join(h.dataDir, 'audit.anchor')), { anchor: { seq: anchor!.seq, hash: anchor!.hash } }, 'the anchor did not follow the cut');
    // An anchor kept elsewhere (an export's custody record) is checked too.
    const external = await h.call('GET', `/api/v1/audit/verify?seq=${anchor!.seq}&hash=${anchor!.hash}`, { as: 'auditor' });
    t.match(external.body, { valid: false, reason: /removed from the end/ });
    await restore();
    t.match((await h.call('GET', `/api/v1/audit/verify?seq=${anchor!.seq}&hash=${anchor!.hash}`, { as: 'auditor' })).body, { valid: true }, 'valid with the external anchor once restored');
    t.match((await h.call('GET', `/api/v1/audit/verify?seq=${anchor!.seq}&hash=${'0'.repeat(64)}`, { as: 'auditor' })).body, { valid: false, firstBrokenSeq: anchor!.seq, reason: /rewritten/ }, 'a different external hash is reported');
    t.equal((await h.call('GET', `/api/v1/audit/verify?seq=3`, { as: 'auditor' })).status, 400, 'seq needs its hash');
  });

  await t.test('recordings.head_hash is checked against the head in the keyed audit log', async (t) => {
    const recordingsDir = path.join(h.dataDir, 'recordings');
    const recordings = new RecordingService({
      recorder: { recordingsDir, segmentSeconds: 4, disk: { warnBytes: 0, floorBytes: 0 }, diskCheckMs: 3000, portMin: 38000, portMax: 38999 },
      logger: silentLogger(),
      db: h.database.db,
      audit: h.services.audit,
      autoPlayable: false,
    });
    const writeManifest = async (id: string, status: 'complete' | 'stopped') => {
      const dir = sessionDirFor(recordingsDir, id);
      await mkdir(dir, { recursive: true });
      const m = new ManifestWriter(path.join(dir, 'manifest.json'), id);
      m.append({ type: 'opened', sessionId: id, segmentSeconds: 4, timing: 'arrival-wallclock' });
      m.append({ type: 'closed', status });
      await m.flush();
      return m.headHash;
    };
    // A recording from before the upgrade: its head only in recordings.head_hash.
    const head = await writeManifest('rec-old', 'complete');
    await sql`insert into recordings (session_id, status, head_hash, closed_at) values ('rec-old', 'complete', ${head}, now())`.execute(h.database.db);
    await recordings.recoverInterrupted();
    const anchored = await h.services.audit.list({ entity: 'recording', entityId: 'rec-old', action: 'recording.anchored' }, { limit: 5, offset: 0 });
    t.match(anchored.items, [{ after: { headHash: head, backfilled: true } }], 'anchored in the audit log at the first start');
    t.equal((await recordings.verify('rec-old')).ok, true, 'verifies');

    // With the application's DB rights: a new manifest, and the column updated to match it.
    const forged = await writeManifest('rec-old', 'stopped');
    await sql`update recordings set head_hash = ${forged} where session_id = 'rec-old'`.execute(h.database.db);
    const report = await recordings.verify('rec-old');
    t.equal(report.ok, false, 'a replaced manifest is caught although the column matches it');
    t.match(report.problems, [{ kind: 'anchor', message: /differs from the one in audit record/ }, { kind: 'anchor', message: /changed in the database/ }]);

    // …and an audit record of its own with the forged head: not keyed, so not believed.
    const last = await h.database.db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    await sql`insert into audit_log (at, actor_id, actor_label, action, entity, entity_id, after, prev_hash, hash)
      values (now(), 'system', 'system', 'recording.anchored', 'recording', 'rec-old', ${JSON.stringify({ status: 'stopped', headHash: forged })}::jsonb, ${last.hash}, ${'e'.repeat(64)})`.execute(h.database.db);
    t.match((await recordings.verify('rec-old')).problems, [{ kind: 'anchor', message: /does not verify with the audit key/ }], 'a forged audit record is not believed');
  });
});
