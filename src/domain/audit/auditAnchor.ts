import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * The audit chain's head, kept outside the database in DATA_DIR/audit.anchor: the seq and hash of
 * the newest record known to be good. A database that ends below it lost its tail; a record there
 * with another hash was rewritten. Each export's chain-of-custody record carries a copy too, so a
 * copy also leaves the building.
 */
export const AUDIT_ANCHOR_FILE = 'audit.anchor';
export const AUDIT_ANCHOR_FORMAT = 'tiepdan-audit-anchor/1';

export const auditAnchorSchema = z.object({
  format: z.literal(AUDIT_ANCHOR_FORMAT),
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Fingerprint of the key that signed the chain (AuditKey.id). */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** First keyed seq (audit_chain.keyed_from_seq): moving it in the database is detected. */
  keyedFromSeq: z.number().int().positive(),
  at: z.string(),
});
export type AuditAnchor = z.infer<typeof auditAnchorSchema>;

/** What an export's custody record or a printout holds: enough to check the log later. */
export type AuditAnchorRef = Pick<AuditAnchor, 'seq' | 'hash' | 'keyId' | 'at'>;

export type AnchorRead = { anchor: AuditAnchor | null; problem: string | null };

export function anchorFile(dataDir: string): string {
  return path.join(dataDir, AUDIT_ANCHOR_FILE);
}

/** The anchor on disk; missing is `{anchor: null}`, unreadable is a problem (kept as found, never overwritten). */
export async function readAnchor(file: string): Promise<AnchorRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { anchor: null, problem: null };
    return { anchor: null, problem: `${file} cannot be read: ${(err as Error).message}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { anchor: null, problem: `${file} is not JSON (it is written atomically, so it was changed by hand)` };
  }
  const parsed = auditAnchorSchema.safeParse(raw);
  return parsed.success ? { anchor: parsed.data, problem: null } : { anchor: null, problem: `${file} is not an audit anchor: ${parsed.error.issues[0]?.message ?? ''}` };
}

/** Temp file, fsync, rename, fsync the directory: a power cut leaves the old anchor or the new one. */
export async function writeAnchor(file: string, anchor: AuditAnchor): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(anchor)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
