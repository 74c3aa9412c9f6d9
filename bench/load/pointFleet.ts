/**
 * Many synthetic points in one process, paced by one timer: each point sends its audio every
 * 20 ms and its video every frame interval at its own phase, so N points do not send in bursts
 * of N packets (a real province's communes are not synchronised either).
 */
import { encodedMedia, FPS } from './media.ts';
import type { ViewSize } from './speakerView.ts';
import { SyntheticPoint, type PointReport } from './syntheticPoint.ts';

export interface Seat {
  sessionId: string;
  token: string;
  /**
   * Whether its microphone is on (forwarded). Unset: the first seat of each session in this
   * fleet (the commune with the floor); the others join muted, as communes do. With several
   * fleet processes the bench sets it, so a session has one voice overall.
   */
  speaking?: boolean;
  /** Size every received video is shown at (a central point's thumbnails); see PointOptions.viewSize. */
  viewSize?: ViewSize;
  /** With viewSize: the size the speaker's video is shown at (a central point's screen). */
  speakerViewSize?: ViewSize;
}

export interface FleetOptions {
  wsUrl: string;
  /** One per point: the session and its invitation token (several sessions may share a fleet), and how the point behaves. */
  seats: Seat[];
  layers?: number;
  /** Points joining at once (the rest queue), so a sweep measures the session, not a join storm. */
  joinConcurrency?: number;
}

export interface FleetReport {
  points: PointReport[];
  /** CPU of this process (all points, user + system) per wall second over the measured window, in % of one core. */
  cpuPct: number;
  /** Worst gap between pacer ticks (ms): the load generator itself falling behind would look like loss. */
  maxTickGapMs: number;
  /** Audio packets and video frames not sent because the load generator was more than 100 ms late. */
  skippedSends: number;
}

const AUDIO_MS = 20;
const VIDEO_MS = 1000 / FPS;
const TICK_MS = 5;
const MAX_CATCH_UP_MS = 100;

export class PointFleet {
  readonly points: SyntheticPoint[];
  #timer: NodeJS.Timeout | undefined;
  #lastTick = 0;
  #maxGap = 0;
  #skipped = 0;
  #cpu0: NodeJS.CpuUsage | undefined;
  #t0 = 0;

  private constructor(points: SyntheticPoint[]) {
    this.points = points;
  }

  static async start(o: FleetOptions): Promise<PointFleet> {
    const media = await encodedMedia();
    const speakers = new Set<string>();
    const points = o.seats.map(({ sessionId, token, speaking: said, viewSize, speakerViewSize }) => {
      // One voice per session, as in a sitting: the others are muted until given the floor.
      const speaking = said ?? !speakers.has(sessionId);
      speakers.add(sessionId);
      return new SyntheticPoint({ wsUrl: o.wsUrl, sessionId, token, media, layers: o.layers, speaking, viewSize, speakerViewSize });
    });
    const fleet = new PointFleet(points);
    fleet.#startPacer();
    const queue = [...points];
    const workers = Array.from({ length: Math.min(queue.length, o.joinConcurrency ?? 16) }, async () => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) await p.start();
    });
    await Promise.all(workers);
    return fleet;
  }

  #startPacer(): void {
    const start = performance.now();
    this.points.forEach((p, i) => {
      // Spread phases evenly over one audio and one video interval.
      p.nextAudioAt = start + (AUDIO_MS * i) / this.points.length;
      p.nextVideoAt = start + (VIDEO_MS * i) / this.points.length;
    });
    this.#lastTick = start;
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#maxGap = Math.max(this.#maxGap, now - this.#lastTick);
      this.#lastTick = now;
      for (const p of this.points) {
        if (!p.sending) {
          p.nextAudioAt = now;
          p.nextVideoAt = now;
          continue;
        }
        // After a stall (a busy machine), what is overdue is skipped rather than sent in one burst:
        // a burst of every point's backlog could overflow the SFU's socket buffer, and the bench
        // would report loss the network never had. Skipped sends are counted, not hidden.
        if (now - p.nextAudioAt > MAX_CATCH_UP_MS) {
          this.#skipped += Math.floor((now - p.nextAudioAt) / AUDIO_MS);
          p.nextAudioAt = now;
        }
        if (now - p.nextVideoAt > MAX_CATCH_UP_MS) {
          this.#skipped += Math.floor((now - p.nextVideoAt) / VIDEO_MS);
          p.nextVideoAt = now;
        }
        while (p.nextAudioAt <= now) {
          p.sendAudio();
          p.nextAudioAt += AUDIO_MS;
        }
        while (p.nextVideoAt <= now) {
          p.sendVideo();
          p.nextVideoAt += VIDEO_MS;
        }
      }
    }, TICK_MS);
  }

  /** Starts the measured window: CPU, tick gaps, packets and loss count from here (joins are over). */
  mark(): void {
    for (const p of this.points) p.mark();
    this.#cpu0 = process.cpuUsage();
    this.#t0 = performance.now();
    this.#maxGap = 0;
    this.#skipped = 0;
  }

  async report(): Promise<FleetReport> {
    // After a stall the timer that calls this runs before the sockets' queued packets are read
    // (timers come before I/O in the event loop): read them first, or a busy machine looks like media stopping.
    await new Promise((r) => setImmediate(r));
    const cpu = process.cpuUsage(this.#cpu0);
    const wallMs = performance.now() - this.#t0;
    return { points: this.points.map((p) => p.report()), cpuPct: (((cpu.user + cpu.system) / 1000) / wallMs) * 100, maxTickGapMs: this.#maxGap, skippedSends: this.#skipped };
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.points.map((p) => p.stop()));
  }
}
