// Why one file: the facade the API and the CLI talk to for every recording operation (listing,
// jobs, governance, verification, export); each operation's work lives in its own module under
// src/recording/ and this file only wires them with the audit log.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/database.ts';
import type { DatabaseSchema } from '../db/schema.ts';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { AuditLog } from '../domain/audit/auditLog.ts';
import { auditRecordingHead, auditUnanchoredHeads, recordingHeadProblems } from '../domain/audit/recordingHeads.ts';
import { localDate, systemClock, type Clock } from '../domain/common/clock.ts';
import type { Page, Paged } from '../domain/common/paging.ts';
import { SYSTEM_ACTOR, type Actor } from '../domain/common/roles.ts';
import { listExportDestinations, resolveExportDestination, type ExportDestination, type ExportPolicy } from './export/destinations.ts';
import { planExport } from './export/exportPlan.ts';
import { exportToDirectory, type ExportProgress } from './export/exportToDirectory.ts';
import { DISC_CAPACITY, exportToIso } from './export/exportToIso.ts';
import { checkSpace, requiredBytes } from './export/space.ts';
import { governed } from './governance/governanceTables.ts';
import { checkDeletion, checkHoldRelease, checkRetentionChange } from './governance/rules.ts';
import { describeRemovedFiles, dirBytes, tombstoneView, type TombstoneView } from './governance/tombstone.ts';
import { JobQueue, jobKey, type Job } from './jobs/jobQueue.ts';
import { ManifestFactsCache } from './listing/manifestFacts.ts';
import { readManifest } from './manifest/manifest.ts';
import { buildPlayableCopy } from './playable/playableCopy.ts';
import type { RecordableSession } from './recordableSession.ts';
import { SessionRecorder, sessionDirFor, type RecorderOptions, type RecorderState } from './recorder/sessionRecorder.ts';
import { recoverInterruptedRecordings } from './recovery/recoverInterrupted.ts';
import { verifyRecording, type VerifyReport } from './verify/verifyRecording.ts';
import type { LiveStore } from '../store/LiveStore.ts';
import { MemoryLiveStore } from '../store/MemoryLiveStore.ts';

export type { Job } from './jobs/jobQueue.ts';
import type { RecordingSummary } from '../contract/views/recording.ts';

export type { RecordingSummary };

export type RecordingServiceEvents = {
  /** Forwarded to the host by the signaling layer (recording on/off, disk warnings). */
  recordingStarted: [{ sessionId: string }];
  recordingStopped: [{ sessionId: string; status: string }];
  diskWarning: [{ sessionId: string; freeBytes: number }];
};

export interface RecordingServiceOptions {
  recorder: Omit<RecorderOptions, 'logger'>;
  logger: Logger;
  db?: Db;
  audit?: AuditLog;
  /** "Today" for retention (the province's local date); tests move it. */
  clock?: Clock;
  /** Default retention in days for new recordings (null: keep until someone decides). */
  retentionDays?: number | null;
  /** Build the playable copy automatically when a recording closes. */
  autoPlayable?: boolean;
  /**
   * Where exports may go (EXPORT_DESTINATIONS; see export/destinations.ts). Without it, or with no
   * roots, every export is refused with EXPORT_NOT_CONFIGURED.
   */
  exports?: { roots: readonly string[]; dataDir: string };
  /** The job queue's bounds (jobs/jobQueue.ts): one job at a time, 32 waiting, by default. */
  jobs?: { concurrency?: number; maxQueued?: number };
  /**
   * Where the recorder leases (one recorder per session across processes) and the jobs are kept
   * (the server: PostgreSQL, so both outlive a restart; default: memory).
   */
  store?: LiveStore;
  /** How long a recorder's lease outlives its last renewal (default 30 s; renewed every third of it). */
  leaseTtlMs?: number;
}

/** The lease that makes one process the recorder of a session. */
export const recorderLease = (sessionId: string) => `recorder:${sessionId}`;

/**
 * An export as the API asks for it: always to a destination the server lists, always encrypted
 * (the drive or disc leaves the building; it may show a denouncer's face and voice).
 */
export type ExportRequest =
  | { kind: 'directory'; sessionIds: string[]; destination: string; passphrase: string }
  | { kind: 'iso'; sessionIds: string[]; destination: string; media: keyof typeof DISC_CAPACITY; passphrase: string };

export const LIST_MAX_LIMIT = 200;

type Executor = Db | Transaction<DatabaseSchema>;

/**
 * The recording feature as the rest of the server sees it: starts and tracks recorders, anchors
 * manifests in the database, runs playable-copy, verification and export jobs through one queue,
 * retention, legal hold and deletion under the two-person rule (governance/rules.ts).
 */
