import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { AuditLog } from '../domain/audit/auditLog.ts';
import type { Actor } from '../domain/common/roles.ts';
import { listExportDestinations, resolveExportDestination, type ExportDestination, type ExportPolicy } from './export/destinations.ts';
import { planExport } from './export/exportPlan.ts';
import { exportToDirectory, type ExportProgress } from './export/exportToDirectory.ts';
import { DISC_CAPACITY, exportToIso } from './export/exportToIso.ts';
import { checkSpace, requiredBytes } from './export/space.ts';
import { readManifest } from './manifest/manifest.ts';
import { buildPlayableCopy } from './playable/playableCopy.ts';
import type { RecordableSession } from './recordableSession.ts';
import { SessionRecorder, sessionDirFor, type RecorderOptions, type RecorderState } from './recorder/sessionRecorder.ts';
import { recoverInterruptedRecordings } from './recovery/recoverInterrupted.ts';
import { verifyRecording, type VerifyReport } from './verify/verifyRecording.ts';

export interface Job {
  id: string;
  kind: 'playable' | 'export-directory' | 'export-iso';
  sessionIds: string[];
  status: 'running' | 'done' | 'failed';
  progress: { phase: string; fraction: number; disc?: number };
  startedAt: string;
  finishedAt: string | null;
  result: unknown;
  error: { code: string; message: string } | null;
}

export interface RecordingSummary {
  sessionId: string;
  status: string;
  startedAt: string | null;
  closedAt: string | null;
  headHash: string | null;
  bytes: number;
  retentionUntil: string | null;
  legalHold: boolean;
  legalHoldReason: string;
  playable: boolean;
  live: RecorderState | null;
}

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
  /** Default retention in days for new recordings (null: keep until someone decides). */
  retentionDays?: number | null;
  /** Build the playable copy automatically when a recording closes. */
  autoPlayable?: boolean;
  /**
   * Where exports may go (EXPORT_DESTINATIONS; see export/destinations.ts). Without it, or with no
   * roots, every export is refused with EXPORT_NOT_CONFIGURED.
   */
  exports?: { roots: readonly string[]; dataDir: string };
}

/**
 * An export as the API asks for it: always to a destination the server lists, always encrypted
 * (the drive or disc leaves the building; it may show a denouncer's face and voice).
 */
export type ExportRequest =
  | { kind: 'directory'; sessionIds: string[]; destination: string; passphrase: string }
  | { kind: 'iso'; sessionIds: string[]; destination: string; media: keyof typeof DISC_CAPACITY; passphrase: string };

/**
 * The recording feature as the rest of the server sees it: starts and tracks recorders, anchors
 * manifests in the database, runs playable-copy and export jobs in the background, verification,
 * retention, legal hold and audited deletion.
 */
export class RecordingService extends EventEmitter<RecordingServiceEvents> {
  readonly options: RecordingServiceOptions;
  readonly recordingsDir: string;
  readonly #recorders = new Map<string, SessionRecorder>();
  readonly #jobs = new Map<string, Job>();
  readonly #logger: Logger;

  constructor(options: RecordingServiceOptions) {
    super();
    this.options = options;
    this.recordingsDir = options.recorder.recordingsDir;
    this.#logger = options.logger.child({ component: 'recordings' });
  }

