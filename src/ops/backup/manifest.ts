import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';

/**
 * backup.json: what a backup holds and the SHA-256 of every file in it. Written last, so a backup
 * that was cut short has none and `tiepdan restore` refuses it instead of restoring half.
 */
export const BACKUP_FORMAT = 'tiepdan-backup/1';
export const MANIFEST_FILE = 'backup.json';

const relPath = z
  .string()
  .min(1)
  .refine((p) => !path.isAbsolute(p) && !p.split('/').includes('..'), 'must be a relative path inside the backup');

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');

export const fileEntrySchema = z.object({ path: relPath, size: z.number().int().min(0), sha256, mode: z.number().int().min(0).max(0o7777) });
export type FileEntry = z.infer<typeof fileEntrySchema>;

const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain SQL identifier');

export const backupManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.string(),
  /** The package version that wrote the backup (for the technician; compatibility is by migration). */
  version: z.string(),
  database: z.object({
    /** Migrations applied when the snapshot was taken, in order: a restore applies the same ones first. */
    migrations: z.array(z.string().min(1)).min(1),
    /** In an order where every table comes after the tables it references. */
    tables: z.array(z.object({ name: identifier, rows: z.number().int().min(0), file: fileEntrySchema })),
    sequences: z.array(z.object({ name: identifier, lastValue: z.string().regex(/^-?\d+$/).nullable() })),
    /** embedded, or external (DATABASE_URL): said so the technician knows where it came from. */
    source: z.enum(['embedded-running', 'embedded-stopped', 'external']),
  }),
  /** Keys and settings from DATA_DIR (audit.key, audit.anchor, token.key, tls/, …), under data/. */
  dataFiles: z.array(fileEntrySchema),
  /** Recordings, under recordings/ (copied, each with its hash). */
  recordings: z.object({ sessions: z.number().int().min(0), files: z.array(fileEntrySchema) }),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

export async function writeManifest(dir: string, manifest: BackupManifest): Promise<void> {
  await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`, { mode: 0o600 });
}

export async function readManifest(dir: string): Promise<BackupManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8'));
  } catch (err) {
    throw new TiepdanError('BACKUP_MANIFEST_MISSING', `${path.join(dir, MANIFEST_FILE)} cannot be read (${(err as Error).message}): not a complete tiepdan backup`, { cause: err });
  }
  const parsed = backupManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new TiepdanError('BACKUP_MANIFEST_INVALID', `${MANIFEST_FILE} is not a tiepdan backup manifest: ${problems.slice(0, 5).join('; ')}`, { details: problems });
  }
  return parsed.data;
}
