/**
 * Security review L11: FFmpeg takes a track's RTP on a local port, and any local user can find
 * the port (`ss -ulpn`) and send RTP with the right payload type. The recorder pins the sender:
 * a forged stream from another local socket must not reach the recording, the real one must.
 * Real mediasoup, real FFmpeg on both sides: the real source is a 440 Hz sine, the forger sends
 * a loud 3 kHz sine to FFmpeg's port; the recorded segments are then measured in both bands.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { readManifest, type SegmentEntry } from '../../src/recording/manifest/manifest.ts';
import { SessionRecorder } from '../../src/recording/recorder/sessionRecorder.ts';
import { udpBound } from '../../src/recording/recorder/udpPorts.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { recorderOptions, sleep, waitFor } from './helpers.ts';

const run = promisify(execFile);

/** Mean volume (dB) of a recorded segment after a band filter. */
async function meanVolume(file: string, filter: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', `${filter},volumedetect`, '-f', 'null', '-']);
  return Number(/mean_volume: (-?[\d.]+) dB/.exec(stderr)?.[1] ?? -91);
}

t.test('a forged RTP stream sent to the recorder’s port from another local socket is not recorded', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const session = new TestSession('session-forged', router);
  t.teardown(() => session.close());
  await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
  const recorder = await SessionRecorder.start(session, recorderOptions(path.join(data.dir, 'recordings'), silentLogger(), { segmentSeconds: 2 }));
  const track = recorder.state.tracks[0];
  if (!track) throw new Error('no track');
  // What the attacker learns: the port (ss -ulpn) and the payload type (here from the SDP; a guess of 100/111 does as well).
  const sdp = await readFile(path.join(recorder.workDir, `${track.trackId}-g1.sdp`), 'utf8');
  const pt = /m=audio \d+ RTP\/AVP (\d+)/.exec(sdp)?.[1] ?? '100';
  t.ok(await udpBound('127.0.0.1', track.port), `FFmpeg listens on 127.0.0.1:${track.port}`);
  t.notOk(await udpBound('0.0.0.0', track.port), 'not on every address (it did: the port was reachable from the network)');

  // FFmpeg's jitter buffer drops packets that look older than the stream's: the forger cannot
  // see the real sequence numbers, so it sends four streams whose numbers cover the whole range
  // (one of them is always "ahead" and, without pinning, gets into the recording).
  const forgers = [0, 16384, 32768, 49152].map((seq, i) =>
    spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=3000:sample_rate=48000:duration=6,volume=4',
      '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k', '-payload_type', pt, '-ssrc', String(4242 + i), '-seq', String(seq), '-f', 'rtp', '-rtpflags', 'skip_rtcp',
      `rtp://127.0.0.1:${track.port}?pkt_size=1200`,
    ], { stdio: 'ignore' }),
  );
  t.teardown(() => forgers.forEach((f) => f.kill('SIGKILL')));
  await Promise.all(forgers.map((f) => new Promise((r) => f.once('exit', r))));
  await sleep(1000);
  session.end();
  await waitFor('stopped', () => recorder.state.status === 'stopped', 60000);

  const manifest = await readManifest(path.join(recorder.dir, 'manifest.json'));
  const segments = manifest.entries.filter((e): e is SegmentEntry => e.type === 'segment');
  t.ok(segments.reduce((n, s) => n + s.duration, 0) > 6, 'the real track was recorded all along');
  let forged = -91;
  let real = -91;
  for (const s of segments) {
    const file = path.join(recorder.dir, s.file);
    forged = Math.max(forged, await meanVolume(file, 'highpass=f=2000,highpass=f=2000'));
    real = Math.max(real, await meanVolume(file, 'lowpass=f=1000,lowpass=f=1000'));
  }
  t.ok(real > -40, `the real 440 Hz source is in the recording (${real} dB below 1 kHz)`);
  t.ok(forged < -60, `the forged 3 kHz stream is not (${forged} dB above 2 kHz)`);
});
