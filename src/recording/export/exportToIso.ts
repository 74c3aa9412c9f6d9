import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AuditAnchorRef } from '../../domain/audit/auditAnchor.ts';
import { TiepdanError } from '../../errors.ts';
import { fsyncFile, mkdirInside, sha256File } from '../fsutil.ts';
import { niced } from '../../domain/common/nice.ts';
import { DECRYPT_TOOL_NAME } from './decryptTool.ts';
import { createExportRoot, exportIoError } from './destinations.ts';
import { checkSources, encryptionInfo, exportStamp, writeDecryptTool, type CustodyRecord, type ExportProgress } from './exportToDirectory.ts';
import { deriveKey, encryptFile, type ExportKey } from './encryption.ts';
import { planExport, type PlannedFile, type PlannedSession } from './exportPlan.ts';

const run = promisify(execFile);

/** Usable bytes per disc (data area of a 80-min CD-R, a single-layer DVD±R). */
export const DISC_CAPACITY = { cd: 700 * 1024 * 1024, dvd: 4_700_000_000 } as const;

export interface IsoExportOptions {
  recordingsDir: string;
  sessionIds: string[];
  /**
   * A mounted drive with room for every image (and, encrypted, the encrypted copies while the
   * images are built). The images go into a new `tiepdan-iso-<exportId>` directory created in it.
   */
  destination: string;
  /** st_dev the destination had when it was checked (the API's); a different filesystem there is refused. */
  destinationDev?: number;
  /** Names the image directory and the custody record (the API passes its job id); default random. */
  exportId?: string;
  media: keyof typeof DISC_CAPACITY | { bytes: number };
  exportedBy: { userId: string; role: string };
  installationId?: string | null;
  /** The audit chain's anchor, copied into the custody record. */
  auditAnchor?: AuditAnchorRef | null;
  passphrase?: string;
  onProgress?: (p: ExportProgress) => void;
}

export interface DiscImage {
  disc: number;
  file: string;
  size: number;
  sha256: string;
  files: number;
  verified: boolean;
}

export interface IsoExportResult {
  exportId: string;
  setId: string;
  /** The directory holding the images. */
  root: string;
  images: DiscImage[];
  custody: CustodyRecord;
  custodySha256: string;
  /** An optical drive found on this machine, or null (images are left for the technician). */
  burner: string | null;
}

interface DiscPlan {
  files: (PlannedFile & { sha256: string })[];
  bytes: number;
}

/** Per-disc overhead kept free: ISO/Joliet/Rock Ridge directory records, manifests, indexes. */
export const DISC_RESERVE = 4 * 1024 * 1024;

export function findBurner(): string | null {
  for (const dev of ['/dev/sr0', '/dev/sr1', '/dev/cdrom', '/dev/dvd']) if (existsSync(dev)) return dev;
  return null;
}

/** Burns one image with xorriso (cdrecord emulation); only when an optical drive is present. */
export async function burnImage(image: string, device: string): Promise<void> {
  await run('xorriso', ['-as', 'cdrecord', '-v', `dev=${device}`, '-eject', image], { maxBuffer: 16 * 1024 * 1024 });
}

const quote = (p: string) => `'${p.replace(/'/g, "'\"'\"'")}'`;

/**
 * Builds ISO 9660 images with Joliet and Rock Ridge (xorriso has no UDF), splitting the sessions
 * over as many discs as needed. Each disc carries its files, the manifests of the sessions on it,
 * DISC.json (its own file list with SHA-256), INDEX.json (the whole set) and the chain-of-custody
 * record. Each image is read back with `xorriso -osirrox on -extract` and every hash compared.
 */
export async function exportToIso(o: IsoExportOptions): Promise<IsoExportResult> {
  const capacity = typeof o.media === 'string' ? DISC_CAPACITY[o.media] : o.media.bytes;
  const usable = capacity - DISC_RESERVE;
  if (usable <= 0) throw new TiepdanError('EXPORT_MEDIA_TOO_SMALL', 'disc capacity too small');
  const sessions = await planExport(o.recordingsDir, o.sessionIds);
  const totalBytes = sessions.reduce((n, s) => n + s.bytes, 0);
  const progress = (phase: ExportProgress['phase'], doneBytes: number, disc?: number) => o.onProgress?.({ phase, doneBytes, totalBytes, disc });
  progress('checking', 0);
  const verified = await checkSources(o.recordingsDir, sessions);
  const exportId = o.exportId ?? randomUUID();
  const setId = `${exportStamp()}-${exportId.slice(0, 8)}`;
  const key = o.passphrase ? deriveKey(o.passphrase) : undefined;
  const root = await createExportRoot(o.destination, `tiepdan-iso-${exportId}`, o.recordingsDir, o.destinationDev);
  try {
    return await buildImages(o, { root, exportId, setId, key, capacity, usable, sessions, verified, totalBytes, progress });
  } catch (err) {
    // No half-built set (or plaintext staging) is left on the drive; the audit log says it failed.
    await run('chmod', ['-R', 'u+w', root]).catch(() => undefined);
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw exportIoError(err, o.destination);
  }
}

