import { TiepdanError } from '../errors.ts';

/**
 * What the live side must remember across a restart (issue 12 item 3), behind one interface so
 * that tests use memory and the server PostgreSQL (the default), and a second node later shares
 * it (LiveKit's `ServiceStore` with `localstore`/`redisstore`, pkg/service/interfaces.go).
 *
 * The process keeps its hot copies (rooms, sockets, running jobs); this store holds only the facts
 * whose loss changes what a user may do: an ejected invitation must not come back after a
 * restart, a session the host ended must stay ended, one process records a session (a lease that
 * lapses when its holder dies), a finished export is still listed with its result, and a restart
 * does not hand a password guesser a fresh set of attempts.
 */
export interface LiveStore {
  /** The host removed the holder of this invitation (its token id) from the session, for good. */
  eject(sessionId: string, tokenId: string): Promise<void>;
  isEjected(sessionId: string, tokenId: string): Promise<boolean>;
  /** The host ended the session from the room (the control API's status follows separately). */
  markEnded(sessionId: string): Promise<void>;
  isEnded(sessionId: string): Promise<boolean>;

  /**
   * Takes the lease `name` for `holder` until `ttlMs` from now. Taken again by its own holder it is
   * renewed; held by another holder and not yet expired it is refused with LEASE_HELD (a
   * TiepdanError whose details are the `LeaseInfo` of the current holder).
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<void>;
  /** Pushes the expiry on; false when the lease is no longer this holder's (it lapsed and was taken). */
  renewLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (a no-op when `holder` does not hold it). */
  releaseLease(name: string, holder: string): Promise<void>;
  /** The current, unexpired holder of `name`, if any. */
  lease(name: string): Promise<LeaseInfo | undefined>;

  /** Writes a job as it is now (insert or replace). */
  saveJob(job: StoredJob): Promise<void>;
  /** Every stored job, oldest queued first. */
  jobs(): Promise<StoredJob[]>;
  /**
   * Marks every job still `queued` or `running` as failed with `error` (their process died, so
   * nobody will finish them); returns how many.
   */
  failUnfinishedJobs(error: { code: string; message: string }, at: Date): Promise<number>;
  /** Forgets finished jobs beyond the newest `keep` and those finished before `before`; returns how many. */
  pruneJobs(options: { keep: number; before: Date }): Promise<number>;

  /**
   * Counts one attempt for `key` in `scope` in a fixed window of `windowMs` (a new window opens
   * when the last one has closed); returns the window as it is after counting.
   */
  hitAttempt(scope: string, key: string, windowMs: number, now: number): Promise<AttemptWindow>;
  /** The open window for `key` in `scope` without counting (undefined when none is open at `now`). */
  attempts(scope: string, key: string, now: number): Promise<AttemptWindow | undefined>;
  /** Forgets windows closed before `now`. */
  pruneAttempts(now: number): Promise<void>;

  /** Releases what the store holds (a pool it owns); the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Who holds a lease and until when (milliseconds since the epoch). */
export interface LeaseInfo {
  name: string;
  holder: string;
  expiresAt: number;
}

/** A fixed window of attempts: how many so far, and when it closes (ms since the epoch). */
export interface AttemptWindow {
  count: number;
  resetsAt: number;
}

export type StoredJobStatus = 'queued' | 'running' | 'done' | 'failed';

/**
 * A background job as the store keeps it (src/recording/jobs/jobQueue.ts owns its meaning). Times
 * are ISO strings, as the API shows them; `result` and `progress` are whatever JSON the job gave.
 */
export interface StoredJob {
  id: string;
  kind: string;
  sessionIds: string[];
  status: StoredJobStatus;
  progress: unknown;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: unknown;
  error: { code: string; message: string } | null;
}

/** The refusal of `acquireLease` while another holder's lease runs (409: try again when it ends). */
export function leaseHeld(info: LeaseInfo): TiepdanError {
  return new TiepdanError('LEASE_HELD', `${info.name} is held by ${info.holder} until ${new Date(info.expiresAt).toISOString()}`, { details: info });
}
