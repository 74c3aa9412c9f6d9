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
