import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { approve, createCase, createPoint, createSession, passingResult } from './fixtures.ts';
import { startControlApi, type ControlApiHarness } from './harness.ts';
import { INVITATION_RESULTS_PER_WINDOW } from '../../src/api/preflight/preflightRoutes.ts';

/**
 * The attacks of security review M10 (API keys and admin power), L4 (pre-flight matrix of other
 * sessions), L5 (a commune operator bound to no point) and L6 (an invitation flooding the audit log
 * with results), each replayed against the real API and PostgreSQL.
 */
const at = (local: string) => new Date(`${local}+07:00`);

/** A key as one made before the role rule would be: straight into the table. */
async function legacyKey(h: ControlApiHarness, role: string): Promise<string> {
  const key = `tdk_${randomBytes(24).toString('base64url')}`;
  await h.database.db
    .insertInto('api_keys')
    .values({ name: `legacy-${role}`, role, key_prefix: key.slice(0, 10), key_hash: createHash('sha256').update(key).digest('hex'), created_by: null, revoked_at: null, last_used_at: null })
    .execute();
  return key;
}

t.test('security review M10, L4, L5, L6', async (t) => {
  const h = await startControlApi({ now: at('2026-02-02T09:00:00') });
  t.teardown(() => h.close());
  const caseId = await createCase(h);
  const communeA = await createPoint(h, 'XA-A');

  await t.test('M10: an API key gets no role that reads personal data or decides; old keys with one stop working', async (t) => {
    for (const role of ['reception_board', 'inspectorate', 'approver', 'commune_operator']) {
      const r = await h.call('POST', '/api/v1/api-keys', { as: 'admin', body: { name: `k-${role}`, role } });
      t.same([r.status, r.body.code], [400, 'API_KEY_ROLE_FORBIDDEN'], `no ${role} key`);
    }
    const auditorKey = await h.call('POST', '/api/v1/api-keys', { as: 'admin', body: { name: 'csdl-quoc-gia', role: 'auditor' } });
    t.equal(auditorKey.status, 201, 'an auditor key (reports, no personal data) is still made');
    const read = await h.call('GET', `/api/v1/cases/${caseId}`, { headers: { 'x-api-key': auditorKey.body.key } });
    t.equal(read.status, 200);
    t.notOk(read.text.includes('Nguyễn Văn Khiếu') || read.text.includes('052088001234'), 'and it sees no complainant');

    // Nor does an administrator key become a reception-board user by making one (or a key).
    const adminKey = (await h.call('POST', '/api/v1/api-keys', { as: 'admin', body: { name: 'tu-dong', role: 'admin' } })).body.key as string;
    const sneaky = await h.call('POST', '/api/v1/users', { headers: { 'x-api-key': adminKey }, body: { username: 'ban.gia', displayName: 'x', role: 'reception_board', password: 'mat-khau-gia-mao-1' } });
    t.same([sneaky.status, sneaky.body.code], [403, 'API_KEY_NOT_ALLOWED'], 'an admin key makes no users');
    const reset = await h.call('POST', `/api/v1/users/${h.users.reception_board.id}/password`, { headers: { 'x-api-key': adminKey }, body: { password: 'mat-khau-gia-mao-1' } });
    t.same([reset.status, reset.body.code], [403, 'API_KEY_NOT_ALLOWED'], 'resets no passwords');
    const keyByKey = await h.call('POST', '/api/v1/api-keys', { headers: { 'x-api-key': adminKey }, body: { name: 'x', role: 'auditor' } });
    t.same([keyByKey.status, keyByKey.body.code], [403, 'API_KEY_NOT_ALLOWED'], 'and makes no keys');

    const board = await legacyKey(h, 'reception_board');
    const leak = await h.call('GET', `/api/v1/cases/${caseId}`, { headers: { 'x-api-key': board } });
    t.same([leak.status, leak.body.code], [403, 'API_KEY_ROLE_RETIRED'], 'a reception-board key made before the rule reads nothing');
    t.notOk(leak.text.includes('Nguyễn Văn Khiếu'), 'no name in the answer');
  });

  await t.test('M10: a decision on a session is a person’s, never an API key’s', async (t) => {
    const s = await createSession(h, { caseIds: [caseId], bridgePointIds: [communeA] });
    const submitted = await h.call('POST', `/api/v1/sessions/${s}/submit`, { as: 'reception_board', body: {} });
    t.equal(submitted.status, 200, submitted.text);
    const key = await legacyKey(h, 'approver');
    const byKey = await h.call('POST', `/api/v1/sessions/${s}/decision`, { headers: { 'x-api-key': key }, body: { decision: 'approved', comment: 'tự động' } });
    t.equal(byKey.status, 403, `an approver key cannot approve (${byKey.body?.code})`);
    const approvals = await h.database.db.selectFrom('approvals').selectAll().where('session_id', '=', s).execute();
    t.same(approvals.filter((a) => a.kind === 'approved'), [], 'no approval row');
    t.equal((await h.call('GET', `/api/v1/sessions/${s}`, { as: 'reception_board' })).body.status, 'submitted');
    const byPerson = await h.call('POST', `/api/v1/sessions/${s}/decision`, { as: 'approver', body: { decision: 'approved', comment: 'Đồng ý' } });
    t.equal(byPerson.status, 200, 'the chairman logged in does');
    const row = await h.database.db.selectFrom('approvals').select('actor_id').where('session_id', '=', s).where('kind', '=', 'approved').executeTakeFirstOrThrow();
    t.equal(row.actor_id, h.users.approver.id, 'approvals.actor_id is the chairman');
  });

  await t.test('M10: a password an administrator set must be replaced at the next login; audited', async (t) => {
    const made = await h.call('POST', '/api/v1/users', { as: 'admin', body: { username: 'ban.tiep', displayName: 'Ban tiếp', role: 'reception_board', password: 'mat-khau-ban-dau-1' } });
    t.equal(made.status, 201, made.text);
    const own = await h.call('POST', '/api/v1/auth/login', { body: { username: 'ban.tiep', password: 'mat-khau-ban-dau-1' } });
    t.equal(own.body.passwordChangeRequired, false, 'a fresh account');
    t.equal((await h.call('POST', `/api/v1/users/${made.body.id}/password`, { as: 'admin', body: { password: 'admin-biet-mat-khau' } })).status, 204);
    const login = await h.call('POST', '/api/v1/auth/login', { body: { username: 'ban.tiep', password: 'admin-biet-mat-khau' } });
    t.equal(login.status, 200, 'the reset password logs in (the honest limit: once, and the user then notices)');
    t.equal(login.body.passwordChangeRequired, true, 'and says it must be changed');
    const cases = await h.call('GET', `/api/v1/cases/${caseId}`, { token: login.body.token });
    t.same([cases.status, cases.body.code], [403, 'PASSWORD_CHANGE_REQUIRED'], 'the case with its complainant stays closed until then');
    t.notOk(cases.text.includes('Nguyễn Văn Khiếu'));
    t.equal((await h.call('GET', '/api/v1/auth/me', { token: login.body.token })).status, 200, 'who-am-I still answers');
    const changed = await h.call('POST', '/api/v1/auth/password', { token: login.body.token, body: { currentPassword: 'admin-biet-mat-khau', newPassword: 'mat-khau-cua-toi-2' } });
    t.equal(changed.status, 204, changed.text);
    const again = await h.call('POST', '/api/v1/auth/login', { body: { username: 'ban.tiep', password: 'mat-khau-cua-toi-2' } });
    t.equal(again.body.passwordChangeRequired, false);
    t.equal((await h.call('GET', `/api/v1/cases/${caseId}`, { token: again.body.token })).status, 200, 'their own password opens the work again');
    const audit = await h.database.db.selectFrom('audit_log').select(['action', 'actor_id', 'after']).where('entity_id', '=', made.body.id).where('action', '=', 'user.password').orderBy('seq').execute();
    t.match(audit, [{ actor_id: h.users.admin.id, after: { resetByOther: true } }, { actor_id: made.body.id, after: { resetByOther: false } }], 'both are in the audit log, with who did it');
  });

  // A session with a commune point, invitations sent: the ground for L4–L6.
  const s = await createSession(h, { caseIds: [caseId], bridgePointIds: [communeA], participants: [{ role: 'host', label: 'Chủ trì' }] });
  await approve(h, s);
  const sent = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'reception_board' });
  t.equal(sent.status, 200, sent.text);
  const invitations = sent.body.invitations as { id: string; bridgePointId: string | null; token: string }[];

  await t.test('L4: a commune operator reads the pre-flight matrix of their own point’s sessions only', async (t) => {
    const other = await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'commune_operator' });
    t.equal(other.status, 404, `not a session of the operator's point (${other.status} ${other.body?.code})`);
    t.notOk(other.text.includes('XA-A'), 'nothing about its points');
    t.equal((await h.call('GET', `/api/v1/sessions/${s}/preflight/not-passed`, { as: 'commune_operator' })).status, 404);
    const operatorPoint = (await h.services.auth.getUser(h.users.commune_operator.id)).bridgePointId!;
    const own = await createSession(h, { caseIds: [caseId], bridgePointIds: [operatorPoint] });
    t.equal((await h.call('GET', `/api/v1/sessions/${own}/preflight`, { as: 'commune_operator' })).status, 200, 'its own session: yes');
    t.equal((await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'technician' })).status, 200, 'staff see every session');
  });

  await t.test('L5: no commune operator without a bridge point (users, keys, and at authentication)', async (t) => {
    const unbind = await h.call('PATCH', `/api/v1/users/${h.users.commune_operator.id}`, { as: 'admin', body: { bridgePointId: null } });
    t.same([unbind.status, unbind.body.code], [400, 'BRIDGE_POINT_REQUIRED'], 'PATCH cannot unbind an operator');
    const become = await h.call('PATCH', `/api/v1/users/${h.users.auditor.id}`, { as: 'admin', body: { role: 'commune_operator' } });
    t.same([become.status, become.body.code], [400, 'BRIDGE_POINT_REQUIRED'], 'nor make one without a point');
    const created = await h.call('POST', '/api/v1/users', { as: 'admin', body: { username: 'xa.khong', displayName: 'x', role: 'commune_operator', password: 'mat-khau-xa-khong-1' } });
    t.same([created.status, created.body.code], [400, 'BRIDGE_POINT_REQUIRED']);

    // The attack: a point-less operator (a key, or a user left from before) reads the host's invitation.
    const host = invitations.find((i) => i.bridgePointId === null)!;
    const key = await legacyKey(h, 'commune_operator');
    const byKey = await h.call('GET', `/api/v1/invitations/${host.id}`, { headers: { 'x-api-key': key } });
    t.equal(byKey.status, 403, 'a commune-operator key reads no invitation');
    t.notOk(byKey.text.includes(host.token), 'no token');
    const user = await h.call('POST', '/api/v1/users', { as: 'admin', body: { username: 'xa.cu', displayName: 'x', role: 'commune_operator', password: 'mat-khau-xa-cu-12', bridgePointId: communeA } });
    const token = (await h.services.auth.mintToken(user.body.id, 'commune_operator')).token;
    await h.database.db.updateTable('users').set({ bridge_point_id: null }).where('id', '=', user.body.id).execute();
    const byUser = await h.call('GET', `/api/v1/invitations/${host.id}`, { token });
    t.same([byUser.status, byUser.body.code], [403, 'ACCOUNT_BRIDGE_POINT_MISSING'], 'an unbound operator left from before is refused at authentication');
    t.notOk(byUser.text.includes(host.token));
    const login = await h.call('POST', '/api/v1/auth/login', { body: { username: 'xa.cu', password: 'mat-khau-xa-cu-12' } });
    t.same([login.status, login.body.code], [403, 'ACCOUNT_BRIDGE_POINT_MISSING'], 'and at login');
  });

  await t.test('L6: an invitation cannot flood the audit log with test results', async (t) => {
    const inv = invitations.find((i) => i.bridgePointId === communeA)!;
    const auditRows = async () => Number((await h.database.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).where('action', '=', 'preflight.result').executeTakeFirstOrThrow()).n);
    const before = await auditRows();
    const statuses: number[] = [];
    let last: { status: number; body: { code?: string }; headers: Record<string, unknown> } | undefined;
    for (let i = 0; i < INVITATION_RESULTS_PER_WINDOW.max + 5; i++) {
      last = await h.call('POST', '/api/v1/preflight/results', { token: inv.token, body: { sessionId: s, bridgePointId: communeA, ...passingResult, notes: 'x'.repeat(1500) } });
      statuses.push(last.status);
    }
    t.same(statuses.slice(0, INVITATION_RESULTS_PER_WINDOW.max), Array(INVITATION_RESULTS_PER_WINDOW.max).fill(201), 'a real test run and its retries are recorded');
    t.same(statuses.slice(INVITATION_RESULTS_PER_WINDOW.max), Array(5).fill(429), 'then 429');
    t.equal(last?.body.code, 'PREFLIGHT_RATE_LIMITED');
    t.ok(Number(last?.headers['retry-after']) > 0, 'with Retry-After');
    t.equal((await auditRows()) - before, INVITATION_RESULTS_PER_WINDOW.max, 'the audit log grew by the limit only');
    const long = await h.call('POST', '/api/v1/preflight/results', { as: 'technician', body: { sessionId: s, bridgePointId: communeA, ...passingResult, notes: 'x'.repeat(2001) } });
    t.equal(long.status, 400, 'notes are bounded (2000 characters)');
    t.equal((await h.call('POST', '/api/v1/preflight/results', { as: 'technician', body: { sessionId: s, bridgePointId: communeA, ...passingResult } })).status, 201, 'staff, on record by name, are not limited by the invitation’s count');
  });
});
