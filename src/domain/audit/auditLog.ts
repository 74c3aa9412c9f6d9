import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import type { Actor } from '../common/roles.ts';
import type { Clock } from '../common/clock.ts';
import type { Page, Paged } from '../common/paging.ts';

/**
 * Append-only audit log linked in a hash chain: each row's hash covers its own fields and the
 * previous row's hash, so changing, removing or reordering any row breaks every hash after it.
 * Rows are appended inside the transaction of the change they record, under an advisory lock
 * that serialises appenders (the chain needs a strict order).
 *
 * Snapshots (`before`/`after`) must not hold complainants' personal data: callers pass the
 * redacted views (see cases/confidentiality.ts).
 */
export const GENESIS_HASH = '0'.repeat(64);
const LOCK_KEY = 0x7464_6175; // 'tdau'

export interface AuditEntryInput {
  action: string;
  entity: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actorId: string;
  actorLabel: string;
  action: string;
  entity: string;
  entityId: string;
  before: unknown;
  after: unknown;
  prevHash: string;
  hash: string;
}

export interface ChainVerification {
  valid: boolean;
  checked: number;
  /** The first row whose hash or link does not match, when invalid. */
  firstBrokenSeq: number | null;
  reason: string | null;
  lastHash: string;
}

/** JSON with sorted keys: the same value always hashes the same (jsonb reorders keys). */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hashRecord(r: Omit<AuditRecord, 'hash'>): string {
  const body = canonicalJson({
    seq: r.seq,
    at: r.at,
    actorId: r.actorId,
    actorLabel: r.actorLabel,
    action: r.action,
    entity: r.entity,
    entityId: r.entityId,
    before: r.before ?? null,
    after: r.after ?? null,
  });
  return createHash('sha256').update(`${r.prevHash}\n${body}`).digest('hex');
}

/** Snapshots go through JSON first so that what is hashed is exactly what jsonb gives back. */
function normalise(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

type Executor = Db | Transaction<DatabaseSchema>;

export class AuditLog {
  readonly #db: Db;
  readonly #clock: Clock;

  constructor(db: Db, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Appends one record; call inside the transaction of the change (or with the Db for one-offs). */
  async append(executor: Executor, actor: Actor, entry: AuditEntryInput): Promise<AuditRecord> {
    if (executor === this.#db) {
      return this.#db.transaction().execute((trx) => this.append(trx, actor, entry));
    }
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
    const hash = hashRecord(record);
    await sql`insert into audit_log (seq, at, actor_id, actor_label, action, entity, entity_id, before, after, prev_hash, hash)
      values (${seq}, ${record.at}, ${record.actorId}, ${record.actorLabel}, ${record.action}, ${record.entity}, ${record.entityId},
              ${record.before === null ? null : JSON.stringify(record.before)}::jsonb, ${record.after === null ? null : JSON.stringify(record.after)}::jsonb,
              ${record.prevHash}, ${hash})`.execute(executor);
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

  /** Recomputes the whole chain in order; reports the first row that does not match. */
  async verify(): Promise<ChainVerification> {
    let prev = GENESIS_HASH;
    let checked = 0;
    let previousSeq = 0;
    const batch = 1000;
    for (;;) {
      const rows = await this.#db.selectFrom('audit_log').selectAll().where('seq', '>', String(previousSeq) as never).orderBy('seq').limit(batch).execute();
      for (const row of rows) {
        const r = toRecord(row);
        if (r.prevHash !== prev) return { valid: false, checked, firstBrokenSeq: r.seq, reason: 'link to the previous record does not match (a record was removed or changed)', lastHash: prev };
        if (hashRecord(r) !== r.hash) return { valid: false, checked, firstBrokenSeq: r.seq, reason: 'record content does not match its hash (the record was changed)', lastHash: prev };
        prev = r.hash;
        previousSeq = r.seq;
        checked++;
      }
      if (rows.length < batch) break;
    }
    return { valid: true, checked, firstBrokenSeq: null, reason: null, lastHash: prev };
  }
}

function toRecord(row: {
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
}): AuditRecord {
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
