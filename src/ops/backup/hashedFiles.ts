import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TiepdanError } from '../../errors.ts';
import type { FileEntry } from './manifest.ts';

/** Copies a file and hashes what was read in the same pass (recordings are large: one read each). */
export async function copyHashed(from: string, to: string, mode: number): Promise<{ size: number; sha256: string }> {
  await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  // 'wx': never overwrite; a backup or restore target must start empty.
  await pipeline(createReadStream(from), tap, createWriteStream(to, { flags: 'wx', mode }));
  await chmod(to, mode);
  return { size, sha256: hash.digest('hex') };
}

export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Regular files under `root` (relative paths, sorted), skipping the top-level names in `exclude`.
 * Symbolic links and other special files are left out: a backup holds only what tiepdan wrote.
 */
export async function listFiles(root: string, exclude: ReadonlySet<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(path.join(root, rel))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const child = rel === '' ? name : `${rel}/${name}`;
      if (rel === '' && exclude.has(name)) continue;
      const st = await lstat(path.join(root, child));
      if (st.isDirectory()) await walk(child);
      else if (st.isFile()) out.push(child);
    }
  };
  await walk('');
  return out;
}

/** Copies `files` from one tree to another, returning manifest entries (hash of what was copied). */
export async function copyTree(fromRoot: string, toRoot: string, files: readonly string[], manifestPrefix: string): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  for (const rel of files) {
    const from = path.join(fromRoot, rel);
    const mode = (await lstat(from)).mode & 0o7777;
    const h = await copyHashed(from, path.join(toRoot, rel), mode & 0o700 ? mode & 0o700 : 0o600);
    entries.push({ path: `${manifestPrefix}/${rel}`, size: h.size, sha256: h.sha256, mode: mode & 0o700 ? mode & 0o700 : 0o600 });
  }
  return entries;
}

/** Checks every listed file of a backup against its hash before anything is restored. */
export async function verifyEntries(backupDir: string, entries: readonly FileEntry[]): Promise<void> {
  const bad: string[] = [];
  for (const e of entries) {
    const h = await hashFile(path.join(backupDir, e.path)).catch(() => undefined);
    if (h === undefined) bad.push(`${e.path}: missing`);
    else if (h.sha256 !== e.sha256 || h.size !== e.size) bad.push(`${e.path}: SHA-256 or size differs from backup.json`);
  }
  if (bad.length > 0) throw new TiepdanError('BACKUP_CORRUPT', `the backup does not match its manifest (${bad.length} file(s)): ${bad.slice(0, 10).join('; ')}`, { details: bad });
}
