import { stat } from 'node:fs/promises';
import { journalFileFor, readManifest } from '../manifest/manifest.ts';

/** The header figures the recordings list shows, taken from a manifest. */
export interface ManifestFacts {
  status: string;
  startedAt: string;
  endedAt: string | null;
  headHash: string;
}

interface Cached {
  ino: number;
  mtimeMs: number;
  size: number;
  /** The open recording's journal (size, mtime), or undefined when there is none. */
  journal: string | undefined;
  facts: ManifestFacts | undefined;
}

/**
 * Manifest figures cached by the file's identity (inode, mtime, size) and its journal's: a
 * manifest base is only ever replaced by an atomic rename (a new inode), its journal only grows, so two stats per listed recording
 * tells whether the cached figures still hold. A long recording's manifest has thousands of
 * entries; parsing every one on every GET /recordings was security review M13.
 */
export class ManifestFactsCache {
  readonly #cache = new Map<string, Cached>();
  readonly #maxEntries: number;
  /** Manifests parsed so far (a test checks that a second listing parses none). */
  parses = 0;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  async get(file: string): Promise<ManifestFacts | undefined> {
    const s = await stat(file).catch(() => undefined);
    if (s === undefined) {
      this.#cache.delete(file);
      return undefined;
    }
    const j = await stat(journalFileFor(file)).catch(() => undefined);
    const journal = j === undefined ? undefined : `${j.ino}:${j.size}:${j.mtimeMs}`;
    const hit = this.#cache.get(file);
    if (hit !== undefined && hit.ino === s.ino && hit.mtimeMs === s.mtimeMs && hit.size === s.size && hit.journal === journal) return hit.facts;
    this.parses++;
    const m = await readManifest(file).catch(() => undefined);
    const facts = m === undefined ? undefined : { status: m.status, startedAt: m.startedAt, endedAt: m.endedAt, headHash: m.headHash };
    if (this.#cache.size >= this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value ?? '');
    this.#cache.set(file, { ino: s.ino, mtimeMs: s.mtimeMs, size: s.size, journal, facts });
    return facts;
  }
}
