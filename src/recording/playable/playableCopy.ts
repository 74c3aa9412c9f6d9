import { spawn } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TiepdanError } from '../../errors.ts';
import { atomicWriteFile, ensureDir, fsyncFile, sha256File, FILE_MODE } from '../fsutil.ts';
import { JOB_NICENESS } from '../../domain/common/nice.ts';
import { readManifest, type ManifestEntry, type SegmentEntry, type TrackEntry } from '../manifest/manifest.ts';

export interface PlayableOptions {
  sessionDir: string;
  /** Grid cell size; the grid is ceil(sqrt(n)) cells wide. */
  cellWidth?: number;
  cellHeight?: number;
  fps?: number;
  onProgress?: (fraction: number) => void;
  ffmpegPath?: string;
}

export interface PlayableResult {
  file: string;
  sha256: string;
  size: number;
  durationSeconds: number;
  videoTracks: number;
  audioTracks: number;
}

const ff = (n: number) => n.toFixed(3);

/** Concat list for one track: each segment lasts until the next one starts, so gaps stay gaps. */
function concatList(sessionDir: string, segs: SegmentEntry[]): string {
  const lines = ['ffconcat version 1.0'];
  segs.forEach((s, i) => {
    lines.push(`file '${path.join(sessionDir, s.file).replace(/'/g, "'\\''")}'`);
    const next = segs[i + 1];
    if (next) lines.push(`duration ${ff(next.start - s.start)}`);
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Builds the viewing copy of a closed recording: every camera/screen track in a grid, all audio
 * tracks mixed, each placed on the session timeline by its segments' arrival wall-clock (so late
 * joiners and FFmpeg restarts land where they happened). Written to playable/playable.mp4 (H.264 +
 * AAC, faststart) with playable/playable.json; the original segments are only read.
 */
export async function buildPlayableCopy(o: PlayableOptions): Promise<PlayableResult> {
  const manifest = await readManifest(path.join(o.sessionDir, 'manifest.json'));
  if (manifest.status === 'recording') throw new TiepdanError('RECORDING_IN_PROGRESS', 'the recording is still running');
  const entries = manifest.entries as ManifestEntry[];
  const tracks = entries.filter((e): e is TrackEntry => e.type === 'track');
  const segsOf = (id: string) => entries.filter((e): e is SegmentEntry => e.type === 'segment' && e.trackId === id).sort((a, b) => a.start - b.start);
  const usable = tracks.map((t) => ({ t, segs: segsOf(t.trackId) })).filter((x) => x.segs.length > 0);
  if (usable.length === 0) throw new TiepdanError('RECORDING_EMPTY', 'the recording holds no media');
  const t0 = Math.min(...usable.map((x) => x.segs[0]?.start ?? Infinity));
  const t1 = Math.max(...usable.map((x) => x.segs.at(-1)?.end ?? 0));
  const total = t1 - t0;
  const videos = usable.filter((x) => x.t.kind === 'video');
  const audios = usable.filter((x) => x.t.kind === 'audio');
  const w = o.cellWidth ?? 640;
  const h = o.cellHeight ?? 360;
  const fps = o.fps ?? 25;
  const cols = Math.max(1, Math.ceil(Math.sqrt(videos.length)));
  const rows = Math.max(1, Math.ceil(videos.length / cols));

  const outDir = path.join(o.sessionDir, 'playable');
  await ensureDir(outDir);
  const work = path.join(outDir, '.work');
  await ensureDir(work);
  const inputs: string[] = [];
  const filters: string[] = [];
  const all = [...videos, ...audios];
  for (const [i, x] of all.entries()) {
    const list = path.join(work, `${i}.ffconcat`);
    await writeFile(list, concatList(o.sessionDir, x.segs), { mode: FILE_MODE });
    inputs.push('-f', 'concat', '-safe', '0', '-i', list);
  }
  // A black canvas for the whole session; each camera is overlaid from the moment it started.
  filters.push(`color=c=black:s=${w * cols}x${h * rows}:r=${fps}:d=${ff(total)}[base0]`);
  videos.forEach((x, i) => {
    const offset = (x.segs[0]?.start ?? t0) - t0;
    filters.push(`[${i}:v]setpts=PTS-STARTPTS+${ff(offset)}/TB,fps=${fps},scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,setsar=1[v${i}]`);
    filters.push(`[base${i}][v${i}]overlay=x=${(i % cols) * w}:y=${Math.floor(i / cols) * h}:eof_action=pass[base${i + 1}]`);
  });
  const vOut = `base${videos.length}`;
  audios.forEach((x, j) => {
    const i = videos.length + j;
    const offsetMs = Math.round(((x.segs[0]?.start ?? t0) - t0) * 1000);
    // async=1 fills holes (FFmpeg restarts) with silence instead of pulling later audio forward.
    filters.push(`[${i}:a]aresample=48000:async=1:first_pts=0,adelay=${offsetMs}:all=1[a${j}]`);
  });
  if (audios.length > 0) filters.push(`${audios.map((_, j) => `[a${j}]`).join('')}amix=inputs=${audios.length}:duration=longest:normalize=0,apad=whole_dur=${ff(total)}[aout]`);

  const tmp = path.join(outDir, '.playable.tmp.mp4');
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-progress', 'pipe:1', '-y',
    ...inputs,
    '-filter_complex', filters.join(';'),
    '-map', `[${vOut}]`, ...(audios.length > 0 ? ['-map', '[aout]'] : []),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-pix_fmt', 'yuv420p',
    ...(audios.length > 0 ? ['-c:a', 'aac', '-b:a', '96k'] : []),
    '-t', ff(total), '-movflags', '+faststart', tmp,
  ];
  await new Promise<void>((resolve, reject) => {
    // Owner-only files (umask 077), and niced: an encode must not take the CPU from live sessions.
    const p = spawn('/bin/sh', ['-c', `umask 077 && exec nice -n ${JOB_NICENESS} "$0" "$@"`, o.ffmpegPath ?? 'ffmpeg', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-2000)));
    p.stdout.setEncoding('utf8').on('data', (c: string) => {
      const m = /out_time_us=(\d+)/.exec(c);
      if (m && total > 0) o.onProgress?.(Math.min(1, Number(m[1]) / 1e6 / total));
    });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new TiepdanError('PLAYABLE_FAILED', `FFmpeg could not build the playable copy: ${err.trim().split('\n').slice(-2).join(' ')}`))));
  });
  const file = path.join(outDir, 'playable.mp4');
  await fsyncFile(tmp);
  await rename(tmp, file);
  await rm(work, { recursive: true, force: true });
  const hsh = await sha256File(file);
  const info = {
    format: 'tiepdan-playable/1',
    sessionId: manifest.sessionId,
    sourceManifestHeadHash: manifest.headHash,
    createdAt: new Date().toISOString(),
    timelineStart: t0,
    durationSeconds: total,
    videoTracks: videos.map((x) => x.t.trackId),
    audioTracks: audios.map((x) => x.t.trackId),
    sha256: hsh.sha256,
    size: hsh.size,
  };
  await atomicWriteFile(path.join(outDir, 'playable.json'), `${JSON.stringify(info, null, 1)}\n`);
  o.onProgress?.(1);
  return { file, sha256: hsh.sha256, size: hsh.size, durationSeconds: total, videoTracks: videos.length, audioTracks: audios.length };
}
