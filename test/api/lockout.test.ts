/**
 * Security review M5 on a real embedded PostgreSQL: the failed-password counter holds under
 * parallel requests, a locked account answers exactly like an unknown user, and a wrong
 * currentPassword on /auth/password counts against the same lock.
 */
import t from 'tap';
import { startControlApi, type ControlApiHarness } from './harness.ts';

const MAX = 5; // DEFAULT_AUTH_OPTIONS.maxFailedLogins

async function row(api: ControlApiHarness, userId: string) {
  return api.database.db.selectFrom('users').select(['failed_logins', 'locked_until']).where('id', '=', userId).executeTakeFirstOrThrow();
}

async function lockAudits(api: ControlApiHarness, userId: string): Promise<number> {
  const rows = await api.database.db.selectFrom('audit_log').select('seq').where('action', '=', 'user.locked').where('entity_id', '=', userId).execute();
  return rows.length;
}

t.test('lockout under parallel guesses, without user enumeration', async (t) => {
  // The per-address rate limit is another defence (tested in auth.test.ts): out of the way here.
  const api = await startControlApi({ loginRateLimit: { max: 100_000, windowMs: 60_000 } });
  t.teardown(() => api.close());
  const login = (username: string, password: string) => api.call('POST', '/api/v1/auth/login', { body: { username, password } });

  await t.test('20 parallel wrong logins: the account locks, at most the threshold of guesses counted', async (t) => {
    const user = api.users.approver;
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => login('t-approver', `wrong-guess-${i}`)));
    t.ok(answers.every((a) => a.status === 401 && a.body.code === 'LOGIN_FAILED'), 'every attempt answers 401 LOGIN_FAILED');
    const after = await row(api, user.id);
    // Each attempt is counted before its password is checked, and the one that reaches the limit
    // locks: the count stops at the threshold, so no more than MAX passwords were ever compared.
    t.equal(after.failed_logins, MAX, `the counter reached ${MAX} (not ~1 as with read-then-write)`);
    t.ok(after.locked_until !== null && after.locked_until > api.clock.now, 'the account is locked');
    t.equal(await lockAudits(api, user.id), 1, 'one user.locked audit entry');
    const right = await login('t-approver', 'password-approver-123');
    const unknown = await login('no-such-user', 'password-approver-123');
    t.equal(right.status, 401, 'the right password is refused while locked');
    t.same([right.status, right.body], [unknown.status, unknown.body], 'exactly the answer an unknown user gets');
    // The lock expires; the right password then works and resets the counter.
    api.clock.now = new Date(api.clock.now.getTime() + 16 * 60_000);
    t.equal((await login('t-approver', 'password-approver-123')).status, 200, 'after 15 minutes the right password logs in');
    t.same(await row(api, user.id), { failed_logins: 0, locked_until: null }, 'counter and lock cleared');
  });

  await t.test('the sixth attempt answers exactly like an unknown user', async (t) => {
    for (let i = 0; i < MAX; i++) t.equal((await login('t-auditor', `wrong-${i}`)).body.code, 'LOGIN_FAILED', `failure ${i + 1}`);
    const sixthRight = await login('t-auditor', 'password-auditor-123');
    const sixthWrong = await login('t-auditor', 'wrong-again');
    const unknown = await login('t-nobody', 'wrong-again');
    t.same([sixthRight.status, sixthRight.body], [unknown.status, unknown.body], 'right password while locked = unknown user');
    t.same([sixthWrong.status, sixthWrong.body], [unknown.status, unknown.body], 'wrong password while locked = unknown user');
    t.same(unknown.body, { code: 'LOGIN_FAILED', message: 'wrong user name or password' });
    t.notOk(JSON.stringify(sixthRight.body).includes('lock'), 'no word about a lock');
    t.equal((await row(api, api.users.auditor.id)).failed_logins, MAX, 'attempts while locked are not even counted');
  });

  await t.test('wrong currentPassword on /auth/password counts against the same lock', async (t) => {
    const user = api.users.inspectorate;
    const change = (currentPassword: string) => api.call('POST', '/api/v1/auth/password', { as: 'inspectorate', body: { currentPassword, newPassword: 'a-brand-new-password-1' } });
    for (let i = 0; i < MAX; i++) t.equal((await change(`guess-${i}`)).body.code, 'CURRENT_PASSWORD_WRONG', `wrong current password ${i + 1}`);
    const right = await change('password-inspectorate-123');
    t.equal(right.status, 423, 'then even the right current password is refused');
    t.equal(right.body.code, 'ACCOUNT_LOCKED');
    const viaLogin = await login('t-inspectorate', 'password-inspectorate-123');
    t.same([viaLogin.status, viaLogin.body.code], [401, 'LOGIN_FAILED'], 'and login is locked too');
    t.equal(await lockAudits(api, user.id), 1, 'one user.locked audit entry');
    t.equal((await api.call('GET', '/api/v1/auth/me', { as: 'inspectorate' })).status, 200, 'the password was not changed (the token still works)');
  });

  await t.test('20 parallel wrong currentPasswords: exactly the threshold of them is checked', async (t) => {
    // Here the caller holds the user's token, so a lock is answered as one (423) and the number of
    // passwords actually compared (the 400s) can be counted from outside.
    const change = (currentPassword: string) => api.call('POST', '/api/v1/auth/password', { as: 'technician', body: { currentPassword, newPassword: 'a-brand-new-password-2' } });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => change(`guess-${i}`)));
    const codes = answers.map((a) => a.body.code as string);
    t.equal(codes.filter((c) => c === 'CURRENT_PASSWORD_WRONG').length, MAX, `${MAX} guesses checked`);
    t.equal(codes.filter((c) => c === 'ACCOUNT_LOCKED').length, 20 - MAX, 'the rest refused unchecked');
    t.equal((await row(api, api.users.technician.id)).failed_logins, MAX);
  });

  await t.test('a right password resets the count; an administrator unlocks', async (t) => {
    for (let i = 0; i < MAX - 1; i++) await login('t-reception_board', `wrong-${i}`);
    t.equal((await login('t-reception_board', 'password-reception_board-123')).status, 200, 'four failures, then the right password');
    t.equal((await row(api, api.users.reception_board.id)).failed_logins, 0, 'counter reset');
    for (let i = 0; i < MAX; i++) await login('t-reception_board', `wrong-${i}`);
    t.equal((await login('t-reception_board', 'password-reception_board-123')).status, 401, 'locked');
    await api.call('PATCH', `/api/v1/users/${api.users.reception_board.id}`, { as: 'admin', body: { unlock: true } });
    t.equal((await login('t-reception_board', 'password-reception_board-123')).status, 200, 'unlocked by an administrator');
  });
});
