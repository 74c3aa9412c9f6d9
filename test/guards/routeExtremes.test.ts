/**
 * Guard: every control-API route, called with extreme but schema-valid input (largest pages and
 * offsets, widest date ranges, longest strings, fullest arrays, a CSV import at its size limit) on
 * a server holding realistic data, answers without a 5xx and without blocking the event loop for
 * more than 50 ms. The routes and their input schemas come from the server itself (its route
 * table and /openapi.json), so a new route is driven, and measured, without editing this file.
 */
import t from 'tap';
import { USER_ROLES, type UserRole } from '../../src/domain/common/roles.ts';
import { CSV_COLUMNS, CSV_MAX_ROWS } from '../../src/domain/bridgePoints/bridgePointStore.ts';
import { approve, createCase, createSession, passingResult } from '../api/fixtures.ts';
import { startControlApi, type ControlApiHarness } from '../api/harness.ts';
import { LoopHold } from './loopHold.ts';
import { extremeValue, type JsonSchema, type KnownIds } from './schemaExtremes.ts';

/** The budget: a request may not hold the loop longer than this (every other peer waits meanwhile). */
const LOOP_BUDGET_MS = 50;
/** The sampling interval of the delay histogram; a sample is the interval between two ticks. */
const RESOLUTION_MS = 10;

interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

/** A CSV at the import's limits: the most rows it takes, long Vietnamese names and addresses, under its size limit. */
function maxCsv(maxChars: number): string {
  const rows = [CSV_COLUMNS.join(';')];
  const name = 'UBND xã Ýên Thượng – điểm cầu trực tuyến số ';
  const address = 'thôn Đông, xã Ýên Thượng, tỉnh Gia Lai; '.repeat(4).slice(0, 150);
  for (let i = 0; i < CSV_MAX_ROWS; i++) rows.push(`G${String(i).padStart(5, '0')};${name}${i};commune;"${address}";Văn phòng;0905000000;;"Cáp quang; 4G dự phòng"`);
  const text = rows.join('\r\n');
  // The schema counts characters, the body parser bytes: under both.
  if (text.length > maxChars || Buffer.byteLength(text) > maxChars) throw new Error(`the generated CSV (${Buffer.byteLength(text)} bytes) is over the limit ${maxChars}`);
  return text;
}

