import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import { atomicWriteChunks, fsyncDir, sha256Text, FILE_MODE } from '../fsutil.ts';

/**
 * The recording manifest (on disk: a base file and a journal, see `JOURNAL_NAME`): an append-only list of entries, each carrying the SHA-256 of the entry
 * before it (a hash chain), so that changing, removing or inserting an entry breaks every hash
 * after it. The last entry's hash (the head) is also stored in the database and in every export's
 * chain-of-custody record, so a wholesale rewrite of the manifest is detectable too.
 *
 * Times are ISO strings for people, plus `start`/`end` in seconds since the Unix epoch for
 * segments: the recorder stamps every packet with its arrival wall-clock, which is what aligns the
 * tracks of a session with each other.
 */

export const MANIFEST_FORMAT = 'tiepdan-recording-manifest/1';
export const GENESIS_HASH = '0'.repeat(64);

const trackSource = z.enum(['microphone', 'camera', 'screen']);

export const entryBodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('opened'), sessionId: z.string(), segmentSeconds: z.number(), timing: z.literal('arrival-wallclock') }),
  z.object({
    type: z.literal('track'),
    trackId: z.string(),
    peerId: z.string(),
    label: z.string(),
    source: trackSource,
    kind: z.enum(['audio', 'video']),
    codec: z.string(),
    producerId: z.string(),
    dir: z.string(),
  }),
  z.object({
    type: z.literal('segment'),
    trackId: z.string(),
    file: z.string(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    start: z.number(),
    end: z.number(),
    duration: z.number(),
    repaired: z.boolean().optional(),
    // Latest RTCP sender report of the track: sender clock (NTP seconds) for an RTP timestamp.
    senderReport: z.object({ ntp: z.number(), rtpTimestamp: z.number(), ssrc: z.number(), arrivedAt: z.number() }).optional(),
  }),
  z.object({ type: z.literal('gap'), trackId: z.string(), from: z.number(), to: z.number(), reason: z.string() }),
  z.object({ type: z.literal('trackEnded'), trackId: z.string(), reason: z.string() }),
  z.object({ type: z.literal('quarantined'), trackId: z.string(), file: z.string(), size: z.number(), sha256: z.string(), reason: z.string() }),
  z.object({ type: z.literal('disk'), level: z.enum(['warning', 'floor', 'ok']), freeBytes: z.number() }),
  z.object({ type: z.literal('closed'), status: z.enum(['complete', 'interrupted', 'stopped', 'disk-full']) }),
  // The host started recording again after a stop: the chain continues in the same manifest.
  z.object({ type: z.literal('resumed') }),
]);

export type EntryBody = z.infer<typeof entryBodySchema>;
export type ManifestEntry = EntryBody & { seq: number; at: string; prevHash: string; hash: string };
export type SegmentEntry = Extract<ManifestEntry, { type: 'segment' }>;
export type TrackEntry = Extract<ManifestEntry, { type: 'track' }>;
export type ClosedStatus = Extract<EntryBody, { type: 'closed' }>['status'];

const entrySchema = z
  .object({ seq: z.number().int().nonnegative(), at: z.string(), prevHash: z.string(), hash: z.string() })
  .passthrough();

export const manifestFileSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  sessionId: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  status: z.enum(['recording', 'complete', 'interrupted', 'stopped', 'disk-full']),
  participants: z.array(z.object({ peerId: z.string(), label: z.string() })),
  headHash: z.string(),
  entries: z.array(entrySchema),
});
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/** JSON with keys sorted at every level: the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function entryHash(entry: Omit<ManifestEntry, 'hash'> | Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = entry as Record<string, unknown>;
  return sha256Text(canonicalJson(rest));
}

/** Header fields derived from the entries (so the header can be re-checked against the chain). */
export function summarize(sessionId: string, entries: readonly ManifestEntry[]): Omit<ManifestFile, 'format' | 'entries'> {
  const participants = new Map<string, string>();
  for (const e of entries) if (e.type === 'track' && !participants.has(e.peerId)) participants.set(e.peerId, e.label);
  const last = entries.filter((e) => e.type === 'closed' || e.type === 'resumed').at(-1);
  const closed = last?.type === 'closed' ? last : undefined;
  return {
    sessionId,
    startedAt: entries[0]?.at ?? new Date().toISOString(),
    endedAt: closed ? closed.at : null,
    status: closed && closed.type === 'closed' ? closed.status : 'recording',
    participants: [...participants].map(([peerId, label]) => ({ peerId, label })),
    headHash: entries.at(-1)?.hash ?? GENESIS_HASH,
  };
}