  /** At start-up: close recordings a crash left open (before any new recording starts). */
  async recoverInterrupted(): Promise<number> {
    const results = await recoverInterruptedRecordings(this.recordingsDir, this.#logger, (dir) => [...this.#recorders.values()].some((r) => r.dir === dir));
    for (const r of results) await this.#anchor(r.sessionId, 'interrupted', r.headHash);
    return results.length;
  }

  async startRecording(session: RecordableSession): Promise<RecorderState> {
    if (this.#recorders.has(session.id)) throw new TiepdanError('RECORDING_RUNNING', `session ${session.id} is already being recorded`, { status: 409 });
    const recorder = await SessionRecorder.start(session, { ...this.options.recorder, logger: this.options.logger });
    this.#recorders.set(session.id, recorder);
    if (this.options.db) {
      const retention = this.options.retentionDays ? sql<string>`(current_date + ${this.options.retentionDays}::int)` : null;
      await this.options.db
        .insertInto('recordings')
        .values({ session_id: session.id, status: 'recording', closed_at: null, head_hash: null, retention_until: retention as unknown as string | null, archived_at: null, deleted_at: null, deleted_by: null })
        .onConflict((oc) => oc.column('session_id').doUpdateSet({ status: 'recording', closed_at: null }))
        .execute();
    }
    recorder.on('diskWarning', (w) => this.emit('diskWarning', { sessionId: session.id, freeBytes: w.freeBytes }));
    recorder.once('stopped', ({ status, headHash }) => {
      this.#recorders.delete(session.id);
      void this.#anchor(session.id, status, headHash).catch((err: unknown) => this.#logger.error({ err }, 'cannot anchor recording'));
      this.emit('recordingStopped', { sessionId: session.id, status });
      if (this.options.autoPlayable !== false) this.startPlayable(session.id);
    });
    this.emit('recordingStarted', { sessionId: session.id });
    return recorder.state;
  }

  async stopRecording(sessionId: string): Promise<void> {
    const r = this.#recorders.get(sessionId);
    if (!r) throw new TiepdanError('RECORDING_NOT_RUNNING', `session ${sessionId} is not being recorded`, { status: 409 });
    await r.stop('stopped');
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
  }

  async list(): Promise<RecordingSummary[]> {
    const ids = new Set<string>();
    for (const d of await readdir(this.recordingsDir, { withFileTypes: true }).catch(() => [])) if (d.isDirectory()) ids.add(d.name);
    const rows = this.options.db ? await this.options.db.selectFrom('recordings').selectAll().execute() : [];
    for (const r of rows) ids.add(r.session_id);
    const out: RecordingSummary[] = [];
    for (const id of [...ids].sort()) out.push(await this.get(id).catch(() => undefined as never));
    return out.filter(Boolean);
  }

  async get(sessionId: string): Promise<RecordingSummary> {
    // The date as text: pg would turn a date into a local-midnight Date.
    const row = this.options.db
      ? await this.options.db.selectFrom('recordings').selectAll().select(sql<string | null>`retention_until::text`.as('retention_until')).where('session_id', '=', sessionId).executeTakeFirst()
      : undefined;
    const dir = sessionDirFor(this.recordingsDir, sessionId);
    const manifest = await readManifest(path.join(dir, 'manifest.json')).catch(() => undefined);
    if (!manifest && !row) throw new TiepdanError('RECORDING_NOT_FOUND', `no recording for session ${sessionId}`, { status: 404 });
    const playable = await stat(path.join(dir, 'playable', 'playable.mp4')).then(() => true, () => false);
    return {
      sessionId,
      status: row?.status === 'deleted' ? 'deleted' : (manifest?.status ?? row?.status ?? 'unknown'),
      startedAt: manifest?.startedAt ?? row?.started_at.toISOString() ?? null,
      closedAt: manifest?.endedAt ?? null,
      headHash: manifest?.headHash ?? row?.head_hash ?? null,
      bytes: Number(row?.bytes ?? 0),
      retentionUntil: row?.retention_until ?? null,
      legalHold: row?.legal_hold ?? false,
      legalHoldReason: row?.legal_hold_reason ?? '',
      playable,
      live: this.liveState(sessionId),
    };
  }

  /** Re-hashes and re-checks the chain; the database's head hash catches a replaced manifest. */
  async verify(sessionId: string, actor?: Actor): Promise<VerifyReport> {
    const row = this.options.db ? await this.options.db.selectFrom('recordings').select(['head_hash', 'status']).where('session_id', '=', sessionId).executeTakeFirst() : undefined;
    const dir = sessionDirFor(this.recordingsDir, sessionId);
    await stat(path.join(dir, 'manifest.json')).catch(() => {
      throw new TiepdanError('RECORDING_NOT_FOUND', `no recording for session ${sessionId}`, { status: 404 });
    });
    const report = await verifyRecording(dir, row?.head_hash && row.status !== 'recording' ? { expectedHeadHash: row.head_hash } : {});
    if (actor) await this.#audit(actor, 'recording.verified', sessionId, { ok: report.ok, problems: report.problems.length, headHash: report.headHash });
    return report;
  }

  /** Appends a recording event to the shared audit log (a no-op without a database). */
  audit(actor: Actor, action: string, sessionId: string, after: unknown): Promise<void> {
    return this.#audit(actor, action, sessionId, after);
  }

  async #audit(actor: Actor, action: string, sessionId: string, after: unknown): Promise<void> {
    if (this.options.audit && this.options.db) await this.options.audit.append(this.options.db, actor, { action, entity: 'recording', entityId: sessionId, after });
  }

  getJob(id: string): Job {
    const j = this.#jobs.get(id);
    if (!j) throw new TiepdanError('JOB_NOT_FOUND', `no job ${id}`, { status: 404 });
    return j;
  }

  jobs(): Job[] {
    return [...this.#jobs.values()];
  }

  /**
   * Runs `work` in the background. `onFailed` (the export's failure audit) runs before the job is
   * marked failed, so whoever sees `failed` can already find the audit row.
   */
  #runJob(kind: Job['kind'], sessionIds: string[], work: (job: Job) => Promise<unknown>, options: { id?: string; onFailed?: (e: TiepdanError) => Promise<void> } = {}): Job {
    const job: Job = { id: options.id ?? randomUUID(), kind, sessionIds, status: 'running', progress: { phase: 'queued', fraction: 0 }, startedAt: new Date().toISOString(), finishedAt: null, result: null, error: null };
    this.#jobs.set(job.id, job);
    void work(job).then(
      (result) => Object.assign(job, { status: 'done', result, finishedAt: new Date().toISOString(), progress: { ...job.progress, phase: 'done', fraction: 1 } }),
      async (err: unknown) => {
        const e = err instanceof TiepdanError ? err : new TiepdanError('JOB_FAILED', (err as Error).message);
        this.#logger.error({ err, job: job.id, kind }, 'recording job failed');
        await options.onFailed?.(e).catch((auditErr: unknown) => this.#logger.error({ err: auditErr, job: job.id }, 'cannot audit the failed job'));
        Object.assign(job, { status: 'failed', finishedAt: new Date().toISOString(), error: { code: e.code, message: e.message } });
      },
    );
    return job;
  }

  startPlayable(sessionId: string): Job {
    // One build per session at a time (they share the output file): a second request joins it.
    const running = [...this.#jobs.values()].find((j) => j.kind === 'playable' && j.status === 'running' && j.sessionIds[0] === sessionId);
    if (running !== undefined) return running;
    return this.#runJob('playable', [sessionId], (job) =>
      buildPlayableCopy({ sessionDir: sessionDirFor(this.recordingsDir, sessionId), onProgress: (f) => (job.progress = { phase: 'encoding', fraction: f }) }),
    );
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
   * Starts an export job into a new `tiepdan-export-<job id>` (or `tiepdan-iso-<job id>`) directory
   * on a listed destination. Refused at once (4xx) for a destination that is not allowed, unknown
   * sessions or one still recording. Audit (security review M4): `export.started` for every
   * session before anything is copied, then `export.completed` or `export.failed`.
   */
  async startExport(request: ExportRequest, actor: Actor): Promise<Job> {
    const destination = await resolveExportDestination(request.destination, this.#exportPolicy());
    const sessions = await planExport(this.recordingsDir, request.sessionIds);
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
    const kind = request.kind === 'directory' ? 'export-directory' : 'export-iso';
    return this.#runJob(kind, request.sessionIds, async (job) => {
      checkSpace(destination, requiredBytes(sessions, request.kind === 'directory' ? { kind: 'directory' } : { kind: 'iso', media: request.media }, true, destination.blockSize));
      const common = {
        recordingsDir: this.recordingsDir,
        sessionIds: request.sessionIds,
        destination: destination.path,
        destinationDev: destination.dev,
        exportId: id,
        exportedBy: { userId: actor.id, role: actor.role ?? actor.kind },
        installationId: await this.#installationId(),
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
    }, { id, onFailed });
  }

  async #markArchived(sessionIds: string[]): Promise<void> {
    if (this.options.db) await this.options.db.updateTable('recordings').set({ archived_at: new Date() }).where('session_id', 'in', sessionIds).execute();
  }

  #requireDb(): Db {
    if (!this.options.db) throw new TiepdanError('RECORDING_DB_REQUIRED', 'retention needs the database', { status: 500 });
    return this.options.db;
  }

  async setRetention(sessionId: string, until: string | null, actor: Actor): Promise<RecordingSummary> {
    const before = await this.get(sessionId);
    await this.#ensureRow(sessionId, before);
    await this.#requireDb().updateTable('recordings').set({ retention_until: until }).where('session_id', '=', sessionId).execute();
    await this.#audit(actor, 'recording.retention_set', sessionId, { from: before.retentionUntil, to: until });
    return this.get(sessionId);
  }

  async setLegalHold(sessionId: string, hold: boolean, reason: string, actor: Actor): Promise<RecordingSummary> {
    const before = await this.get(sessionId);
    await this.#ensureRow(sessionId, before);
    await this.#requireDb().updateTable('recordings').set({ legal_hold: hold, legal_hold_reason: hold ? reason : '' }).where('session_id', '=', sessionId).execute();
    await this.#audit(actor, hold ? 'recording.legal_hold_set' : 'recording.legal_hold_released', sessionId, { reason });
    return this.get(sessionId);
  }

  async #ensureRow(sessionId: string, s: RecordingSummary): Promise<void> {
    await this.#requireDb()
      .insertInto('recordings')
      .values({ session_id: sessionId, status: s.status === 'recording' ? 'recording' : (s.status as 'complete'), closed_at: null, head_hash: s.headHash, retention_until: null, archived_at: null, deleted_at: null, deleted_by: null })
      .onConflict((oc) => oc.column('session_id').doNothing())
      .execute();
  }