export class RecordingService extends EventEmitter<RecordingServiceEvents> {
  readonly options: RecordingServiceOptions;
  readonly recordingsDir: string;
  /** The background jobs (playable, verify, export): one at a time, bounded. */
  readonly queue: JobQueue;
  /** Manifest figures for listings, cached by file identity. */
  readonly manifestFacts = new ManifestFactsCache();
  readonly #recorders = new Map<string, SessionRecorder>();
  /** Head anchors being written (DB row and audit record): verify waits for its session's. */
  readonly #anchoring = new Map<string, Promise<void>>();
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #store: LiveStore;
  readonly #leaseTtlMs: number;
  /** The leases of running recorders, released at stop (close() waits for them). */
  readonly #leases = new Map<string, { release(): Promise<void> }>();
  /**
   * This machine and recordings directory, the prefix of every lease holder this server writes: at
   * start-up a lease with this prefix belongs to a process that died here (see recoverInterrupted).
   */
  readonly leaseNode: string;

  constructor(options: RecordingServiceOptions) {
    super();
    this.options = options;
    this.recordingsDir = options.recorder.recordingsDir;
    this.#logger = options.logger.child({ component: 'recordings' });
    this.#clock = options.clock ?? systemClock;
    this.#store = options.store ?? new MemoryLiveStore();
    this.#leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.leaseNode = `${hostname()}:${this.recordingsDir}#`;
    this.queue = new JobQueue({ logger: this.#logger, store: this.#store, ...options.jobs });
  }

  /** At start-up: close recordings a crash left open (before any new recording starts). */
  async recoverInterrupted(): Promise<number> {
    const results = await recoverInterruptedRecordings(this.recordingsDir, this.#logger, (dir) => [...this.#recorders.values()].some((r) => r.dir === dir));
    for (const r of results) {
      await this.#anchor(r.sessionId, 'interrupted', r.headHash);
      // Its recorder died with an earlier process on this machine: its lease goes now, not after
      // its TTL, so the session's automatic recording resumes as soon as participants are back.
      const lease = await this.#store.lease(recorderLease(r.sessionId));
      if (lease?.holder.startsWith(this.leaseNode)) await this.#store.releaseLease(lease.name, lease.holder);
    }
    // Jobs the earlier process left queued or running fail with JOB_INTERRUPTED; finished ones are listed again.
    await this.queue.restore();
    // First start after the upgrade to keyed audit anchors (security review H4): heads only in the DB get one.
    if (this.options.audit && this.options.db) await auditUnanchoredHeads(this.options.audit, this.options.db, this.#logger);
    return results.length;
  }

  /**
   * Starts recording a session; `actor` is who asked (the chair, or `SYSTEM_ACTOR` for automatic
   * recording), written to the audit chain (security review H3). A failed audit write never stops
   * a recording from starting: it is logged loudly instead.
   */
  async startRecording(session: RecordableSession, actor: Actor = SYSTEM_ACTOR): Promise<RecorderState> {
    if (this.#recorders.has(session.id)) throw new TiepdanError('RECORDING_RUNNING', `session ${session.id} is already being recorded`);
    const db = this.options.db;
    if (db) {
      // A deleted recording stays deleted (its tombstone says so); the database refuses too (0410).
      const row = await db.selectFrom('recordings').select('status').where('session_id', '=', session.id).executeTakeFirst();
      if (row?.status === 'deleted') throw new TiepdanError('RECORDING_DELETED', `session ${session.id}'s recording was deleted; it cannot be recorded again`);
    }
    const lease = await this.#takeLease(session.id);
    let recorder: SessionRecorder;
    try {
      recorder = await SessionRecorder.start(session, { ...this.options.recorder, logger: this.options.logger });
    } catch (err) {
      await lease.release();
      throw err;
    }
    this.#recorders.set(session.id, recorder);
    if (db) {
      const retention = this.options.retentionDays ? sql<string>`(current_date + ${this.options.retentionDays}::int)` : null;
      await db
        .insertInto('recordings')
        .values({ session_id: session.id, status: 'recording', closed_at: null, head_hash: null, retention_until: retention as unknown as string | null, archived_at: null, deleted_at: null, deleted_by: null })
        .onConflict((oc) => oc.column('session_id').doUpdateSet({ status: 'recording', closed_at: null }))
        .execute();
    }
    recorder.on('diskWarning', (w) => this.emit('diskWarning', { sessionId: session.id, freeBytes: w.freeBytes }));
    recorder.once('stopped', ({ status, headHash }) => {
      this.#recorders.delete(session.id);
      void lease.release();
      const anchoring = this.#anchor(session.id, status, headHash).catch((err: unknown) => this.#logger.error({ err }, 'cannot anchor recording'));
      this.#anchoring.set(session.id, anchoring);
      void anchoring.finally(() => this.#anchoring.get(session.id) === anchoring && this.#anchoring.delete(session.id));
      this.emit('recordingStopped', { sessionId: session.id, status });
      if (this.options.autoPlayable !== false) {
        try {
          this.startPlayable(session.id);
        } catch (err) {
          // The queue is full: the copy can be asked for later (POST …/playable); the recording is safe.
          this.#logger.warn({ err, sessionId: session.id }, 'playable copy not queued');
        }
      }
    });
    this.emit('recordingStarted', { sessionId: session.id });
    // The room closed while this start waited (lease, database): its `ended` came before the
    // recorder listened, so the recording is closed now rather than left running on no room.
    if (session.closed === true) void recorder.stop('complete');
    await this.#audit(actor, 'recording.started', session.id, { dir: path.basename(recorder.dir) }).catch((err: unknown) =>
      this.#logger.error({ err, sessionId: session.id }, 'recording started but its audit row could not be written'),
    );
    return recorder.state;
  }

  /**
   * Stops a recording on request. The audit row (who, when) is written first: a stop that cannot be
   * audited is refused and the recording goes on (nothing is lost either way). Recording is
   * mandatory (N154 Art 24(1)): a person stops it only with a reason, which the audit keeps.
   */
  async stopRecording(sessionId: string, actor: Actor = SYSTEM_ACTOR, reason = ''): Promise<void> {
    const r = this.#recorders.get(sessionId);
    if (!r) throw new TiepdanError('RECORDING_NOT_RUNNING', `session ${sessionId} is not being recorded`);
    const why = reason.trim();
    if (actor.kind !== 'system' && why === '') {
      throw new TiepdanError('RECORDING_STOP_REASON_REQUIRED', 'recording is mandatory (NĐ 154/2026 Art 24): say why it stops', { details: [{ field: '/reason', message: 'required' }] });
    }
    await this.#audit(actor, 'recording.stopped', sessionId, { by: actor.kind, ...(why ? { reason: why } : {}) });
    await r.stop('stopped');
  }

  /**
   * One recorder per session, also across processes and restarts: the lease is taken before the
   * recorder starts, renewed while it runs and released when it stops. Held elsewhere: refused
   * with RECORDING_RUNNING (409), as a second start in this process is.
   */
  async #takeLease(sessionId: string): Promise<{ release(): Promise<void> }> {
    const name = recorderLease(sessionId);
    const holder = `${this.leaseNode}${process.pid}:${randomUUID()}`;
    await this.#store.acquireLease(name, holder, this.#leaseTtlMs).catch((err: unknown) => {
      if (err instanceof TiepdanError && err.code === 'LEASE_HELD') {
        throw new TiepdanError('RECORDING_RUNNING', `session ${sessionId} is being recorded by another server process`, { details: err.details, cause: err });
      }
      throw err;
    });
    const log = this.#logger.child({ sessionId, lease: name });
    const renew = setInterval(() => {
      this.#store.renewLease(name, holder, this.#leaseTtlMs).then(
        (held) => held || log.error('SECURITY: the recorder lease lapsed and was taken by another process; two recorders may now write this session'),
        (err: unknown) => log.warn({ err }, 'cannot renew the recorder lease'),
      );
    }, Math.max(50, Math.floor(this.#leaseTtlMs / 3)));
    renew.unref();
    let released: Promise<void> | undefined;
    const handle = {
      release: () => {
        clearInterval(renew);
        released ??= this.#store
          .releaseLease(name, holder)
          .catch((err: unknown) => log.warn({ err }, 'cannot release the recorder lease (it lapses by itself)'))
          .finally(() => this.#leases.get(sessionId) === handle && this.#leases.delete(sessionId));
        return released;
      },
    };
    this.#leases.set(sessionId, handle);
    return handle;
  }

  liveState(sessionId: string): RecorderState | null {
    return this.#recorders.get(sessionId)?.state ?? null;
  }

  async #anchor(sessionId: string, status: string, headHash: string): Promise<void> {
    if (!this.options.db) return;
    const bytes = await dirBytes(sessionDirFor(this.recordingsDir, sessionId));
    await this.options.db
      .insertInto('recordings')
      .values({ session_id: sessionId, status: status as 'complete', closed_at: new Date(), head_hash: headHash, bytes: String(bytes), retention_until: null, archived_at: null, deleted_at: null, deleted_by: null })
      .onConflict((oc) => oc.column('session_id').doUpdateSet({ status: status as 'complete', closed_at: new Date(), head_hash: headHash, bytes: String(bytes) }))
      .execute();
    // The same head in the keyed audit chain: the application's DB role can change the row, not forge this.
    if (this.options.audit) await auditRecordingHead(this.options.audit, this.options.db, sessionId, { status, headHash });
  }

  /** The province's local date ("today" for retention). */
  today(): string {
    return localDate(this.#clock());
  }

  /**
   * One page of recordings, newest first (by the database's start time; recordings only on disk
   * after those, by id). `exclude` leaves sessions out before paging (the denouncer rule). Only
   * the page's recordings are described, and their manifests only re-read when they changed.
   */
  async list(page: Page, filter: { exclude?: ReadonlySet<string> } = {}): Promise<Paged<RecordingSummary>> {
    const limit = Math.min(Math.max(1, page.limit), LIST_MAX_LIMIT);
    const offset = Math.max(0, page.offset);
    const rows = this.options.db ? await this.options.db.selectFrom('recordings').select('session_id').orderBy('started_at', 'desc').orderBy('session_id').execute() : [];
    const ids = rows.map((r) => r.session_id);
    const known = new Set(ids);
    const onDisk: string[] = [];
    for (const d of await readdir(this.recordingsDir, { withFileTypes: true }).catch(() => [])) if (d.isDirectory() && !known.has(d.name)) onDisk.push(d.name);
    const all = [...ids, ...onDisk.sort()].filter((id) => !filter.exclude?.has(id));
    const items = await this.#summaries(all.slice(offset, offset + limit));
    return { items, total: all.length, limit, offset };
  }

  async get(sessionId: string): Promise<RecordingSummary> {
    const [s] = await this.#summaries([sessionId]);
    if (s === undefined) throw new TiepdanError('RECORDING_NOT_FOUND', `no recording for session ${sessionId}`);
    return s;
  }

  async #summaries(ids: string[]): Promise<RecordingSummary[]> {
    if (ids.length === 0) return [];
    const db = this.options.db ? governed(this.options.db) : undefined;
    // The date as text: pg would turn a date into a local-midnight Date.
    const rows = db ? await db.selectFrom('recordings').selectAll().select(sql<string | null>`retention_until::text`.as('retention_until')).where('session_id', 'in', ids).execute() : [];
    const deleted = rows.filter((r) => r.status === 'deleted').map((r) => r.session_id);
    const tombstones =
      db && deleted.length > 0 ? await db.selectFrom('recording_tombstones').selectAll().select(sql<string | null>`retention_until::text`.as('retention_until')).where('session_id', 'in', deleted).execute() : [];
    const out: RecordingSummary[] = [];
    for (const sessionId of ids) {
      const row = rows.find((r) => r.session_id === sessionId);
      const dir = sessionDirFor(this.recordingsDir, sessionId);
      const manifest = await this.manifestFacts.get(path.join(dir, 'manifest.json'));
      if (!manifest && !row) continue;
      const tomb = tombstones.find((t) => t.session_id === sessionId);
      out.push({
        sessionId,
        status: row?.status === 'deleted' ? 'deleted' : (manifest?.status ?? row?.status ?? 'unknown'),
        startedAt: manifest?.startedAt ?? row?.started_at.toISOString() ?? null,
        closedAt: manifest?.endedAt ?? row?.closed_at?.toISOString() ?? null,
        headHash: manifest?.headHash ?? row?.head_hash ?? null,
        bytes: Number(row?.bytes ?? 0),
        retentionUntil: row?.retention_until ?? null,
        retentionSetBy: row?.retention_set_by ?? null,
        legalHold: row?.legal_hold ?? false,
        legalHoldReason: row?.legal_hold_reason ?? '',
        legalHoldSetBy: row?.legal_hold ? (row.legal_hold_set_by ?? null) : null,
        legalHoldRelease: row?.legal_hold_released_by
          ? { by: row.legal_hold_released_by, role: row.legal_hold_released_role, at: row.legal_hold_released_at?.toISOString() ?? null, reason: row.legal_hold_release_reason }
          : null,
        playable: manifest ? await stat(path.join(dir, 'playable', 'playable.mp4')).then(() => true, () => false) : false,
        live: this.liveState(sessionId),
        tombstone: tomb ? tombstoneView(tomb) : null,
      });
    }
    return out;
  }

  /** Re-hashes and re-checks the chain; the database's head hash catches a replaced manifest. */
  async verify(sessionId: string, actor?: Actor): Promise<VerifyReport> {
    const row = this.options.db ? await this.options.db.selectFrom('recordings').select(['head_hash', 'status']).where('session_id', '=', sessionId).executeTakeFirst() : undefined;
    const dir = await this.#existingDir(sessionId);
    const report = await verifyRecording(dir, row?.head_hash && row.status !== 'recording' ? { expectedHeadHash: row.head_hash } : {});
    await this.#checkAuditedHead(sessionId, dir, row?.head_hash ?? null, report);
    if (actor) await this.#audit(actor, 'recording.verified', sessionId, { ok: report.ok, problems: report.problems.length, headHash: report.headHash });
    return report;
  }

  /** Adds a problem when the manifest disagrees with the head hash in the keyed audit log (recordingHeads.ts). */
  async #checkAuditedHead(sessionId: string, dir: string, dbHead: string | null, report: VerifyReport): Promise<void> {
    if (!this.options.audit) return;
    await this.#anchoring.get(sessionId);
    const manifest = await readManifest(path.join(dir, 'manifest.json'));
    const settled = manifest.status !== 'recording' && this.liveState(sessionId) === null && !this.#anchoring.has(sessionId);
    const messages = await recordingHeadProblems(this.options.audit, { sessionId, manifestHead: manifest.headHash, entryHashes: manifest.entries.map((e) => e.hash), settled, dbHead });
    for (const message of messages) report.problems.push({ kind: 'anchor', file: 'manifest.json', message });
    report.ok = report.problems.length === 0;
  }

  /** Verification as a queued job (it re-hashes every segment: minutes of disk and CPU). */
  async startVerify(sessionId: string, actor: Actor): Promise<Job> {
    await this.#existingDir(sessionId);
    return this.queue.enqueue(jobKey('verify', [sessionId]), {
      kind: 'verify',
      sessionIds: [sessionId],
      work: (job) => {
        job.progress = { phase: 'hashing', fraction: 0 };
        return this.verify(sessionId, actor);
      },
    }).job;
  }

  async #existingDir(sessionId: string): Promise<string> {
    const dir = sessionDirFor(this.recordingsDir, sessionId);
    await stat(path.join(dir, 'manifest.json')).catch(() => {
      throw new TiepdanError('RECORDING_NOT_FOUND', `no recording for session ${sessionId}`);
    });
    return dir;
  }

  /** Appends a recording event to the shared audit log (a no-op without a database). */
  audit(actor: Actor, action: string, sessionId: string, after: unknown): Promise<void> {
    return this.#audit(actor, action, sessionId, after);
  }

  async #audit(actor: Actor, action: string, sessionId: string, after: unknown, executor?: Executor): Promise<void> {
    if (this.options.audit && this.options.db) await this.options.audit.append(executor ?? this.options.db, actor, { action, entity: 'recording', entityId: sessionId, after });
  }

  getJob(id: string): Job {
    const j = this.queue.get(id);
    if (!j) throw new TiepdanError('JOB_NOT_FOUND', `no job ${id}`);
    return j;
  }

  jobs(): Job[] {
    return this.queue.list();
  }

  /** Queues the playable copy; a request while one is queued or running joins it (they share the output file). */
  startPlayable(sessionId: string): Job {
    return this.queue.enqueue(jobKey('playable', [sessionId]), {
      kind: 'playable',
      sessionIds: [sessionId],
      work: (job) => buildPlayableCopy({ sessionDir: sessionDirFor(this.recordingsDir, sessionId), onProgress: (f) => (job.progress = { phase: 'encoding', fraction: f }) }),
    }).job;
  }

  #exportProgress(job: Job): (p: ExportProgress) => void {
    return (p) => (job.progress = { phase: p.phase, fraction: p.totalBytes > 0 ? Math.min(1, p.doneBytes / p.totalBytes) : 0, ...(p.disc ? { disc: p.disc } : {}) });
  }

