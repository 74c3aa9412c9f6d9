/**
 * Security review L9: a CSV re-import changed existing points with only `{codes}` in the audit, and
 * `kind: central` on a commune gave its next invitation the central role (it sees every endpoint).
 * Now every changed row has its own before/after audit entry with the importer, and a kind change
 * on a point that a session not yet ended uses is refused (import and PATCH alike).
 */
import t from 'tap';
import { createCase, createPoint, createSession } from './fixtures.ts';
import { startControlApi } from './harness.ts';

t.test('CSV import: per-row audit, no kind change under an open session', async (t) => {
  const h = await startControlApi({ now: new Date('2026-02-02T09:00:00+07:00') });
  t.teardown(() => h.close());
  const post = (body: string) => h.call('POST', '/api/v1/bridge-points/import', { as: 'technician', headers: { 'content-type': 'text/csv' }, body });
  const x01 = await createPoint(h, 'X01');
  await createPoint(h, 'X02');
  const s = await createSession(h, { caseIds: [await createCase(h)], bridgePointIds: [x01] });

  // The review's attack: turn a commune into a central point through the import.
  const attack = await post('code,name,kind\nX02,UBND xã Hai đổi tên,commune\nX01,UBND xã X,central');
  t.equal(attack.status, 409);
  t.equal(attack.body.code, 'BRIDGE_POINT_KIND_IN_USE');
  t.match(attack.body.details, { points: [{ code: 'X01', from: 'commune', to: 'central', sessionIds: [s] }] });
  const x01Now = await h.call('GET', `/api/v1/bridge-points/${x01}`, { as: 'technician' });
  t.equal(x01Now.body.kind, 'commune', 'the kind did not change');
  t.equal((await h.call('GET', '/api/v1/bridge-points?q=%C4%91%E1%BB%95i', { as: 'technician' })).body.total, 0, 'nor anything else in the file');
  const patch = await h.call('PATCH', `/api/v1/bridge-points/${x01}`, { as: 'admin', body: { kind: 'central' } });
  t.equal(patch.body.code, 'BRIDGE_POINT_KIND_IN_USE', 'the same rule for a single edit');

  // Other changes go through, each with its own before/after and the importer.
  const ok = await post('code,name,kind,contact_phone\nX01,UBND xã Một,commune,0269 3822 111\nX02,Điểm cầu X02,commune,\nX03,UBND xã Ba,ward,');
  t.same(ok.body, { created: 1, updated: 2, total: 3 });
  const log = await h.call('GET', `/api/v1/audit?entity=bridge_point&entityId=${x01}&action=bridge_point.update`, { as: 'auditor' });
  t.equal(log.body.items.length, 1, 'one entry for the changed row');
  t.match(log.body.items[0], { actorId: h.users.technician.id, before: { code: 'X01', name: 'Điểm cầu X01', contactPhone: '' }, after: { name: 'UBND xã Một', contactPhone: '0269 3822 111', via: 'csv_import' } });
  const x02 = (await h.call('GET', '/api/v1/bridge-points?q=X02', { as: 'technician' })).body.items[0].id as string;
  t.equal((await h.call('GET', `/api/v1/audit?entity=bridge_point&entityId=${x02}&action=bridge_point.update`, { as: 'auditor' })).body.items.length, 0, 'an unchanged row writes no entry');

  // Once the session is closed the kind may change.
  t.equal((await h.call('POST', `/api/v1/sessions/${s}/cancel`, { as: 'reception_board', body: { reason: 'Hoãn' } })).status, 200);
  const later = await post('code,name,kind\nX01,UBND xã Một,central');
  t.equal(later.status, 200, later.text);
  const kindLog = await h.call('GET', `/api/v1/audit?entity=bridge_point&entityId=${x01}&action=bridge_point.update`, { as: 'auditor' });
  t.match(kindLog.body.items.find((i: { after: { kind: string } }) => i.after.kind === 'central'), { before: { kind: 'commune' }, after: { kind: 'central' } });
});