interface IsoJob {
  root: string;
  exportId: string;
  setId: string;
  key: ExportKey | undefined;
  capacity: number;
  usable: number;
  sessions: PlannedSession[];
  verified: Map<string, boolean>;
  totalBytes: number;
  progress: (phase: ExportProgress['phase'], doneBytes: number, disc?: number) => void;
}

async function buildImages(o: IsoExportOptions, j: IsoJob): Promise<IsoExportResult> {
  const { root, exportId, setId, key, capacity, usable, sessions, verified, totalBytes, progress } = j;
  const staging = await mkdtemp(path.join(root, '.staging-'));
  try {
    // Hash manifests/playable copies now, and encrypt into staging if asked.
    const all: (PlannedFile & { sha256: string; stored: string; storedSize: number })[] = [];
    for (const s of sessions) {
      for (const f of s.files) {
        const sha256 = f.sha256 ?? (await sha256File(f.src)).sha256;
        if (key) {
          const enc = path.join(staging, `${f.dest}.enc`);
          await mkdirInside(path.dirname(enc));
          await encryptFile(f.src, enc, key);
          all.push({ ...f, sha256, dest: `${f.dest}.enc`, stored: enc, storedSize: (await stat(enc)).size });
        } else {
          all.push({ ...f, sha256, stored: f.src, storedSize: f.size });
        }
      }
    }
    // First fit in recording order: a session's segments stay together and in order when they fit.
    const discs: DiscPlan[] = [];
    for (const f of all) {
      if (f.storedSize > usable) throw new TiepdanError('EXPORT_FILE_TOO_LARGE', `${f.dest} (${f.storedSize} bytes) does not fit on one disc`);
      let d = discs.at(-1);
      if (!d || d.bytes + f.storedSize > usable) {
        d = { files: [], bytes: 0 };
        discs.push(d);
      }
      d.files.push({ ...f, src: f.stored });
      d.bytes += f.storedSize;
    }
    const index = {
      format: 'tiepdan-disc-set-index/1',
      setId,
      exportId,
      discs: discs.length,
      contents: discs.map((d, i) => ({ disc: i + 1, files: d.files.map((f) => f.dest) })),
    };
    // Encrypted discs carry the stand-alone decryption script (each disc can be read alone).
    const decryptTool = key ? await writeDecryptTool(staging) : undefined;
    const custody: CustodyRecord = {
      format: 'tiepdan-chain-of-custody/1',
      exportId,
      installationId: o.installationId ?? null,
      exportedBy: o.exportedBy,
      exportedAt: new Date().toISOString(),
      medium: { kind: 'disc-image', description: `${typeof o.media === 'string' ? o.media.toUpperCase() : `${capacity} bytes`} set ${setId}`, discs: discs.length },
      encryption: encryptionInfo(key),
      ...(decryptTool ? { decryptTool } : {}),
      ...(o.auditAnchor ? { auditAnchor: o.auditAnchor } : {}),
      sessions: sessions.map((s) => ({ sessionId: s.sessionId, status: s.status, manifestHeadHash: s.headHash, sourceVerified: verified.get(s.sessionId) ?? false, files: s.files.length, bytes: s.bytes })),
      files: all.map((f) => ({ path: f.dest, size: f.size, sha256: f.sha256 })),
    };
    const custodyText = `${JSON.stringify(custody, null, 1)}\n`;
    const images: DiscImage[] = [];
    let done = 0;
    for (const [i, d] of discs.entries()) {
      const n = i + 1;
      const discDir = path.join(staging, `disc-${n}`);
      await mkdirInside(discDir);
      const discManifest = {
        format: 'tiepdan-disc/1',
        setId,
        disc: n,
        discs: discs.length,
        encrypted: key !== undefined,
        files: d.files.map((f) => ({ path: f.dest, size: f.size, sha256: f.sha256 })),
      };
      await writeFile(path.join(discDir, 'DISC.json'), `${JSON.stringify(discManifest, null, 1)}\n`, { mode: 0o600 });
      await writeFile(path.join(discDir, 'INDEX.json'), `${JSON.stringify(index, null, 1)}\n`, { mode: 0o600 });
      await writeFile(path.join(discDir, 'chain-of-custody.json'), custodyText, { mode: 0o600 });
      // Every disc carries the manifests of the sessions it holds part of, so each disc verifies alone.
      const extra = new Map<string, string>();
      for (const f of d.files) {
        const m = all.find((x) => x.sessionId === f.sessionId && /manifest\.json(\.enc)?$/.test(x.dest));
        if (m && !d.files.some((x) => x.dest === m.dest)) extra.set(m.dest, m.stored);
      }
      const image = path.join(root, `tiepdan-${setId}-disc${String(n).padStart(2, '0')}.iso`);
      await rm(image, { force: true });
      const lines = [
        `-outdev ${quote(image)}`,
        `-volid ${quote(`TIEPDAN_${setId.slice(0, 15)}_${String(n).padStart(2, '0')}`.slice(0, 32).toUpperCase().replace(/[^A-Z0-9_]/g, '_'))}`,
        '-joliet on',
        '-rockridge on',
        `-map ${quote(path.join(discDir, 'DISC.json'))} /DISC.json`,
        `-map ${quote(path.join(discDir, 'INDEX.json'))} /INDEX.json`,
        `-map ${quote(path.join(discDir, 'chain-of-custody.json'))} /chain-of-custody.json`,
        ...(decryptTool ? [`-map ${quote(path.join(staging, DECRYPT_TOOL_NAME))} /${DECRYPT_TOOL_NAME}`, `-map ${quote(path.join(staging, 'DECRYPT.txt'))} /DECRYPT.txt`] : []),
        ...d.files.map((f) => `-map ${quote(f.src)} ${quote(`/${f.dest}`)}`),
        ...[...extra].map(([dest, src]) => `-map ${quote(src)} ${quote(`/${dest}`)}`),
        '-commit',
        '-end',
      ];
      const optionsFile = path.join(staging, `disc-${n}.xorriso`);
      await writeFile(optionsFile, `${lines.join('\n')}\n`, { mode: 0o600 });
      progress('building image', done, n);
      try {
        // Niced, as every background job's program (domain/common/nice.ts): live media keeps the CPU first.
        await run(...niced('xorriso', ['-options_from_file', optionsFile]), { maxBuffer: 16 * 1024 * 1024 });
      } catch (err) {
        const stderr = (err as { stderr?: string }).stderr ?? '';
        if (/no space left/i.test(stderr)) throw exportIoError(Object.assign(new Error(stderr), { code: 'ENOSPC' }), o.destination);
        throw new TiepdanError('EXPORT_IMAGE_FAILED', `xorriso could not build disc ${n}: ${stderr.split('\n').slice(-3).join(' ')}`, { cause: err });
      }
      await fsyncFile(image);
      done += d.bytes;
      progress('verifying image', done, n);
      const ok = await verifyImage(image, discManifest.files, key === undefined, key?.key);
      const h = await sha256File(image);
      images.push({ disc: n, file: image, size: h.size, sha256: h.sha256, files: d.files.length, verified: ok });
    }
    progress('done', totalBytes);
    return { exportId, setId, root, images, custody, custodySha256: createHash('sha256').update(custodyText).digest('hex'), burner: findBurner() };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Extracts an image with xorriso and compares every file with its expected SHA-256 (for
 * encrypted sets, checks that every file is there and complete; decryption needs the passphrase).
 */
export async function verifyImage(image: string, files: { path: string; size: number; sha256: string }[], plain: boolean, passphraseKey?: Buffer): Promise<boolean> {
  const out = await mkdtemp(path.join(path.dirname(image), '.readback-'));
  try {
    await run(...niced('xorriso', ['-osirrox', 'on', '-indev', image, '-extract', '/', out]), { maxBuffer: 16 * 1024 * 1024 });
    for (const f of files) {
      const full = path.join(out, f.path);
      if (plain) {
        const h = await sha256File(full);
        if (h.sha256 !== f.sha256) throw new TiepdanError('EXPORT_READBACK_MISMATCH', `${f.path} read back from ${path.basename(image)} differs from the original`);
      } else if (passphraseKey) {
        const { decryptedSha256 } = await import('./exportToDirectory.ts');
        if ((await decryptedSha256(full, passphraseKey)) !== f.sha256) throw new TiepdanError('EXPORT_READBACK_MISMATCH', `${f.path} read back from ${path.basename(image)} differs`);
      } else {
        await stat(full);
      }
    }
    return true;
  } finally {
    await run('chmod', ['-R', 'u+w', out]).catch(() => undefined);
    await rm(out, { recursive: true, force: true });
  }
}
