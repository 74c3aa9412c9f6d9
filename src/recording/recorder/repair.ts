import { execFile } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDir, fsyncDir, fsyncFile, sha256File } from '../fsutil.ts';
import { packetSpan } from './ffprobe.ts';

const run = promisify(execFile);

export type RepairOutcome =
  | { status: 'missing' }
  | { status: 'repaired'; file: string; size: number; sha256: string; first: number; end: number; quarantined: QuarantinedFile }
  | { status: 'quarantined'; quarantined: QuarantinedFile };

export interface QuarantinedFile {
  /** Absolute path in the quarantine directory. */
  file: string;
  size: number;
  sha256: string;
}

/**
 * A segment FFmpeg was writing when it (or the server) died has no index and maybe a torn last
 * cluster. Its original bytes go to quarantine (kept, hashed, listed in the manifest); a copy
 * remuxed by FFmpeg (`-c copy`, so nothing re-encoded) takes its place when it holds playable
 * media. Matroska writes clusters as it goes, so nearly everything up to the crash survives.
 */
export async function repairPartialSegment(file: string, quarantineDir: string): Promise<RepairOutcome> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return { status: 'missing' };
  }
  await ensureDir(quarantineDir);
  const quarantinedPath = path.join(quarantineDir, path.basename(file));
  const repairedTmp = `${file}.repair.mkv`;
  let repaired: Awaited<ReturnType<typeof packetSpan>>;
  if (size > 0) {
    try {
      await run('/bin/sh', ['-c', 'umask 077 && exec "$0" "$@"', 'ffmpeg', '-hide_banner', '-v', 'error', '-y', '-i', file, '-map', '0', '-c', 'copy', '-copyts', '-f', 'matroska', repairedTmp]);
      repaired = await packetSpan(repairedTmp);
    } catch {
      repaired = undefined;
    }
  }
  await rename(file, quarantinedPath);
  const q = await sha256File(quarantinedPath);
  const quarantined = { file: quarantinedPath, size: q.size, sha256: q.sha256 };
  if (repaired && repaired.end > repaired.first) {
    await fsyncFile(repairedTmp);
    await rename(repairedTmp, file);
    await fsyncDir(path.dirname(file));
    const h = await sha256File(file);
    return { status: 'repaired', file, size: h.size, sha256: h.sha256, first: repaired.first, end: repaired.end, quarantined };
  }
  await rm(repairedTmp, { force: true });
  await fsyncDir(path.dirname(file));
  return { status: 'quarantined', quarantined };
}
