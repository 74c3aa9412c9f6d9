import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * How long the event loop was held, told apart from how long it was merely late.
 *
 * `monitorEventLoopDelay` gives the raw delay: the longest the loop went without turning. On a
 * loaded 2-core machine that includes time the process was simply not scheduled, which no
 * server change could fix. Code holds the loop only by running on it, so each interval between
 * two ticks of our own timer is charged min(its delay, the main thread's CPU during it): the
 * largest such charge is the longest hold. On a quiet machine the two figures agree.
 */
export class LoopHold {
  readonly resolutionMs: number;
  readonly #histogram: ReturnType<typeof monitorEventLoopDelay>;
  #timer: NodeJS.Timeout | undefined;
  #lastWall = 0;
  #lastCpu = 0;
  /** Longest hold (ms) since the last reset. */
  held = 0;

  constructor(resolutionMs = 10) {
    this.resolutionMs = resolutionMs;
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  start(): void {
    this.#histogram.enable();
    this.#lastWall = performance.now();
    this.#lastCpu = cpuMs();
    this.#timer = setInterval(() => this.sample(), this.resolutionMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram.disable();
  }

  /** Charges the interval since the previous sample (also called at the end of a measured call). */
  sample(): void {
    const wall = performance.now();
    const cpu = cpuMs();
    const late = wall - this.#lastWall - this.resolutionMs;
    const charge = Math.min(late, cpu - this.#lastCpu);
    if (charge > this.held) this.held = charge;
    this.#lastWall = wall;
    this.#lastCpu = cpu;
  }

  /** The raw delay (ms) since the last reset: the histogram's longest interval less its resolution. */
  get delay(): number {
    return Math.max(0, this.#histogram.max / 1e6 - this.resolutionMs);
  }

  reset(): void {
    this.sample();
    this.held = 0;
    this.#histogram.reset();
  }
}

function cpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}
