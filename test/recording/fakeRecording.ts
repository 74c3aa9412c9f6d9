/**
 * A closed recording written straight to disk in the recorder's layout (manifest with a valid
 * hash chain, segment files with their real SHA-256, optionally a playable copy). For the
 * governance, access and queue tests, which need many recordings but no media pipeline; the
 * recorder itself is tested with real FFmpeg in recorder.test.ts and api.test.ts.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir, sha256File } from '../../src/recording/fsutil.ts';
import { ManifestWriter } from '../../src/recording/manifest/manifest.ts';
import { sessionDirFor } from '../../src/recording/recorder/sessionRecorder.ts';

export interface FakeRecording {
  dir: string;
  headHash: string;
  segments: string[];
  writer: ManifestWriter;
}

export async function writeFakeRecording(recordingsDir: string, sessionId: string, options: { segments?: number; playable?: boolean; label?: string } = {}): Promise<FakeRecording> {
  const dir = sessionDirFor(recordingsDir, sessionId);
  const trackDir = path.join('peer-1', 'camera-1');
  await ensureDir(path.join(dir, trackDir));
  const w = new ManifestWriter(path.join(dir, 'manifest.json'), sessionId);
  w.append({ type: 'opened', sessionId, segmentSeconds: 2, timing: 'arrival-wallclock' });
  w.append({ type: 'track', trackId: 't1', peerId: 'peer-1', label: options.label ?? 'Điểm cầu 1', source: 'camera', kind: 'video', codec: 'VP8', producerId: 'p1', dir: trackDir });
  const segments: string[] = [];
  const t0 = Date.now() / 1000;
  for (let i = 1; i <= (options.segments ?? 2); i++) {
    const file = path.join(trackDir, `seg-${String(i).padStart(5, '0')}.mkv`);
    // Bytes that differ per session and segment, so hashes differ too.
    await writeFile(path.join(dir, file), Buffer.alloc(4096 + i, `${sessionId}:${i}:`), { mode: 0o600 });
    const h = await sha256File(path.join(dir, file));
    w.append({ type: 'segment', trackId: 't1', file, size: h.size, sha256: h.sha256, start: t0 + (i - 1) * 2, end: t0 + i * 2, duration: 2 });
    segments.push(file);
  }
  w.append({ type: 'closed', status: 'complete' });
  await w.flush();
  if (options.playable) {
    await ensureDir(path.join(dir, 'playable'));
    await writeFile(path.join(dir, 'playable', 'playable.mp4'), Buffer.alloc(64 * 1024, 'mp4'), { mode: 0o600 });
  }
  return { dir, headHash: w.headHash, segments, writer: w };
}
