import { setPriority } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { Logger } from '../../logging/logger.ts';
import { FILE_MODE } from '../fsutil.ts';
import type { RecordedProducer } from '../recordableSession.ts';
import { sdpForConsumer, codecName } from './sdp.ts';
import { packetSpan } from './ffprobe.ts';
import { RtcpTap, type SenderReport } from './rtcpTap.ts';
import { freeUdpPair, udpBound } from './udpPorts.ts';

/** FFmpeg's address for a track's RTP/RTCP. */
export const RECORDER_IP = '127.0.0.1';
/**
 * mediasoup's address for sending it: another loopback address, so that mediasoup and FFmpeg can
 * hold the same port numbers (FFmpeg connects to the port number it listens on).
 */
export const SENDER_IP = '127.0.0.2';

/** Nice value for recorder FFmpegs (lower runs first; media workers and Node stay at 0). */
const RECORDER_PRIORITY = -5;

export interface TrackRecorderOptions {
  router: types.Router;
  recorded: RecordedProducer;
  trackId: string;
  /** Absolute directory for this track's segments. */
  dir: string;
  /** Directory for FFmpeg's SDP and segment lists (removed when the recording closes). */
  workDir: string;
  segmentSeconds: number;
  portMin: number;
  portMax: number;
  /** Ports other tracks are using right now (their FFmpeg may not have bound them yet). */
  takenPorts: Set<number>;
  logger: Logger;
  ffmpegPath?: string;
  /** Delay before FFmpeg is restarted after dying. */
  restartDelayMs?: number;
}

/** A completed segment as FFmpeg's segment list reports it (times: seconds since the epoch). */
export interface CompletedSegment {
  file: string;
  start: number;
  end: number;
  /** The latest RTCP sender report of the track when the segment completed. */
  senderReport?: SenderReport;
}

export type TrackRecorderEvents = {
  segment: [CompletedSegment];
  /** FFmpeg died unexpectedly; `partialFile` is the segment it was writing, if any. */
  died: [info: { at: number; lastEnd: number | undefined; epochZero: number | undefined; partialFile: string; reason: string }];
  /** FFmpeg runs again after dying; `firstStart` comes with the first new segment. */
  restarted: [info: { generation: number }];
  /** The track stopped for good (stop() or too many failures). */
  stopped: [reason: string];
};

/**
 * Records one producer: a PlainTransport + paused consumer on the session's router, an FFmpeg that
 * receives the RTP (described by an SDP) and copies it without transcoding into numbered Matroska
 * segments, stamping packets with their arrival wall-clock. The consumer is resumed only once
 * FFmpeg listens, and video key frames are requested at start and at every segment boundary so
 * each segment starts on a key frame. If FFmpeg dies it is restarted with a fresh transport.
 */
export class TrackRecorder extends EventEmitter<TrackRecorderEvents> {
  readonly options: TrackRecorderOptions;
  readonly kind: types.MediaKind;
  codec = 'unknown';
  #transport: types.PlainTransport | undefined;
  #rtcp: RtcpTap | undefined;
  #consumer: types.Consumer | undefined;
  #ffmpeg: ChildProcess | undefined;
  #port = 0;
  #generation = 0;
  #nextNumber = 1;
  #listed = new Set<string>();
  #lastEnd: number | undefined;
  #poll: NodeJS.Timeout | undefined;
  #keyFrames: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #stderrTail: string[] = [];
  /** Wall-clock (epoch seconds) of the current FFmpeg's time zero: its input's start time. */
  #epochZero: number | undefined;
  #failuresInRow = 0;
  readonly #logger: Logger;

  constructor(options: TrackRecorderOptions) {
    super();
    this.options = options;
    this.kind = options.recorded.producer.kind;
    this.#logger = options.logger.child({ track: options.trackId });
  }

  get pid(): number | undefined {
    return this.#ffmpeg?.pid;
  }

  get port(): number {
    return this.#port;
  }

  get running(): boolean {
    return this.#ffmpeg !== undefined && this.#ffmpeg.exitCode === null && this.#ffmpeg.signalCode === null;
  }

