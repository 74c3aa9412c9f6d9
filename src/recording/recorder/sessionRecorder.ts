import { EventEmitter } from 'node:events';
import { readdir, rm, stat, chmod } from 'node:fs/promises';
import path from 'node:path';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
import { DiskMonitor, type DiskLevel, type DiskThresholds } from '../disk/diskMonitor.ts';
import { atomicWriteFile, ensureDir, fsyncFile, sha256File, FILE_MODE } from '../fsutil.ts';
import { ManifestWriter, type ClosedStatus } from '../manifest/manifest.ts';
import type { RecordableSession, RecordedProducer } from '../recordableSession.ts';
import { repairPartialSegment } from './repair.ts';
import { packetSpan } from './ffprobe.ts';
import { TrackRecorder, type CompletedSegment } from './trackRecorder.ts';

export interface RecorderOptions {
  /** DATA_DIR/recordings */
  recordingsDir: string;
  segmentSeconds: number;
  disk: DiskThresholds;
  diskCheckMs: number;
  portMin: number;
  portMax: number;
  logger: Logger;
  ffmpegPath?: string;
}

export type SessionRecorderEvents = {
  started: [];
  segment: [{ trackId: string; file: string; duration: number }];
  /** FFmpeg of a track died and was restarted; the manifest records the gap. */
  gap: [{ trackId: string; from: number; to: number }];
  diskWarning: [{ freeBytes: number }];
  /** Recording ended; the session may go on (disk full) or have ended. */
  stopped: [{ status: ClosedStatus; headHash: string }];
};

export interface TrackState {
  trackId: string;
  peerId: string;
  source: RecordedProducer['source'];
  kind: 'audio' | 'video';
  running: boolean;
  pid: number | undefined;
  /** The port FFmpeg receives this track's RTP on (RTCP on the next one). */
  port: number;
  segments: number;
}

export interface RecorderState {
  sessionId: string;
  status: 'starting' | 'recording' | 'stopping' | 'stopped';
  closedStatus: ClosedStatus | undefined;
  startedAt: string;
  disk: { level: DiskLevel; freeBytes: number };
  tracks: TrackState[];
}

/** Keeps file names free of anything personal or awkward: ids only, a safe character set. */
export function safeName(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return s.length > 0 ? s : 'x';
}

export function sessionDirFor(recordingsDir: string, sessionId: string): string {
  return path.join(recordingsDir, safeName(sessionId));
}

interface Track {
  recorder: TrackRecorder;
  recorded: RecordedProducer;
  segments: number;
  /** Set when FFmpeg died: the gap runs from here to the first segment of the new FFmpeg. */
  gapFrom: number | undefined;
}

/**
 * Records one session: follows its producers (also those added later), runs one TrackRecorder per
 * producer, and keeps the hash-chained manifest. Every completed segment is fsynced and hashed
 * before its entry is appended (and fsynced) to the manifest journal, so after any crash the
 * manifest on disk lists only complete, hashed segments; the cost per segment does not grow with
 * the recording (security review M11). Watches free disk space and stops cleanly at the floor.
 */
export class SessionRecorder extends EventEmitter<SessionRecorderEvents> {
  readonly session: RecordableSession;
  readonly dir: string;
  readonly workDir: string;
  readonly options: RecorderOptions;
  readonly manifest: ManifestWriter;
  readonly disk: DiskMonitor;
  readonly #tracks = new Map<string, Track>();
  readonly #byProducer = new Map<string, string>();
  readonly #takenPorts = new Set<number>();
  /** Track ids of earlier parts of this session's recording (their directories are taken). */
  readonly #usedTrackIds = new Set<string>();
  readonly #logger: Logger;
  #queue: Promise<void> = Promise.resolve();
  #status: RecorderState['status'] = 'starting';
  #closedStatus: ClosedStatus | undefined;
  #stopping: Promise<void> | undefined;
  readonly #startedAt = new Date().toISOString();
  readonly #onProducerAdded = (p: RecordedProducer) => void this.#addTrack(p).catch((err: unknown) => this.#logger.error({ err }, 'cannot record producer'));
  readonly #onProducerClosed = (producerId: string) => void this.#endTrack(producerId, 'producer closed');
  readonly #onEnded = () => void this.stop('complete');

