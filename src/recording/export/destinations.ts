import { readFile, realpath, rmdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorCode } from '../../contract/errors.ts';
import { TiepdanError } from '../../errors.ts';
import { createFreshDir } from '../fsutil.ts';

/**
 * Where exports may write (security review H1, M4). A destination is a **mounted filesystem** at or
 * below one of the configured roots (EXPORT_DESTINATIONS, default /media and /mnt, where removable
 * drives are mounted), that is not the root directory, not the system disk and not the filesystem
 * of DATA_DIR or its recordings (an export there could fill the disk under a live recording, or
 * make another session's evidence look tampered with). The export itself goes into a new
 * subdirectory it creates (createExportRoot): the destination is never created or chmodded.
 */
export interface ExportPolicy {
  /** Absolute directories: each a mount point, or a directory drives get mounted below. Empty: exports are off. */
  roots: readonly string[];
  dataDir: string;
  recordingsDir: string;
  /** The mount table (tests may point elsewhere). */
  mountInfoFile?: string;
}

export interface ExportDestination {
  /** The mount point (a real path: no symlinks). */
  path: string;
  fsType: string;
  /** The mounted device, e.g. /dev/sdb1: how a technician recognises the drive. */
  source: string;
  freeBytes: number;
  totalBytes: number;
  /** statfs block size (for estimating the space an export takes). */
  blockSize: number;
  /** st_dev when checked: the export refuses a different filesystem at that path later (the drive was swapped or unmounted). */
  dev: number;
}

export interface Mount {
  mountPoint: string;
  fsType: string;
  source: string;
  readOnly: boolean;
}

/** Kernel pseudo filesystems: never an export medium, and not worth listing. */
const PSEUDO_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'autofs', 'securityfs', 'debugfs', 'tracefs', 'bpf', 'mqueue', 'configfs', 'fusectl', 'binfmt_misc', 'pstore', 'hugetlbfs', 'nsfs', 'efivarfs', 'overlay', 'squashfs']);

/** mountinfo escapes space, tab, newline and backslash as \ooo (a USB label "MY DISK" is common). */
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses /proc/self/mountinfo (proc(5)); an over-mounted mount point keeps its last (visible) mount. */
export function parseMountInfo(text: string): Map<string, Mount> {
  const out = new Map<string, Mount>();
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const [mountPoint, options] = [left[4], left[5]];
    const [fsType, source, superOptions] = right;
    if (mountPoint === undefined || options === undefined || fsType === undefined || source === undefined) continue;
    const ro = options.split(',').includes('ro') || (superOptions ?? '').split(',').includes('ro');
    const mp = unescapeOctal(mountPoint);
    out.set(mp, { mountPoint: mp, fsType, source: unescapeOctal(source), readOnly: ro });
  }
  return out;
}

const refuse = (code: ErrorCode, message: string, details?: unknown) => new TiepdanError(code, message, { details });

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);

interface Context {
  roots: string[];
  mounts: Map<string, Mount>;
  /** Devices of DATA_DIR and DATA_DIR/recordings. */
  protectedDevs: Set<number>;
  dataDirReal: string;
  rootDev: number;
}

async function context(policy: ExportPolicy): Promise<Context> {
  // Roots are resolved now, not at start-up: /media may be a symlink (to /run/media) or appear later.
  const roots: string[] = [];
  for (const r of policy.roots) {
    const real = await realpath(r).catch(() => undefined);
    if (real !== undefined && real !== '/') roots.push(real);
  }
  const protectedDevs = new Set<number>();
  for (const d of [policy.dataDir, policy.recordingsDir]) {
    const s = await stat(d).catch(() => undefined);
    if (s) protectedDevs.add(s.dev);
  }
  return {
    roots,
    mounts: parseMountInfo(await readFile(policy.mountInfoFile ?? '/proc/self/mountinfo', 'utf8')),
    protectedDevs,
    dataDirReal: await realpath(policy.dataDir).catch(() => path.resolve(policy.dataDir)),
    rootDev: (await stat('/')).dev,
  };
}

/** Every check on a real (symlink-free) path; the order gives the most useful message first. */
async function check(real: string, ctx: Context): Promise<ExportDestination> {
  if (real === '/') throw refuse('EXPORT_DESTINATION_NOT_ALLOWED', 'the root directory is never an export destination');
  const s = await stat(real).catch(() => undefined);
  if (!s?.isDirectory()) throw refuse('EXPORT_DESTINATION_MISSING', `${real} is not a directory`);
  if (ctx.protectedDevs.has(s.dev) || inside(real, ctx.dataDirReal)) {
    throw refuse('EXPORT_DESTINATION_ON_RECORDINGS', `${real} is on the filesystem of DATA_DIR or its recordings: export to a separate drive`);
  }
  if (!ctx.roots.some((r) => inside(real, r))) {
    throw refuse('EXPORT_DESTINATION_NOT_ALLOWED', `${real} is not at or below an export destination (EXPORT_DESTINATIONS: ${ctx.roots.join(', ') || 'none'})`, { allowed: ctx.roots });
  }
  const m = ctx.mounts.get(real);
  if (!m) throw refuse('EXPORT_DESTINATION_NOT_MOUNTED', `${real} is not a mount point: mount the drive there (or choose one from GET /api/v1/recordings/export-destinations)`);
  if (s.dev === ctx.rootDev || PSEUDO_FS.has(m.fsType)) throw refuse('EXPORT_DESTINATION_NOT_ALLOWED', `${real} (${m.fsType}) is not a removable drive`);
  if (m.readOnly) throw refuse('EXPORT_DESTINATION_READ_ONLY', `${real} is mounted read-only`);
  const fs = await statfs(real);
  return { path: real, fsType: m.fsType, source: m.source, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize, blockSize: fs.bsize, dev: s.dev };
}

