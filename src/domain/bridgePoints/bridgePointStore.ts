import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Clock } from '../common/clock.ts';
import { badRequest, conflict, isUniqueViolation, notFound } from '../common/errors.ts';
import type { Page, Paged } from '../common/paging.ts';
import type { Actor } from '../common/roles.ts';
import { parseCsv } from './csv.ts';
import { TiepdanError } from '../../errors.ts';
import { safeText } from '../common/safeText.ts';

import { BRIDGE_POINT_KINDS, type BridgePointKind, type BridgePointView } from '../../contract/views/bridgePoint.ts';

export { BRIDGE_POINT_KINDS, type BridgePointKind };
/** A bridge point as the API answers it (the contract's view). */
export type BridgePoint = BridgePointView;


export const bridgePointInput = z.object({
  code: safeText(40).trim().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only'),
  name: safeText(200).trim().min(1),
  kind: z.enum(BRIDGE_POINT_KINDS),
  address: safeText(300).default(''),
  contactName: safeText(120).default(''),
  contactPhone: safeText(40).default(''),
  contactEmail: z.union([z.literal(''), z.email()]).default(''),
  networkNotes: safeText(2000).default(''),
  active: z.boolean().default(true),
});
export type BridgePointInput = z.infer<typeof bridgePointInput>;

type Row = {
  id: string;
  code: string;
  name: string;
  kind: string;
  address: string;
  contact_name: string;
  contact_phone: string;
  contact_email: string;
  network_notes: string;
  is_sample: boolean;
  active: boolean;
  created_at: Date;
  updated_at: Date;
};

