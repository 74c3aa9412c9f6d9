import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../logging/logger.ts';
import { fsyncFile, sha256File } from '../fsutil.ts';
import { ManifestWriter, type ManifestEntry } from '../manifest/manifest.ts';
import { repairPartialSegment } from '../recorder/repair.ts';

export interface RecoveryResult {
  sessionId: string;
  dir: string;
  segmentsAdded: number;
  repaired: number;
  quarantined: number;
  killedFfmpeg: number;
  headHash: string;
}

async function isOurFfmpeg(pid: number, sessionDir: string): Promise<boolean> {
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return comm === 'ffmpeg' && cmdline.includes(sessionDir);
  } catch {
    return false;
  }
}

/** FFmpegs orphaned by a crashed server still hold their files open: stop them first. */
async function killOrphans(sessionDir: string): Promise<number> {
  let pids: number[] = [];
  try {
    const j = JSON.parse(await readFile(path.join(sessionDir, '.work', 'pids.json'), 'utf8')) as { ffmpeg?: Record<string, number | null> };
    pids = Object.values(j.ffmpeg ?? {}).filter((p): p is number => typeof p === 'number');
  } catch {
    return 0;
  }
  let killed = 0;
  for (const pid of pids) {
    if (!(await isOurFfmpeg(pid, sessionDir))) continue;
    process.kill(pid, 'SIGKILL');
    killed++;
    const until = Date.now() + 5000;
    while ((await isOurFfmpeg(pid, sessionDir)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  }
  return killed;
}

async function readNumber(file: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Closes one recording that a crash left open: lists segments FFmpeg completed but the manifest
 * had not yet listed, repairs or quarantines each partial segment, ends every track and closes
 * the manifest as "interrupted". The chain stays intact: entries are only appended.
 */
export async function recoverRecording(sessionDir: string, logger: Logger): Promise<RecoveryResult> {
  const killedFfmpeg = await killOrphans(sessionDir);
  const manifest = await ManifestWriter.load(path.join(sessionDir, 'manifest.json'));
  const workDir = path.join(sessionDir, '.work');
  const result: RecoveryResult = { sessionId: manifest.sessionId, dir: sessionDir, segmentsAdded: 0, repaired: 0, quarantined: 0, killedFfmpeg, headHash: '' };
  const tracks = manifest.entries.filter((e): e is Extract<ManifestEntry, { type: 'track' }> => e.type === 'track');
  const workFiles = await readdir(workDir).catch(() => [] as string[]);
  for (const track of tracks) {
    const dir = path.join(sessionDir, track.dir);
    const listed = new Set(manifest.entries.filter((e) => e.type === 'segment' && e.trackId === track.trackId).map((e) => path.basename((e as { file: string }).file)));
    let lastEnd: number | undefined;
    for (const e of manifest.entries) if (e.type === 'segment' && e.trackId === track.trackId) lastEnd = e.end;
    // Segments FFmpeg finished (in its list) that the crash kept out of the manifest.
    const generations = workFiles
      .map((f) => new RegExp(`^${track.trackId.replace(/[.]/g, '\\.')}-g(\\d+)\\.csv$`).exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    let zero: number | undefined;
    for (const g of generations) {
      zero = await readNumber(path.join(workDir, `${track.trackId}-g${g}.zero`));
      if (zero === undefined) continue;
      const text = await readFile(path.join(workDir, `${track.trackId}-g${g}.csv`), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        const [name, s, e] = line.trim().split(',');
        if (!name || listed.has(name) || s === undefined || e === undefined) continue;
        const file = path.join(dir, name);
        try {
          await fsyncFile(file);
        } catch {
          continue;
        }
        const h = await sha256File(file);
        const start = zero + Number(s);
        const end = zero + Number(e);
        manifest.append({ type: 'segment', trackId: track.trackId, file: path.relative(sessionDir, file), size: h.size, sha256: h.sha256, start, end, duration: Math.round((end - start) * 1000) / 1000 });
        listed.add(name);
        lastEnd = end;
        result.segmentsAdded++;
      }
    }
    // Whatever is left unlisted was being written at the crash.
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^seg-\d+\.mkv$/.test(n) && !listed.has(n)).sort();
    for (const name of names) {
      const file = path.join(dir, name);
      if ((await stat(file)).size === 0) {
        await rm(file); // opened, never written: nothing to keep
        continue;
      }
      const outcome = await repairPartialSegment(file, path.join(sessionDir, 'quarantine', track.trackId));
      if (outcome.status === 'missing') continue;
      manifest.append({ type: 'quarantined', trackId: track.trackId, file: path.relative(sessionDir, outcome.quarantined.file), size: outcome.quarantined.size, sha256: outcome.quarantined.sha256, reason: 'server interrupted' });
      result.quarantined++;
      if (outcome.status === 'repaired') {
        const end = zero !== undefined ? zero + outcome.end : (lastEnd ?? 0) + (outcome.end - outcome.first);
        const start = Math.min(lastEnd ?? end - (outcome.end - outcome.first), end);
        manifest.append({ type: 'segment', trackId: track.trackId, file: path.relative(sessionDir, file), size: outcome.size, sha256: outcome.sha256, start, end, duration: Math.round((end - start) * 1000) / 1000, repaired: true });
        lastEnd = end;
        result.repaired++;
      }
    }
    if (!manifest.entries.some((e) => e.type === 'trackEnded' && e.trackId === track.trackId)) {
      manifest.append({ type: 'trackEnded', trackId: track.trackId, reason: 'server interrupted' });
    }
  }
  manifest.append({ type: 'closed', status: 'interrupted' });
  await manifest.flush();
  await rm(workDir, { recursive: true, force: true });
  result.headHash = manifest.headHash;
  logger.warn({ sessionId: result.sessionId, segmentsAdded: result.segmentsAdded, repaired: result.repaired, quarantined: result.quarantined }, 'interrupted recording closed');
  return result;
}

/** Finds recordings left open (no closed entry) under `recordingsDir` and closes them as interrupted. */
export async function recoverInterruptedRecordings(recordingsDir: string, logger: Logger, isLive: (sessionDir: string) => boolean = () => false): Promise<RecoveryResult[]> {
  const out: RecoveryResult[] = [];
  const dirs = await readdir(recordingsDir, { withFileTypes: true }).catch(() => []);
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    const dir = path.join(recordingsDir, d.name);
    if (isLive(dir)) continue;
    let closed = true;
    try {
      const m = await ManifestWriter.load(path.join(dir, 'manifest.json'));
      closed = m.closed;
    } catch (err) {
      logger.error({ err, dir: d.name }, 'recording manifest unreadable; left for a technician');
      continue;
    }
    if (!closed) out.push(await recoverRecording(dir, logger));
  }
  return out;
}
