/**
 * The session list cache on a real PostgreSQL (issue 14 item 4): answers come from memory only
 * while the change feed listens, a commune operator's answer is its own, this server's API writes
 * show at once, and another connection's writes (what another process on the database would do)
 * show within the notification's trip.
 */
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import t from 'tap';
import { createPoint, createSession } from './fixtures.ts';
import { startControlApi, type ControlApiHarness } from './harness.ts';

/** Polls the list until `done` holds; how long it took (ms), or fails past `boundMs`. */
async function until(h: ControlApiHarness, url: string, done: (body: { items: { id: string; title: string; submissionDeadline: string }[] }) => boolean, boundMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = await h.call('GET', url, { as: 'admin' });
    if (done(r.body)) return performance.now() - t0;
    if (performance.now() - t0 > boundMs) throw new Error(`not seen within ${boundMs} ms: ${r.text.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test('session list cache', async (t) => {
  const h = await startControlApi({ changeFeed: true });
  t.teardown(() => h.close());
  const operatorPoint = (await h.database.db.selectFrom('bridge_points').select('id').where('code', '=', 'OPERATOR-POINT').executeTakeFirstOrThrow()).id;
  const other = await createPoint(h, 'OTHER');
  const mine = await createSession(h, { bridgePointIds: [operatorPoint] });
  const theirs = await createSession(h, { bridgePointIds: [other] });
  const url = '/api/v1/sessions?limit=20';
  t.ok(h.services.sessionListCache.active, 'the feed listens: the cache is on');

  await t.test('an operator sees only its point, also right after an admin filled the cache', async (t) => {
    const admin = await h.call('GET', url, { as: 'admin' });
    t.same(admin.body.items.map((s: { id: string }) => s.id).sort(), [mine, theirs].sort());
    const again = await h.call('GET', url, { as: 'admin' });
    t.equal(again.text, admin.text, 'the second answer is the kept one');
    const operator = await h.call('GET', url, { as: 'commune_operator' });
    t.same(operator.body.items.map((s: { id: string }) => s.id), [mine]);
    t.equal(operator.body.total, 1);
    // Asking for another point's sessions does not lift the confinement.
    const asked = await h.call('GET', `${url}&bridgePointId=${other}`, { as: 'commune_operator' });
    t.same(asked.body.items.map((s: { id: string }) => s.id), [mine]);
  });

  await t.test('a client that takes gzip gets the same answer gzipped; one that refuses it, plain', async (t) => {
    const plain = await h.call('GET', url, { as: 'admin' });
    t.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: plain JSON');
    t.match(String(plain.headers['content-type']), /^application\/json/);
    const res = await h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${h.users.admin.token}`, 'accept-encoding': 'gzip, deflate, br' } });
    t.equal(res.headers['content-encoding'], 'gzip');
    t.equal(res.headers.vary, 'accept-encoding');
    const unzipped = gunzipSync(res.rawPayload).toString('utf8');
    t.equal(unzipped, plain.text, 'gunzipped, byte for byte the plain answer');
    t.ok(res.rawPayload.length < Buffer.byteLength(plain.text) / 2, `smaller on the wire (${res.rawPayload.length} of ${Buffer.byteLength(plain.text)} bytes)`);
    const refused = await h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${h.users.admin.token}`, 'accept-encoding': 'gzip;q=0, identity' } });
    t.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0: plain');
    t.equal(refused.body, plain.text);
  });

  await t.test('a write through this API shows in the next list, without waiting', async (t) => {
    await h.call('GET', url, { as: 'admin' });
    const r = await h.call('PATCH', `/api/v1/sessions/${mine}`, { as: 'reception_board', body: { title: 'Đổi tên qua API' } });
    t.equal(r.status, 200);
    const list = await h.call('GET', url, { as: 'admin' });
    t.equal(list.body.items.find((s: { id: string }) => s.id === mine)?.title, 'Đổi tên qua API');
  });

  await t.test('a write on another connection shows within the bound', async (t) => {
    await h.call('GET', url, { as: 'admin' });
    // asOwner runs on a connection of its own, another backend: as another process would.
    await h.database.asOwner((db) => sql`update sessions set title = 'Đổi bằng SQL' where id = ${mine}`.execute(db));
    const ms = await until(h, url, (b) => b.items.some((s) => s.id === mine && s.title === 'Đổi bằng SQL'), 1000);
    t.ok(ms < 1000, `seen after ${ms.toFixed(1)} ms`);
    // A change to what a view is computed from (the settings' lead time moves the deadline).
    const before = (await h.call('GET', url, { as: 'admin' })).body.items.find((s: { id: string }) => s.id === mine).submissionDeadline;
    await h.database.asOwner((db) => sql`insert into control_settings (key, value) values ('control', ${JSON.stringify({ approvalLeadWorkingDays: 9 })}::jsonb) on conflict (key) do update set value = excluded.value`.execute(db));
    await until(h, url, (b) => b.items.some((s) => s.id === mine && s.submissionDeadline !== before), 1000);
    t.pass('the deadline follows the settings written elsewhere');
  });

  await t.test('an API write does not wait for its notification', async (t) => {
    await h.call('GET', url, { as: 'admin' });
    // Deaf to notifications (still "listening"): only the control API's own drop can refresh the list.
    const listeners = h.changes!.listeners('change');
    h.changes!.removeAllListeners('change');
    t.teardown(() => listeners.forEach((l) => h.changes!.on('change', l)));
    const r = await h.call('PATCH', `/api/v1/sessions/${mine}`, { as: 'reception_board', body: { title: 'Không chờ thông báo' } });
    t.equal(r.status, 200);
    const list = await h.call('GET', url, { as: 'admin' });
    t.equal(list.body.items.find((s: { id: string }) => s.id === mine)?.title, 'Không chờ thông báo');
  });

  await t.test('while the feed is down, lists read the database', async (t) => {
    await h.call('GET', url, { as: 'admin' });
    // No notification can arrive on a dropped connection: the answer must come from the database.
    await dropFeed(h);
    t.notOk(h.services.sessionListCache.active, 'off while reconnecting');
    await h.database.asOwner((db) => sql`update sessions set title = 'Đổi khi mất kết nối' where id = ${theirs}`.execute(db));
    const list = await h.call('GET', url, { as: 'admin' });
    t.equal(list.body.items.find((s: { id: string }) => s.id === theirs)?.title, 'Đổi khi mất kết nối');
    await until(h, url, () => h.services.sessionListCache.active, 5000);
    t.ok(h.services.sessionListCache.active, 'back on after the reconnection');
  });
});

/** Drops the list cache's feed connection (the harness's only feed). */
async function dropFeed(h: ControlApiHarness): Promise<void> {
  const feed = h.changes;
  if (feed === undefined) throw new Error('no change feed');
  await feed.drop();
}