  async start(): Promise<void> {
    const { router, recorded } = this.options;
    this.#generation++;
    this.#listed = new Set();
    // The media is pinned to one sender (security review L11): mediasoup sends from
    // SENDER_IP:port (RTCP from port + 1), and FFmpeg binds RECORDER_IP:port and connect()s its
    // sockets to exactly those addresses (SDP c= line + `-sdp_flags filter_src`), so the kernel
    // drops every datagram from any other socket, local or not, before FFmpeg sees it. Nobody
    // else can send from SENDER_IP:port while mediasoup holds it.
    const { transport, port } = await this.#pinnedTransport(router);
    this.#transport = transport;
    this.#port = port;
    const consumer = await transport.consume({ producerId: recorded.producer.id, rtpCapabilities: router.rtpCapabilities, paused: true });
    this.#consumer = consumer;
    this.codec = codecName(consumer.rtpParameters);
    consumer.on('producerclose', () => void this.stop('producer closed'));

    const sdpFile = path.join(this.options.workDir, `${this.options.trackId}-g${this.#generation}.sdp`);
    await writeFile(sdpFile, sdpForConsumer(consumer.rtpParameters, consumer.kind, this.#port, SENDER_IP), { mode: FILE_MODE });
    const listFile = this.#listFile();
    await writeFile(listFile, '', { mode: FILE_MODE });

    const args = [
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
      '-protocol_whitelist', 'file,udp,rtp',
      // Arrival wall-clock on every packet: aligns this track with the session's other tracks,
      // and survives FFmpeg restarts (the timeline simply shows the gap).
      '-use_wallclock_as_timestamps', '1',
      '-analyzeduration', '500000', '-probesize', '100000',
      '-reorder_queue_size', '64',
      // Bind RECORDER_IP (not every address) and accept only the SDP's sender (see above).
      '-sdp_flags', 'filter_src', '-localaddr', RECORDER_IP,
      '-i', sdpFile,
      '-map', '0', '-c', 'copy',
      '-f', 'segment', '-segment_time', String(this.options.segmentSeconds), '-segment_format', 'matroska',
      // Short clusters, flushed as written: a crash loses at most about half a second.
      '-segment_format_options', 'cluster_time_limit=500:flush_packets=1',
      '-segment_list', listFile, '-segment_list_type', 'csv',
      '-segment_start_number', String(this.#nextNumber), '-reset_timestamps', '0',
      path.join(this.options.dir, 'seg-%05d.mkv'),
    ];
    // Through sh only to set umask 077: segments are owner-only from their first byte.
    const ffmpeg = spawn('/bin/sh', ['-c', 'umask 077 && exec "$0" "$@"', this.options.ffmpegPath ?? 'ffmpeg', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#ffmpeg = ffmpeg;
    // Packets are stamped with their arrival time as FFmpeg reads them: a recorder starved of CPU
    // by other work on the central machine would compress its timeline. Ask for a higher
    // priority (granted to root; elsewhere the default stays and nothing fails).
    if (ffmpeg.pid !== undefined) {
      try {
        setPriority(ffmpeg.pid, RECORDER_PRIORITY);
      } catch {
        // not permitted: keep the default priority
      }
    }
    const generation = this.#generation;
    ffmpeg.stderr?.setEncoding('utf8');
    this.#epochZero = undefined;
    let partialLine = '';
    ffmpeg.stderr?.on('data', (chunk: string) => {
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        // FFmpeg shifts timestamps so that its input starts at 0; the input's start is the arrival
        // wall-clock of the first packet, printed as "start: <seconds>".
        const start = /Duration: [^,]+, start: (\d+\.\d+)/.exec(line);
        if (start && this.#epochZero === undefined) {
          this.#epochZero = Number(start[1]);
          // Kept beside the segment list so that recovery after a server crash can date the segments.
          void writeFile(this.#listFile(generation).replace(/\.csv$/, '.zero'), String(this.#epochZero), { mode: FILE_MODE }).catch(() => undefined);
        }
        if (line.trim()) this.#stderrTail.push(line);
      }
      this.#stderrTail = this.#stderrTail.slice(-20);
    });
    ffmpeg.once('exit', (code, signal) => void this.#onExit(generation, code, signal));

    // FFmpeg binds its RTP/RTCP ports while reading the SDP; only then may media flow.
    const until = Date.now() + 15000;
    while (!(await udpBound(RECORDER_IP, this.#port))) {
      if (!this.running) throw new Error(`FFmpeg exited before listening: ${this.#stderrTail.join(' | ')}`);
      if (Date.now() > until) throw new Error('FFmpeg did not open its RTP port within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    // RTCP goes to our tap, which records the sender reports (FFmpeg needs none for one stream).
    this.#rtcp = await RtcpTap.open();
    await transport.connect({ ip: RECORDER_IP, port: this.#port, rtcpPort: this.#rtcp.port });
    await consumer.resume();
    if (consumer.kind === 'video') {
      await consumer.requestKeyFrame();
      // Segment cuts happen on key frames: ask for one at each boundary so segments stay short.
      this.#keyFrames = setInterval(() => void consumer.requestKeyFrame().catch(() => undefined), this.options.segmentSeconds * 1000);
    }
    this.#poll = setInterval(() => void this.#readList(), 500);
    this.#logger.debug({ port: this.#port, pid: ffmpeg.pid, generation }, 'track recording');
  }

  /**
   * A PlainTransport on SENDER_IP:port and :port + 1 for a port pair also free for FFmpeg. The
   * choice is random in RECORDING_PORT_MIN–MAX; a pair taken meanwhile is tried again elsewhere.
   */
  async #pinnedTransport(router: types.Router): Promise<{ transport: types.PlainTransport; port: number }> {
    for (let attempt = 1; ; attempt++) {
      const port = await freeUdpPair(this.options.portMin, this.options.portMax, this.options.takenPorts);
      this.options.takenPorts.add(port);
      try {
        const transport = await router.createPlainTransport({
          listenInfo: { protocol: 'udp', ip: SENDER_IP, port },
          rtcpListenInfo: { protocol: 'udp', ip: SENDER_IP, port: port + 1 },
          rtcpMux: false,
          comedia: false,
        });
        return { transport, port };
      } catch (err) {
        this.options.takenPorts.delete(port);
        if (attempt >= 5) throw err;
      }
    }
  }

  #listFile(generation = this.#generation): string {
    return path.join(this.options.workDir, `${this.options.trackId}-g${generation}.csv`);
  }

  /** FFmpeg appends a line to the segment list when a segment is complete and closed. */
  async #readList(generation = this.#generation): Promise<void> {
    const zero = this.#epochZero;
    if (zero === undefined) return;
    let text: string;
    try {
      text = await readFile(this.#listFile(generation), 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      const [name, start, end] = line.trim().split(',');
      if (!name || start === undefined || end === undefined || this.#listed.has(name)) continue;
      const s = zero + Number(start);
      const e = zero + Number(end);
      if (!Number.isFinite(s) || !Number.isFinite(e)) continue;
      this.#listed.add(name);
      const n = Number(/seg-(\d+)\.mkv$/.exec(name)?.[1] ?? 0);
      if (n >= this.#nextNumber) this.#nextNumber = n + 1;
      this.#lastEnd = e;
      this.#failuresInRow = 0;
      this.emit('segment', { file: path.join(this.options.dir, name), start: s, end: e, ...(this.#rtcp?.latest ? { senderReport: this.#rtcp.latest } : {}) });
    }
  }

  /**
   * FFmpeg interrupted while waiting for packets (the producer left) writes its last segment but
   * not always its list entry: list that segment from its own packets when FFmpeg can read it.
   */
  async #listLastSegment(): Promise<void> {
    const name = `seg-${String(this.#nextNumber).padStart(5, '0')}.mkv`;
    const zero = this.#epochZero;
    if (this.#listed.has(name) || zero === undefined) return;
    const file = path.join(this.options.dir, name);
    const span = await packetSpan(file);
    if (!span) return;
    this.#listed.add(name);
    this.#nextNumber++;
    const end = zero + span.end;
    const start = Math.min(this.#lastEnd ?? zero + span.first, end);
    this.#lastEnd = end;
    this.emit('segment', { file, start, end, ...(this.#rtcp?.latest ? { senderReport: this.#rtcp.latest } : {}) });
  }

  #teardownMedia(): void {
    clearInterval(this.#poll);
    clearInterval(this.#keyFrames);
    this.#poll = undefined;
    this.#keyFrames = undefined;
    this.options.takenPorts.delete(this.#port);
    this.#transport?.close();
    this.#transport = undefined;
    this.#rtcp?.close();
    this.#rtcp = undefined;
    this.#consumer = undefined;
  }

  async #onExit(generation: number, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (generation !== this.#generation) return;
    await this.#readList(generation);
    this.#teardownMedia();
    if (this.#stopping) return;
    // Unexpected death: the segment being written is not in the list; report it for repair.
    const partialFile = path.join(this.options.dir, `seg-${String(this.#nextNumber).padStart(5, '0')}.mkv`);
    const reason = signal ? `FFmpeg killed by ${signal}` : `FFmpeg exited with code ${code}: ${this.#stderrTail.slice(-3).join(' | ')}`;
    this.#logger.warn({ code, signal }, 'FFmpeg died, restarting');
    this.#nextNumber++; // the partial keeps its number; the restarted FFmpeg continues after it
    this.emit('died', { at: Date.now() / 1000, lastEnd: this.#lastEnd, epochZero: this.#epochZero, partialFile, reason });
    this.#failuresInRow++;
    if (this.#failuresInRow > 5) {
      this.#stopping = Promise.resolve();
      this.emit('stopped', 'FFmpeg keeps failing');
      return;
    }
    await new Promise((r) => setTimeout(r, this.options.restartDelayMs ?? 50));
    if (this.#stopping) return;
    try {
      await this.start();
      this.emit('restarted', { generation: this.#generation });
    } catch (err) {
      this.#logger.error({ err }, 'FFmpeg restart failed');
      this.#stopping = Promise.resolve();
      this.emit('stopped', `restart failed: ${(err as Error).message}`);
    }
  }

  /** Stops cleanly: FFmpeg gets SIGINT, finishes the segment and its list; SIGKILL after 10 s. */
  stop(reason = 'stopped'): Promise<void> {
    this.#stopping ??= (async () => {
      const ffmpeg = this.#ffmpeg;
      const generation = this.#generation;
      if (ffmpeg && ffmpeg.exitCode === null && ffmpeg.signalCode === null) {
        const exited = new Promise<void>((r) => ffmpeg.once('exit', () => r()));
        ffmpeg.kill('SIGINT');
        // FFmpeg blocked on a silent UDP socket (the producer left) only breaks out of the read at
        // the second SIGINT; both are graceful (trailer and segment list written). SIGKILL last.
        const again = setTimeout(() => ffmpeg.kill('SIGINT'), 1000);
        const timer = setTimeout(() => ffmpeg.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(again);
        clearTimeout(timer);
      }
      await this.#readList(generation);
      await this.#listLastSegment();
      this.#teardownMedia();
      this.emit('stopped', reason);
    })();
    return this.#stopping;
  }
}