/**
 * On disk a manifest is two files (security review M11: rewriting the whole manifest after every
 * segment cost 50–200 ms of main-thread time per segment and hundreds of GB of writes in a long
 * session):
 *  - `manifest.json`, the base: header + entries, written atomically when the recording opens and
 *    again, compacted with every entry, when it closes;
 *  - `manifest.journal.jsonl`, the journal: the entries appended since the base was written, one
 *    JSON line each, fsynced per flush. It exists only while a recording is open (compaction
 *    removes it), so a closed recording — and every recording an earlier version wrote — is the
 *    single `manifest.json` it always was.
 * Readers take base + journal. A last journal line without its newline was cut by a crash in the
 * middle of an append whose fsync never returned: nothing had been told it was listed, so it is
 * ignored (recovery lists or quarantines its segment from the files, as for a crash before a write).
 */
export const JOURNAL_NAME = 'manifest.journal.jsonl';

export function journalFileFor(manifestFile: string): string {
  return path.join(path.dirname(manifestFile), JOURNAL_NAME);
}

export interface ManifestParts {
  /** Base and journal together, the header derived from all entries when the journal added any. */
  manifest: ManifestFile;
  /** `manifest.json` as written (its header describes its own entries). */
  base: ManifestFile;
  /** Entries taken from the journal. */
  journalEntries: number;
  /** Bytes of the journal that hold complete lines (a torn last line lies beyond). */
  journalValidBytes: number;
  journalExists: boolean;
}

function invalid(file: string, message: string): TiepdanError {
  return new TiepdanError('RECORDING_MANIFEST_INVALID', `manifest ${file} is not a tiepdan manifest: ${message}`);
}