  async #installationId(): Promise<string | null> {
    if (!this.options.db) return null;
    const row = await this.options.db.selectFrom('installation').select('installation_id').executeTakeFirst();
    return row?.installation_id ?? null;
  }

  #exportPolicy(): ExportPolicy {
    const e = this.options.exports;
    return { roots: e?.roots ?? [], dataDir: e?.dataDir ?? path.dirname(this.recordingsDir), recordingsDir: this.recordingsDir };
  }

  /** The drives an export can go to now (mounted at or below EXPORT_DESTINATIONS, not the recordings' disk). */
  exportDestinations(): Promise<{ roots: readonly string[]; destinations: ExportDestination[] }> {
    return listExportDestinations(this.#exportPolicy());
  }

  /**
   * Queues an export job into a new `tiepdan-export-<job id>` (or `tiepdan-iso-<job id>`)
   * directory on a listed destination. Refused at once (4xx) for a destination that is not
   * allowed, unknown sessions or one still recording; 409 EXPORT_ALREADY_QUEUED while the same
   * sessions are queued for the same drive; 503 JOBS_BUSY when the queue is full. Audit (security
   * review M4): `export.started` for every session before anything is copied, then
   * `export.completed` or `export.failed`.
   */
  async startExport(request: ExportRequest, actor: Actor): Promise<Job> {
    const destination = await resolveExportDestination(request.destination, this.#exportPolicy());
    const sessions = await planExport(this.recordingsDir, request.sessionIds);
    const kind = request.kind === 'directory' ? 'export-directory' : 'export-iso';
    const key = jobKey(kind, request.sessionIds, destination.path);
    const duplicate = () => {
      const d = this.queue.active(key);
      return d && new TiepdanError('EXPORT_ALREADY_QUEUED', `these sessions are already being exported to ${destination.path} (job ${d.id})`, { details: { jobId: d.id } });
    };
    const early = duplicate();
    if (early) throw early;
    this.queue.assertRoom();
    const id = randomUUID();
    const root = path.join(destination.path, `${request.kind === 'directory' ? 'tiepdan-export' : 'tiepdan-iso'}-${id}`);
    const what = {
      jobId: id,
      kind: request.kind,
      ...(request.kind === 'iso' ? { media: request.media } : {}),
      sessionIds: request.sessionIds,
      destination: { path: destination.path, device: destination.source, fsType: destination.fsType },
      root,
      encrypted: true,
    };
    for (const sessionId of request.sessionIds) await this.#audit(actor, 'export.started', sessionId, what);
    const onFailed = async (e: TiepdanError) => {
      // Whether the failed job left files on the drive (it removes its directory unless the drive went away).
      const partialCopyLeft = await lstat(root).then(() => true, () => false);
      for (const sessionId of request.sessionIds) await this.#audit(actor, 'export.failed', sessionId, { ...what, error: { code: e.code, message: e.message }, partialCopyLeft });
    };
    // The audit rows above took a while: the queue may have filled, or the same export arrived.
    const late = duplicate();
    let queued: { job: Job; joined: boolean } | undefined;
    let refusal: TiepdanError | undefined = late;
    if (!late) {
      try {
        queued = this.queue.enqueue(key, { id, kind, sessionIds: request.sessionIds, work: (job) => this.#runExport(job, request, actor, destination, sessions, what), onFailed });
      } catch (err) {
        refusal = err instanceof TiepdanError ? err : new TiepdanError('JOB_FAILED', (err as Error).message);
      }
    }
    if (refusal || !queued) {
      await onFailed(refusal ?? new TiepdanError('JOB_FAILED', 'not queued'));
      throw refusal;
    }
    return queued.job;
  }

  async #runExport(job: Job, request: ExportRequest, actor: Actor, destination: ExportDestination, sessions: Awaited<ReturnType<typeof planExport>>, what: { jobId: string }): Promise<unknown> {
    const id = what.jobId;
    checkSpace(destination, requiredBytes(sessions, request.kind === 'directory' ? { kind: 'directory' } : { kind: 'iso', media: request.media }, true, destination.blockSize));
    const common = {
      recordingsDir: this.recordingsDir,
      sessionIds: request.sessionIds,
      destination: destination.path,
      destinationDev: destination.dev,
      exportId: id,
      exportedBy: { userId: actor.id, role: actor.role ?? actor.kind },
      installationId: await this.#installationId(),
      // The audit chain's head, anchored now (after export.started): a copy of the anchor leaves the building.
      auditAnchor: (await this.options.audit?.anchorNow()) ?? null,
      passphrase: request.passphrase,
      onProgress: this.#exportProgress(job),
    };
    if (request.kind === 'directory') {
      const r = await exportToDirectory({ ...common, mediumDescription: `${destination.path} (${destination.source}, ${destination.fsType})` });
      for (const sessionId of request.sessionIds) {
        await this.#audit(actor, 'export.completed', sessionId, { ...what, exportId: r.exportId, files: r.files, bytes: r.bytes, custodySha256: r.custodySha256, manifestHeadHash: r.custody.sessions.find((s) => s.sessionId === sessionId)?.manifestHeadHash });
      }
      await this.#markArchived(request.sessionIds);
      return { exportId: r.exportId, root: r.root, files: r.files, bytes: r.bytes, custodySha256: r.custodySha256 };
    }
    const r = await exportToIso({ ...common, media: request.media });
    for (const sessionId of request.sessionIds) {
      await this.#audit(actor, 'export.completed', sessionId, { ...what, exportId: r.exportId, setId: r.setId, images: r.images.map((i) => ({ disc: i.disc, file: path.basename(i.file), sha256: i.sha256 })), custodySha256: r.custodySha256, manifestHeadHash: r.custody.sessions.find((s) => s.sessionId === sessionId)?.manifestHeadHash });
    }
    await this.#markArchived(request.sessionIds);
    return { exportId: r.exportId, setId: r.setId, root: r.root, images: r.images, burner: r.burner, custodySha256: r.custodySha256 };
  }

  async #markArchived(sessionIds: string[]): Promise<void> {
    if (this.options.db) await this.options.db.updateTable('recordings').set({ archived_at: new Date() }).where('session_id', 'in', sessionIds).execute();
  }

  #requireDb(): Db {
    if (!this.options.db) throw new TiepdanError('RECORDING_DB_REQUIRED', 'retention needs the database');
    return this.options.db;
  }

  /** The row of a recording that is not deleted, created if only the files exist yet. */
  async #governable(sessionId: string): Promise<RecordingSummary> {
    const s = await this.get(sessionId);
    if (s.status === 'deleted') throw new TiepdanError('RECORDING_DELETED', `session ${sessionId}'s recording was deleted`);
    await this.#requireDb()
      .insertInto('recordings')
      .values({ session_id: sessionId, status: s.status === 'recording' ? 'recording' : (s.status as 'complete'), closed_at: null, head_hash: s.headHash, retention_until: null, archived_at: null, deleted_at: null, deleted_by: null })
      .onConflict((oc) => oc.column('session_id').doNothing())
      .execute();
    return s;
  }

  /**
   * Sets a later retention date (rules.ts: never earlier, never today or a past date). The row is
   * locked while the rule is checked, so two requests cannot both pass against the old date.
   */
  async setRetention(sessionId: string, until: string, actor: Actor): Promise<RecordingSummary> {
    await this.#governable(sessionId);
    await this.#requireDb()
      .transaction()
      .execute(async (trx) => {
        const row = await governed(trx).selectFrom('recordings').select(sql<string | null>`retention_until::text`.as('retention_until')).where('session_id', '=', sessionId).forUpdate().executeTakeFirstOrThrow();
        checkRetentionChange(row.retention_until, until, this.today());
        if (row.retention_until === until) return;
        await governed(trx).updateTable('recordings').set({ retention_until: until, retention_set_by: actor.id, retention_set_at: this.#clock() }).where('session_id', '=', sessionId).execute();
        await this.#audit(actor, 'recording.retention_set', sessionId, { from: row.retention_until, to: until }, trx);
      });
    return this.get(sessionId);
  }

  /**
   * Sets a legal hold (any governing role) or releases it (rules.ts: only the inspectorate or the
   * reception board, in person; who, in which role, when and why is kept for the deletion check).
   */
  async setLegalHold(sessionId: string, hold: boolean, reason: string, actor: Actor): Promise<RecordingSummary> {
    if (!hold) checkHoldRelease(actor);
    await this.#governable(sessionId);
    await this.#requireDb()
      .transaction()
      .execute(async (trx) => {
        const row = await governed(trx).selectFrom('recordings').select(['legal_hold', 'legal_hold_reason']).where('session_id', '=', sessionId).forUpdate().executeTakeFirstOrThrow();
        const now = this.#clock();
        if (hold) {
          await governed(trx).updateTable('recordings').set({ legal_hold: true, legal_hold_reason: reason, legal_hold_set_by: actor.id, legal_hold_set_at: now }).where('session_id', '=', sessionId).execute();
          await this.#audit(actor, 'recording.legal_hold_set', sessionId, { reason, previousReason: row.legal_hold ? row.legal_hold_reason : null }, trx);
          return;
        }
        // Releasing a recording that is not held changes nothing and records nothing.
        if (!row.legal_hold) return;
        await governed(trx)
          .updateTable('recordings')
          .set({ legal_hold: false, legal_hold_reason: '', legal_hold_released_by: actor.id, legal_hold_released_role: actor.role ?? actor.kind, legal_hold_released_at: now, legal_hold_release_reason: reason })
          .where('session_id', '=', sessionId)
          .execute();
        await this.#audit(actor, 'recording.legal_hold_released', sessionId, { reason, holdReason: row.legal_hold_reason, releasedByRole: actor.role ?? actor.kind }, trx);
      });
    return this.get(sessionId);
  }

  /**
   * Deletes a recording's files under the two-person rule (rules.ts: admin only, not under legal
   * hold, retention date passed, the deleter neither released the hold nor set that date, no job
   * running on it). The tombstone and the audit row are written, and the row marked deleted, in
   * one transaction with the row locked, before a single file is removed.
   */
  async deleteRecording(sessionId: string, actor: Actor, reason: string): Promise<TombstoneView> {
    const db = this.#requireDb();
    const audit = this.options.audit;
    if (!audit) throw new TiepdanError('RECORDING_AUDIT_REQUIRED', 'deletion needs the audit log');
    const s = await this.get(sessionId);
    const dir = sessionDirFor(this.recordingsDir, sessionId);
    const state = (r: { status: string; legal_hold: boolean; legal_hold_reason: string; retention_until: string | null; retention_set_by: string | null; legal_hold_released_by: string | null }) => ({
      status: r.status,
      live: this.liveState(sessionId) !== null,
      legalHold: r.legal_hold,
      legalHoldReason: r.legal_hold_reason,
      retentionUntil: r.retention_until,
      retentionSetBy: r.retention_set_by,
      legalHoldReleasedBy: r.legal_hold_released_by,
      activeJobs: this.queue.activeFor(sessionId).length,
    });
    const today = this.today();
    const first = await governed(db).selectFrom('recordings').selectAll().select(sql<string | null>`retention_until::text`.as('retention_until')).where('session_id', '=', sessionId).executeTakeFirst();
    // Checked before hashing the manifest (cheap refusals first), and again under the row lock.
    checkDeletion(sessionId, state(first ?? { status: s.status, legal_hold: false, legal_hold_reason: '', retention_until: null, retention_set_by: null, legal_hold_released_by: null }), actor, today);
    const files = await describeRemovedFiles(dir, s.status);
    const tombstone = await db.transaction().execute(async (trx) => {
      const g = governed(trx);
      const row = await g.selectFrom('recordings').selectAll().select(sql<string | null>`retention_until::text`.as('retention_until')).where('session_id', '=', sessionId).forUpdate().executeTakeFirstOrThrow();
      checkDeletion(sessionId, state(row), actor, today);
      const values = {
        session_id: sessionId,
        deleted_at: this.#clock(),
        deleted_by: actor.id,
        deleted_by_label: actor.label,
        deleted_by_role: actor.role ?? actor.kind,
        reason,
        recording_status: files.recordingStatus,
        started_at: files.startedAt,
        ended_at: files.endedAt,
        head_hash: files.headHash ?? row.head_hash,
        manifest_sha256: files.manifestSha256,
        entries: files.entries,
        segments: files.segments,
        bytes: String(files.bytes),
        retention_until: row.retention_until,
        retention_set_by: row.retention_set_by,
        legal_hold_released_by: row.legal_hold_released_by,
        audit_seq: null,
      };
      const view = tombstoneView(values);
      const { auditSeq: _none, ...after } = view;
      const record = await audit.append(trx, actor, { action: 'recording.deleted', entity: 'recording', entityId: sessionId, after });
      await g.insertInto('recording_tombstones').values({ ...values, audit_seq: String(record.seq) }).execute();
      await g.updateTable('recordings').set({ status: 'deleted', deleted_at: values.deleted_at, deleted_by: actor.id }).where('session_id', '=', sessionId).execute();
      return { ...view, auditSeq: record.seq };
    });
    await rm(dir, { recursive: true, force: true });
    return tombstone;
  }

  /**
   * Recordings due for archiving (closed, never exported to an archive medium) or disposal
   * (retention date passed, no legal hold): the annual report lists these. `asOf` is a local date.
   */
  async dueForArchivingOrDisposal(asOf: string = this.today()): Promise<{ archiving: string[]; disposal: string[] }> {
    const db = this.#requireDb();
    const disposal = await db.selectFrom('recordings').select('session_id').where('status', '!=', 'deleted').where('legal_hold', '=', false).where('retention_until', '<=', asOf).orderBy('session_id').execute();
    const archiving = await db.selectFrom('recordings').select('session_id').where('status', 'in', ['complete', 'interrupted', 'stopped', 'disk-full']).where('archived_at', 'is', null).orderBy('session_id').execute();
    return { archiving: archiving.map((r) => r.session_id), disposal: disposal.map((r) => r.session_id) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#recorders.values()].map((r) => r.stop('stopped')));
    await Promise.all([...this.#leases.values()].map((l) => l.release()));
    await this.queue.close();
  }
}
