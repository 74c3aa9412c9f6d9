/**
 * The manifest as base + append-only journal (security review M11): while a recording is open a
 * segment adds one fsynced line to manifest.journal.jsonl and leaves manifest.json alone; closing
 * compacts everything into manifest.json. Readers, verify and crash recovery see base + journal;
 * a manifest an earlier version wrote (one file, also left open by a crash) still reads, verifies
 * and recovers. Real files on disk, no media pipeline (the recorder tests cover that).
 */
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ensureDir, sha256File } from '../../src/recording/fsutil.ts';
import { entryHash, GENESIS_HASH, JOURNAL_NAME, ManifestWriter, MANIFEST_FORMAT, readManifest, type EntryBody, type ManifestEntry } from '../../src/recording/manifest/manifest.ts';
import { recoverInterruptedRecordings } from '../../src/recording/recovery/recoverInterrupted.ts';
import { verifyRecording } from '../../src/recording/verify/verifyRecording.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';

async function segmentFile(dir: string, n: number): Promise<EntryBody> {
  const file = path.join('peer-1', 'camera-1', `seg-${String(n).padStart(5, '0')}.mkv`);
  await ensureDir(path.join(dir, 'peer-1', 'camera-1'));
  await writeFile(path.join(dir, file), Buffer.alloc(5000 + n, `segment ${n} `), { mode: 0o600 });
  const h = await sha256File(path.join(dir, file));
  return { type: 'segment', trackId: 't1', file, size: h.size, sha256: h.sha256, start: 1000 + 4 * n, end: 1004 + 4 * n, duration: 4 };
}

async function openRecording(root: string, name: string): Promise<{ dir: string; w: ManifestWriter }> {
  const dir = path.join(root, name);
  await ensureDir(dir);
  const w = new ManifestWriter(path.join(dir, 'manifest.json'), name);
  w.append({ type: 'opened', sessionId: name, segmentSeconds: 4, timing: 'arrival-wallclock' });
  w.append({ type: 'track', trackId: 't1', peerId: 'peer-1', label: 'Điểm cầu 1', source: 'camera', kind: 'video', codec: 'VP8', producerId: 'p1', dir: path.join('peer-1', 'camera-1') });
  await w.flush();
  return { dir, w };
}

const journalLines = async (dir: string): Promise<string[]> => (await readFile(path.join(dir, JOURNAL_NAME), 'utf8')).split('\n').filter((l) => l !== '');

t.test('segments go to the journal, one line each; the base is written at open and close only', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  const { dir, w } = await openRecording(tmp.dir, 'session-J');
  const base = path.join(dir, 'manifest.json');
  const before = await stat(base);
  const baseText = await readFile(base, 'utf8');
  for (let n = 1; n <= 5; n++) {
    w.append(await segmentFile(dir, n));
    await w.flush();
    t.equal((await journalLines(dir)).length, n, `segment ${n}: one more journal line`);
  }
  const after = await stat(base);
  t.equal(after.ino, before.ino, 'manifest.json was not replaced while recording');
  t.equal(await readFile(base, 'utf8'), baseText, 'nor changed');
  t.equal((await stat(path.join(dir, JOURNAL_NAME))).mode & 0o777, 0o600, 'the journal is owner-only, like the media');

  const live = await readManifest(base);
  t.equal(live.entries.length, 7, 'readers see base + journal');
  t.equal(live.status, 'recording');
  t.equal(live.headHash, w.headHash, 'and the head hash of the last journal entry');
  const report = await verifyRecording(dir, { expectedHeadHash: w.headHash });
  t.same(report.problems, [], 'an open recording verifies from base + journal');

  w.append({ type: 'closed', status: 'complete' });
  await w.flush();
  await t.rejects(stat(path.join(dir, JOURNAL_NAME)), { code: 'ENOENT' }, 'closing compacts the journal away');
  const closed = JSON.parse(await readFile(base, 'utf8')) as { entries: unknown[]; status: string; headHash: string };
  t.equal(closed.entries.length, 8, 'manifest.json alone holds every entry');
  t.equal(closed.status, 'complete');
  t.equal(closed.headHash, w.headHash);
  t.same((await verifyRecording(dir, { expectedHeadHash: w.headHash })).problems, [], 'and verifies');
});

t.test('a journal entry changed on disk breaks verify; a torn last line (crash mid-append) is ignored and cut', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  const { dir, w } = await openRecording(tmp.dir, 'session-T');
  for (let n = 1; n <= 3; n++) w.append(await segmentFile(dir, n));
  await w.flush();
  const journal = path.join(dir, JOURNAL_NAME);
  const good = await readFile(journal, 'utf8');

  // Tampering: a segment's size changed in the journal.
  await writeFile(journal, good.replace(/"size":5002/, '"size":5003'));
  const tampered = await verifyRecording(dir);
  t.ok(tampered.problems.some((p) => p.kind === 'chain' && /changed after it was written/.test(p.message)), 'the changed journal entry is reported');
  await writeFile(journal, good);

  // A crash in the middle of writing entry 5.
  await appendFile(journal, '{"seq":5,"type":"segm');
  const m = await readManifest(path.join(dir, 'manifest.json'));
  t.equal(m.entries.length, 5, 'the torn line is not an entry');
  const reopened = await ManifestWriter.load(path.join(dir, 'manifest.json'));
  t.equal(reopened.headHash, w.headHash, 'the chain continues from the last whole line');
  reopened.append(await segmentFile(dir, 4));
  await reopened.flush();
  const lines = await journalLines(dir);
  t.equal(lines.length, 4, 'the torn bytes were cut before the next line');
  t.doesNotThrow(() => lines.map((l) => JSON.parse(l) as unknown), 'every journal line is whole JSON');
  t.same((await verifyRecording(dir, { expectedHeadHash: reopened.headHash })).problems, [], 'verify is clean');
  await reopened.release();
});

