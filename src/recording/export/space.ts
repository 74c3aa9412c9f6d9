import { TiepdanError } from '../../errors.ts';
import type { ExportDestination } from './destinations.ts';
import type { PlannedSession } from './exportPlan.ts';
import { DISC_CAPACITY, DISC_RESERVE } from './exportToIso.ts';

/** What encryption adds to every file: "TDENC1", salt, IV, GCM tag. */
export const ENCRYPTION_OVERHEAD = 6 + 16 + 12 + 16;
/** Directories, the custody record, the decryption script. */
const SLACK = 1024 * 1024;

export type ExportShape = { kind: 'directory' } | { kind: 'iso'; media: keyof typeof DISC_CAPACITY };

/**
 * Bytes an export needs on its drive, rounded up per file to the drive's block size. A disc set
 * needs its images, plus the encrypted copies they are built from, plus one image extracted again
 * for the read-back, at the same time.
 */
export function requiredBytes(sessions: PlannedSession[], shape: ExportShape, encrypted: boolean, blockSize: number): number {
  const sizes = sessions.flatMap((s) => s.files.map((f) => f.size + (encrypted ? ENCRYPTION_OVERHEAD : 0)));
  const block = Math.max(512, blockSize);
  const onDisk = sizes.reduce((n, size) => n + Math.ceil(size / block) * block, 0) + sizes.length * block;
  if (shape.kind === 'directory') return onDisk + SLACK;
  const raw = sizes.reduce((n, size) => n + size, 0);
  const usable = DISC_CAPACITY[shape.media] - DISC_RESERVE;
  const discs = Math.max(1, Math.ceil(raw / usable));
  return (encrypted ? onDisk : 0) + raw + discs * DISC_RESERVE + Math.min(raw, usable) + SLACK;
}

/** Refuses before copying when the drive cannot hold the export (rather than failing half-way). */
export function checkSpace(destination: ExportDestination, needed: number): void {
  if (destination.freeBytes < needed) {
    throw new TiepdanError('EXPORT_DESTINATION_FULL', `${destination.path} has ${destination.freeBytes} bytes free; this export needs about ${needed}: use a larger drive or fewer sessions`, {
      details: { freeBytes: destination.freeBytes, neededBytes: needed },
    });
  }
}
