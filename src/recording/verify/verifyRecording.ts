import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../fsutil.ts';
import { entryBodySchema, entryHash, GENESIS_HASH, JOURNAL_NAME, readManifestParts, summarize, type ManifestEntry } from '../manifest/manifest.ts';

export interface VerifyProblem {
  kind: 'changed' | 'missing' | 'added' | 'chain' | 'header' | 'anchor';
  /** Path relative to the session directory, when the problem is about a file. */
  file?: string;
  seq?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  sessionId: string;
  status: string;
  headHash: string;
  entries: number;
  filesChecked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
}

/** Files the recorder itself keeps next to the media, which are not part of the chain. */
const OWN_FILES = new Set(['manifest.json', JOURNAL_NAME]);
const OWN_DIRS = new Set(['playable']);

async function listFiles(root: string, dir = root, out: string[] = []): Promise<string[]> {
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, ent.name);
    const rel = path.relative(root, full);
    if (ent.isDirectory()) {
      if (dir === root && OWN_DIRS.has(ent.name)) continue;
      await listFiles(root, full, out);
    } else if (!(dir === root && OWN_FILES.has(ent.name))) {
      out.push(rel);
    }
  }
  return out;
}

/**
 * Re-hashes every file the manifest lists and re-checks the hash chain. Reports each changed,
 * missing or added file by name, and each entry whose hash or link is wrong. `expectedHeadHash`
 * (from the database or a chain-of-custody record) catches a manifest rewritten wholesale.
 */
export async function verifyRecording(sessionDir: string, options: { expectedHeadHash?: string; onProgress?: (done: number, total: number) => void } = {}): Promise<VerifyReport> {
  const { manifest, base } = await readManifestParts(path.join(sessionDir, 'manifest.json'));
  const problems: VerifyProblem[] = [];
  const entries = manifest.entries as ManifestEntry[];
  let prev = GENESIS_HASH;
  entries.forEach((e, i) => {
    if (e.seq !== i) problems.push({ kind: 'chain', seq: i, message: `entry ${i} has sequence number ${e.seq}` });
    if (e.prevHash !== prev) problems.push({ kind: 'chain', seq: i, message: `entry ${i} does not link to the entry before it (entry removed, inserted or reordered)` });
    if (entryHash(e) !== e.hash) problems.push({ kind: 'chain', seq: i, message: `entry ${i} (${e.type}) was changed after it was written` });
    const { seq: _s, at: _a, prevHash: _p, hash: _h, ...body } = e as Record<string, unknown>;
    if (!entryBodySchema.safeParse(body).success) problems.push({ kind: 'chain', seq: i, message: `entry ${i} is not a valid manifest entry` });
    prev = e.hash;
  });
  // The header on disk is the base's: it describes the base's entries (all of them once closed).
  const summary = summarize(base.sessionId, base.entries as ManifestEntry[]);
  if (summary.headHash !== base.headHash || summary.status !== base.status || JSON.stringify(summary.participants) !== JSON.stringify(base.participants)) {
    problems.push({ kind: 'header', file: 'manifest.json', message: 'manifest header (status, participants or head hash) does not match its entries' });
  }
  if (options.expectedHeadHash && options.expectedHeadHash !== manifest.headHash) {
    problems.push({ kind: 'anchor', file: 'manifest.json', message: `manifest head hash ${manifest.headHash.slice(0, 16)}… differs from the recorded ${options.expectedHeadHash.slice(0, 16)}… (manifest replaced)` });
  }

  const listed = entries.filter((e): e is Extract<ManifestEntry, { file: string }> => e.type === 'segment' || e.type === 'quarantined');
  let filesChecked = 0;
  let bytesChecked = 0;
  for (const e of listed) {
    const full = path.join(sessionDir, e.file);
    if (path.relative(sessionDir, full).startsWith('..')) {
      problems.push({ kind: 'chain', seq: e.seq, file: e.file, message: 'entry points outside the recording' });
      continue;
    }
    try {
      await stat(full);
    } catch {
      problems.push({ kind: 'missing', file: e.file, seq: e.seq, message: `${e.file} is missing` });
      continue;
    }
    const h = await sha256File(full);
    filesChecked++;
    bytesChecked += h.size;
    options.onProgress?.(filesChecked, listed.length);
    if (h.sha256 !== e.sha256 || h.size !== e.size) {
      problems.push({ kind: 'changed', file: e.file, seq: e.seq, message: `${e.file} differs from the manifest (size ${h.size} vs ${e.size}, SHA-256 ${h.sha256 === e.sha256 ? 'same' : 'different'})` });
    }
  }
  const listedNames = new Set(listed.map((e) => path.normalize(e.file)));
  const live = manifest.status === 'recording';
  for (const f of await listFiles(sessionDir)) {
    if (live && f.startsWith(`.work${path.sep}`)) continue;
    // While recording, FFmpeg's current segment is not listed yet.
    if (live && /seg-\d+\.mkv$/.test(f)) continue;
    if (!listedNames.has(path.normalize(f))) problems.push({ kind: 'added', file: f, message: `${f} is not in the manifest` });
  }
  return { ok: problems.length === 0, sessionId: manifest.sessionId, status: manifest.status, headHash: manifest.headHash, entries: entries.length, filesChecked, bytesChecked, problems };
}
