import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TiepdanError } from '../../errors.ts';
import { readManifest, type ManifestFile } from '../manifest/manifest.ts';
import { sessionDirFor } from '../recorder/sessionRecorder.ts';

export interface PlannedFile {
  sessionId: string;
  /** Absolute source path. */
  src: string;
  /** Path inside the export: <session>/<relative path>. */
  dest: string;
  size: number;
  /** SHA-256 from the manifest (undefined for the manifest itself, hashed when copied). */
  sha256: string | undefined;
}

export interface PlannedSession {
  sessionId: string;
  headHash: string;
  status: ManifestFile['status'];
  files: PlannedFile[];
  bytes: number;
}

/** What an export of these sessions contains: every listed segment, quarantined file, the manifest and the playable copy. */
export async function planExport(recordingsDir: string, sessionIds: string[]): Promise<PlannedSession[]> {
  const out: PlannedSession[] = [];
  for (const sessionId of sessionIds) {
    const dir = sessionDirFor(recordingsDir, sessionId);
    const manifestFile = path.join(dir, 'manifest.json');
    let manifest: ManifestFile;
    try {
      manifest = await readManifest(manifestFile);
    } catch {
      throw new TiepdanError('RECORDING_NOT_FOUND', `no recording for session ${sessionId}`);
    }
    if (manifest.status === 'recording') throw new TiepdanError('RECORDING_IN_PROGRESS', `session ${sessionId} is still being recorded`);
    const base = path.basename(dir);
    const files: PlannedFile[] = [];
    for (const e of manifest.entries as Record<string, unknown>[]) {
      if ((e.type === 'segment' || e.type === 'quarantined') && typeof e.file === 'string') {
        files.push({ sessionId, src: path.join(dir, e.file), dest: path.join(base, e.file), size: Number(e.size), sha256: String(e.sha256) });
      }
    }
    files.push({ sessionId, src: manifestFile, dest: path.join(base, 'manifest.json'), size: (await stat(manifestFile)).size, sha256: undefined });
    for (const name of ['playable.mp4', 'playable.json']) {
      const f = path.join(dir, 'playable', name);
      const s = await stat(f).catch(() => undefined);
      if (s) files.push({ sessionId, src: f, dest: path.join(base, 'playable', name), size: s.size, sha256: undefined });
    }
    out.push({ sessionId, headHash: manifest.headHash, status: manifest.status, files, bytes: files.reduce((n, f) => n + f.size, 0) });
  }
  return out;
}
