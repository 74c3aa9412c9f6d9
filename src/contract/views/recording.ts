import { z } from 'zod';

/** Free space on the recordings' disk: `warning` tells operators, `floor` stops the recording. */
export const DISK_LEVELS = ['ok', 'warning', 'floor'] as const;

/** How a manifest was closed (src/recording/manifest/manifest.ts, the `closed` entry). */
export const CLOSED_STATUSES = ['complete', 'interrupted', 'stopped', 'disk-full'] as const;

/** One FFmpeg recording one track. */
export const recordedTrackView = z.object({
  trackId: z.string(),
  peerId: z.string(),
  source: z.string(),
  kind: z.enum(['audio', 'video']),
  running: z.boolean(),
  pid: z.number().int().optional(),
  /** The port FFmpeg receives this track's RTP on (RTCP on the next one). */
  port: z.number().int(),
  segments: z.number().int(),
});

/** The recorder of a session while it runs (`live` in a RecordingSummary). */
export const recorderStateView = z.object({
  sessionId: z.string(),
  status: z.enum(['starting', 'recording', 'stopping', 'stopped']),
  closedStatus: z.enum(CLOSED_STATUSES).optional(),
  startedAt: z.string(),
  disk: z.object({ level: z.enum(DISK_LEVELS), freeBytes: z.number() }),
  tracks: z.array(recordedTrackView),
});
export type RecorderStateView = z.infer<typeof recorderStateView>;

/** What a deleted recording leaves behind (GET /api/v1/recordings/:session shows it). */
export const tombstoneView = z.object({
  deletedAt: z.string(),
  deletedBy: z.object({ id: z.string(), label: z.string(), role: z.string() }),
  reason: z.string(),
  recordingStatus: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  headHash: z.string().nullable(),
  manifestSha256: z.string().nullable(),
  entries: z.number().int(),
  segments: z.number().int(),
  bytes: z.number(),
  retentionUntil: z.string().nullable(),
  retentionSetBy: z.string().nullable(),
  legalHoldReleasedBy: z.string().nullable(),
  auditSeq: z.number().int().nullable(),
});
export type TombstoneView = z.infer<typeof tombstoneView>;

/** A session's recording (`GET /api/v1/recordings`, `/recordings/:session`). */
export const recordingSummary = z.object({
  sessionId: z.string(),
  status: z.string(),
  startedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  headHash: z.string().nullable(),
  bytes: z.number(),
  retentionUntil: z.string().nullable(),
  /** Who set the retention date in force (null: the default at recording start). */
  retentionSetBy: z.string().nullable(),
  legalHold: z.boolean(),
  legalHoldReason: z.string(),
  legalHoldSetBy: z.string().nullable(),
  /** The last release of a legal hold: who (and in which role), when, why. */
  legalHoldRelease: z.object({ by: z.string(), role: z.string().nullable(), at: z.string().nullable(), reason: z.string() }).nullable(),
  playable: z.boolean(),
  live: recorderStateView.nullable(),
  /** What a deleted recording left behind; null unless status is `deleted`. */
  tombstone: tombstoneView.nullable(),
});
export type RecordingSummary = z.infer<typeof recordingSummary>;

export const JOB_KINDS = ['playable', 'verify', 'export-directory', 'export-iso'] as const;
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;

/** A background recording job (playable copy, verification, export): `GET /api/v1/recordings/jobs/:id`. */
export const jobView = z.object({
  id: z.string(),
  kind: z.enum(JOB_KINDS),
  sessionIds: z.array(z.string()),
  /** Jobs run one at a time on the server: `queued` until their turn. */
  status: z.enum(JOB_STATUSES),
  progress: z.object({ phase: z.string(), fraction: z.number(), disc: z.number().int().optional() }),
  queuedAt: z.string(),
  /** When the job left the queue (null while queued). */
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  result: z.unknown(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type Job = z.infer<typeof jobView>;
