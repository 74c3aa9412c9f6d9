import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { LiveStore, StoredJob } from '../../store/LiveStore.ts';
import { MemoryLiveStore } from '../../store/MemoryLiveStore.ts';
import type { Job } from '../../contract/views/recording.ts';

export type JobKind = 'playable' | 'verify' | 'export-directory' | 'export-iso';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

/** The job as GET …/jobs/:id answers it: its type is the contract's (src/contract/views/recording.ts). */
export type { Job };

export interface JobSpec {
  kind: JobKind;
  sessionIds: string[];
  id?: string;
  work: (job: Job) => Promise<unknown>;
  /** Runs before the job is marked failed, so whoever sees `failed` already finds its audit row. */
  onFailed?: (error: TiepdanError) => Promise<void>;
  /** Runs before the job is marked done (an audit row, for example). */
  onDone?: (result: unknown) => Promise<void>;
}

export interface JobQueueOptions {
  logger: Logger;
  /** Jobs that run at once (1: one FFmpeg encode, hash pass or copy on a 2-core host at a time). */
  concurrency?: number;
  /** Jobs that may wait; one more is refused with 503 JOBS_BUSY. */
  maxQueued?: number;
  /** Finished jobs kept for GET …/jobs/:id (the oldest go first). */
  keepFinished?: number;
  /** Finished jobs older than this are forgotten too (default 30 days). */
  keepFinishedMs?: number;
  /** Where jobs are written through, so they are still listed after a restart (default: memory). */
  store?: LiveStore;
  /** A running job's progress is written at most this often (default 2 s): a copy reports per chunk. */
  progressWriteMs?: number;
}

export const DEFAULT_MAX_QUEUED = 32;

/** What a job that was queued or running when its process died becomes at the next start. */
export const JOB_INTERRUPTED = { code: 'JOB_INTERRUPTED', message: 'the server stopped or restarted while this job was queued or running; an export it was writing may be incomplete: start it again' } as const;

const JOB_KINDS = ['playable', 'verify', 'export-directory', 'export-iso'] as const satisfies readonly JobKind[];

