/**
 * A real session for recorder tests: a mediasoup router from the real WorkerPool, with producers
 * fed by real FFmpeg RTP sources (lavfi test patterns) through comedia PlainTransports. It
 * implements RecordableSession exactly as the live-session layer does; nothing is mocked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { WorkerPool } from '../../src/sfu/WorkerPool.ts';
import type { RecordableSession, RecordableSessionEvents, RecordedProducer } from '../../src/recording/recordableSession.ts';
import { startTestPool } from '../helpers/pool.ts';

export const mediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

export async function startPool(): Promise<WorkerPool> {
  return startTestPool(1, { rtcMinPort: 42000, rtcMaxPort: 44999 });
}

interface Source {
  ffmpeg: ChildProcess;
  transport: types.PlainTransport;
  recorded: RecordedProducer;
}

let nextSsrc = 11110000;

export class TestSession extends EventEmitter<RecordableSessionEvents> implements RecordableSession {
  readonly id: string;
  readonly router: types.Router;
  readonly #sources = new Map<string, Source>();

  constructor(id: string, router: types.Router) {
    super();
    this.id = id;
    this.router = router;
  }

  producers(): RecordedProducer[] {
    return [...this.#sources.values()].map((s) => s.recorded);
  }

  /**
   * Adds a producer fed by FFmpeg: audio is a sine (Opus), video a test pattern (VP8, key frame
   * every 2 s so that segment cuts do not depend only on PLI handling in FFmpeg's encoder).
   */
  async addSource(peerId: string, label: string, kind: 'audio' | 'video', options: { seconds?: number; beepEvery?: number } = {}): Promise<RecordedProducer> {
    const seconds = options.seconds ?? 600;
    const transport = await this.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    const ssrc = nextSsrc++;
    const pt = kind === 'audio' ? 100 : 101;
    const producer = await transport.produce({
      kind,
      rtpParameters:
        kind === 'audio'
          ? { codecs: [{ mimeType: 'audio/opus', payloadType: pt, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] }
          : { codecs: [{ mimeType: 'video/VP8', payloadType: pt, clockRate: 90000 }], encodings: [{ ssrc }] },
    });
    const port = transport.tuple.localPort;
    const input =
      kind === 'audio'
        ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`, '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '32k']
        : ['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=15:duration=${seconds}`, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '15', '-pix_fmt', 'yuv420p'];
    const ffmpeg = spawn(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-re', ...input, '-payload_type', String(pt), '-ssrc', String(ssrc), '-f', 'rtp', '-rtpflags', 'skip_rtcp', `rtp://127.0.0.1:${port}?pkt_size=1200`],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const recorded: RecordedProducer = { producer, peerId, label, source: kind === 'audio' ? 'microphone' : 'camera' };
    this.#sources.set(producer.id, { ffmpeg, transport, recorded });
    // Wait until the producer really receives media, so that a recorder started now has data.
    const until = Date.now() + 20000;
    while ((await producer.getStats()).reduce((n, s) => n + s.byteCount, 0) === 0) {
      if (Date.now() > until) throw new Error(`FFmpeg ${kind} source never reached the producer`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.emit('producerAdded', recorded);
    return recorded;
  }

  /**
   * One FFmpeg sending a camera and a microphone of the same peer, in sync: a white flash and a
   * 1 kHz beep at the start of every `period` seconds (for measuring audio/video offset).
   */
  async addSyncedAvSource(peerId: string, label: string, period = 2): Promise<RecordedProducer[]> {
    const make = async (kind: 'audio' | 'video') => {
      const transport = await this.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
      const ssrc = nextSsrc++;
      const pt = kind === 'audio' ? 100 : 101;
      const producer = await transport.produce({
        kind,
        rtpParameters:
          kind === 'audio'
            ? { codecs: [{ mimeType: 'audio/opus', payloadType: pt, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] }
            : { codecs: [{ mimeType: 'video/VP8', payloadType: pt, clockRate: 90000 }], encodings: [{ ssrc }] },
      });
      return { transport, producer, ssrc, pt };
    };
    const v = await make('video');
    const a = await make('audio');
    const ffmpeg = spawn(
      'ffmpeg',
      [
        '-hide_banner', '-loglevel', 'error',
        '-re', '-f', 'lavfi', '-i', `color=c=black:s=320x240:r=30,geq=lum='if(lt(mod(T,${period}),0.1),235,16)':cb=128:cr=128`,
        '-re', '-f', 'lavfi', '-i', `sine=frequency=1000:sample_rate=48000,volume=volume=0:enable='gte(mod(t,${period}),0.1)'`,
        '-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', '30', '-pix_fmt', 'yuv420p',
        '-payload_type', String(v.pt), '-ssrc', String(v.ssrc), '-f', 'rtp', '-rtpflags', 'skip_rtcp', `rtp://127.0.0.1:${v.transport.tuple.localPort}?pkt_size=1200`,
        '-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-b:a', '64k', '-application', 'lowdelay',
        '-payload_type', String(a.pt), '-ssrc', String(a.ssrc), '-f', 'rtp', '-rtpflags', 'skip_rtcp', `rtp://127.0.0.1:${a.transport.tuple.localPort}?pkt_size=1200`,
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    const out: RecordedProducer[] = [];
    for (const [x, kind] of [[v, 'video'], [a, 'audio']] as const) {
      const recorded: RecordedProducer = { producer: x.producer, peerId, label, source: kind === 'audio' ? 'microphone' : 'camera' };
      this.#sources.set(x.producer.id, { ffmpeg, transport: x.transport, recorded });
      out.push(recorded);
    }
    const until = Date.now() + 20000;
    for (const r of out) {
      while ((await r.producer.getStats()).reduce((n, st) => n + st.byteCount, 0) === 0) {
        if (Date.now() > until) throw new Error('synced source never reached the producers');
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    for (const r of out) this.emit('producerAdded', r);
    return out;
  }

  /** Pids of the FFmpeg sources (the crash test kills them after killing their parent). */
  sourcePids(): number[] {
    return [...this.#sources.values()].map((s) => s.ffmpeg.pid ?? 0).filter((p) => p > 0);
  }

  removeSource(producerId: string): void {
    const s = this.#sources.get(producerId);
    if (!s) return;
    this.#sources.delete(producerId);
    s.ffmpeg.kill('SIGKILL');
    s.transport.close();
    this.emit('producerClosed', producerId);
  }

  end(): void {
    for (const id of [...this.#sources.keys()]) this.removeSource(id);
    this.emit('ended');
  }

  close(): void {
    for (const s of this.#sources.values()) {
      s.ffmpeg.kill('SIGKILL');
      s.transport.close();
    }
    this.#sources.clear();
  }
}