async function populate(h: ControlApiHarness): Promise<{ ids: KnownIds; byPrefix: Record<string, string>; invitationToken: string }> {
  const csv = ['code;name;kind;address;contact_name;contact_phone;contact_email;network_notes', 'TT;Điểm cầu trung tâm;central;Quy Nhơn;Tổ kỹ thuật;0256000000;;'];
  for (let i = 1; i <= 110; i++) csv.push(`X${String(i).padStart(3, '0')};UBND xã Số ${i};commune;;Văn phòng xã;;;`);
  for (let i = 1; i <= 25; i++) csv.push(`P${String(i).padStart(3, '0')};UBND phường Số ${i};ward;;;;;`);
  const imported = await h.call('POST', '/api/v1/bridge-points/import', { as: 'technician', headers: { 'content-type': 'text/csv' }, body: csv.join('\r\n') });
  if (imported.status !== 200) throw new Error(`import: ${imported.status} ${imported.text}`);
  await h.call('POST', '/api/v1/bridge-points/sample-data', { as: 'admin' });
  const points = (await h.call('GET', '/api/v1/bridge-points?limit=500', { as: 'admin' })).body.items.map((p: { id: string }) => p.id) as string[];

  const types = ['khieu_nai', 'to_cao', 'kien_nghi', 'phan_anh'];
  const cases: string[] = [];
  for (let i = 0; i < 40; i++) {
    const type = types[i % types.length]!;
    cases.push(
      await createCase(h, {
        type,
        title: `${type === 'to_cao' ? 'Tố cáo' : 'Đơn'} số ${i}: việc bồi thường ở thôn ${i}`,
        summary: 'Công dân trình bày nội dung vụ việc. '.repeat(40),
        criteria: ['a', 'c'],
        communeBridgePointId: points[i % points.length],
        // A tố cáo keeps the denouncer's identity out of most views: its people are the hard case.
        people: [{ role: 'complainant', fullName: `Nguyễn Văn ${i}`, idNumber: `05208800${String(i).padStart(4, '0')}`, address: 'thôn 3, xã Mẫu', phone: '0905000111' }],
      }),
    );
  }
  const sessions: string[] = [];
  for (let i = 0; i < 5; i++) {
    sessions.push(await createSession(h, { start: `2026-04-${10 + i}T08:00:00+07:00`, end: `2026-04-${10 + i}T11:00:00+07:00`, caseIds: cases.slice(i * 5, i * 5 + 5), bridgePointIds: points.slice(i * 10, i * 10 + 10) }));
  }
  // A tố cáo goes online only with the denouncer's waiver: the live session's agenda has none.
  const agenda = cases.filter((_, i) => types[i % types.length] !== 'to_cao').slice(0, 8);
  // One session the whole way: approved, invitations out, tested, live, minutes with outcomes.
  const s = await createSession(h, {
    start: '2026-04-15T08:00:00+07:00',
    end: '2026-04-15T11:30:00+07:00',
    caseIds: agenda,
    bridgePointIds: points.slice(0, 20),
    chairUserId: h.users.approver.id,
    participants: [{ role: 'host', label: 'Chủ trì' }],
  });
  sessions.unshift(s);
  await approve(h, s);
  const sent = await h.call('POST', `/api/v1/sessions/${s}/invitations`, { as: 'inspectorate' });
  if (sent.status >= 300) throw new Error(`invitations: ${sent.status} ${sent.text}`);
  const invitations = sent.body.invitations as { id: string; token: string; bridgePointId: string | null }[];
  const matrix = await h.call('GET', `/api/v1/sessions/${s}/preflight`, { as: 'technician' });
  const slots = (matrix.body.slots as { id: string }[]).map((x) => x.id);
  for (const inv of invitations.filter((i) => i.bridgePointId !== null)) {
    await h.call('POST', '/api/v1/preflight/results', { as: 'technician', body: { sessionId: s, slotId: slots[0], bridgePointId: inv.bridgePointId, ...passingResult } });
  }
  await h.call('POST', `/api/v1/sessions/${s}/mark-tested`, { as: 'technician' });
  // One slot's results only, so the go-live gate (each slot, issue 11) needs the chairman's logged override.
  const live = await h.call('POST', `/api/v1/sessions/${s}/go-live`, { as: 'approver', body: { override: { reason: 'Kiểm thử tại chỗ trước giờ tiếp' } } });
  if (live.status >= 300) throw new Error(`go-live: ${live.status} ${live.text}`);
  const minutes = await h.call('PUT', `/api/v1/sessions/${s}/minutes`, {
    as: 'inspectorate',
    body: { text: 'Biên bản buổi tiếp công dân. '.repeat(200), outcomes: agenda.map((caseId, i) => ({ caseId, outcome: i % 2 === 0 ? 'hen_tra_loi' : 'chuyen_don', note: 'Trả lời trong 10 ngày làm việc' })) },
  });
  if (minutes.status >= 300) throw new Error(`minutes: ${minutes.status} ${minutes.text}`);
  await h.call('POST', `/api/v1/sessions/${s}/end`, { as: 'approver' });

  const firstId = async (url: string): Promise<string | undefined> => {
    const r = await h.call('GET', url, { as: 'admin' });
    const items = Array.isArray(r.body) ? r.body : (r.body?.items ?? r.body?.entries ?? []);
    return items[0]?.id as string | undefined;
  };
  const victim = await h.services.auth.createUser({ kind: 'system', id: 'test', role: 'admin', label: 'test', bridgePointId: null }, { username: 'guard-victim', displayName: 'Người dùng thử', role: 'auditor', password: 'victim-password-1', bridgePointId: null });
  const key = await h.call('POST', '/api/v1/api-keys', { as: 'admin', body: { name: 'guard', role: 'auditor' } });
  const byPrefix: Record<string, string | undefined> = {
    '/api/v1/users/': victim.id,
    '/api/v1/api-keys/': key.body?.id,
    '/api/v1/bridge-points/': points[0],
    '/api/v1/cases/': cases[1],
    '/api/v1/sessions/': s,
    '/api/v1/invitations/': invitations[0]?.id,
    '/api/v1/preflight/slots/': slots[0],
    '/api/v1/register/': await firstId('/api/v1/register?from=2026-01-01&to=2026-12-31'),
    '/api/v1/follow-ups/': await firstId('/api/v1/follow-ups'),
    '/api/v1/conclusion-notices/': undefined,
  };
  const endpoint = invitations.find((i) => i.bridgePointId !== null)!;
  return {
    ids: { cases, bridgePoints: points, sessions, users: [h.users.approver.id, h.users.reception_board.id], slots },
    byPrefix: Object.fromEntries(Object.entries(byPrefix).filter((e): e is [string, string] => e[1] !== undefined)),
    invitationToken: endpoint.token,
  };
}

