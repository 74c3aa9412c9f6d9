import { EventEmitter } from 'node:events';
import { statfs } from 'node:fs/promises';

export type DiskLevel = 'ok' | 'warning' | 'floor';

export interface DiskThresholds {
  /** Below this many free bytes operators are warned. */
  warnBytes: number;
  /** Below this many free bytes recording stops. */
  floorBytes: number;
}

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  // bavail: blocks available to unprivileged users; the server should not eat root's reserve either.
  return s.bavail * s.bsize;
}

export function levelFor(free: number, t: DiskThresholds): DiskLevel {
  if (free < t.floorBytes) return 'floor';
  if (free < t.warnBytes) return 'warning';
  return 'ok';
}

export type DiskMonitorEvents = { level: [level: DiskLevel, freeBytes: number] };

/** Polls free space of the file system holding `dir`; emits `level` when the level changes. */
export class DiskMonitor extends EventEmitter<DiskMonitorEvents> {
  readonly dir: string;
  readonly thresholds: DiskThresholds;
  level: DiskLevel = 'ok';
  free = Number.NaN;
  #timer: NodeJS.Timeout | undefined;

  constructor(dir: string, thresholds: DiskThresholds) {
    super();
    this.dir = dir;
    this.thresholds = thresholds;
  }

  async check(): Promise<DiskLevel> {
    try {
      this.free = await freeBytes(this.dir);
    } catch {
      return this.level;
    }
    const level = levelFor(this.free, this.thresholds);
    if (level !== this.level) {
      this.level = level;
      this.emit('level', level, this.free);
    }
    return level;
  }

  start(intervalMs: number): void {
    this.#timer ??= setInterval(() => void this.check(), intervalMs);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
