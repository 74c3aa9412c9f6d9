import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../fsutil.ts';
import { readManifest } from '../manifest/manifest.ts';
import type { RecordingTombstonesTable } from './governanceTables.ts';
import type { TombstoneView } from '../../contract/views/recording.ts';

export type { TombstoneView };

/** The facts about the files, taken just before they are removed. */
export interface RemovedFiles {
  recordingStatus: string;
  startedAt: string | null;
  endedAt: string | null;
  headHash: string | null;
  manifestSha256: string | null;
  entries: number;
  segments: number;
  bytes: number;
}

/**
 * Describes a recording directory for its tombstone. The manifest itself is not copied: it names
 * the participants (personal data that disposal is meant to remove). Its head hash and the
 * SHA-256 of manifest.json are enough to show that an exported copy (which carries the manifest)
 * is the recording that was deleted.
 */
export async function describeRemovedFiles(dir: string, fallbackStatus: string): Promise<RemovedFiles> {
  const file = path.join(dir, 'manifest.json');
  const manifest = await readManifest(file).catch(() => undefined);
  const manifestSha256 = manifest ? (await sha256File(file)).sha256 : null;
  return {
    recordingStatus: manifest?.status ?? fallbackStatus,
    startedAt: manifest?.startedAt ?? null,
    endedAt: manifest?.endedAt ?? null,
    headHash: manifest?.headHash ?? null,
    manifestSha256,
    entries: manifest?.entries.length ?? 0,
    segments: manifest ? manifest.entries.filter((e) => e.type === 'segment').length : 0,
    bytes: await dirBytes(dir),
  };
}

export function tombstoneView(r: Omit<RecordingTombstonesTable, 'deleted_at'> & { deleted_at: Date }): TombstoneView {
  return {
    deletedAt: r.deleted_at.toISOString(),
    deletedBy: { id: r.deleted_by, label: r.deleted_by_label, role: r.deleted_by_role },
    reason: r.reason,
    recordingStatus: r.recording_status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    headHash: r.head_hash,
    manifestSha256: r.manifest_sha256,
    entries: r.entries,
    segments: r.segments,
    bytes: Number(r.bytes),
    retentionUntil: r.retention_until,
    retentionSetBy: r.retention_set_by,
    legalHoldReleasedBy: r.legal_hold_released_by,
    auditSeq: r.audit_seq === null ? null : Number(r.audit_seq),
  };
}

export async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) n += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return n;
}
