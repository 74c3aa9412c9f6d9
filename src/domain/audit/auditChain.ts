import { createHash } from 'node:crypto';
import type { AuditKey } from './auditKey.ts';

/**
 * How one audit record is hashed and linked. Each hash covers the record's fields and the previous
 * record's hash, so changing, removing or reordering a record breaks the link after it. From the
 * switch point (audit_chain.keyed_from_seq, migration 0400) the hash is an HMAC-SHA256 under the
 * audit key, so it cannot be recomputed by someone who changed a row; earlier rows keep the plain
 * SHA-256 they were written with.
 */
export const GENESIS_HASH = '0'.repeat(64);

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

/** What a hash is checked with: the key, and from which seq it applies. */
export interface ChainKeying {
  key: AuditKey;
  keyedFromSeq: number;
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

function hashInput(r: Omit<AuditRecord, 'hash'>): string {
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
  return `${r.prevHash}\n${body}`;
}

/** The hash a record must carry: keyed from the switch point on, plain SHA-256 before it. */
export function recordHash(r: Omit<AuditRecord, 'hash'>, keying: ChainKeying): string {
  const input = hashInput(r);
  return r.seq >= keying.keyedFromSeq ? keying.key.mac(input) : createHash('sha256').update(input).digest('hex');
}

/** Why `r` does not follow a record whose hash is `prevHash` (null: it does). */
export function linkProblem(prevHash: string, r: AuditRecord, keying: ChainKeying): string | null {
  if (r.prevHash !== prevHash) return 'link to the previous record does not match (a record was removed or changed)';
  if (recordHash(r, keying) !== r.hash) {
    return r.seq >= keying.keyedFromSeq
      ? 'record content does not match its keyed hash (the record was changed, or written or re-hashed without the audit key)'
      : 'record content does not match its hash (the record was changed)';
  }
  return null;
}
