/**
 * One contract, both implementations (issue 12 item 3): the in-memory store the tests without a
 * database use must behave as the PostgreSQL one the server uses, or a test would pass on rules
 * production does not follow. Leases are timed with the real clock (PostgreSQL judges expiry by
 * its own), so the waits are short and real.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrator.ts';
import { silentLogger, tempDataDir } from '../../test/helpers/env.ts';
import type { LiveStore, StoredJob } from './LiveStore.ts';
import { MemoryLiveStore } from './MemoryLiveStore.ts';
import { NEGATIVE_TTL_MS, PgLiveStore } from './PgLiveStore.ts';
import { TiepdanError } from '../errors.ts';

const job = (id: string, patch: Partial<StoredJob> = {}): StoredJob => ({
  id,
  kind: 'export-directory',
  sessionIds: ['s-1', 's-2'],
  status: 'queued',
  progress: { phase: 'queued', fraction: 0 },
  queuedAt: new Date(Date.UTC(2026, 4, 1, 1, 0, Number(id.replace(/\D/g, '') || 0))).toISOString(),
  startedAt: null,
  finishedAt: null,
  result: null,
  error: null,
  ...patch,
});

async function contract(t: Test, store: LiveStore): Promise<void> {
  await t.test('ejections are per session and per invitation', async (t) => {
    t.equal(await store.isEjected('s-a', 'jti-1'), false);
    await store.eject('s-a', 'jti-1');
    await store.eject('s-a', 'jti-1');
    t.equal(await store.isEjected('s-a', 'jti-1'), true, 'the ejected invitation');
    t.equal(await store.isEjected('s-a', 'jti-2'), false, 'a re-issued invitation for the same point gets in');
    t.equal(await store.isEjected('s-b', 'jti-1'), false, 'another session is not affected');
  });

  await t.test('a session ended by the host', async (t) => {
    t.equal(await store.isEnded('s-end'), false);
    await store.markEnded('s-end');
    await store.markEnded('s-end');
    t.equal(await store.isEnded('s-end'), true);
  });

  await t.test('one holder per lease; a lapsed lease can be taken', async (t) => {
    // Generous margins: the machine is shared, and a sleep may overrun by a few hundred ms.
    const ttl = 1500;
    await store.acquireLease('recorder:s-1', 'proc-a', ttl);
    const acquired = Date.now();
    await store.acquireLease('recorder:s-1', 'proc-a', ttl);
    const refused = await store.acquireLease('recorder:s-1', 'proc-b', ttl).then(() => undefined, (err: unknown) => err);
    t.ok(refused instanceof TiepdanError && refused.code === 'LEASE_HELD', 'a second holder is refused with LEASE_HELD');
    t.match((refused as TiepdanError).details, { name: 'recorder:s-1', holder: 'proc-a' }, 'naming who holds it');
    t.match(await store.lease('recorder:s-1'), { holder: 'proc-a' });
    t.equal(await store.renewLease('recorder:s-1', 'proc-b', ttl), false, 'only the holder renews');
    await sleep(700);
    t.equal(await store.renewLease('recorder:s-1', 'proc-a', ttl), true);
    await sleep(Math.max(0, acquired + ttl + 300 - Date.now()));
    t.match(await store.lease('recorder:s-1'), { holder: 'proc-a' }, 'renewed: still held past its first expiry');
    await sleep(ttl + 300);
    t.equal(await store.lease('recorder:s-1'), undefined, 'not renewed: it lapses (its process died)');
    await store.acquireLease('recorder:s-1', 'proc-b', 60_000);
    t.match(await store.lease('recorder:s-1'), { holder: 'proc-b' }, 'and another process takes it');
    t.equal(await store.renewLease('recorder:s-1', 'proc-a', ttl), false, 'the old holder cannot renew it back');
    await store.releaseLease('recorder:s-1', 'proc-a');
    t.match(await store.lease('recorder:s-1'), { holder: 'proc-b' }, 'nor release it');
    await store.releaseLease('recorder:s-1', 'proc-b');
    t.equal(await store.lease('recorder:s-1'), undefined, 'released by its holder');
    await store.acquireLease('recorder:s-1', 'proc-c', 60_000);
    t.match(await store.lease('recorder:s-1'), { holder: 'proc-c' }, 'free again at once');
  });

  await t.test('jobs: written through, unfinished ones failed, finished ones pruned', async (t) => {
    await store.saveJob(job('j1'));
    await store.saveJob(job('j2', { status: 'running', startedAt: '2026-05-01T01:00:05.000Z', progress: { phase: 'copying', fraction: 0.5, disc: 1 } }));
    await store.saveJob(job('j3', { status: 'done', finishedAt: '2026-05-01T02:00:00.000Z', result: { files: ['a.mkv'], bytes: 12 } }));
    await store.saveJob(job('j4', { status: 'failed', finishedAt: '2026-05-01T03:00:00.000Z', error: { code: 'EXPORT_DESTINATION_FULL', message: 'full' } }));
    const all = await store.jobs();
    t.same(all.map((j) => j.id), ['j1', 'j2', 'j3', 'j4'], 'oldest queued first');
    t.same(all[1], job('j2', { status: 'running', startedAt: '2026-05-01T01:00:05.000Z', progress: { phase: 'copying', fraction: 0.5, disc: 1 } }), 'as written');
    t.same(all[2]?.result, { files: ['a.mkv'], bytes: 12 }, 'with its result');
    t.equal(await store.failUnfinishedJobs({ code: 'JOB_INTERRUPTED', message: 'restart' }, new Date('2026-05-01T04:00:00.000Z')), 2, 'the queued and the running one');
    const after = await store.jobs();
    t.match(after.slice(0, 2), [
      { id: 'j1', status: 'failed', finishedAt: '2026-05-01T04:00:00.000Z', error: { code: 'JOB_INTERRUPTED' } },
      { id: 'j2', status: 'failed', error: { code: 'JOB_INTERRUPTED' } },
    ]);
    t.match(after[3], { status: 'failed', error: { code: 'EXPORT_DESTINATION_FULL' } }, 'a job that had failed keeps its own error');
    // Finished at 04:00 (j1, j2), 03:00 (j4), 02:00 (j3): keep the newest 3, and none before 02:30.
    t.equal(await store.pruneJobs({ keep: 3, before: new Date('2026-05-01T02:30:00.000Z') }), 1);
    t.same((await store.jobs()).map((j) => j.id), ['j1', 'j2', 'j4']);
    t.equal(await store.pruneJobs({ keep: 1, before: new Date(0) }), 2, 'by count');
    t.equal((await store.jobs()).length, 1);
    await store.saveJob(job('j5'));
    t.equal(await store.pruneJobs({ keep: 0, before: new Date('2030-01-01') }), 1, 'an unfinished job is never pruned');
    t.same((await store.jobs()).map((j) => j.id), ['j5']);
  });

  await t.test('attempt windows: counted, closed, reopened, per scope', async (t) => {
    const t0 = Date.UTC(2026, 4, 1, 8, 0, 0);
    t.same(await store.hitAttempt('login', '10.0.0.1', 60_000, t0), { count: 1, resetsAt: t0 + 60_000 });
    t.same(await store.hitAttempt('login', '10.0.0.1', 60_000, t0 + 1000), { count: 2, resetsAt: t0 + 60_000 }, 'the window does not slide');
    t.same(await store.attempts('login', '10.0.0.1', t0 + 2000), { count: 2, resetsAt: t0 + 60_000 }, 'read without counting');
    t.equal(await store.attempts('join-code', '10.0.0.1', t0), undefined, 'scopes are apart');
    t.equal(await store.attempts('login', '10.0.0.1', t0 + 60_000), undefined, 'closed at its end');
    t.same(await store.hitAttempt('login', '10.0.0.1', 60_000, t0 + 60_000), { count: 1, resetsAt: t0 + 120_000 }, 'a new window');
    await Promise.all(Array.from({ length: 20 }, () => store.hitAttempt('login', 'burst', 60_000, t0)));
    t.match(await store.attempts('login', 'burst', t0), { count: 20 }, 'concurrent attempts are all counted');
    await store.pruneAttempts(t0 + 120_000);
    t.equal(await store.attempts('login', '10.0.0.1', t0 + 60_001), undefined, 'pruned');
  });
}

t.test('MemoryLiveStore', async (t) => {
  const store = new MemoryLiveStore();
  await contract(t, store);
  await store.close();
});

t.test('PgLiveStore on the embedded PostgreSQL, as the application role', async (t) => {
  const tmp = await tempDataDir();
  const logger = silentLogger();
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  t.teardown(async () => {
    await database.close();
    await tmp.remove();
  });
  await migrateToLatest(database, logger);
  const store = new PgLiveStore(database.db);
  await contract(t, store);
  // The application role may append ejections and ends, not take them back (src/db/roles.ts).
  const undo = (q: Promise<unknown>) => q.then(() => 'allowed', (err: unknown) => ((err as { code?: string }).code === '42501' ? 'denied' : String(err)));
  t.equal(await undo(database.db.deleteFrom('live_ejections').execute()), 'denied', 'no DELETE on live_ejections');
  t.equal(await undo(database.db.updateTable('live_ended_sessions').set({ session_id: 'other' }).execute()), 'denied', 'no UPDATE on live_ended_sessions');
  t.equal(await undo(database.db.deleteFrom('live_leases').where('name', '=', 'none').execute()), 'allowed', 'leases, jobs and attempts are its to prune');

  // Two processes on one database (a second node, or the server after a restart): what one
  // writes, the other sees at once when it never asked, and within NEGATIVE_TTL_MS when it had
  // been told "no" just before (joins are answered from the cache in between).
  const other = new PgLiveStore(database.db);
  const sid = '00000000-0000-4000-8000-0000000000aa';
  t.equal(await store.isEjected(sid, 'jti-x'), false, 'not ejected yet');
  t.equal(await store.isEnded(sid), false, 'not ended yet');
  await other.eject(sid, 'jti-x');
  await other.markEnded(sid);
  t.equal(await new PgLiveStore(database.db).isEjected(sid, 'jti-x'), true, 'a store that never asked sees the ejection at once');
  const started = Date.now();
  while ((!(await store.isEjected(sid, 'jti-x')) || !(await store.isEnded(sid))) && Date.now() - started < NEGATIVE_TTL_MS + 3000) await new Promise((r) => setTimeout(r, 100));
  const seenAfter = Date.now() - started;
  t.ok((await store.isEjected(sid, 'jti-x')) && (await store.isEnded(sid)), `the store that had been told "no" sees both within ${NEGATIVE_TTL_MS} ms (${seenAfter} ms)`);
  t.ok(seenAfter <= NEGATIVE_TTL_MS + 500, 'no later than the stated bound');
  await other.close();
  await store.close();
});
