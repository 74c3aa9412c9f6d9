import { createHash, randomUUID } from 'node:crypto';
import { createDecipheriv } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AuditAnchorRef } from '../../domain/audit/auditAnchor.ts';
import { TiepdanError } from '../../errors.ts';
import { atomicWriteFile, FILE_MODE, fsyncDir, fsyncFile, mkdirInside, sha256File, sha256Text } from '../fsutil.ts';
import { sessionDirFor } from '../recorder/sessionRecorder.ts';
import { verifyRecording } from '../verify/verifyRecording.ts';
import { DECRYPT_README, DECRYPT_TOOL, DECRYPT_TOOL_NAME } from './decryptTool.ts';
import { createExportRoot, exportIoError } from './destinations.ts';
import { counter, deriveKey, encryptFile, type ExportKey } from './encryption.ts';
import { planExport, type PlannedSession } from './exportPlan.ts';

export interface ExportProgress {
  phase: 'checking' | 'copying' | 'reading back' | 'building image' | 'verifying image' | 'done';
  doneBytes: number;
  totalBytes: number;
  /** For disc exports: which disc. */
  disc?: number;
}

export interface CustodyRecord {
  format: 'tiepdan-chain-of-custody/1';
  exportId: string;
  installationId: string | null;
  exportedBy: { userId: string; role: string };
  exportedAt: string;
  medium: { kind: 'directory' | 'disc-image'; description: string; disc?: number; discs?: number };
  encryption: null | { cipher: 'aes-256-gcm'; kdf: 'scrypt'; kdfParams: { N: number; r: number; p: number }; salt: string };
  /** Encrypted exports carry a stand-alone decryption script (Node.js); its hash, so a recipient can check it. */
  decryptTool?: { path: string; sha256: string };
  sessions: { sessionId: string; status: string; manifestHeadHash: string; sourceVerified: boolean; files: number; bytes: number }[];
  files: { path: string; size: number; sha256: string; storedSha256?: string }[];
  /**
   * The audit chain's head when the export started (security review H4): GET /audit/verify?seq=&hash=
   * checks the log still holds it, so a log cut or rewritten later is caught from this copy.
   */
  auditAnchor?: AuditAnchorRef;
}

export interface ExportOptions {
  recordingsDir: string;
  sessionIds: string[];
  /**
   * A mounted drive. The export goes into a new directory `tiepdan-export-<exportId>` created in
   * it; the destination itself is never created or changed. Refused on the recordings' filesystem.
   */
  destination: string;
  /** st_dev the destination had when it was checked (the API's); a different filesystem there is refused. */
  destinationDev?: number;
  /** Names the export directory and the custody record (the API passes its job id); default random. */
  exportId?: string;
  /** How the custody record describes the medium (default: the destination path). */
  mediumDescription?: string;
  exportedBy: { userId: string; role: string };
  installationId?: string | null;
  /** The audit chain's anchor, copied into the custody record. */
  auditAnchor?: AuditAnchorRef | null;
  passphrase?: string;
  onProgress?: (p: ExportProgress) => void;
}

export interface ExportResult {
  exportId: string;
  root: string;
  files: number;
  bytes: number;
  custodyFile: string;
  custodySha256: string;
  custody: CustodyRecord;
}

/** SHA-256 of the plaintext inside an encrypted export file (read back from the medium). */
export async function decryptedSha256(file: string, key: Buffer): Promise<string> {
  const fh = await open(file, 'r');
  const { size } = await fh.stat();
  const iv = Buffer.alloc(12);
  const tag = Buffer.alloc(16);
  await fh.read(iv, 0, 12, 22);
  await fh.read(tag, 0, 16, size - 16);
  await fh.close();
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAuthTag(tag);
  const h = createHash('sha256');
  await pipeline(createReadStream(file, { start: 34, end: size - 17 }), d, async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) h.update(c);
  });
  return h.digest('hex');
}

export async function checkSources(recordingsDir: string, sessions: PlannedSession[]): Promise<Map<string, boolean>> {
  const verified = new Map<string, boolean>();
  for (const s of sessions) verified.set(s.sessionId, (await verifyRecording(sessionDirFor(recordingsDir, s.sessionId))).ok);
  return verified;
}

export function encryptionInfo(key: ExportKey | undefined): CustodyRecord['encryption'] {
  return key ? { cipher: 'aes-256-gcm', kdf: 'scrypt', kdfParams: { N: 1 << 15, r: 8, p: 1 }, salt: key.salt.toString('hex') } : null;
}

export function exportStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Copies recordings to a mounted drive, into a new `tiepdan-export-<id>` directory: every file is
 * copied (or encrypted), fsynced, read back and compared with the manifest's SHA-256; a
 * chain-of-custody record goes onto the drive. On any failure the new directory is removed again
 * (best effort: a drive pulled out keeps what it had). The caller audits start, end and failure.
 */
