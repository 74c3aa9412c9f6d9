import { execFile } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../src/logging/logger.ts';
import type { RecorderOptions } from '../../src/recording/recorder/sessionRecorder.ts';

const run = promisify(execFile);

export function recorderOptions(recordingsDir: string, logger: Logger, overrides: Partial<RecorderOptions> = {}): RecorderOptions {
  return {
    recordingsDir,
    segmentSeconds: 2,
    disk: { warnBytes: 64 * 1024 * 1024, floorBytes: 16 * 1024 * 1024 },
    diskCheckMs: 500,
    portMin: 36000,
    portMax: 36999,
    logger,
    ...overrides,
  };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every file and directory under `dir` with its permission bits. */
export async function modes(dir: string): Promise<{ path: string; dir: boolean; mode: number }[]> {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = async (d: string) => {
    out.push({ path: d, dir: true, mode: (await stat(d)).mode & 0o777 });
    for (const e of await readdir(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) await walk(f);
      else out.push({ path: f, dir: false, mode: (await stat(f)).mode & 0o777 });
    }
  };
  await walk(dir);
  return out;
}

/**
 * Mounts a fresh tmpfs (a real separate filesystem, as a USB drive is) at `dir`, which is created.
 * Needs root. Returns the unmount, for t.teardown (lazy if something still holds it open).
 */
export async function mountTmpfs(dir: string, size: string, options = 'mode=0755'): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},${options}`, 'tmpfs', dir]);
  return async () => {
    await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
  };
}

/** Mode, owner and names inside a directory: what an export must leave untouched. */
export async function dirState(dir: string): Promise<{ mode: string; uid: number; gid: number; entries: string[] }> {
  const s = await stat(dir);
  return { mode: (s.mode & 0o7777).toString(8), uid: s.uid, gid: s.gid, entries: (await readdir(dir)).sort() };
}