t.test('a journal left beside a compacted manifest (crash between the two) is harmless', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  const { dir, w } = await openRecording(tmp.dir, 'session-C');
  w.append(await segmentFile(dir, 1));
  await w.flush();
  const leftover = await readFile(path.join(dir, JOURNAL_NAME), 'utf8');
  w.append({ type: 'closed', status: 'complete' });
  await w.flush();
  await writeFile(path.join(dir, JOURNAL_NAME), leftover, { mode: 0o600 });
  const m = await readManifest(path.join(dir, 'manifest.json'));
  t.equal(m.entries.length, 4, 'journal entries already in the base are not counted twice');
  t.equal(m.status, 'complete');
  t.same((await verifyRecording(dir, { expectedHeadHash: w.headHash })).problems, [], 'verify neither fails nor calls the journal an added file');
});

/** A manifest exactly as the versions before the journal wrote it: one file, entries inline. */
async function writeOldManifest(dir: string, sessionId: string, bodies: EntryBody[]): Promise<string> {
  const entries: ManifestEntry[] = [];
  for (const body of bodies) {
    const base = { ...body, seq: entries.length, at: new Date().toISOString(), prevHash: entries.at(-1)?.hash ?? GENESIS_HASH };
    entries.push({ ...base, hash: entryHash(base) } as ManifestEntry);
  }
  const closed = bodies.at(-1)?.type === 'closed';
  const file = { format: MANIFEST_FORMAT, sessionId, startedAt: entries[0]?.at, endedAt: closed ? entries.at(-1)?.at : null, status: closed ? 'complete' : 'recording', participants: [{ peerId: 'peer-1', label: 'Điểm cầu 1' }], headHash: entries.at(-1)?.hash, entries };
  await writeFile(path.join(dir, 'manifest.json'), `${JSON.stringify(file, null, 1)}\n`, { mode: 0o600 });
  return entries.at(-1)?.hash ?? '';
}

t.test('recordings written by earlier versions (one manifest.json) read, verify and recover', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  const head = (dir: string): EntryBody[] => [
    { type: 'opened', sessionId: path.basename(dir), segmentSeconds: 4, timing: 'arrival-wallclock' },
    { type: 'track', trackId: 't1', peerId: 'peer-1', label: 'Điểm cầu 1', source: 'camera', kind: 'video', codec: 'VP8', producerId: 'p1', dir: path.join('peer-1', 'camera-1') },
  ];

  const closedDir = path.join(tmp.dir, 'session-old');
  await ensureDir(closedDir);
  const closedHead = await writeOldManifest(closedDir, 'session-old', [...head(closedDir), await segmentFile(closedDir, 1), { type: 'closed', status: 'complete' }]);
  const report = await verifyRecording(closedDir, { expectedHeadHash: closedHead });
  t.same(report.problems, [], 'a closed old recording verifies');
  t.equal(report.entries, 4);

  // An old recording a crash left open: the new recovery continues it through the journal and closes it.
  const openDir = path.join(tmp.dir, 'session-crashed');
  await ensureDir(openDir);
  await writeOldManifest(openDir, 'session-crashed', [...head(openDir), await segmentFile(openDir, 1)]);
  const [recovered] = await recoverInterruptedRecordings(tmp.dir, silentLogger());
  t.equal(recovered?.sessionId, 'session-crashed', 'recovery finds the open old recording');
  const m = await readManifest(path.join(openDir, 'manifest.json'));
  t.equal(m.status, 'interrupted', 'and closes it');
  t.same(m.entries.map((e) => e.type), ['opened', 'track', 'segment', 'trackEnded', 'closed'], 'after the entries it had');
  await t.rejects(stat(path.join(openDir, JOURNAL_NAME)), { code: 'ENOENT' }, 'compacted into one file again');
  t.same((await verifyRecording(openDir, { expectedHeadHash: recovered?.headHash })).problems, [], 'and it verifies');
});

t.test('crash recovery reads base + journal of a recording cut off mid-session', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  const { dir, w } = await openRecording(tmp.dir, 'session-R');
  for (let n = 1; n <= 3; n++) {
    w.append(await segmentFile(dir, n));
    await w.flush();
  }
  const listedHead = w.headHash;
  await w.release(); // the process "dies" with the manifest open
  const [recovered] = await recoverInterruptedRecordings(tmp.dir, silentLogger());
  const m = await readManifest(path.join(dir, 'manifest.json'));
  t.equal(m.entries.filter((e) => e.type === 'segment').length, 3, 'every segment the journal listed is kept');
  t.equal(m.entries[4]?.hash, listedHead, 'the chain goes on from the journal');
  t.equal(m.status, 'interrupted');
  t.same((await verifyRecording(dir, { expectedHeadHash: recovered?.headHash })).problems, [], 'verify is clean');
});
