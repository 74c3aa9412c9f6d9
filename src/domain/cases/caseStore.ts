import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Clock } from '../common/clock.ts';
import { localDate } from '../common/clock.ts';
import { conflict, isForeignKeyViolation, isUniqueViolation, notFound } from '../common/errors.ts';
import type { Page, Paged } from '../common/paging.ts';
import type { Actor, UserRole } from '../common/roles.ts';
import { canSeePersonalData } from './confidentiality.ts';
import { safeText } from '../common/safeText.ts';
import { CASE_TYPES, type CaseType, type CaseView, type PersonView } from '../../contract/views/case.ts';

export { CASE_TYPES, type CaseType, type CaseView, type PersonView };

/**
 * Told, inside the case's transaction, that a case changed in a way the chairman's consent rests on
 * (type, criteria, waiver). Returns what to do once the transaction committed (tell the live side).
 * Security review M8: the session service sends the sessions carrying the case back for approval.
 */
export type ProposalChangeHook = (trx: Transaction<DatabaseSchema>, actor: Actor, change: { caseId: string; reference: string; fields: string[] }) => Promise<() => void>;

/** The case fields `SessionService.#checkProposal` and the chairman's consent (Quy chế Đ4.2) depend on. */
function proposalFieldsChanged(before: CaseRow, after: CaseRow): string[] {
  const changed: string[] = [];
  if (before.type !== after.type) changed.push('type');
  if ([...before.criteria].sort().join() !== [...after.criteria].sort().join()) changed.push('criteria');
  if (before.identity_protection_waived !== after.identity_protection_waived) changed.push('identityProtectionWaived');
  return changed;
}

/** Quy chế Điều 4.1 a–d. */
export const CASE_CRITERIA = ['a', 'b', 'c', 'd'] as const;
export const PERSON_ROLES = ['complainant', 'denouncer', 'petitioner', 'representative', 'authorised_person', 'lawyer', 'legal_aid', 'interpreter', 'group_representative'] as const;

export const personInput = z.object({
  role: z.enum(PERSON_ROLES),
  fullName: safeText(200).trim().min(1),
  idNumber: safeText(40).default(''),
  address: safeText(300).default(''),
  phone: safeText(40).default(''),
  note: safeText(1000).default(''),
});

export const caseInput = z.object({
  reference: safeText(60).trim().min(1).optional(),
  type: z.enum(CASE_TYPES),
  /** A short, non-identifying title ("Tranh chấp đất đai tại xã X"): shown in agendas. */
  title: safeText(300).trim().min(1),
  summary: safeText(10_000).default(''),
  criteria: z.array(z.enum(CASE_CRITERIA)).max(4).default([]),
  criteriaNote: safeText(2000).default(''),
  communeBridgePointId: z.uuid().nullable().default(null),
  agencies: z.array(safeText(200).trim().min(1)).max(50).default([]),
  priorHandling: safeText(10_000).default(''),
  requests: safeText(10_000).default(''),
  groupSize: z.number().int().min(1).max(10_000).default(1),
  identityProtectionWaived: z.boolean().default(false),
  waiverNote: safeText(2000).default(''),
  people: z.array(personInput).max(50).default([]),
});
export type CaseInput = z.infer<typeof caseInput>;



type CaseRow = {
  id: string;
  reference: string;
  type: string;
  title: string;
  summary: string;
  criteria: string[];
  criteria_note: string;
  commune_bridge_point_id: string | null;
  agencies: string[];
  prior_handling: string;
  requests: string;
  group_size: number;
  identity_protection_waived: boolean;
  waiver_note: string;
  created_at: Date;
  updated_at: Date;
};
type PersonRow = { id: string; role: string; full_name: string; id_number: string; address: string; phone: string; note: string; position: number };