export function bridgePointView(r: Row): BridgePoint {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    kind: r.kind as BridgePointKind,
    address: r.address,
    contactName: r.contact_name,
    contactPhone: r.contact_phone,
    contactEmail: r.contact_email,
    networkNotes: r.network_notes,
    isSample: r.is_sample,
    active: r.active,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

const toColumns = (i: Partial<BridgePointInput>) => ({
  ...(i.code !== undefined ? { code: i.code } : {}),
  ...(i.name !== undefined ? { name: i.name } : {}),
  ...(i.kind !== undefined ? { kind: i.kind } : {}),
  ...(i.address !== undefined ? { address: i.address } : {}),
  ...(i.contactName !== undefined ? { contact_name: i.contactName } : {}),
  ...(i.contactPhone !== undefined ? { contact_phone: i.contactPhone } : {}),
  ...(i.contactEmail !== undefined ? { contact_email: i.contactEmail } : {}),
  ...(i.networkNotes !== undefined ? { network_notes: i.networkNotes } : {}),
  ...(i.active !== undefined ? { active: i.active } : {}),
});

/** Rows one import takes (security review M13: a 2 MiB file could otherwise be ~40,000 rows in one transaction). */
export const CSV_MAX_ROWS = 5000;

/**
 * Session statuses whose invitations can no longer be used: a point's kind may change only when
 * every session using it is in one of them. The kind decides the invitation's live role (central
 * sees every endpoint), so changing it under an open session changes who sees whom (review L9).
 */
const CLOSED_SESSION_STATUSES = ['ended', 'archived', 'cancelled'] as const;

/** The audited fields of a point (its view without the timestamp that every write moves). */
const auditedFields = (p: BridgePoint): Omit<BridgePoint, 'updatedAt'> => {
  const { updatedAt: _updatedAt, ...rest } = p;
  return rest;
};
const CSV_BATCH = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** CSV columns of the import, in this order (a header row with these names is required). */
export const CSV_COLUMNS = ['code', 'name', 'kind', 'address', 'contact_name', 'contact_phone', 'contact_email', 'network_notes'] as const;

/** Development data: a few points, visibly marked "[MẪU]" (sample) and flagged is_sample. */
export const SAMPLE_BRIDGE_POINTS: BridgePointInput[] = [
  { code: 'SAMPLE-TT', name: '[MẪU] Điểm cầu trung tâm — Trụ sở Tiếp công dân tỉnh', kind: 'central', address: '[MẪU] Quy Nhơn', contactName: '[MẪU] Kỹ thuật viên', contactPhone: '', contactEmail: '', networkNotes: 'Dữ liệu mẫu cho phát triển', active: true },
  { code: 'SAMPLE-X01', name: '[MẪU] UBND xã Mẫu Một', kind: 'commune', address: '', contactName: '', contactPhone: '', contactEmail: '', networkNotes: 'Dữ liệu mẫu: đường truyền cáp quang 100 Mbps', active: true },
  { code: 'SAMPLE-X02', name: '[MẪU] UBND xã Mẫu Hai', kind: 'commune', address: '', contactName: '', contactPhone: '', contactEmail: '', networkNotes: 'Dữ liệu mẫu: 4G dự phòng, UDP bị chặn', active: true },
  { code: 'SAMPLE-P01', name: '[MẪU] UBND phường Mẫu Ba', kind: 'ward', address: '', contactName: '', contactPhone: '', contactEmail: '', networkNotes: 'Dữ liệu mẫu', active: true },
];

/** Sessions not yet closed that use any of these points (as a bridge point of the session). */
async function openSessionsUsing(trx: Transaction<DatabaseSchema>, pointIds: string[]): Promise<{ session_id: string; bridge_point_id: string }[]> {
  if (pointIds.length === 0) return [];
  return trx
    .selectFrom('session_bridge_points')
    .innerJoin('sessions', 'sessions.id', 'session_bridge_points.session_id')
    .select(['session_bridge_points.session_id', 'session_bridge_points.bridge_point_id'])
    .where('session_bridge_points.bridge_point_id', 'in', pointIds)
    .where('sessions.status', 'not in', [...CLOSED_SESSION_STATUSES])
    .orderBy('session_bridge_points.session_id')
    .execute();
}

const kindInUse = (points: { code: string; from: string; to: string; sessionIds: string[] }[]): TiepdanError =>
  conflict('BRIDGE_POINT_KIND_IN_USE', `the kind of ${points.map((p) => p.code).join(', ')} cannot change while a session that is not ended uses it; nothing was changed`, { points });

export class BridgePointStore {
  readonly #db: Db;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(db: Db, audit: AuditLog, clock: Clock) {
    this.#db = db;
    this.#audit = audit;
    this.#clock = clock;
  }

  async list(filter: { kind?: BridgePointKind; active?: boolean; sample?: boolean; q?: string; ids?: string[] }, page: Page): Promise<Paged<BridgePoint>> {
    let q = this.#db.selectFrom('bridge_points');
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    if (filter.active !== undefined) q = q.where('active', '=', filter.active);
    if (filter.sample !== undefined) q = q.where('is_sample', '=', filter.sample);
    if (filter.ids !== undefined) q = filter.ids.length === 0 ? q.where(sql<boolean>`false`) : q.where('id', 'in', filter.ids);
    if (filter.q !== undefined && filter.q !== '') {
      const like = `%${filter.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      q = q.where((eb) => eb.or([eb('name', 'ilike', like), eb('code', 'ilike', like)]));
    }
    const rows = await q.selectAll().select(sql<string>`count(*) over ()`.as('total_count')).orderBy('kind').orderBy('code').limit(page.limit).offset(page.offset).execute();
    const total = rows.length > 0 ? Number(rows[0]!.total_count) : Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    return { items: rows.map(bridgePointView), total, ...page };
  }

  async get(id: string): Promise<BridgePoint> {
    const row = await this.#db.selectFrom('bridge_points').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('bridge point', id);
    return bridgePointView(row);
  }

  async create(actor: Actor, input: BridgePointInput, sample = false): Promise<BridgePoint> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await trx.insertInto('bridge_points').values({ ...toColumns(input), code: input.code, name: input.name, kind: input.kind, is_sample: sample }).returningAll().executeTakeFirstOrThrow();
        const view = bridgePointView(row);
        await this.#audit.append(trx, actor, { action: 'bridge_point.create', entity: 'bridge_point', entityId: row.id, after: view });
        return view;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('BRIDGE_POINT_CODE_TAKEN', `a bridge point with code ${input.code} exists`);
      throw err;
    }
  }

  async update(actor: Actor, id: string, patch: Partial<BridgePointInput>): Promise<BridgePoint> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('bridge_points').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
        if (before === undefined) throw notFound('bridge point', id);
        if (patch.kind !== undefined && patch.kind !== before.kind) {
          const used = await openSessionsUsing(trx, [before.id]);
          if (used.length > 0) throw kindInUse([{ code: before.code, from: before.kind, to: patch.kind, sessionIds: used.map((u) => u.session_id) }]);
        }
        const row = await trx.updateTable('bridge_points').set({ ...toColumns(patch), updated_at: this.#clock() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        const view = bridgePointView(row);
        await this.#audit.append(trx, actor, { action: 'bridge_point.update', entity: 'bridge_point', entityId: id, before: bridgePointView(before), after: view });
        return view;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('BRIDGE_POINT_CODE_TAKEN', `a bridge point with code ${String(patch.code)} exists`);
      throw err;
    }
  }

  /**
   * Imports the province's points from CSV (header row required; comma or semicolon separated).
   * All or nothing: any bad line rejects the whole file with every problem listed by line.
   * Existing codes are updated, new ones created.
   */
  async importCsv(actor: Actor, text: string): Promise<{ created: number; updated: number; total: number }> {
    // Parsing stops one row past the limit: a huge file is refused before it is read to the end.
    const rows = parseCsv(text, { maxRows: CSV_MAX_ROWS + 2 });
    if (rows.length > CSV_MAX_ROWS + 1) {
      throw new TiepdanError('CSV_TOO_MANY_ROWS', `a CSV import takes at most ${CSV_MAX_ROWS} bridge points (the province has a few hundred); split the file`, { details: { maxRows: CSV_MAX_ROWS } });
    }
    if (rows.length < 2) throw badRequest('CSV_EMPTY', 'the CSV needs a header row and at least one bridge point');
    const header = rows[0]!.map((h) => h.trim().toLowerCase());
    const missing = ['code', 'name', 'kind'].filter((c) => !header.includes(c));
    if (missing.length > 0) throw badRequest('CSV_HEADER_INVALID', `the header row lacks ${missing.join(', ')}; expected columns: ${CSV_COLUMNS.join(', ')}`);
    const problems: { line: number; field: string; message: string }[] = [];
    const inputs: BridgePointInput[] = [];
    const seen = new Set<string>();
    for (let index = 0; index < rows.length - 1; index++) {
      // 5,000 rows of validation in one go held the event loop ~70 ms (every live peer's signaling
      // waits meanwhile): the loop gets a turn every CSV_BATCH rows (test/guards/routeExtremes.test.ts).
      if (index > 0 && index % CSV_BATCH === 0) await yieldToLoop();
      const cells = rows[index + 1]!;
      const line = index + 2;
      const get = (name: string) => (header.indexOf(name) >= 0 ? (cells[header.indexOf(name)] ?? '').trim() : '');
      const parsed = bridgePointInput.safeParse({
        code: get('code'),
        name: get('name'),
        kind: get('kind').toLowerCase(),
        address: get('address'),
        contactName: get('contact_name'),
        contactPhone: get('contact_phone'),
        contactEmail: get('contact_email'),
        networkNotes: get('network_notes'),
      });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) problems.push({ line, field: String(issue.path[0] ?? ''), message: issue.message });
        continue;
      }
      if (seen.has(parsed.data.code)) problems.push({ line, field: 'code', message: `code ${parsed.data.code} appears twice in the file` });
      seen.add(parsed.data.code);
      inputs.push(parsed.data);
    }
    if (problems.length > 0) throw badRequest('CSV_INVALID', `${problems.length} problem(s) in the CSV; nothing was imported`, problems);
    // A few statements per 500 rows, not two per row: the import holds one pool connection briefly.
    return this.#db.transaction().execute(async (trx) => {
      // The rows as they were (locked): the audit gets a before/after per changed point (L9).
      const known = new Map<string, Row>();
      for (const chunk of chunks(inputs.map((i) => i.code), CSV_BATCH)) {
        for (const r of await trx.selectFrom('bridge_points').selectAll().where('code', 'in', chunk).forUpdate().execute()) known.set(r.code, r);
      }
      const kindChanges = inputs.flatMap((i) => {
        const was = known.get(i.code);
        return was !== undefined && was.kind !== i.kind ? [{ row: was, to: i.kind }] : [];
      });
      if (kindChanges.length > 0) {
        const used = await openSessionsUsing(trx, kindChanges.map((c) => c.row.id));
        const refused = kindChanges
          .map((c) => ({ code: c.row.code, from: c.row.kind, to: c.to, sessionIds: used.filter((u) => u.bridge_point_id === c.row.id).map((u) => u.session_id) }))
          .filter((c) => c.sessionIds.length > 0);
        if (refused.length > 0) throw kindInUse(refused);
      }
      const now = this.#clock();
      const after: Row[] = [];
      for (const chunk of chunks(inputs, CSV_BATCH)) {
        const written = await trx
          .insertInto('bridge_points')
          .values(chunk.map((input) => ({ ...toColumns(input), code: input.code, name: input.name, kind: input.kind })))
          .onConflict((oc) =>
            oc.column('code').doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              kind: eb.ref('excluded.kind'),
              address: eb.ref('excluded.address'),
              contact_name: eb.ref('excluded.contact_name'),
              contact_phone: eb.ref('excluded.contact_phone'),
              contact_email: eb.ref('excluded.contact_email'),
              network_notes: eb.ref('excluded.network_notes'),
              active: eb.ref('excluded.active'),
              updated_at: now,
            })),
          )
          .returningAll()
          .execute();
        after.push(...written);
      }
      for (const row of after) {
        const was = known.get(row.code);
        if (was === undefined) continue;
        const beforeView = auditedFields(bridgePointView(was));
        const afterView = auditedFields(bridgePointView(row));
        if (JSON.stringify(beforeView) === JSON.stringify(afterView)) continue; // re-imported unchanged
        await this.#audit.append(trx, actor, { action: 'bridge_point.update', entity: 'bridge_point', entityId: row.id, before: beforeView, after: { ...afterView, via: 'csv_import' } });
      }
      const updated = inputs.filter((i) => known.has(i.code)).length;
      const created = inputs.length - updated;
      await this.#audit.append(trx, actor, { action: 'bridge_point.import', entity: 'bridge_point', entityId: '*', after: { created, updated, codes: inputs.map((i) => i.code) } });
      return { created, updated, total: inputs.length };
    });
  }

  /** Adds the development sample points (idempotent); they are flagged is_sample. */
  async seedSamples(actor: Actor): Promise<BridgePoint[]> {
    const out: BridgePoint[] = [];
    for (const input of SAMPLE_BRIDGE_POINTS) {
      const existing = await this.#db.selectFrom('bridge_points').selectAll().where('code', '=', input.code).executeTakeFirst();
      out.push(existing !== undefined ? bridgePointView(existing) : await this.create(actor, input, true));
    }
    return out;
  }
}