type Variant = 'widest' | 'extreme';

/** One call, measured: wall time, raw loop delay and the longest hold of the loop (see LoopHold). */
async function measure<T>(call: () => Promise<T>, loop: LoopHold): Promise<{ res: T; ms: number; loopMax: number; held: number }> {
  loop.reset();
  const t0 = performance.now();
  const res = await call();
  const ms = performance.now() - t0;
  loop.sample();
  return { res, ms, loopMax: loop.delay, held: Math.max(0, loop.held) };
}

/** The URL and body of one call: path ids of real objects, query and body from the schemas. */
function buildRequest(url: string, op: Operation, ids: KnownIds, byPrefix: Record<string, string>, variant: Variant): { url: string; body?: unknown; contentType?: string } {
  let path = url;
  for (const [prefix, id] of Object.entries(byPrefix)) if (path.startsWith(prefix)) path = path.replace(':id', id);
  path = path.replace(':id', '00000000-0000-4000-8000-000000000000').replace(':date', '2026-09-02');
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    if (p.in !== 'query') continue;
    // "widest": the largest page of everything (no filters, no search, no offset); "extreme": every parameter at its extreme.
    if (variant === 'widest' && (p.schema.enum !== undefined || p.name === 'offset' || (p.schema.type === 'string' && p.schema.format === undefined && p.schema.pattern === undefined))) continue;
    if (variant === 'widest' && p.schema.format === 'uuid') continue;
    query.set(p.name, String(extremeValue(p.schema, p.name, ids)));
  }
  const qs = query.toString();
  const full = qs === '' ? path : `${path}?${qs}`;
  const content = op.requestBody?.content;
  if (content === undefined) return { url: full };
  const schema = (content['application/json'] ?? Object.values(content)[0]!).schema;
  // A bare-string body is the CSV import: the largest file it takes, of valid rows.
  if (schema.type === 'string') return { url: full, body: maxCsv(schema.maxLength ?? 2 * 1024 * 1024), contentType: 'text/csv' };
  return { url: full, body: extremeValue(schema, 'body', ids) };
}

