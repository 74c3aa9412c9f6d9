import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, rename, chmod } from 'node:fs/promises';
import path from 'node:path';
import { TiepdanError } from '../errors.ts';

/** Recordings are evidence and may show citizens: directories are owner-only. */
export const DIR_MODE = 0o700;
/** Files are owner-only too. */
export const FILE_MODE = 0o600;

/**
 * mkdir -p, then chmod 0700, an existing directory included. Only for directories the application
 * owns (DATA_DIR/recordings and below): never for a path a caller names (security review H1: this
 * chmodded `/` when an export's outDir was `/`). Exports use createFreshDir.
 */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir's mode is masked by the umask; set it explicitly.
  await chmod(dir, DIR_MODE);
}

/**
 * Creates `name` inside `parent` as a new directory, mode 0700, and returns its path and device.
 * Refuses an existing one (EEXIST) and never creates or changes `parent`, so a caller-chosen parent
 * keeps its mode and owner. The mode is set through a handle opened with O_NOFOLLOW on what mkdir
 * made, so a symlink swapped in meanwhile is not followed. Filesystems without Unix modes (FAT,
 * exFAT, NTFS on USB drives: modes come from mount options) refuse chmod with EPERM; that is not an
 * error (the drive's contents are protected by export encryption, not by modes).
 */
export async function createFreshDir(parent: string, name: string): Promise<{ dir: string; dev: number }> {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw new TiepdanError('FS_BAD_NAME', `not a single path component: ${JSON.stringify(name)}`);
  const dir = path.join(parent, name);
  await mkdir(dir, { mode: DIR_MODE });
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.chmod(DIR_MODE).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPERM' && err.code !== 'ENOTSUP' && err.code !== 'EOPNOTSUPP') throw err;
    });
    return { dir, dev: (await handle.stat()).dev };
  } finally {
    await handle.close();
  }
}

/**
 * mkdir -p with mode 0700 and no chmod: for directories inside one createFreshDir just made (the
 * umask can only remove bits, so a new directory is at most 0700; nothing existing is touched).
 */
export async function mkdirInside(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/** fsync a directory so that a rename or a new file in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a file atomically: temp file in the same directory, fsync, rename, fsync the directory. */
export async function atomicWriteFile(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(tmp, 'w', FILE_MODE);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await fsyncDir(dir);
}

/**
 * atomicWriteFile for text produced piece by piece: each piece is generated and written in turn,
 * awaiting the write in between, so a large file never sits on the event loop as one string.
 */
export async function atomicWriteChunks(file: string, chunks: Iterable<string>): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(tmp, 'w', FILE_MODE);
  try {
    for (const chunk of chunks) await handle.write(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await fsyncDir(dir);
}

export async function sha256File(file: string, onBytes?: (n: number) => void): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    onBytes?.(chunk.length);
  }
  return { sha256: hash.digest('hex'), size };
}

export function sha256Text(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** fsync one file (after copying or ffmpeg closing it). */
export async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
