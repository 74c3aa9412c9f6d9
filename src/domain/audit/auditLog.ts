import { sql, type Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
import { SYSTEM_ACTOR, type Actor } from '../common/roles.ts';
import type { Clock } from '../common/clock.ts';
import type { Page, Paged } from '../common/paging.ts';
import { anchorFile, AUDIT_ANCHOR_FORMAT, readAnchor, writeAnchor, type AuditAnchor, type AuditAnchorRef } from './auditAnchor.ts';
import { GENESIS_HASH, linkProblem, recordHash, type AuditRecord, type ChainKeying } from './auditChain.ts';
import { loadAuditKey } from './auditKey.ts';

export { canonicalJson, GENESIS_HASH, type AuditRecord } from './auditChain.ts';
export type { AuditAnchorRef } from './auditAnchor.ts';

/**
 * Append-only audit log, linked in a keyed hash chain (auditChain.ts) whose head is anchored
 * outside the database (auditAnchor.ts). Rows are appended inside the transaction of the change
 * they record, under an advisory lock that serialises appenders (the chain needs a strict order).
 * The database role of the application may only SELECT and INSERT here (src/db/roles.ts).
 *
 * The anchor advances only over committed rows that verify, at most `anchorDelayMs` after an
 * append, and at shutdown; it never moves back. So a tail cut off, or a row rewritten, after it was
 * anchored stays detectable by verify() however the database is edited.
 *
 * Snapshots (`before`/`after`) must not hold complainants' personal data: callers pass the
 * redacted views (see cases/confidentiality.ts).
 */
const LOCK_KEY = 0x7464_6175; // 'tdau'
const BATCH = 1000;
/** After an append whose commit the anchorer has not seen yet, how many times it looks again. */
const MAX_ANCHOR_RETRIES = 10;

export interface AuditEntryInput {
  action: string;
  entity: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

export interface ChainVerification {
  valid: boolean;
  checked: number;
  /** The first row whose hash or link does not match (or the first one missing), when invalid. */
  firstBrokenSeq: number | null;
  reason: string | null;
  lastHash: string;
  /** The newest seq in the table (0 when empty). */
  headSeq: number;
  /** Rows from this seq on carry keyed hashes (HMAC-SHA256); earlier ones plain SHA-256. */
  keyedFromSeq: number;
  /** The anchor the chain was checked against (DATA_DIR/audit.anchor). */
  anchor: AuditAnchorRef | null;
}

export interface AuditLogOptions {
  /** DATA_DIR: audit.key and audit.anchor live there. */
  dataDir: string;
  logger: Logger;
  /** How soon after an append the head is anchored (batched; default 1000 ms). */
  anchorDelayMs?: number;
}

type Executor = Db | Transaction<DatabaseSchema>;

type AuditRow = {
  seq: string;
  at: Date;
  actor_id: string;
  actor_label: string;
  action: string;
  entity: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  prev_hash: string;
  hash: string;
};

/** Snapshots go through JSON first so that what is hashed is exactly what jsonb gives back. */
function normalise(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function ref(a: AuditAnchor): AuditAnchorRef {
  return { seq: a.seq, hash: a.hash, keyId: a.keyId, at: a.at };
}

export class AuditLog {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #file: string;
  readonly #dataDir: string;
  readonly #logger: Logger;
  readonly #anchorDelayMs: number;
  #keying: Promise<ChainKeying> | undefined;
  /** The newest anchor this process wrote or read; never moves back. */
  #anchor: AuditAnchor | null = null;
  /** The anchor file could not be read: it is kept as found (evidence) and not advanced. */
  #anchorFileProblem: string | null = null;
  #anchoring: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #retries = 0;
  #highestAppended = 0;
  #closed = false;
  readonly #reported = new Set<string>();

  constructor(db: Db, clock: Clock, options: AuditLogOptions) {
    this.#db = db;
    this.#clock = clock;
    this.#dataDir = options.dataDir;
    this.#file = anchorFile(options.dataDir);
    this.#logger = options.logger.child({ component: 'audit' });
    this.#anchorDelayMs = options.anchorDelayMs ?? 1000;
  }

  /**
   * Loads the key and the anchor and brings the anchor up to date (start-up, after migrations).
   * Fails with AUDIT_KEY_MISSING when keyed rows exist but DATA_DIR/audit.key does not. Called
   * implicitly by the first append or verify otherwise.
   */
  async start(): Promise<void> {
    await this.#ready();
  }

  #ready(): Promise<ChainKeying> {
    if (this.#keying === undefined) {
      const p = this.#init();
      this.#keying = p;
      // A failed start (key missing) is tried again by the next call, e.g. once the key is restored.
      p.catch(() => {
        if (this.#keying === p) this.#keying = undefined;
      });
    }
    return this.#keying;
  }

  async #init(): Promise<ChainKeying> {
    const chain = await this.#db.selectFrom('audit_chain').select('keyed_from_seq').executeTakeFirst();
    if (chain === undefined) throw new TiepdanError('AUDIT_CHAIN_NOT_MIGRATED', 'audit_chain is empty: run the migrations (0400_audit_keyed_chain) first');
    const keyedFromSeq = Number(chain.keyed_from_seq);
    const keyedRow = await this.#db.selectFrom('audit_log').select('seq').where('seq', '>=', String(keyedFromSeq)).limit(1).executeTakeFirst();
    const keying: ChainKeying = { key: await loadAuditKey(this.#dataDir, { mayCreate: keyedRow === undefined }), keyedFromSeq };
    const read = await readAnchor(this.#file);
    this.#anchor = read.anchor;
    this.#anchorFileProblem = read.problem;
    if (read.problem !== null) this.#reportOnce('file', { problem: read.problem }, 'the audit anchor is unreadable: kept as found, not advanced; /audit/verify reports it');
    const recreated = read.anchor === null && read.problem === null && keyedRow !== undefined;
    await this.#advance(keying);
    if (recreated) {
      // The anchor vanished although keyed rows exist: say so in the log itself, with the new head.
      this.#logger.error({ file: this.#file, anchor: this.#anchor && ref(this.#anchor) }, 'SECURITY: DATA_DIR/audit.anchor was missing; re-anchored at the current head (a tail cut before now cannot be detected from this file; compare with the anchors in export custody records)');
      await this.#db.transaction().execute((trx) => this.#append(keying, trx, SYSTEM_ACTOR, { action: 'audit.anchor_recreated', entity: 'audit', entityId: 'anchor', after: this.#anchor && ref(this.#anchor) }));
      await this.#advance(keying);
    } else if (read.anchor === null && read.problem === null) {
      this.#logger.info({ anchor: this.#anchor && ref(this.#anchor) }, 'audit chain anchored for the first time');
    }
    return keying;
  }

  /** Appends one record; call inside the transaction of the change (or with the Db for one-offs). */
  async append(executor: Executor, actor: Actor, entry: AuditEntryInput): Promise<AuditRecord> {
    const keying = await this.#ready();
    if (executor === this.#db) return this.#db.transaction().execute((trx) => this.#append(keying, trx, actor, entry));
    return this.#append(keying, executor, actor, entry);
  }

  async #append(keying: ChainKeying, executor: Executor, actor: Actor, entry: AuditEntryInput): Promise<AuditRecord> {
    await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(executor);
    const last = await executor.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const seqRow = await sql<{ seq: string }>`select nextval(pg_get_serial_sequence('audit_log', 'seq')) as seq`.execute(executor);
    const seq = Number(seqRow.rows[0]!.seq);
    const record: Omit<AuditRecord, 'hash'> = {
      seq,
      at: this.#clock().toISOString(),
      actorId: actor.id,
      actorLabel: actor.label,
      action: entry.action,
      entity: entry.entity,
      entityId: entry.entityId,
      before: normalise(entry.before),
      after: normalise(entry.after),
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const hash = recordHash(record, keying);
    await sql`insert into audit_log (seq, at, actor_id, actor_label, action, entity, entity_id, before, after, prev_hash, hash)
      values (${seq}, ${record.at}, ${record.actorId}, ${record.actorLabel}, ${record.action}, ${record.entity}, ${record.entityId},
              ${record.before === null ? null : JSON.stringify(record.before)}::jsonb, ${record.after === null ? null : JSON.stringify(record.after)}::jsonb,
              ${record.prevHash}, ${hash})`.execute(executor);
    this.#highestAppended = Math.max(this.#highestAppended, seq);
    this.#retries = 0;
    this.#schedule(keying);
    return { ...record, hash };
  }

  async list(filter: { entity?: string; entityId?: string; action?: string }, page: Page): Promise<Paged<AuditRecord>> {
    let q = this.#db.selectFrom('audit_log');
    if (filter.entity !== undefined) q = q.where('entity', '=', filter.entity);
    if (filter.entityId !== undefined) q = q.where('entity_id', '=', filter.entityId);
    if (filter.action !== undefined) q = q.where('action', '=', filter.action);
    const total = Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await q.selectAll().orderBy('seq', 'desc').limit(page.limit).offset(page.offset).execute();
    return { items: rows.map(toRecord), total, ...page };
  }

  /**
   * Whether a single record carries a valid keyed hash (it was written by the key holder). For
   * callers that rely on one record, e.g. a recording's audited head hash: a row the database
   * role inserted itself cannot pass.
   */
  async isGenuine(record: AuditRecord): Promise<boolean> {
    const keying = await this.#ready();
    return record.seq >= keying.keyedFromSeq && recordHash(record, keying) === record.hash;
  }

  async *#rowsAfter(seq: number): AsyncGenerator<AuditRecord> {
    let after = seq;
    for (;;) {
      const rows = await this.#db.selectFrom('audit_log').selectAll().where('seq', '>', String(after)).orderBy('seq').limit(BATCH).execute();
      for (const row of rows) {
        const r = toRecord(row);
        after = r.seq;
        yield r;
      }
      if (rows.length < BATCH) return;
    }
  }

  /**
   * Recomputes the whole chain in order, then checks it against the anchor (DATA_DIR/audit.anchor
   * as on disk, and the newest one this process knows) and, if given, an anchor from elsewhere
   * (an export's custody record, a printout): a tail cut off, a rewritten row and a replaced key
   * are all reported, with the first record concerned.
   */
  async verify(external?: { seq: number; hash: string }): Promise<ChainVerification> {
    const keying = await this.#ready();
    // Read the anchor before the rows: rows appended meanwhile can only extend it.
    const onDisk = await readAnchor(this.#file);
    const known = this.#anchor;
    const anchors = [onDisk.anchor, known].filter((a): a is AuditAnchor => a !== null);
    const wanted = new Map<number, string | undefined>([...anchors.map((a) => [a.seq, undefined] as const), ...(external ? [[external.seq, undefined] as const] : [])]);
    let prev = GENESIS_HASH;
    let checked = 0;
    let headSeq = 0;
    const base = { keyedFromSeq: keying.keyedFromSeq, anchor: onDisk.anchor ? ref(onDisk.anchor) : null };
    for await (const r of this.#rowsAfter(0)) {
      const problem = linkProblem(prev, r, keying);
      if (problem !== null) return { ...base, valid: false, checked, firstBrokenSeq: r.seq, reason: problem, lastHash: prev, headSeq: r.seq };
      if (wanted.has(r.seq)) wanted.set(r.seq, r.hash);
      prev = r.hash;
      headSeq = r.seq;
      checked++;
    }
    const result = { ...base, checked, lastHash: prev, headSeq };
    const invalid = (firstBrokenSeq: number | null, reason: string): ChainVerification => ({ ...result, valid: false, firstBrokenSeq, reason });

    if (onDisk.problem !== null) return invalid(null, `the audit anchor is unreadable: ${onDisk.problem}`);
    if (onDisk.anchor === null) return invalid(null, `the audit anchor ${this.#file} is missing (it is written at start-up and after every change): it was removed`);
    for (const a of anchors) {
      const where = a === onDisk.anchor ? 'DATA_DIR/audit.anchor' : 'the anchor this server last wrote';
      if (a.keyId !== keying.key.id) return invalid(null, `the audit key (DATA_DIR/audit.key) is not the one ${where} names: the key was replaced, so keyed rows cannot be checked`);
      if (a.keyedFromSeq !== keying.keyedFromSeq) return invalid(a.keyedFromSeq, `the switch to keyed hashes was moved in the database (audit_chain says ${keying.keyedFromSeq}, ${where} says ${a.keyedFromSeq})`);
      const problem = this.#anchorProblem(a.seq, a.hash, headSeq, wanted.get(a.seq), `${where} (${a.at})`);
      if (problem !== null) return invalid(problem.seq, problem.reason);
    }
    if (external) {
      const problem = this.#anchorProblem(external.seq, external.hash, headSeq, wanted.get(external.seq), 'the anchor given');
      if (problem !== null) return invalid(problem.seq, problem.reason);
    }
    return { ...result, valid: true, firstBrokenSeq: null, reason: null };
  }

  #anchorProblem(seq: number, hash: string, headSeq: number, found: string | undefined, where: string): { seq: number; reason: string } | null {
    if (seq === 0) return null;
    if (headSeq < seq) return { seq: headSeq + 1, reason: `the log ends at record ${headSeq}, but record ${seq} was anchored in ${where}: records were removed from the end` };
    if (found === undefined) return { seq, reason: `record ${seq}, anchored in ${where}, is missing` };
    if (found !== hash) return { seq, reason: `record ${seq} differs from the hash anchored in ${where}: the record was rewritten` };
    return null;
  }

  /** Anchors the current head now and returns it (for an export's custody record). */
  async anchorNow(): Promise<AuditAnchorRef | null> {
    await this.#advance(await this.#ready());
    return this.#anchor && ref(this.#anchor);
  }

  /** Writes the final anchor; call before the database closes. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const keying = this.#keying;
    if (keying !== undefined) await this.#advance(await keying).catch(() => undefined);
  }

  #schedule(keying: ChainKeying): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#advance(keying).then(() => {
        // The append's transaction may not have committed yet: look again a little later.
        if ((this.#anchor?.seq ?? 0) < this.#highestAppended && this.#retries++ < MAX_ANCHOR_RETRIES) this.#schedule(keying);
      });
    }, this.#anchorDelayMs);
    this.#timer.unref();
  }

  /** One advance at a time (they share the anchor); failures are logged, never thrown. */
  #advance(keying: ChainKeying): Promise<void> {
    this.#anchoring = this.#anchoring.then(() => this.#advanceNow(keying)).catch((err: unknown) => this.#logger.error({ err }, 'cannot update the audit anchor'));
    return this.#anchoring;
  }

  async #advanceNow(keying: ChainKeying): Promise<void> {
    if (this.#anchorFileProblem !== null) return;
    const onDisk = await readAnchor(this.#file);
    // Another process (the CLI) may have advanced it further.
    if (onDisk.anchor !== null && onDisk.anchor.keyId === keying.key.id && onDisk.anchor.seq > (this.#anchor?.seq ?? -1)) this.#anchor = onDisk.anchor;
    const base = this.#anchor;
    if (base !== null && base.keyId !== keying.key.id) return this.#reportOnce('key', { anchorKeyId: base.keyId, keyId: keying.key.id }, 'the audit key is not the one the anchor names: not advancing the anchor');
    if (base !== null && base.keyedFromSeq !== keying.keyedFromSeq) return this.#reportOnce('switch', { anchor: base.keyedFromSeq, db: keying.keyedFromSeq }, 'audit_chain.keyed_from_seq differs from the anchor: not advancing the anchor');
    let head = { seq: base?.seq ?? 0, hash: base?.hash ?? GENESIS_HASH };
    for await (const r of this.#rowsAfter(head.seq)) {
      const problem = linkProblem(head.hash, r, keying);
      if (problem !== null) {
        this.#reportOnce(`row:${r.seq}`, { seq: r.seq, problem }, 'SECURITY: an audit record does not verify; the anchor stays before it');
        break;
      }
      head = { seq: r.seq, hash: r.hash };
    }
    if (base !== null && head.seq <= base.seq) return;
    const anchor: AuditAnchor = { format: AUDIT_ANCHOR_FORMAT, seq: head.seq, hash: head.hash, keyId: keying.key.id, keyedFromSeq: keying.keyedFromSeq, at: new Date().toISOString() };
    await writeAnchor(this.#file, anchor);
    this.#anchor = anchor;
  }

  #reportOnce(what: string, fields: Record<string, unknown>, message: string): void {
    if (this.#reported.has(what)) return;
    this.#reported.add(what);
    this.#logger.error(fields, message);
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    at: row.at.toISOString(),
    actorId: row.actor_id,
    actorLabel: row.actor_label,
    action: row.action,
    entity: row.entity,
    entityId: row.entity_id,
    before: row.before ?? null,
    after: row.after ?? null,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
