import t from 'tap';
import { startControlApi } from './harness.ts';
import { createCase, createSession } from './fixtures.ts';

/**
 * Security review L13: text PostgreSQL cannot store (NUL, an unpaired surrogate) used to reach the
 * database and roll back with a 500. Every free-text field now refuses it with a 400 and a code.
 */
const BAD = { nul: 'a\u0000b', loneHigh: '\ud800', loneLow: 'x\udc00y' };

t.test('cases and sessions: NUL and lone surrogates are a 400, never a 500; real Vietnamese text and emoji pass', async (t) => {
  const h = await startControlApi();
  t.teardown(() => h.close());
  const caseBody = (patch: Record<string, unknown>) => ({
    type: 'khieu_nai',
    title: 'Khiếu nại',
    criteria: ['a'],
    people: [{ role: 'complainant', fullName: 'Nguyễn Văn Khiếu' }],
    ...patch,
  });
  for (const [name, value] of Object.entries(BAD)) {
    for (const [field, body] of [
      ['title', caseBody({ title: value })],
      ['summary', caseBody({ summary: value })],
      ['people.fullName', caseBody({ people: [{ role: 'complainant', fullName: value }] })],
      ['agencies', caseBody({ agencies: [value] })],
    ] as const) {
      const r = await h.call('POST', '/api/v1/cases', { as: 'reception_board', body });
      t.equal(r.status, 400, `POST /cases with ${name} in ${field}: 400 (${r.status} ${r.text.slice(0, 100)})`);
      t.equal(r.body?.code, 'VALIDATION_FAILED');
    }
  }
  const caseId = await createCase(h, { title: 'Khiếu nại về đất đai 🏠' });
  const patched = await h.call('PATCH', `/api/v1/cases/${caseId}`, { as: 'reception_board', body: { title: BAD.nul } });
  t.equal(patched.status, 400, 'PATCH a case with NUL: 400');

  const sessionBody = {
    title: BAD.loneHigh,
    scheduledStart: '2026-02-23T08:00:00+07:00',
    scheduledEnd: '2026-02-23T11:00:00+07:00',
    location: 'Trụ sở',
    chairTitle: 'Chủ tịch UBND tỉnh',
    chairUserId: null,
    caseIds: [],
    bridgePointIds: [],
    participants: [],
  };
  const s = await h.call('POST', '/api/v1/sessions', { as: 'reception_board', body: sessionBody });
  t.equal(s.status, 400, `POST /sessions with a lone surrogate in the title: 400 (${s.status} ${s.text.slice(0, 100)})`);
  t.equal(s.body?.code, 'VALIDATION_FAILED');
  const nulLocation = await h.call('POST', '/api/v1/sessions', { as: 'reception_board', body: { ...sessionBody, title: 'Phiên', location: BAD.nul } });
  t.equal(nulLocation.status, 400, 'NUL in the location: 400');
  const sessionId = await createSession(h);
  const cancel = await h.call('POST', `/api/v1/sessions/${sessionId}/cancel`, { as: 'reception_board', body: { reason: BAD.loneLow } });
  t.equal(cancel.status, 400, 'a lone low surrogate in a cancel reason: 400');
  t.equal((await h.call('GET', `/api/v1/sessions/${sessionId}`, { as: 'reception_board' })).body.status, 'draft', 'and nothing changed');
});
