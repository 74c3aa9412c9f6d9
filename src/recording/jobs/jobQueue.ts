import { randomUUID } from 'node:crypto';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
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
}

export const DEFAULT_MAX_QUEUED = 32;

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
  readonly #logger: Logger;
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
    this.#logger = options.logger;
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
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
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
    try {
      const result = await spec.work(job);
      await spec.onDone?.(result).catch((err: unknown) => this.#logger.error({ err, job: job.id }, 'cannot record the finished job'));
      Object.assign(job, { status: 'done', result, finishedAt: new Date().toISOString(), progress: { ...job.progress, phase: 'done', fraction: 1 } });
    } catch (err) {
      const e = err instanceof TiepdanError ? err : new TiepdanError('JOB_FAILED', (err as Error).message, { cause: err });
      this.#logger.error({ err, job: job.id, kind: job.kind }, 'recording job failed');
      await spec.onFailed?.(e).catch((auditErr: unknown) => this.#logger.error({ err: auditErr, job: job.id }, 'cannot audit the failed job'));
      Object.assign(job, { status: 'failed', finishedAt: new Date().toISOString(), error: { code: e.code, message: e.message } });
    } finally {
      this.#active.delete(key);
    }
  }

  /** Keeps memory bounded: the oldest finished jobs are forgotten first. */
  #prune(): void {
    const finished = [...this.#jobs.values()].filter((j) => j.status === 'done' || j.status === 'failed');
    for (const j of finished.slice(0, Math.max(0, finished.length - this.#keepFinished))) this.#jobs.delete(j.id);
  }
}
