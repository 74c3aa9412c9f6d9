import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbeResult {
  startTime: number;
  duration: number;
  streams: { codecType: string; codecName: string; width?: number; height?: number }[];
}

/** ffprobe a media file; undefined when FFmpeg cannot read it at all. */
export async function probe(file: string): Promise<ProbeResult | undefined> {
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time,duration:stream=codec_type,codec_name,width,height', '-of', 'json', file], {
      maxBuffer: 1024 * 1024,
    });
    const j = JSON.parse(stdout) as {
      format?: { start_time?: string; duration?: string };
      streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number }[];
    };
    const duration = Number(j.format?.duration);
    return {
      startTime: Number(j.format?.start_time ?? 0),
      duration: Number.isFinite(duration) ? duration : 0,
      streams: (j.streams ?? []).map((s) => ({ codecType: s.codec_type ?? '', codecName: s.codec_name ?? '', width: s.width, height: s.height })),
    };
  } catch {
    return undefined;
  }
}

/** First packet time and end of the last packet (pts + duration), in the file's own timestamps. */
export async function packetSpan(file: string): Promise<{ first: number; end: number; packets: number } | undefined> {
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file], { maxBuffer: 64 * 1024 * 1024 });
    let first = Infinity;
    let end = -Infinity;
    let packets = 0;
    for (const line of stdout.split('\n')) {
      const [ptsText, durText] = line.split(',');
      // Empty or N/A fields must not count as 0.
      const pts = ptsText ? Number(ptsText) : Number.NaN;
      const dur = durText ? Number(durText) : Number.NaN;
      if (!Number.isFinite(pts)) continue;
      packets++;
      first = Math.min(first, pts);
      end = Math.max(end, pts + (Number.isFinite(dur) ? dur : 0));
    }
    return packets > 0 ? { first, end, packets } : undefined;
  } catch {
    return undefined;
  }
}