/** A stored job read back (the database is an edge: a row from another version is checked, not trusted). */
const storedJobSchema = z.object({
  id: z.string(),
  kind: z.enum(JOB_KINDS),
  sessionIds: z.array(z.string()),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  progress: z.object({ phase: z.string(), fraction: z.number(), disc: z.number().optional() }),
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  result: z.unknown(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

const snapshot = (job: Job): StoredJob => structuredClone(job);

/** Same kind and same sessions: one job does it for everyone who asks (exports add their drive). */
export function jobKey(kind: JobKind, sessionIds: readonly string[], extra = ''): string {
  return `${kind}\u0000${[...sessionIds].sort().join('\u0000')}\u0000${extra}`;
}

/**
 * The one queue for the recording feature's heavy background work: playable copies (libx264),
 * verification (re-hashing every segment) and exports (copy, encrypt, read back, xorriso). Live
 * media (mediasoup, the recorder's FFmpegs) shares two cores with these, so they run one at a time
 * in arrival order (security review M13), a request for work already queued or running joins it,
 * and the queue is bounded so that a loop of requests is answered with 503 instead of piling up.
 */
export class JobQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly #keepFinished: number;
  readonly #keepFinishedMs: number;
  readonly #logger: Logger;
  readonly #store: LiveStore;
  readonly #progressWriteMs: number;
  /** Each job's writes, in order (a later state never lands before an earlier one). */
  readonly #writes = new Map<string, Promise<void>>();
  /** The progress last written per running job, to skip writes when nothing moved. */
  readonly #writtenProgress = new Map<string, string>();
  #progressTimer: NodeJS.Timeout | undefined;
  readonly #jobs = new Map<string, Job>();
  readonly #pending: { job: Job; key: string; spec: JobSpec }[] = [];
  /** Unfinished jobs by key (queued or running). */
  readonly #active = new Map<string, Job>();
  #running = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: JobQueueOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.maxQueued = Math.max(0, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.#keepFinished = options.keepFinished ?? 200;
    this.#keepFinishedMs = options.keepFinishedMs ?? 30 * 86400_000;
    this.#logger = options.logger;
    this.#store = options.store ?? new MemoryLiveStore();
    this.#progressWriteMs = Math.max(100, options.progressWriteMs ?? 2000);
  }

  /**
   * At start-up, before any job is queued: jobs a previous process left queued or running are
   * marked failed with JOB_INTERRUPTED (nobody will finish them), old finished ones are pruned,
   * and the rest are listed again. Returns how many were interrupted.
   */
  async restore(now: Date = new Date()): Promise<number> {
    const interrupted = await this.#store.failUnfinishedJobs(JOB_INTERRUPTED, now);
    await this.#store.pruneJobs({ keep: this.#keepFinished, before: new Date(now.getTime() - this.#keepFinishedMs) });
    for (const stored of await this.#store.jobs()) {
      const parsed = storedJobSchema.safeParse(stored);
      if (!parsed.success) {
        this.#logger.warn({ job: stored.id, problems: parsed.error.issues.length }, 'stored recording job not understood; not listed');
        continue;
      }
      if (!this.#jobs.has(parsed.data.id)) this.#jobs.set(parsed.data.id, parsed.data);
    }
    if (interrupted > 0) this.#logger.warn({ interrupted }, 'recording jobs the previous process left unfinished are marked failed (JOB_INTERRUPTED)');
    return interrupted;
  }

  /** Resolves when every state written so far is in the store (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes.values());
  }

  /** Writes the job as it is now, after its earlier writes; a failed write is logged, never thrown. */
  #persist(job: Job): void {
    const state = snapshot(job);
    if (job.status === 'running') this.#writtenProgress.set(job.id, JSON.stringify(job.progress));
    else this.#writtenProgress.delete(job.id);
    const previous = this.#writes.get(job.id) ?? Promise.resolve();
    const write = previous
      .then(() => this.#store.saveJob(state))
      .catch((err: unknown) => this.#logger.error({ err, job: job.id }, 'cannot store the recording job'))
      .finally(() => this.#writes.get(job.id) === write && this.#writes.delete(job.id));
    this.#writes.set(job.id, write);
  }

  /** Running jobs' progress, written at a bounded rate (one timer for the queue, only while one runs). */
  #watchProgress(): void {
    if (this.#progressTimer !== undefined) return;
    this.#progressTimer = setInterval(() => {
      let running = 0;
      for (const job of this.#jobs.values()) {
        if (job.status !== 'running') continue;
        running++;
        if (this.#writtenProgress.get(job.id) !== JSON.stringify(job.progress)) this.#persist(job);
      }
      if (running === 0) {
        clearInterval(this.#progressTimer);
        this.#progressTimer = undefined;
      }
    }, this.#progressWriteMs);
    this.#progressTimer.unref();
  }

  /** The unfinished job for this key, if any (so a caller can join it or refuse a duplicate). */
  active(key: string): Job | undefined {
    return this.#active.get(key);
  }

  /** Unfinished jobs that touch a session (deletion waits for none of them: it is refused). */
  activeFor(sessionId: string): Job[] {
    return [...this.#active.values()].filter((j) => j.sessionIds.includes(sessionId));
  }

  get queued(): number {
    return this.#pending.length;
  }

  get running(): number {
    return this.#running;
  }

  /** Throws JOBS_BUSY when one more job would not fit (checked again by enqueue). */
  assertRoom(): void {
    if (this.#pending.length >= this.maxQueued) {
      throw new TiepdanError('JOBS_BUSY', `${this.#pending.length} recording jobs are waiting already; try again when they are done`, { details: { queued: this.#pending.length, running: this.#running } });
    }
  }

  /**
   * Queues a job under `key`. When a job with that key is unfinished it is returned instead
   * (`joined: true`) and `spec.work` never runs.
   */
  enqueue(key: string, spec: JobSpec): { job: Job; joined: boolean } {
    const existing = this.#active.get(key);
    if (existing !== undefined) return { job: existing, joined: true };
    this.assertRoom();
    const job: Job = {
      id: spec.id ?? randomUUID(),
      kind: spec.kind,
      sessionIds: [...spec.sessionIds],
      status: 'queued',
      progress: { phase: 'queued', fraction: 0 },
      queuedAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    };
    this.#jobs.set(job.id, job);
    this.#active.set(key, job);
    this.#pending.push({ job, key, spec });
    this.#persist(job);
    this.#prune();
    // Started on the next tick: the caller gets its job back (and can answer 202) first.
    setImmediate(() => this.#pump());
    return { job, joined: false };
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  list(): Job[] {
    return [...this.#jobs.values()];
  }

  /** Resolves when nothing is queued or running (shutdown, tests). */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Shutdown: queued jobs are dropped (failed with SHUTTING_DOWN), the running one is waited for up
   * to `timeoutMs`, so that no FFmpeg or copy still writes into DATA_DIR after the server stopped.
   */
  async close(timeoutMs = 15_000): Promise<void> {
    for (const { job, key } of this.#pending.splice(0)) {
      Object.assign(job, { status: 'failed', finishedAt: new Date().toISOString(), error: { code: 'SHUTTING_DOWN', message: 'the server stopped before this job started' } });
      this.#active.delete(key);
      this.#persist(job);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    clearInterval(this.#progressTimer);
    this.#progressTimer = undefined;
    // A job still running past the timeout stays `running` in the store: the next start marks it interrupted.
    await this.flush();
  }

  #pump(): void {
    while (this.#running < this.concurrency) {
      const next = this.#pending.shift();
      if (next === undefined) break;
      this.#running++;
      void this.#run(next.job, next.key, next.spec).finally(() => {
        this.#running--;
        this.#pump();
      });
    }
    if (this.#running === 0 && this.#pending.length === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  async #run(job: Job, key: string, spec: JobSpec): Promise<void> {
    Object.assign(job, { status: 'running', startedAt: new Date().toISOString(), progress: { phase: 'starting', fraction: 0 } });
    this.#persist(job);
    this.#watchProgress();
    try {
      const result = await spec.work(job);
      await spec.onDone?.(result).catch((err: unknown) => this.#logger.error({ err, job: job.id }, 'cannot record the finished job'));
      Object.assign(job, { status: 'done', result, finishedAt: new Date().toISOString(), progress: { ...job.progress, phase: 'done', fraction: 1 } });
      this.#persist(job);
    } catch (err) {
      const e = err instanceof TiepdanError ? err : new TiepdanError('JOB_FAILED', (err as Error).message, { cause: err });
      this.#logger.error({ err, job: job.id, kind: job.kind }, 'recording job failed');
      await spec.onFailed?.(e).catch((auditErr: unknown) => this.#logger.error({ err: auditErr, job: job.id }, 'cannot audit the failed job'));
      Object.assign(job, { status: 'failed', finishedAt: new Date().toISOString(), error: { code: e.code, message: e.message } });
      this.#persist(job);
    } finally {
      this.#active.delete(key);
    }
  }

  /** Keeps memory and the store bounded: the oldest finished jobs are forgotten first, and those past their age. */
  #prune(): void {
    const finished = [...this.#jobs.values()].filter((j) => j.status === 'done' || j.status === 'failed').sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));
    const cutoff = new Date(Date.now() - this.#keepFinishedMs);
    const over = Math.max(0, finished.length - this.#keepFinished);
    const gone = finished.filter((j, i) => i < over || (j.finishedAt ?? '') < cutoff.toISOString());
    for (const j of gone) this.#jobs.delete(j.id);
    if (gone.length > 0) {
      // After the writes in flight, so a job that just finished is counted as finished there too.
      void this.flush()
        .then(() => this.#store.pruneJobs({ keep: this.#keepFinished, before: cutoff }))
        .catch((err: unknown) => this.#logger.warn({ err }, 'cannot prune stored recording jobs'));
    }
  }
}
