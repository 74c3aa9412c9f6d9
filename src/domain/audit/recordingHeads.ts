import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import type { Logger } from '../../logging/logger.ts';
import { SYSTEM_ACTOR } from '../common/roles.ts';
import type { AuditLog } from './auditLog.ts';

/**
 * A recording's manifest head hash, anchored in the keyed audit chain (security review H4).
 * recordings.head_hash alone is no anchor against someone with the application's database
 * rights: they can rewrite a manifest (its chain is plain SHA-256) and update the column to match.
 * A `recording.anchored` audit record, written when a recording closes, cannot be forged without
 * the audit key, and the audit chain is itself anchored in DATA_DIR and in export custody records.
 */
export const HEAD_ANCHORED = 'recording.anchored';

const anchoredSchema = z.object({ headHash: z.string().regex(/^[0-9a-f]{64}$/), status: z.string() });

/** Appends the head a recording closed with (called right after recordings.head_hash is set). */
export async function auditRecordingHead(audit: AuditLog, db: Db, sessionId: string, head: { status: string; headHash: string; backfilled?: true }): Promise<void> {
  await audit.append(db, SYSTEM_ACTOR, { action: HEAD_ANCHORED, entity: 'recording', entityId: sessionId, after: head });
}

/**
 * First start after the upgrade: closed recordings whose head is only in recordings.head_hash get
 * an audited one, marked `backfilled` (trust on first use: that column was the anchor until now).
 */
export async function auditUnanchoredHeads(audit: AuditLog, db: Db, logger: Logger): Promise<string[]> {
  const rows = await db.selectFrom('recordings').select(['session_id', 'status', 'head_hash']).where('head_hash', 'is not', null).where('status', 'not in', ['recording', 'deleted']).execute();
  if (rows.length === 0) return [];
  const anchored = new Set((await db.selectFrom('audit_log').select('entity_id').distinct().where('entity', '=', 'recording').where('action', '=', HEAD_ANCHORED).execute()).map((r) => r.entity_id));
  const done: string[] = [];
  for (const r of rows) {
    if (anchored.has(r.session_id) || r.head_hash === null) continue;
    await auditRecordingHead(audit, db, r.session_id, { status: r.status, headHash: r.head_hash, backfilled: true });
    done.push(r.session_id);
  }
  if (done.length > 0) logger.info({ recordings: done.length }, 'recording head hashes anchored in the audit log for the first time');
  return done;
}

export interface HeadCheck {
  sessionId: string;
  manifestHead: string;
  /** Every entry hash of the manifest, in order. */
  entryHashes: readonly string[];
  /** The manifest says closed and no recorder or anchoring is in progress in this process. */
  settled: boolean;
  /** recordings.head_hash (null: no row, or not anchored yet). */
  dbHead: string | null;
}

const short = (h: string) => `${h.slice(0, 16)}…`;

/**
 * Compares a manifest with the newest audited head of its recording: a settled recording must end
 * exactly there, one still being written must contain it. Returns the problems found (empty: ok).
 */
export async function recordingHeadProblems(audit: AuditLog, c: HeadCheck): Promise<string[]> {
  const latest = (await audit.list({ entity: 'recording', entityId: c.sessionId, action: HEAD_ANCHORED }, { limit: 1, offset: 0 })).items[0];
  if (latest === undefined) return c.settled ? ['this closed recording has no head hash in the audit log: it was not closed by this server, or its audit records were removed'] : [];
  const parsed = anchoredSchema.safeParse(latest.after);
  if (!parsed.success || !(await audit.isGenuine(latest))) {
    return [`audit record ${latest.seq}, which holds this recording's head hash, does not verify with the audit key: it was not written by this server`];
  }
  const audited = parsed.data.headHash;
  const problems: string[] = [];
  if (c.settled && audited !== c.manifestHead) {
    problems.push(`manifest head hash ${short(c.manifestHead)} differs from the one in audit record ${latest.seq} (${short(audited)}): the manifest was replaced or rewritten`);
  } else if (!c.settled && !c.entryHashes.includes(audited)) {
    problems.push(`the head hash in audit record ${latest.seq} (${short(audited)}) is not in this manifest: the manifest was replaced or truncated`);
  }
  if (c.settled && c.dbHead !== null && c.dbHead !== audited) {
    problems.push(`recordings.head_hash (${short(c.dbHead)}) differs from audit record ${latest.seq} (${short(audited)}): it was changed in the database`);
  }
  return problems;
}
