/**
 * Pre-encoded media for synthetic bridge points: one Opus track and one VP8 track per simulcast
 * layer, encoded once by FFmpeg from its test sources and cached outside the repository
 * (~/.cache/tiepdan, or TIEPDAN_CACHE_DIR). Points replay the frames in a loop, so the load client
 * spends no CPU on encoding: what it costs is packetizing, SRTP and the sockets, like the SFU side.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A simulcast layer as the browser client sends it: scale 4/2/1 of the camera picture. */
export interface VideoLayer {
  rid: string;
  width: number;
  height: number;
  kbps: number;
}

export const FPS = 15;
export const LOOP_SECONDS = 6;
/** 640×360 at the top, as a commune webcam under a 1 Mbit/s uplink: three layers at scale 4/2/1. */
export const LAYERS: readonly VideoLayer[] = [
  { rid: 'r0', width: 160, height: 90, kbps: 80 },
  { rid: 'r1', width: 320, height: 180, kbps: 200 },
  { rid: 'r2', width: 640, height: 360, kbps: 500 },
];

export interface EncodedMedia {
  /** Opus packets of 20 ms each. */
  audio: Buffer[];
  /** Per layer, VP8 frames at FPS (the first of each second a key frame), with their key flag. */
  video: { layer: VideoLayer; frames: { data: Buffer; key: boolean }[] }[];
}

// Bump when the encoding settings change, so a stale cache is never replayed.
const CACHE_VERSION = 'load-media-v1';

export function cacheDir(): string {
  return path.join(process.env.TIEPDAN_CACHE_DIR ?? path.join(homedir(), '.cache', 'tiepdan'), CACHE_VERSION);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.size > 0,
    () => false,
  );
}

/** Runs FFmpeg into a temporary name and renames it: two processes generating at once never read half a file. */
async function ffmpegOnce(out: string, args: string[]): Promise<void> {
  if (await exists(out)) return;
  const tmp = `${out}.${process.pid}.tmp`;
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, tmp], { timeout: 120_000 });
  await rename(tmp, out);
}

async function ensureFiles(dir: string): Promise<{ audio: string; video: string[] }> {
  await mkdir(dir, { recursive: true });
  const audio = path.join(dir, 'audio.opus');
  // A voice-band tone with some noise: Opus spends real bits on it (silence would be DTX-small).
  await ffmpegOnce(audio, [
    '-f', 'lavfi', '-i', `sine=frequency=220:sample_rate=48000:duration=${LOOP_SECONDS}`,
    '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-application', 'voip', '-ac', '2', '-f', 'ogg',
  ]);
  const video: string[] = [];
  for (const l of LAYERS) {
    const file = path.join(dir, `video-${l.width}x${l.height}.ivf`);
    // Real-time VP8 as a browser makes it (no alt-ref, no lag), a key frame each second so a new
    // viewer or a layer switch gets a picture at once without a PLI round trip.
    await ffmpegOnce(file, [
      '-f', 'lavfi', '-i', `testsrc2=size=${l.width}x${l.height}:rate=${FPS}:duration=${LOOP_SECONDS}`,
      '-c:v', 'libvpx', '-b:v', `${l.kbps}k`, '-maxrate', `${l.kbps}k`, '-bufsize', `${l.kbps}k`,
      '-g', String(FPS), '-keyint_min', String(FPS), '-deadline', 'realtime', '-cpu-used', '8',
      '-auto-alt-ref', '0', '-lag-in-frames', '0', '-error-resilient', '1', '-pix_fmt', 'yuv420p', '-f', 'ivf',
    ]);
    video.push(file);
  }
  return { audio, video };
}

/** IVF: a 32-byte file header (its length at byte 6), then per frame 4 bytes size, 8 bytes pts, data. */
export function parseIvf(buf: Buffer): { data: Buffer; key: boolean }[] {
  if (buf.toString('ascii', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const frames: { data: Buffer; key: boolean }[] = [];
  let off = buf.readUInt16LE(6);
  while (off + 12 <= buf.length) {
    const size = buf.readUInt32LE(off);
    const data = buf.subarray(off + 12, off + 12 + size);
    // VP8 frame tag: bit 0 of the first byte is 0 for a key frame (RFC 6386 §9.1).
    frames.push({ data, key: (data[0]! & 0x01) === 0 });
    off += 12 + size;
  }
  return frames;
}

/** Ogg: pages of segments; a packet ends at a segment shorter than 255. The first two are OpusHead and OpusTags. */
export function parseOggOpus(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let off = 0;
  while (off + 27 <= buf.length) {
    if (buf.toString('ascii', off, off + 4) !== 'OggS') throw new Error('bad Ogg page');
    const segments = buf[off + 26]!;
    const table = buf.subarray(off + 27, off + 27 + segments);
    let body = off + 27 + segments;
    for (const len of table) {
      pending.push(buf.subarray(body, body + len));
      body += len;
      if (len < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    off = body;
  }
  return packets.filter((p) => !p.toString('ascii', 0, 8).startsWith('Opus'));
}

let loaded: Promise<EncodedMedia> | undefined;

/** The encoded media, made on first use (a few seconds of FFmpeg) and read from the cache after. */
export function encodedMedia(): Promise<EncodedMedia> {
  loaded ??= (async () => {
    const files = await ensureFiles(cacheDir());
    const audio = parseOggOpus(await readFile(files.audio));
    const video = await Promise.all(LAYERS.map(async (layer, i) => ({ layer, frames: parseIvf(await readFile(files.video[i]!)) })));
    if (audio.length === 0 || video.some((v) => v.frames.length === 0 || !v.frames[0]!.key)) throw new Error(`encoded media in ${cacheDir()} is unusable; delete it`);
    return { audio, video };
  })();
  return loaded;
}
