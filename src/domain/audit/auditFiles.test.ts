import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { tempDataDir } from '../../../test/helpers/env.ts';
import { AUDIT_ANCHOR_FORMAT, readAnchor, writeAnchor } from './auditAnchor.ts';
import { GENESIS_HASH, linkProblem, recordHash, type AuditRecord } from './auditChain.ts';
import { AuditKey, loadAuditKey } from './auditKey.ts';

t.test('audit.key: created once (0600), kept, refused when it must already exist', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  await t.rejects(loadAuditKey(tmp.dir, { mayCreate: false }), { code: 'AUDIT_KEY_MISSING' });
  const a = await loadAuditKey(tmp.dir, { mayCreate: true });
  const file = path.join(tmp.dir, 'audit.key');
  t.equal((await stat(file)).mode & 0o777, 0o600);
  t.match(await readFile(file, 'utf8'), /^[0-9a-f]{64}\n$/);
  const b = await loadAuditKey(tmp.dir, { mayCreate: true });
  t.equal(b.id, a.id, 'the same key on the next start');
  await writeFile(file, 'not a key');
  await t.rejects(loadAuditKey(tmp.dir, { mayCreate: true }), { code: 'AUDIT_KEY_INVALID' });
});

t.test('keyed hashes: another key, or a plain SHA-256 recomputation, does not verify', async (t) => {
  const key = new AuditKey(Buffer.alloc(32, 1));
  const keying = { key, keyedFromSeq: 3 };
  const base = { at: '2026-01-01T00:00:00.000Z', actorId: 'u', actorLabel: 'u', action: 'a', entity: 'e', entityId: '1', before: null, after: { x: 1 } };
  const plain: AuditRecord = { ...base, seq: 2, prevHash: GENESIS_HASH, hash: '' };
  plain.hash = recordHash(plain, keying);
  const keyed: AuditRecord = { ...base, seq: 3, prevHash: plain.hash, hash: '' };
  keyed.hash = recordHash(keyed, keying);
  t.equal(linkProblem(GENESIS_HASH, plain, keying), null, 'before the switch point: plain SHA-256');
  t.equal(linkProblem(plain.hash, keyed, keying), null, 'from it on: keyed');
  t.match(linkProblem(plain.hash, { ...keyed, hash: recordHash(keyed, { key, keyedFromSeq: 99 }) }, keying), /keyed hash/, 'a plain hash where a keyed one belongs');
  t.match(linkProblem(plain.hash, keyed, { key: new AuditKey(Buffer.alloc(32, 2)), keyedFromSeq: 3 }), /keyed hash/, 'another key');
  t.match(linkProblem(GENESIS_HASH, keyed, keying), /link/, 'a broken link');
});

t.test('audit.anchor: written atomically (0600), read back, a hand-edited file is a problem', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const file = path.join(tmp.dir, 'audit.anchor');
  t.same(await readAnchor(file), { anchor: null, problem: null }, 'missing');
  const anchor = { format: AUDIT_ANCHOR_FORMAT, seq: 7, hash: 'a'.repeat(64), keyId: 'b'.repeat(16), keyedFromSeq: 1, at: new Date().toISOString() } as const;
  await writeAnchor(file, anchor);
  t.equal((await stat(file)).mode & 0o777, 0o600);
  t.same(await readAnchor(file), { anchor, problem: null });
  await writeFile(file, '{"seq": 1}');
  t.match(await readAnchor(file), { anchor: null, problem: /not an audit anchor/ });
});