export async function exportToDirectory(o: ExportOptions): Promise<ExportResult> {
  const sessions = await planExport(o.recordingsDir, o.sessionIds);
  const totalBytes = sessions.reduce((n, s) => n + s.bytes, 0);
  const progress = (phase: ExportProgress['phase'], doneBytes: number) => o.onProgress?.({ phase, doneBytes, totalBytes });
  progress('checking', 0);
  const verified = await checkSources(o.recordingsDir, sessions);
  const key = o.passphrase ? deriveKey(o.passphrase) : undefined;
  const exportId = o.exportId ?? randomUUID();
  const root = await createExportRoot(o.destination, `tiepdan-export-${exportId}`, o.recordingsDir, o.destinationDev);
  try {
    return await copyAndCheck(o, { root, exportId, sessions, verified, key, totalBytes, progress });
  } catch (err) {
    // A partial copy of citizens' recordings is not left on a drive (the audit log says it failed).
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw exportIoError(err, o.destination);
  }
}

interface CopyJob {
  root: string;
  exportId: string;
  sessions: PlannedSession[];
  verified: Map<string, boolean>;
  key: ExportKey | undefined;
  totalBytes: number;
  progress: (phase: ExportProgress['phase'], doneBytes: number) => void;
}

async function copyAndCheck(o: ExportOptions, j: CopyJob): Promise<ExportResult> {
  const { root, key } = j;
  let done = 0;
  const files: CustodyRecord['files'] = [];
  const dirs = new Set<string>([root]);
  for (const s of j.sessions) {
    for (const f of s.files) {
      const dest = path.join(root, key ? `${f.dest}.enc` : f.dest);
      await mkdirInside(path.dirname(dest));
      dirs.add(path.dirname(dest));
      const srcHash = f.sha256 ?? (await sha256File(f.src)).sha256;
      if (key) {
        await encryptFile(f.src, dest, key);
        done += f.size;
      } else {
        await pipeline(createReadStream(f.src), counter((n) => { done += n; }), createWriteStream(dest, { mode: FILE_MODE }));
      }
      await fsyncFile(dest);
      j.progress('copying', done);
      files.push({ path: path.relative(root, dest), size: f.size, sha256: srcHash });
    }
  }
  const decryptTool = key ? await writeDecryptTool(root) : undefined;
  for (const d of dirs) await fsyncDir(d);

  // Read back from the drive and compare with the hashes the manifest promises.
  let readBack = 0;
  for (const f of files) {
    const full = path.join(root, f.path);
    const got = key ? await decryptedSha256(full, key.key) : (await sha256File(full)).sha256;
    if (got !== f.sha256) throw new TiepdanError('EXPORT_READBACK_MISMATCH', `${f.path} read back from ${o.destination} differs from the original`, { details: { file: f.path } });
    if (key) f.storedSha256 = (await sha256File(full)).sha256;
    readBack += f.size;
    j.progress('reading back', readBack);
  }

  const custody: CustodyRecord = {
    format: 'tiepdan-chain-of-custody/1',
    exportId: j.exportId,
    installationId: o.installationId ?? null,
    exportedBy: o.exportedBy,
    exportedAt: new Date().toISOString(),
    medium: { kind: 'directory', description: o.mediumDescription ?? o.destination },
    encryption: encryptionInfo(key),
    ...(decryptTool ? { decryptTool } : {}),
    ...(o.auditAnchor ? { auditAnchor: o.auditAnchor } : {}),
    sessions: j.sessions.map((s) => ({ sessionId: s.sessionId, status: s.status, manifestHeadHash: s.headHash, sourceVerified: j.verified.get(s.sessionId) ?? false, files: s.files.length, bytes: s.bytes })),
    files,
  };
  const custodyFile = path.join(root, 'chain-of-custody.json');
  const text = `${JSON.stringify(custody, null, 1)}\n`;
  await atomicWriteFile(custodyFile, text);
  j.progress('done', j.totalBytes);
  return { exportId: j.exportId, root, files: files.length, bytes: j.totalBytes, custodyFile, custodySha256: createHash('sha256').update(text).digest('hex'), custody };
}

/** Puts the stand-alone decryption script and its instructions next to an encrypted export. */
export async function writeDecryptTool(dir: string): Promise<{ path: string; sha256: string }> {
  await writeFile(path.join(dir, DECRYPT_TOOL_NAME), DECRYPT_TOOL, { mode: FILE_MODE });
  await writeFile(path.join(dir, 'DECRYPT.txt'), DECRYPT_README, { mode: FILE_MODE });
  await fsyncFile(path.join(dir, DECRYPT_TOOL_NAME));
  return { path: DECRYPT_TOOL_NAME, sha256: sha256Text(DECRYPT_TOOL) };
}
