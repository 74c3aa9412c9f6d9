/** The bench's side of bench/load/fleetProcess.ts: forks it and speaks its IPC messages. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FleetReport, Seat } from './pointFleet.ts';

const childMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), ms: z.number() }),
  z.object({ type: z.literal('marked') }),
  z.object({ type: z.literal('report'), report: z.custom<FleetReport>((v) => typeof v === 'object' && v !== null && 'points' in v) }),
  z.object({ type: z.literal('stopped') }),
]);
type ChildMessage = z.infer<typeof childMessage>;

export class FleetChild {
  readonly #child: ChildProcess;
  readonly #queue: ChildMessage[] = [];
  #wake: (() => void) | undefined;

  constructor() {
    // Its own process: the server's Node CPU is then measured without the load generator in it.
    this.#child = fork(fileURLToPath(new URL('./fleetProcess.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m) => {
      this.#queue.push(childMessage.parse(m));
      this.#wake?.();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async #next<T extends ChildMessage['type']>(type: T, ms: number): Promise<Extract<ChildMessage, { type: T }>> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.#queue.findIndex((m) => m.type === type);
      if (i >= 0) return this.#queue.splice(i, 1)[0] as Extract<ChildMessage, { type: T }>;
      if (Date.now() > end || this.#child.exitCode !== null) throw new Error(`load points process: no ${type} message`);
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, 500);
      });
    }
  }

  /** Starts the points (pointFleet.ts FleetOptions); resolves with how long their joins took (ms). */
  async start(o: { wsUrl: string; seats: Seat[]; layers: number; joinConcurrency?: number }): Promise<number> {
    this.#child.send({ type: 'start', ...o });
    return (await this.#next('started', 120_000 + 1000 * o.seats.length)).ms;
  }

  async mark(): Promise<void> {
    this.#child.send({ type: 'mark' });
    await this.#next('marked', 30_000);
  }

  async report(): Promise<FleetReport> {
    this.#child.send({ type: 'report' });
    return (await this.#next('report', 30_000)).report;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    this.#child.send({ type: 'stop' });
    await this.#next('stopped', 60_000).catch(() => this.#child.kill());
  }
}
