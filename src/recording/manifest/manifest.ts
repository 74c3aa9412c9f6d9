import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import { atomicWriteFile, sha256Text } from '../fsutil.ts';

/**
 * The recording manifest: an append-only list of entries, each carrying the SHA-256 of the entry
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

export async function readManifest(file: string): Promise<ManifestFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new TiepdanError('RECORDING_MANIFEST_UNREADABLE', `cannot read manifest ${file}: ${(err as Error).message}`, { status: 500, cause: err });
  }
  const parsed = manifestFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TiepdanError('RECORDING_MANIFEST_INVALID', `manifest ${file} is not a tiepdan manifest: ${parsed.error.issues[0]?.message ?? ''}`, { status: 500 });
  }
  return parsed.data;
}

/**
 * Holds a manifest in memory and writes it atomically. Appends are coalesced: at most one write is
 * in flight, and `flush()` resolves once everything appended so far is on disk.
 */
export class ManifestWriter {
  readonly file: string;
  readonly sessionId: string;
  readonly #entries: ManifestEntry[];
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(file: string, sessionId: string, entries: ManifestEntry[] = []) {
    this.file = file;
    this.sessionId = sessionId;
    this.#entries = entries;
  }

  static async load(file: string): Promise<ManifestWriter> {
    const m = await readManifest(file);
    return new ManifestWriter(file, m.sessionId, m.entries as ManifestEntry[]);
  }

  get entries(): readonly ManifestEntry[] {
    return this.#entries;
  }

  get closed(): boolean {
    return this.#entries.filter((e) => e.type === 'closed' || e.type === 'resumed').at(-1)?.type === 'closed';
  }

  get headHash(): string {
    return this.#entries.at(-1)?.hash ?? GENESIS_HASH;
  }

  append(body: EntryBody): ManifestEntry {
    if (this.closed !== (body.type === 'resumed')) throw new TiepdanError('RECORDING_MANIFEST_CLOSED', this.closed ? 'manifest is closed' : 'manifest is open');
    const valid = entryBodySchema.parse(body);
    const base = { ...valid, seq: this.#entries.length, at: new Date().toISOString(), prevHash: this.headHash };
    const entry = { ...base, hash: entryHash(base) } as ManifestEntry;
    this.#entries.push(entry);
    this.#dirty = true;
    return entry;
  }

  toJson(): string {
    const file: ManifestFile = { format: MANIFEST_FORMAT, ...summarize(this.sessionId, this.#entries), entries: this.#entries };
    return `${JSON.stringify(file, null, 1)}\n`;
  }

  flush(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      await atomicWriteFile(this.file, this.toJson());
    });
    return this.#writing;
  }
}