  private constructor(session: RecordableSession, options: RecorderOptions, manifest?: ManifestWriter) {
    super();
    this.session = session;
    this.options = options;
    this.dir = sessionDirFor(options.recordingsDir, session.id);
    this.workDir = path.join(this.dir, '.work');
    this.manifest = manifest ?? new ManifestWriter(path.join(this.dir, 'manifest.json'), session.id);
    this.disk = new DiskMonitor(options.recordingsDir, options.disk);
    this.#logger = options.logger.child({ component: 'recorder', sessionId: session.id });
  }

  /**
   * Starts recording a session. Refuses (RECORDING_DISK_LOW) when free space is already below the
   * floor, and (RECORDING_OPEN) when the session's manifest is still open (recording elsewhere, or
   * a crash not yet recovered). A session recorded before (stopped by the host) continues in the
   * same manifest after a `resumed` entry, with new track directories.
   */
  static async start(session: RecordableSession, options: RecorderOptions): Promise<SessionRecorder> {
    await ensureDir(options.recordingsDir);
    const manifestFile = path.join(sessionDirFor(options.recordingsDir, session.id), 'manifest.json');
    const existing = await stat(manifestFile).then(() => ManifestWriter.load(manifestFile), () => undefined);
    if (existing && !existing.closed) throw new TiepdanError('RECORDING_OPEN', `the recording of session ${session.id} is still open`);
    const rec = new SessionRecorder(session, options, existing);
    const level = await rec.disk.check();
    if (level === 'floor') {
      throw new TiepdanError('RECORDING_DISK_LOW', `only ${Math.round(rec.disk.free / 1e6)} MB free under the recordings directory; recording not started`);
    }
    await ensureDir(rec.dir);
    await ensureDir(rec.workDir);
    if (existing) {
      for (const e of existing.entries) if (e.type === 'track') rec.#usedTrackIds.add(e.trackId);
      rec.manifest.append({ type: 'resumed' });
    } else {
      rec.manifest.append({ type: 'opened', sessionId: session.id, segmentSeconds: options.segmentSeconds, timing: 'arrival-wallclock' });
    }
    await rec.manifest.flush();
    rec.disk.on('level', (l, free) => rec.#onDiskLevel(l, free));
    if (level === 'warning') rec.#onDiskLevel(level, rec.disk.free);
    rec.disk.start(options.diskCheckMs);
    session.on('producerAdded', rec.#onProducerAdded);
    session.on('producerClosed', rec.#onProducerClosed);
    session.once('ended', rec.#onEnded);
    await Promise.all(session.producers().map((p) => rec.#addTrack(p)));
    rec.#status = 'recording';
    rec.#logger.info({ tracks: rec.#tracks.size }, 'recording started');
    rec.emit('started');
    return rec;
  }

  get state(): RecorderState {
    return {
      sessionId: this.session.id,
      status: this.#status,
      closedStatus: this.#closedStatus,
      startedAt: this.#startedAt,
      disk: { level: this.disk.level, freeBytes: this.disk.free },
      tracks: [...this.#tracks].map(([trackId, t]) => ({
        trackId,
        peerId: t.recorded.peerId,
        source: t.recorded.source,
        kind: t.recorded.producer.kind,
        running: t.recorder.running,
        pid: t.recorder.pid,
        port: t.recorder.port,
        segments: t.segments,
      })),
    };
  }

  /** Serialises manifest work: segments are listed in the order they completed. */
  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(work).catch((err: unknown) => this.#logger.error({ err }, 'manifest update failed'));
    return this.#queue;
  }

  async #addTrack(recorded: RecordedProducer): Promise<void> {
    if (this.#stopping || this.#byProducer.has(recorded.producer.id) || recorded.producer.closed) return;
    const peer = safeName(recorded.peerId);
    let n = 1;
    while (this.#tracks.has(`${peer}.${recorded.source}-${n}`) || this.#usedTrackIds.has(`${peer}.${recorded.source}-${n}`)) n++;
    const trackId = `${peer}.${recorded.source}-${n}`;
    const relDir = path.join(peer, `${recorded.source}-${n}`);
    const dir = path.join(this.dir, relDir);
    await ensureDir(path.dirname(dir));
    await ensureDir(dir);
    const recorder = new TrackRecorder({
      router: this.session.router,
      recorded,
      trackId,
      dir,
      workDir: this.workDir,
      segmentSeconds: this.options.segmentSeconds,
      portMin: this.options.portMin,
      portMax: this.options.portMax,
      takenPorts: this.#takenPorts,
      logger: this.#logger,
      ffmpegPath: this.options.ffmpegPath,
    });
    const track: Track = { recorder, recorded, segments: 0, gapFrom: undefined };
    this.#tracks.set(trackId, track);
    this.#byProducer.set(recorded.producer.id, trackId);
    recorder.on('segment', (seg) => void this.#enqueue(() => this.#onSegment(trackId, track, seg)));
    recorder.on('died', (info) => void this.#enqueue(() => this.#onDied(trackId, track, info)));
    recorder.on('restarted', () => void this.#writePids());
    recorder.on('stopped', (reason) => void this.#enqueue(async () => {
      if (!this.manifest.closed) this.manifest.append({ type: 'trackEnded', trackId, reason });
      await this.manifest.flush();
    }));
    await recorder.start();
    this.manifest.append({
      type: 'track',
      trackId,
      peerId: recorded.peerId,
      label: recorded.label,
      source: recorded.source,
      kind: recorded.producer.kind,
      codec: recorder.codec,
      producerId: recorded.producer.id,
      dir: relDir,
    });
    await this.#enqueue(() => this.manifest.flush());
    await this.#writePids();
  }

  /** FFmpeg pids, so that recovery after a server crash can stop orphaned FFmpegs. */
  async #writePids(): Promise<void> {
    const pids = Object.fromEntries([...this.#tracks].map(([id, t]) => [id, t.recorder.pid]));
    await atomicWriteFile(path.join(this.workDir, 'pids.json'), JSON.stringify({ serverPid: process.pid, ffmpeg: pids })).catch(() => undefined);
  }

  async #onSegment(trackId: string, track: Track, seg: CompletedSegment): Promise<void> {
    await chmod(seg.file, FILE_MODE);
    await fsyncFile(seg.file);
    const { sha256, size } = await sha256File(seg.file);
    if (track.gapFrom !== undefined) {
      this.manifest.append({ type: 'gap', trackId, from: track.gapFrom, to: seg.start, reason: 'FFmpeg restarted' });
      this.emit('gap', { trackId, from: track.gapFrom, to: seg.start });
      track.gapFrom = undefined;
    }
    const duration = Math.round((seg.end - seg.start) * 1000) / 1000;
    this.manifest.append({ type: 'segment', trackId, file: path.relative(this.dir, seg.file), size, sha256, start: seg.start, end: seg.end, duration, ...(seg.senderReport ? { senderReport: seg.senderReport } : {}) });
    track.segments++;
    await this.manifest.flush();
    this.emit('segment', { trackId, file: path.relative(this.dir, seg.file), duration });
  }

  async #onDied(trackId: string, track: Track, info: { at: number; lastEnd: number | undefined; epochZero: number | undefined; partialFile: string; reason: string }): Promise<void> {
    let gapFrom = info.lastEnd ?? info.at;
    const outcome = await repairPartialSegment(info.partialFile, path.join(this.dir, 'quarantine', trackId));
    if (outcome.status !== 'missing') {
      this.manifest.append({ type: 'quarantined', trackId, file: path.relative(this.dir, outcome.quarantined.file), size: outcome.quarantined.size, sha256: outcome.quarantined.sha256, reason: info.reason });
    }
    if (outcome.status === 'repaired' && info.epochZero !== undefined) {
      // The partial continues where the last listed segment ended (its first packet may carry a stale pts).
      const end = info.epochZero + outcome.end;
      const start = Math.min(info.lastEnd ?? info.epochZero + outcome.first, end);
      this.manifest.append({ type: 'segment', trackId, file: path.relative(this.dir, outcome.file), size: outcome.size, sha256: outcome.sha256, start, end, duration: Math.round((end - start) * 1000) / 1000, repaired: true });
      track.segments++;
      gapFrom = end;
    }
    track.gapFrom = gapFrom;
    await this.manifest.flush();
  }

  async #endTrack(producerId: string, reason: string): Promise<void> {
    const trackId = this.#byProducer.get(producerId);
    const track = trackId ? this.#tracks.get(trackId) : undefined;
    if (!track) return;
    await track.recorder.stop(reason);
  }

  #onDiskLevel(level: DiskLevel, free: number): void {
    this.#logger.warn({ level, freeBytes: free }, 'recordings disk level');
    if (!this.manifest.closed) {
      this.manifest.append({ type: 'disk', level, freeBytes: free });
      void this.#enqueue(() => this.manifest.flush());
    }
    if (level === 'warning') this.emit('diskWarning', { freeBytes: free });
    if (level === 'floor') void this.stop('disk-full');
  }

  /**
   * After FFmpeg stopped, a segment file may remain unlisted: opened at a cut just as the media
   * ended (a header, no packets: removed) or cut short by a forced kill (repaired and listed).
   */
  async #sweepLeftovers(): Promise<void> {
    const listed = new Set(this.manifest.entries.filter((e) => e.type === 'segment').map((e) => (e as { file: string }).file));
    for (const [trackId, t] of this.#tracks) {
      const dir = t.recorder.options.dir;
      for (const name of (await readdir(dir)).filter((n) => /^seg-\d+\.mkv$/.test(n)).sort()) {
        const file = path.join(dir, name);
        if (listed.has(path.relative(this.dir, file))) continue;
        const size = (await stat(file)).size;
        if (size < 4096 && !(await packetSpan(file))) {
          await rm(file);
          continue;
        }
        const lastEnd = this.manifest.entries.filter((e) => e.type === 'segment' && e.trackId === trackId).map((e) => (e as { end: number }).end).at(-1);
        const outcome = await repairPartialSegment(file, path.join(this.dir, 'quarantine', trackId));
        if (outcome.status === 'missing') continue;
        this.manifest.append({ type: 'quarantined', trackId, file: path.relative(this.dir, outcome.quarantined.file), size: outcome.quarantined.size, sha256: outcome.quarantined.sha256, reason: 'left unlisted when FFmpeg stopped' });
        if (outcome.status === 'repaired' && lastEnd !== undefined) {
          const end = lastEnd + (outcome.end - outcome.first);
          this.manifest.append({ type: 'segment', trackId, file: path.relative(this.dir, outcome.file), size: outcome.size, sha256: outcome.sha256, start: lastEnd, end, duration: Math.round((end - lastEnd) * 1000) / 1000, repaired: true });
        }
      }
    }
  }

  /** Stops every track cleanly, lists their last segments and closes the manifest. */
  stop(status: ClosedStatus = 'stopped'): Promise<void> {
    this.#stopping ??= (async () => {
      this.#status = 'stopping';
      this.session.off('producerAdded', this.#onProducerAdded);
      this.session.off('producerClosed', this.#onProducerClosed);
      this.session.off('ended', this.#onEnded);
      this.disk.close();
      await Promise.all([...this.#tracks.values()].map((t) => t.recorder.stop(status)));
      await this.#enqueue(async () => {
        await this.#sweepLeftovers();
        this.manifest.append({ type: 'closed', status });
        await this.manifest.flush();
      });
      await this.#queue;
      // Zero-byte leftovers (FFmpeg opens the next segment before it has data) carry nothing.
      await removeEmptySegments(this.dir, this.manifest.entries.filter((e) => e.type === 'segment').map((e) => (e as { file: string }).file));
      await rm(this.workDir, { recursive: true, force: true });
      this.#closedStatus = status;
      this.#status = 'stopped';
      this.#logger.info({ status, headHash: this.manifest.headHash }, 'recording closed');
      this.emit('stopped', { status, headHash: this.manifest.headHash });
    })();
    return this.#stopping;
  }
}

/** Deletes empty, unlisted segment files: they contain no media and would show as "added" files. */
export async function removeEmptySegments(sessionDir: string, listed: string[]): Promise<void> {
  const keep = new Set(listed);
  const walk = async (dir: string): Promise<void> => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) {
        if (ent.name !== '.work' && ent.name !== 'quarantine') await walk(full);
      } else if (/^seg-\d+\.mkv$/.test(ent.name) && !keep.has(path.relative(sessionDir, full)) && (await stat(full)).size === 0) {
        await rm(full);
      }
    }
  };
  await walk(sessionDir);
}
