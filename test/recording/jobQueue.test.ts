/**
 * The recording job queue (security review M13) on its own: one job at a time in order, a
 * duplicate joins the unfinished job, a full queue refuses with JOBS_BUSY, failures are recorded
 * before they show; and the programs background jobs spawn (FFmpeg, xorriso) run niced.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { JOB_NICENESS } from '../../src/domain/common/nice.ts';
import { TiepdanError } from '../../src/errors.ts';
import { verifyImage } from '../../src/recording/export/exportToIso.ts';
import { JobQueue, jobKey } from '../../src/recording/jobs/jobQueue.ts';
import { MemoryLiveStore } from '../../src/store/MemoryLiveStore.ts';
import { buildPlayableCopy } from '../../src/recording/playable/playableCopy.ts';
import { silentLogger } from '../helpers/env.ts';
import { writeFakeRecording } from './fakeRecording.ts';
import { HTTP_STATUS } from '../../src/api/errors.ts';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};
const tick = () => new Promise((r) => setImmediate(r));

t.test('one job at a time, in order; duplicates join; bounded', async (t) => {
  const q = new JobQueue({ logger: silentLogger(), maxQueued: 2 });
  const gates = [deferred(), deferred(), deferred()];
  const log: string[] = [];
  const spec = (i: number) => ({
    kind: 'verify' as const,
    sessionIds: [`s${i}`],
    work: async () => {
      log.push(`start ${i}`);
      await gates[i]!.promise;
      log.push(`end ${i}`);
      return i;
    },
  });
  const a = q.enqueue(jobKey('verify', ['s0']), spec(0));
  await tick();
  t.equal(a.job.status, 'running', 'the first job starts at once');
  const b = q.enqueue(jobKey('verify', ['s1']), spec(1));
  const c = q.enqueue(jobKey('verify', ['s2']), spec(2));
  t.same([b.job.status, c.job.status, q.queued, q.running], ['queued', 'queued', 2, 1], 'the others wait');
  t.same(q.enqueue(jobKey('verify', ['s1']), spec(1)), { job: b.job, joined: true }, 'a duplicate of a queued job joins it');
  t.same(q.enqueue(jobKey('verify', ['s0']), spec(0)), { job: a.job, joined: true }, 'a duplicate of the running job joins it');
  t.throws(() => q.enqueue(jobKey('verify', ['s3']), spec(0)), { code: 'JOBS_BUSY' }, 'a third waiting job: JOBS_BUSY');
  t.equal(HTTP_STATUS.JOBS_BUSY, 503, 'which the API answers with 503');
  t.same(q.activeFor('s2').map((j) => j.id), [c.job.id], 'unfinished jobs by session');

  gates[2]!.resolve(); // the last one's gate opens first: it still waits its turn
  gates[0]!.resolve();
  await tick();
  await tick();
  gates[1]!.resolve();
  await q.idle();
  t.same(log, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2'], 'strictly one after the other, in arrival order');
  t.same([a.job.result, b.job.result, c.job.result], [0, 1, 2]);
  t.ok([a, b, c].every((x) => x.job.status === 'done' && x.job.progress.fraction === 1));
  const again = q.enqueue(jobKey('verify', ['s0']), spec(0));
  t.equal(again.joined, false, 'a finished job is not joined: asking again runs it again');
  await q.idle();
});

t.test('a failing job records its failure before it shows as failed', async (t) => {
  const q = new JobQueue({ logger: silentLogger() });
  const order: string[] = [];
  const { job } = q.enqueue('k', {
    kind: 'export-directory',
    sessionIds: ['s'],
    work: async () => {
      throw new TiepdanError('EXPORT_DESTINATION_FULL', 'full');
    },
    onFailed: async (e) => {
      order.push(`audit ${e.code} while ${job.status}`);
    },
  });
  await q.idle();
  t.same(order, ['audit EXPORT_DESTINATION_FULL while running']);
  t.match(job, { status: 'failed', error: { code: 'EXPORT_DESTINATION_FULL' } });
  t.equal(q.active('k'), undefined, 'a failed job frees its key');
});

t.test('finished jobs are forgotten oldest first', async (t) => {
  const q = new JobQueue({ logger: silentLogger(), keepFinished: 3, maxQueued: 100 });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(q.enqueue(`k${i}`, { kind: 'verify', sessionIds: [`s${i}`], work: async () => i }).job.id);
    await q.idle();
  }
  q.enqueue('last', { kind: 'verify', sessionIds: ['x'], work: async () => 0 });
  await q.idle();
  t.equal(q.get(ids[0]!), undefined, 'the oldest is gone');
  t.ok(q.get(ids[5]!), 'recent ones stay');
  t.ok(q.list().length <= 4);
});

t.test('FFmpeg (playable copy) and xorriso (disc images) run niced', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tiepdan-nice-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const expected = String(Math.min(19, getPriority() + JOB_NICENESS));
  // Stand-ins that write their niceness and fail: the job's error path is real too.
  const fake = async (name: string) => {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\nnice > "${path.join(dir, `${name}.nice`)}"\necho "stand-in ${name}" >&2\nexit 3\n`);
    await chmod(file, 0o755);
    return file;
  };
  const ffmpeg = await fake('ffmpeg');
  const rec = await writeFakeRecording(dir, 'nice-session');
  await t.rejects(buildPlayableCopy({ sessionDir: rec.dir, ffmpegPath: ffmpeg }), { code: 'PLAYABLE_FAILED' });
  t.equal((await readFile(`${ffmpeg}.nice`, 'utf8')).trim(), expected, `FFmpeg ran at niceness ${expected}`);

  await fake('xorriso');
  const path0 = process.env.PATH;
  process.env.PATH = `${dir}:${path0 ?? ''}`;
  t.teardown(() => {
    process.env.PATH = path0;
  });
  await t.rejects(verifyImage(path.join(dir, 'disc-1.iso'), [], true));
  t.equal((await readFile(path.join(dir, 'xorriso.nice'), 'utf8')).trim(), expected, `xorriso ran at niceness ${expected}`);
});

t.test('jobs outlive their process: listed again with their result, unfinished ones failed as JOB_INTERRUPTED (issue 12 item 3)', async (t) => {
  let writes = 0;
  // The store a restarted process finds: the same one, counting what the queue writes to it.
  const store = new (class extends MemoryLiveStore {
    override async saveJob(job: Parameters<MemoryLiveStore['saveJob']>[0]): Promise<void> {
      writes++;
      return super.saveJob(job);
    }
  })();
  const first = new JobQueue({ logger: silentLogger(), store, progressWriteMs: 100 });
  const done = first.enqueue(jobKey('verify', ['s1']), { kind: 'verify', sessionIds: ['s1'], work: async () => ({ ok: true, problems: [] }) }).job;
  await first.idle();
  const gate = deferred();
  const running = first.enqueue(jobKey('export-directory', ['s2']), {
    kind: 'export-directory',
    sessionIds: ['s2'],
    work: async (job) => {
      // A copy reports progress per chunk: hundreds of times a second.
      for (let i = 1; i <= 400; i++) {
        job.progress = { phase: 'copying', fraction: i / 1000 };
        await new Promise((r) => setTimeout(r, 1));
      }
      await gate.promise;
    },
  }).job;
  const queued = first.enqueue(jobKey('playable', ['s3']), { kind: 'playable', sessionIds: ['s3'], work: async () => undefined }).job;
  await new Promise((r) => setTimeout(r, 900));
  await first.flush();
  t.ok(writes < 20, `${writes} writes for one finished job, ~400 progress reports and one queued job (bounded by the 100 ms progress rate)`);
  t.match((await store.jobs()).find((j) => j.id === running.id), { status: 'running', progress: { phase: 'copying' } }, 'the running job and its progress are in the store');

  // The process dies here (no close): a new one starts on the same store.
  const second = new JobQueue({ logger: silentLogger(), store });
  t.equal(await second.restore(), 2, 'the running and the queued job were interrupted');
  t.match(second.get(done.id), { status: 'done', result: { ok: true, problems: [] } }, 'the finished job is still there with its result');
  t.match(second.get(running.id), { status: 'failed', error: { code: 'JOB_INTERRUPTED' }, progress: { phase: 'copying' } }, 'the running one failed, saying why');
  t.match(second.get(queued.id), { status: 'failed', error: { code: 'JOB_INTERRUPTED' } });
  t.equal(second.list().length, 3);
  t.equal(second.active(jobKey('export-directory', ['s2'])), undefined, 'and a new request for it starts afresh');
  gate.resolve();
  await first.close(1000);
});

t.test('finished jobs are pruned by age as well as count, in memory and in the store', async (t) => {
  const store = new MemoryLiveStore();
  const old = { id: 'old', kind: 'verify', sessionIds: ['s'], status: 'done' as const, progress: { phase: 'done', fraction: 1 }, queuedAt: '2020-01-01T00:00:00.000Z', startedAt: '2020-01-01T00:00:00.000Z', finishedAt: '2020-01-01T00:01:00.000Z', result: null, error: null };
  await store.saveJob(old);
  const q = new JobQueue({ logger: silentLogger(), store, keepFinished: 2, keepFinishedMs: 86400_000 });
  await q.restore();
  t.equal(q.get('old'), undefined, 'a job finished years ago is not listed after a restart');
  for (let i = 0; i < 4; i++) {
    q.enqueue(jobKey('verify', [`p${i}`]), { kind: 'verify', sessionIds: [`p${i}`], work: async () => i });
    await q.idle();
  }
  q.enqueue(jobKey('verify', ['last']), { kind: 'verify', sessionIds: ['last'], work: async () => 'last' });
  await q.idle();
  await q.flush();
  await tick();
  t.ok(q.list().length <= 3, `memory keeps the newest finished jobs (${q.list().length})`);
  t.ok((await store.jobs()).length <= 3, 'so does the store');
});