  /** Deletes a recording's files; refused under legal hold, before its retention date, or while recording. */
  async deleteRecording(sessionId: string, actor: Actor, reason: string): Promise<void> {
    const s = await this.get(sessionId);
    if (s.live || s.status === 'recording') throw new TiepdanError('RECORDING_IN_PROGRESS', 'stop the recording first', { status: 409 });
    if (s.legalHold) throw new TiepdanError('RECORDING_LEGAL_HOLD', `session ${sessionId} is under legal hold: ${s.legalHoldReason}`, { status: 409 });
    if (!s.retentionUntil || s.retentionUntil > new Date().toISOString().slice(0, 10)) {
      throw new TiepdanError('RECORDING_RETENTION_ACTIVE', `session ${sessionId} must be kept ${s.retentionUntil ? `until ${s.retentionUntil}` : '(no retention date set)'}`, { status: 409 });
    }
    await this.#audit(actor, 'recording.deleted', sessionId, { reason, headHash: s.headHash, bytes: s.bytes });
    await rm(sessionDirFor(this.recordingsDir, sessionId), { recursive: true, force: true });
    await this.#requireDb().updateTable('recordings').set({ status: 'deleted', deleted_at: new Date(), deleted_by: actor.id }).where('session_id', '=', sessionId).execute();
  }

  /**
   * Recordings due for archiving (closed, never exported to an archive medium) or disposal
   * (retention date passed, no legal hold): the annual report lists these.
   */
  async dueForArchivingOrDisposal(asOf: Date = new Date()): Promise<{ archiving: string[]; disposal: string[] }> {
    const db = this.#requireDb();
    const day = asOf.toISOString().slice(0, 10);
    const disposal = await db.selectFrom('recordings').select('session_id').where('status', '!=', 'deleted').where('legal_hold', '=', false).where('retention_until', '<=', day).orderBy('session_id').execute();
    const archiving = await db.selectFrom('recordings').select('session_id').where('status', 'in', ['complete', 'interrupted', 'stopped', 'disk-full']).where('archived_at', 'is', null).orderBy('session_id').execute();
    return { archiving: archiving.map((r) => r.session_id), disposal: disposal.map((r) => r.session_id) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#recorders.values()].map((r) => r.stop('stopped')));
  }
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) n += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return n;
}