/** The drives an export can go to now (for the console's choice). */
export async function listExportDestinations(policy: ExportPolicy): Promise<{ roots: readonly string[]; destinations: ExportDestination[] }> {
  if (policy.roots.length === 0) return { roots: [], destinations: [] };
  const ctx = await context(policy);
  const destinations: ExportDestination[] = [];
  for (const mp of [...ctx.mounts.keys()].sort()) {
    if (!ctx.roots.some((r) => inside(mp, r))) continue;
    const d = await check(mp, ctx).catch(() => undefined);
    if (d) destinations.push(d);
  }
  return { roots: policy.roots, destinations };
}

/**
 * Checks a destination named by a request and returns it as a real path. Symlinks are resolved
 * first (a link under /media pointing into DATA_DIR is judged by where it points); `..` segments
 * are refused outright rather than normalised.
 */
export async function resolveExportDestination(requested: string, policy: ExportPolicy): Promise<ExportDestination> {
  if (policy.roots.length === 0) {
    throw refuse('EXPORT_NOT_CONFIGURED', 'exports are turned off on this server: set EXPORT_DESTINATIONS to the directories where removable drives are mounted (e.g. /media,/mnt) and restart');
  }
  if (!path.isAbsolute(requested) || requested.includes('\0') || requested.split('/').includes('..')) {
    throw refuse('EXPORT_DESTINATION_INVALID', 'the destination must be an absolute path without ".." segments');
  }
  const real = await realpath(requested).catch(() => {
    throw refuse('EXPORT_DESTINATION_MISSING', `${requested} does not exist (is the drive mounted?)`);
  });
  return check(real, await context(policy));
}

/**
 * Creates the export's own directory `name` inside `destination` (never the destination itself),
 * refusing the recordings' filesystem before and after mkdir (a mount can change in between). Used
 * by every export, the CLI's included. `expectDev` (the API's checked destination) also refuses a
 * different filesystem than the one checked: the source check before copying can take minutes,
 * time enough to unmount the drive and leave a bare directory of the system disk at that path.
 */
export async function createExportRoot(destination: string, name: string, recordingsDir: string, expectDev?: number): Promise<string> {
  const real = await realpath(destination).catch(() => {
    throw refuse('EXPORT_DESTINATION_MISSING', `${destination} does not exist (is the drive mounted?)`);
  });
  if (real === '/') throw refuse('EXPORT_DESTINATION_NOT_ALLOWED', 'the root directory is never an export destination');
  const [d, rec] = await Promise.all([stat(real), stat(recordingsDir)]);
  if (!d.isDirectory()) throw refuse('EXPORT_DESTINATION_MISSING', `${real} is not a directory`);
  if (d.dev === rec.dev) throw refuse('EXPORT_DESTINATION_ON_RECORDINGS', `${real} is on the recordings' filesystem: export to a separate drive`);
  const changed = () => refuse('EXPORT_DESTINATION_CHANGED', `the drive at ${real} changed since it was chosen (unmounted or swapped?): choose it again`);
  if (expectDev !== undefined && d.dev !== expectDev) throw changed();
  const { dir, dev } = await createFreshDir(real, name).catch((err: unknown) => {
    throw exportIoError(err, real);
  });
  if (expectDev !== undefined && dev !== expectDev) {
    await rmdir(dir).catch(() => undefined);
    throw changed();
  }
  if (dev === rec.dev) {
    await rmdir(dir).catch(() => undefined);
    throw refuse('EXPORT_DESTINATION_ON_RECORDINGS', `${real} is on the recordings' filesystem: export to a separate drive`);
  }
  return dir;
}

/** A file-system error while writing an export, as a code the technician can act on. */
export function exportIoError(err: unknown, where: string): TiepdanError {
  if (err instanceof TiepdanError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new TiepdanError('EXPORT_DESTINATION_FULL', `${where} is full: use a larger drive or fewer sessions`, { cause: err });
  if (code === 'EROFS') return new TiepdanError('EXPORT_DESTINATION_READ_ONLY', `${where} is mounted read-only`, { cause: err });
  if (code === 'EEXIST') return new TiepdanError('EXPORT_DESTINATION_EXISTS', `an export directory of that name already exists in ${where}`, { cause: err });
  if (code === 'EIO' || code === 'ENODEV' || code === 'ENXIO') return new TiepdanError('EXPORT_WRITE_FAILED', `cannot write to ${where} (${code}): was the drive removed?`, { cause: err });
  // Anything else (a source file that vanished, a bug) keeps its own message.
  return err instanceof Error ? new TiepdanError('EXPORT_FAILED', err.message, { cause: err }) : new TiepdanError('EXPORT_FAILED', String(err));
}