t.test('every route with extreme valid input: no 5xx, the event loop never blocked over 50 ms', async (t) => {
  const started = Date.now();
  const h = await startControlApi({ now: new Date('2026-04-01T02:00:00Z') });
  t.teardown(() => h.close());
  const { ids, byPrefix, invitationToken } = await populate(h);
  t.comment(`populated in ${Date.now() - started} ms: ${ids.bridgePoints.length} bridge points, ${ids.cases.length} cases, ${ids.sessions.length} sessions`);
  const doc = (await h.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };

  const loop = new LoopHold(RESOLUTION_MS);
  loop.start();
  t.teardown(() => loop.stop());
  const exercised = new Set<string>();
  const rows: string[] = [];
  let largest = { ms: 0, loop: 0, what: '' };

  // Reads first, on the data as populated; then the writes (a cancel or a logout changes what follows).
  const routes = [...h.routeTable].sort((a, b) => Number(a.method !== 'GET') - Number(b.method !== 'GET'));
  for (const route of routes) {
    const key = `${route.method} ${route.url}`;
    const op = doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
    if (op === undefined) {
      // Pages, their assets, the API's own description and the join-code pages have no schema to
      // build from: they get the longest path values and a long form body, and the same two checks.
      if (route.access.roles !== 'public') {
        t.fail(`${key} is not in /openapi.json`);
        continue;
      }
      const url = route.url.replace(/:\w+/g, 'x'.repeat(200)).replace(/\*$/, 'a/'.repeat(200));
      const body = route.method === 'GET' ? undefined : `code=${'A'.repeat(10_000)}`;
      const send = () => h.app.inject({ method: route.method as 'GET', url, ...(body !== undefined ? { payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
      const { res, ms, loopMax, held } = await measure(send, loop);
      exercised.add(key);
      rows.push(`${String(res.statusCode).padEnd(4)} ${ms.toFixed(0).padStart(6)} ms  delay ${loopMax.toFixed(1).padStart(6)} ms  held ${held.toFixed(1).padStart(6)} ms  ${'nobody'.padEnd(16)} ${'page'.padEnd(7)} ${key}`);
      if (loopMax > largest.loop) largest.loop = loopMax;
      if (held > largest.ms) largest = { ...largest, ms: held, what: `page ${key}` };
      t.ok(res.statusCode < 500, `page ${key}: no 5xx (${res.statusCode})`);
      t.ok(held <= LOOP_BUDGET_MS, `page ${key}: event loop held ${held.toFixed(1)} ms (budget ${LOOP_BUDGET_MS} ms)`);
      continue;
    }
    const roles = route.access.roles === 'public' ? [] : (route.access.roles as readonly UserRole[]);
    // A role with the whole province's view where there is one (a commune operator sees one point).
    const allowed: UserRole | undefined = roles.find((r) => r !== 'commune_operator') ?? roles[0];
    const refused = route.access.roles === 'public' ? undefined : USER_ROLES.find((r) => !roles.includes(r));
    const variants: Variant[] = route.method === 'GET' && (op.parameters ?? []).some((p) => p.in === 'query') ? ['widest', 'extreme'] : ['extreme'];
    for (const variant of variants) {
      const req = buildRequest(route.url, op, ids, byPrefix, variant);
      // A fresh token per call: logout and password changes revoke the token they are called with.
      const token = allowed !== undefined ? (await h.services.auth.mintToken(h.users[allowed].id, allowed)).token : route.access.invitation === true ? invitationToken : undefined;
      const as = allowed ?? (route.access.invitation === true ? 'invitation' : 'nobody');
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
      const headers: Record<string, string> = { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': req.contentType ?? 'application/json' } : {}) };
      const send = () => h.app.inject({ method: route.method as 'GET', url: req.url, headers, ...(body !== undefined ? { payload: body } : {}) });
      let { res, ms, loopMax, held } = await measure(send, loop);
      let note = '';
      if (held > LOOP_BUDGET_MS && res.statusCode < 500) {
        // Over budget once may be a garbage collection on a busy machine; over it twice is the route.
        const again = await measure(send, loop);
        note = ` (first try held ${held.toFixed(1)} ms)`;
        ({ res, ms, loopMax, held } = again);
      }
      const code = res.statusCode >= 400 ? ((): string => { try { return String((JSON.parse(res.body) as { code?: unknown }).code ?? ''); } catch { return ''; } })() : '';
      exercised.add(key);
      rows.push(`${String(res.statusCode).padEnd(4)} ${ms.toFixed(0).padStart(6)} ms  delay ${loopMax.toFixed(1).padStart(6)} ms  held ${held.toFixed(1).padStart(6)} ms  ${as.padEnd(16)} ${variant.padEnd(7)} ${key} ${code}${note}`);
      if (loopMax > largest.loop) largest.loop = loopMax;
      if (held > largest.ms) largest = { ...largest, ms: held, what: `${variant} ${key}` };
      t.ok(res.statusCode < 500, `${variant} ${key} as ${as}: no 5xx (${res.statusCode} ${res.statusCode >= 500 ? res.body.slice(0, 300) : ''})`);
      t.ok(held <= LOOP_BUDGET_MS, `${variant} ${key}: event loop held ${held.toFixed(1)} ms (raw delay ${loopMax.toFixed(1)} ms; budget ${LOOP_BUDGET_MS} ms)`);
    }
    if (refused !== undefined) {
      const token = (await h.services.auth.mintToken(h.users[refused].id, refused)).token;
      const res = await h.app.inject({ method: route.method as 'GET', url: buildRequest(route.url, op, ids, byPrefix, 'extreme').url, headers: { authorization: `Bearer ${token}` } });
      t.equal(res.statusCode, 403, `${key} refuses ${refused}`);
    }
  }
  t.comment(`status  time      raw delay         held            as               variant route\n${rows.join('\n')}`);
  t.comment(`largest event-loop hold: ${largest.ms.toFixed(1)} ms (${largest.what}); largest raw delay ${largest.loop.toFixed(1)} ms; ${rows.length} calls in ${Date.now() - started} ms`);
  const missing = h.routeTable.map((r) => `${r.method} ${r.url}`).filter((k) => !exercised.has(k));
  t.same(missing, [], 'every route in the server’s route table was exercised');
  t.ok(h.routeTable.length >= 50, `${h.routeTable.length} routes`);
});