/** The view for a role; `undefined` is the redacted view used for audit snapshots and exports. */
export function caseView(row: CaseRow, people: PersonRow[], role: UserRole | undefined): CaseView {
  const visible = canSeePersonalData(role, row.type, row.identity_protection_waived);
  return {
    id: row.id,
    reference: row.reference,
    type: row.type as CaseType,
    title: row.title,
    summary: visible ? row.summary : null,
    criteria: [...row.criteria].sort(),
    criteriaNote: visible ? row.criteria_note : null,
    communeBridgePointId: row.commune_bridge_point_id,
    agencies: row.agencies,
    priorHandling: visible ? row.prior_handling : null,
    requests: visible ? row.requests : null,
    groupSize: row.group_size,
    identityProtectionWaived: row.identity_protection_waived,
    waiverNote: visible ? row.waiver_note : null,
    personalDataHidden: !visible,
    people: people
      .sort((a, b) => a.position - b.position)
      .map((p) =>
        visible
          ? { id: p.id, role: p.role, fullName: p.full_name, idNumber: p.id_number, address: p.address, phone: p.phone, note: p.note }
          : { id: p.id, role: p.role, fullName: null, idNumber: null, address: null, phone: null, note: null },
      ),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const columns = (i: Partial<CaseInput>) => ({
  ...(i.type !== undefined ? { type: i.type } : {}),
  ...(i.title !== undefined ? { title: i.title } : {}),
  ...(i.summary !== undefined ? { summary: i.summary } : {}),
  ...(i.criteria !== undefined ? { criteria: [...new Set(i.criteria)] } : {}),
  ...(i.criteriaNote !== undefined ? { criteria_note: i.criteriaNote } : {}),
  ...(i.communeBridgePointId !== undefined ? { commune_bridge_point_id: i.communeBridgePointId } : {}),
  ...(i.agencies !== undefined ? { agencies: i.agencies } : {}),
  ...(i.priorHandling !== undefined ? { prior_handling: i.priorHandling } : {}),
  ...(i.requests !== undefined ? { requests: i.requests } : {}),
  ...(i.groupSize !== undefined ? { group_size: i.groupSize } : {}),
  ...(i.identityProtectionWaived !== undefined ? { identity_protection_waived: i.identityProtectionWaived } : {}),
  ...(i.waiverNote !== undefined ? { waiver_note: i.waiverNote } : {}),
});

export class CaseStore {
  readonly #db: Db;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #onProposalChange: ProposalChangeHook | undefined;

  constructor(db: Db, audit: AuditLog, clock: Clock, onProposalChange?: ProposalChangeHook) {
    this.#db = db;
    this.#audit = audit;
    this.#clock = clock;
    this.#onProposalChange = onProposalChange;
  }

  async #load(id: string, executor: Db = this.#db): Promise<{ row: CaseRow; people: PersonRow[] }> {
    const row = await executor.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('case', id);
    const people = await executor.selectFrom('case_people').selectAll().where('case_id', '=', id).execute();
    return { row, people };
  }

  async get(id: string, role: UserRole | undefined): Promise<CaseView> {
    const { row, people } = await this.#load(id);
    return caseView(row, people, role);
  }

  async list(filter: { type?: CaseType; criterion?: string; q?: string }, page: Page, role: UserRole | undefined): Promise<Paged<CaseView>> {
    let q = this.#db.selectFrom('cases');
    if (filter.type !== undefined) q = q.where('type', '=', filter.type);
    if (filter.criterion !== undefined) q = q.where(sql<boolean>`${filter.criterion} = any(criteria)`);
    if (filter.q !== undefined && filter.q !== '') {
      const like = `%${filter.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      q = q.where((eb) => eb.or([eb('reference', 'ilike', like), eb('title', 'ilike', like)]));
    }
    const total = Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await q.selectAll().orderBy('created_at', 'desc').limit(page.limit).offset(page.offset).execute();
    const ids = rows.map((r) => r.id);
    const people = ids.length === 0 ? [] : await this.#db.selectFrom('case_people').selectAll().where('case_id', 'in', ids).execute();
    return { items: rows.map((r) => caseView(r, people.filter((p) => p.case_id === r.id), role)), total, ...page };
  }

  async create(actor: Actor, input: CaseInput): Promise<CaseView> {
    const reference = input.reference ?? (await this.#nextReference());
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('cases')
          .values({ ...columns(input), reference, type: input.type, title: input.title, created_by: actor.kind === 'user' ? actor.id : null })
          .returningAll()
          .executeTakeFirstOrThrow();
        const people = await this.#insertPeople(trx as unknown as Db, row.id, input.people);
        await this.#audit.append(trx, actor, { action: 'case.create', entity: 'case', entityId: row.id, after: caseView(row, people, undefined) });
        return caseView(row, people, actor.role);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('CASE_REFERENCE_TAKEN', `case reference ${reference} exists`);
      if (isForeignKeyViolation(err)) throw notFound('bridge point', String(input.communeBridgePointId));
      throw err;
    }
  }

  async #nextReference(): Promise<string> {
    const { rows } = await sql<{ n: string }>`select nextval('case_reference_seq') as n`.execute(this.#db);
    return `VV-${localDate(this.#clock()).slice(0, 4)}-${rows[0]!.n.padStart(5, '0')}`;
  }

  async update(actor: Actor, id: string, patch: Partial<CaseInput>): Promise<CaseView> {
    let afterCommit: (() => void) | undefined;
    try {
      const view = await this.#db.transaction().execute(async (trx) => {
        const before = await this.#load(id, trx as unknown as Db);
        const row = await trx
          .updateTable('cases')
          .set({ ...columns(patch), ...(patch.reference !== undefined ? { reference: patch.reference } : {}), updated_at: this.#clock() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        let people = before.people;
        if (patch.people !== undefined) {
          await trx.deleteFrom('case_people').where('case_id', '=', id).execute();
          people = await this.#insertPeople(trx as unknown as Db, id, patch.people);
        }
        await this.#audit.append(trx, actor, {
          action: 'case.update',
          entity: 'case',
          entityId: id,
          before: caseView(before.row, before.people, undefined),
          after: caseView(row, people, undefined),
        });
        const fields = proposalFieldsChanged(before.row, row);
        if (fields.length > 0 && this.#onProposalChange !== undefined) afterCommit = await this.#onProposalChange(trx, actor, { caseId: id, reference: row.reference, fields });
        return caseView(row, people, actor.role);
      });
      afterCommit?.();
      return view;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('CASE_REFERENCE_TAKEN', `case reference ${String(patch.reference)} exists`);
      if (isForeignKeyViolation(err)) throw notFound('bridge point', String(patch.communeBridgePointId));
      throw err;
    }
  }

  async #insertPeople(db: Db, caseId: string, people: z.infer<typeof personInput>[]): Promise<PersonRow[]> {
    if (people.length === 0) return [];
    return db
      .insertInto('case_people')
      .values(people.map((p, position) => ({ case_id: caseId, position, role: p.role, full_name: p.fullName, id_number: p.idNumber, address: p.address, phone: p.phone, note: p.note })))
      .returningAll()
      .execute();
  }
}