async function readBase(file: string): Promise<ManifestFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new TiepdanError('RECORDING_MANIFEST_UNREADABLE', `cannot read manifest ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = manifestFileSchema.safeParse(raw);
  if (!parsed.success) throw invalid(file, parsed.error.issues[0]?.message ?? '');
  return parsed.data;
}

export async function readManifestParts(file: string): Promise<ManifestParts> {
  const base = await readBase(file);
  const journalFile = journalFileFor(file);
  const text = await readFile(journalFile, 'utf8').then(
    (t) => t,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new TiepdanError('RECORDING_MANIFEST_UNREADABLE', `cannot read manifest journal ${journalFile}: ${err.message}`, { cause: err });
    },
  );
  const entries = [...base.entries];
  let journalEntries = 0;
  let validBytes = 0;
  if (text !== undefined) {
    const end = text.lastIndexOf('\n') + 1;
    validBytes = Buffer.byteLength(text.slice(0, end), 'utf8');
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        throw invalid(journalFile, `a journal line is not JSON (entry ${entries.length})`);
      }
      const parsed = entrySchema.safeParse(raw);
      if (!parsed.success) throw invalid(journalFile, parsed.error.issues[0]?.message ?? '');
      const e = parsed.data;
      // Already there: left by a crash between compaction and removing the journal, or written
      // twice by a flush retried after a failed write. Only the very same entry may repeat.
      if (e.seq < entries.length) {
        if (entries[e.seq]?.hash !== e.hash) throw invalid(journalFile, `journal entry ${e.seq} differs from the entry ${e.seq} before it`);
        continue;
      }
      if (e.seq !== entries.length) throw invalid(journalFile, `journal entry ${e.seq} follows entry ${entries.length - 1}`);
      entries.push(e);
      journalEntries++;
    }
  }
  const manifest: ManifestFile =
    journalEntries === 0 ? base : { format: MANIFEST_FORMAT, ...summarize(base.sessionId, entries as ManifestEntry[]), entries };
  return { manifest, base, journalEntries, journalValidBytes: validBytes, journalExists: text !== undefined };
}

/** The manifest as its readers (listing, export, verify, recovery) see it: base + journal. */
export async function readManifest(file: string): Promise<ManifestFile> {
  return (await readManifestParts(file)).manifest;
}

function isClosed(entries: readonly ManifestEntry[]): boolean {
  for (let i = entries.length - 1; i >= 0; i--) {
    const t = entries[i]?.type;
    if (t === 'closed') return true;
    if (t === 'resumed') return false;
  }
  return false;
}

interface OnDisk {
  /** Entries already on disk (base + journal). */
  persisted: number;
  baseExists: boolean;
  journalExists: boolean;
  journalValidBytes: number;
}

/**
 * Holds a manifest in memory and keeps it on disk as base + journal (above). Appends are
 * coalesced: at most one write is in flight, and `flush()` resolves once everything appended so
 * far is on disk. While the recording is open a flush writes only the new entries' lines, so its
 * cost does not grow with the recording; opening and closing write the whole base atomically.
 */
export class ManifestWriter {
  readonly file: string;
  readonly journalFile: string;
  readonly sessionId: string;
  readonly #entries: ManifestEntry[];
  #writing: Promise<void> = Promise.resolve();
  #closed: boolean;
  #disk: OnDisk;
  #journal: FileHandle | undefined;

  constructor(file: string, sessionId: string, entries: ManifestEntry[] = [], disk?: OnDisk) {
    this.file = file;
    this.journalFile = journalFileFor(file);
    this.sessionId = sessionId;
    this.#entries = entries;
    this.#closed = isClosed(entries);
    this.#disk = disk ?? { persisted: 0, baseExists: false, journalExists: false, journalValidBytes: 0 };
  }

  static async load(file: string): Promise<ManifestWriter> {
    const parts = await readManifestParts(file);
    const entries = parts.manifest.entries as ManifestEntry[];
    return new ManifestWriter(file, parts.manifest.sessionId, entries, {
      persisted: entries.length,
      baseExists: true,
      journalExists: parts.journalExists,
      journalValidBytes: parts.journalValidBytes,
    });
  }

  get entries(): readonly ManifestEntry[] {
    return this.#entries;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get headHash(): string {
    return this.#entries.at(-1)?.hash ?? GENESIS_HASH;
  }

  append(body: EntryBody): ManifestEntry {
    if (this.#closed !== (body.type === 'resumed')) throw new TiepdanError('RECORDING_MANIFEST_CLOSED', this.#closed ? 'manifest is closed' : 'manifest is open');
    const valid = entryBodySchema.parse(body);
    const base = { ...valid, seq: this.#entries.length, at: new Date().toISOString(), prevHash: this.headHash };
    const entry = { ...base, hash: entryHash(base) } as ManifestEntry;
    this.#entries.push(entry);
    if (entry.type === 'closed') this.#closed = true;
    if (entry.type === 'resumed') this.#closed = false;
    return entry;
  }

  /** The whole manifest as one file (the base's form; also what a closed recording is on disk). */
  toJson(): string {
    return [...this.#jsonChunks()].join('');
  }

  /**
   * The same text in pieces of a few hundred entries each: compaction writes them one by one and
   * lets the event loop run in between, so closing a 36,000-entry manifest does not stall it.
   * Each entry is one line.
   */
  *#jsonChunks(): Generator<string> {
    const header = JSON.stringify({ format: MANIFEST_FORMAT, ...summarize(this.sessionId, this.#entries) }, null, 1);
    yield `${header.slice(0, -2)},\n "entries": [`;
    const per = 500;
    for (let i = 0; i < this.#entries.length; i += per) {
      yield this.#entries
        .slice(i, i + per)
        .map((e, j) => `${i + j === 0 ? '' : ','}\n  ${JSON.stringify(e)}`)
        .join('');
    }
    yield `${this.#entries.length > 0 ? '\n ' : ''}]\n}\n`;
  }

  flush(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const count = this.#entries.length;
      if (this.#disk.persisted === count) return;
      if (!this.#disk.baseExists || this.#closed) await this.#compact();
      else await this.#appendJournal(count);
      this.#disk.persisted = count;
    });
    return this.#writing;
  }

  /** Writes every entry into the base atomically, then drops the journal (its lines are in the base). */
  async #compact(): Promise<void> {
    await atomicWriteChunks(this.file, this.#jsonChunks());
    this.#disk.baseExists = true;
    await this.#journal?.close();
    this.#journal = undefined;
    if (this.#disk.journalExists) {
      await rm(this.journalFile, { force: true });
      await fsyncDir(path.dirname(this.file));
      this.#disk.journalExists = false;
      this.#disk.journalValidBytes = 0;
    }
  }

  async #appendJournal(count: number): Promise<void> {
    if (this.#journal === undefined) {
      const handle = await open(this.journalFile, 'a', FILE_MODE);
      // A torn line from a crash would glue itself to the next entry: cut it off first.
      if ((await handle.stat()).size > this.#disk.journalValidBytes) await handle.truncate(this.#disk.journalValidBytes);
      if (!this.#disk.journalExists) {
        await fsyncDir(path.dirname(this.file));
        this.#disk.journalExists = true;
      }
      this.#journal = handle;
    }
    let lines = '';
    for (let i = this.#disk.persisted; i < count; i++) lines += `${JSON.stringify(this.#entries[i])}\n`;
    try {
      await this.#journal.write(lines);
      await this.#journal.datasync();
    } catch (err) {
      // Disk full or an I/O error: take back what part of the lines got written, so the retry
      // of the next flush starts on a line boundary.
      await this.#journal.truncate(this.#disk.journalValidBytes).catch(() => undefined);
      throw err;
    }
    this.#disk.journalValidBytes += Buffer.byteLength(lines, 'utf8');
  }

  /** Lets go of the journal's file handle (a recorder that ends without closing its manifest). */
  async release(): Promise<void> {
    await this.#writing;
    await this.#journal?.close();
    this.#journal = undefined;
  }
}
