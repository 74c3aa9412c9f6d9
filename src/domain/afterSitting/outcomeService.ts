import type { OutcomeView } from '../../contract/views/afterSitting.ts';
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import { TiepdanError } from '../../errors.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CalendarStore } from '../calendar/calendarStore.ts';
import { localDate, type Clock } from '../common/clock.ts';
import { conflict, notFound } from '../common/errors.ts';
import type { Actor } from '../common/roles.ts';
import { CASE_OUTCOMES } from '../sessions/sessionService.ts';
import { plannedFollowUps } from './deadlines.ts';
import { CASE_TYPE_LABEL, dmy, OUTCOME_LABEL } from './labels.ts';
import { auditExecutor, dateString, withAfterSitting, type AfterSittingDb, type AfterSittingTables } from './tables.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import { safeText } from '../common/safeText.ts';

type Trx = Transaction<DatabaseSchema & AfterSittingTables>;

const isoDate = z.iso.date();

/**
 * One case's outcome as the chair concluded it (N154 Art 25(3)): answered at once, or a deadline
 * and the person to contact; transferred to whom, by which document. The rules an outcome needs
 * are checked here, so that the console and an integration get the same 400 with the field.
 */
export const outcomeInput = z
  .object({
    caseId: z.uuid(),
    outcome: z.enum(CASE_OUTCOMES),
    /** Ý kiến kết luận của người chủ trì. */
    conclusion: safeText(5000).trim().min(1),
    /** The answer given at the sitting (tra_loi_truc_tiep). */
    answer: safeText(5000).trim().default(''),
    answerDeadline: isoDate.nullable().default(null),
    /** Who the citizen contacts until the deadline: a name and post, never the citizen. */
    contactPerson: safeText(300).trim().default(''),
    transferTarget: safeText(300).trim().default(''),
    documentNumber: safeText(60).trim().default(''),
    documentDate: isoDate.nullable().default(null),
  })
  .superRefine((o, ctx) => {
    const need = (ok: boolean, field: string, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path: [field], message });
    };
    if (o.outcome === 'tra_loi_truc_tiep') need(o.answer !== '', 'answer', 'an answer given at the sitting is written down (N154 Art 25(3))');
    if (o.outcome === 'hen_tra_loi') {
      need(o.answerDeadline !== null, 'answerDeadline', 'a promised answer needs its deadline (N154 Art 25(3))');
      need(o.contactPerson !== '', 'contactPerson', 'a promised answer needs the person to contact (N154 Art 25(3))');
    }
    if (o.outcome === 'chuyen_don') need(o.transferTarget !== '', 'transferTarget', 'a transfer names the competent agency it goes to');
  });
export type OutcomeInput = z.infer<typeof outcomeInput>;

export type { OutcomeView };

/** Outcomes are written while the session runs and after it, until it is archived. */
const OUTCOME_STATUSES = ['live', 'ended'];

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** "Hướng xử lý" details for the sổ: what was decided, with the document numbers. */
export function handlingDetail(o: Pick<OutcomeInput, 'outcome' | 'answerDeadline' | 'contactPerson' | 'transferTarget' | 'documentNumber' | 'documentDate'>): string {
  const doc = o.documentNumber ? `; văn bản số ${o.documentNumber}${o.documentDate ? ` ngày ${dmy(o.documentDate)}` : ''}` : '';
  switch (o.outcome) {
    case 'chuyen_don':
      return `Chuyển đơn đến ${o.transferTarget}${doc}`;
    case 'hen_tra_loi':
      return `Hẹn trả lời trước ngày ${dmy(o.answerDeadline)}; người liên hệ: ${o.contactPerson}${doc}`;
    default:
      return `${OUTCOME_LABEL[o.outcome] ?? o.outcome}${doc}`;
  }
}

export class OutcomeService {
  readonly #db: AfterSittingDb;
  readonly #audit: AuditLog;
  readonly #calendar: CalendarStore;
  readonly #clock: Clock;

  constructor(deps: { db: Db; audit: AuditLog; calendar: CalendarStore; clock: Clock }) {
    this.#db = withAfterSitting(deps.db);
    this.#audit = deps.audit;
    this.#calendar = deps.calendar;
    this.#clock = deps.clock;
  }

  async list(sessionId: string, executor: AfterSittingDb | Trx = this.#db): Promise<OutcomeView[]> {
    const session = await executor.selectFrom('sessions').select('id').where('id', '=', sessionId).executeTakeFirst();
    if (session === undefined) throw notFound('session', sessionId);
    const rows = await executor
      .selectFrom('session_cases')
      .innerJoin('cases', 'cases.id', 'session_cases.case_id')
      .leftJoin('session_case_outcomes as o', (j) => j.onRef('o.session_id', '=', 'session_cases.session_id').onRef('o.case_id', '=', 'session_cases.case_id'))
      .select([
        'session_cases.case_id',
        'session_cases.position',
        'session_cases.outcome',
        'cases.reference',
        'cases.title',
        'cases.type',
        'o.conclusion',
        'o.answer',
        'o.answer_deadline',
        'o.contact_person',
        'o.transfer_target',
        'o.document_number',
        'o.document_date',
        'o.updated_at',
      ])
      .where('session_cases.session_id', '=', sessionId)
      .orderBy('session_cases.position')
      .execute();
    return rows.map((r) => ({
      caseId: r.case_id,
      reference: r.reference,
      title: r.title,
      type: r.type,
      position: r.position,
      outcome: r.outcome,
      conclusion: r.conclusion ?? '',
      answer: r.answer ?? '',
      answerDeadline: dateString(r.answer_deadline ?? null),
      contactPerson: r.contact_person ?? '',
      transferTarget: r.transfer_target ?? '',
      documentNumber: r.document_number ?? '',
      documentDate: dateString(r.document_date ?? null),
      updatedAt: r.updated_at ? r.updated_at.toISOString() : null,
    }));
  }

  /**
   * Saves the outcomes given (other cases keep theirs), and in the same transaction fills each
   * case's line in the sổ and (re)plans its follow-up timers, so the three never disagree.
   */
  async save(actor: Actor, sessionId: string, outcomes: OutcomeInput[]): Promise<OutcomeView[]> {
    const ids = outcomes.map((o) => o.caseId);
    if (new Set(ids).size !== ids.length) throw new TiepdanError('OUTCOME_CASE_TWICE', 'each case appears once in outcomes', { details: [{ field: '/outcomes', message: 'duplicate caseId' }] });
    return this.#db.transaction().execute(async (trx) => {
      const session = await trx.selectFrom('sessions').select(['id', 'status', 'scheduled_start']).where('id', '=', sessionId).forUpdate().executeTakeFirst();
      if (session === undefined) throw notFound('session', sessionId);
      if (!OUTCOME_STATUSES.includes(session.status)) throw conflict('OUTCOMES_NOT_ALLOWED', `outcomes are recorded during or after the session, before it is archived (session is ${session.status})`, { status: session.status });
      const receptionDate = localDate(session.scheduled_start);
      const agenda = ids.length === 0 ? [] : await trx.selectFrom('session_cases').select('case_id').where('session_id', '=', sessionId).where('case_id', 'in', ids).execute();
      const missing = ids.filter((id) => !agenda.some((a) => a.case_id === id));
      if (missing.length > 0) throw new TiepdanError('CASE_NOT_ON_AGENDA', `case(s) not on this session's agenda: ${missing.join(', ')}`, { details: missing.map((id) => ({ field: '/outcomes', message: `unknown case ${id}` })) });
      const late = outcomes.filter((o) => o.answerDeadline !== null && o.answerDeadline < receptionDate);
      if (late.length > 0) throw new TiepdanError('OUTCOME_DEADLINE_BEFORE_SESSION', `an answer deadline cannot be before the reception day ${receptionDate}`, { details: late.map((o) => ({ field: '/outcomes/answerDeadline', message: `${o.answerDeadline} is before ${receptionDate}`, caseId: o.caseId })) });

      const cal = await this.#calendar.calendar([receptionDate]);
      const now = this.#clock();
      const by = actor.kind === 'user' ? actor.id : `${actor.kind}:${actor.id}`;
      const planned: { caseId: string; kinds: string[] }[] = [];
      for (const o of outcomes) {
        const values = {
          outcome: o.outcome,
          conclusion: o.conclusion,
          answer: o.answer,
          answer_deadline: o.answerDeadline,
          contact_person: o.contactPerson,
          transfer_target: o.transferTarget,
          document_number: o.documentNumber,
          document_date: o.documentDate,
          updated_by: by,
          updated_at: now,
        };
        await trx
          .insertInto('session_case_outcomes')
          .values({ session_id: sessionId, case_id: o.caseId, ...values })
          .onConflict((oc) => oc.columns(['session_id', 'case_id']).doUpdateSet(values))
          .execute();
        // The agenda keeps the code (reports count it) and a short note.
        await trx.updateTable('session_cases').set({ outcome: o.outcome, outcome_note: o.conclusion.slice(0, 2000) }).where('session_id', '=', sessionId).where('case_id', '=', o.caseId).execute();
        await this.#fillRegister(trx, sessionId, receptionDate, o);
        planned.push({ caseId: o.caseId, kinds: await this.#planFollowUps(trx, sessionId, o.caseId, plannedFollowUps(cal, receptionDate, o.outcome, o.answerDeadline)) });
      }
      // Free texts may name people: the audit keeps their fingerprints; the rest is the decision.
      await this.#audit.append(auditExecutor(trx), actor, {
        action: 'session.outcomes',
        entity: 'session',
        entityId: sessionId,
        after: {
          outcomes: outcomes.map((o) => ({
            caseId: o.caseId,
            outcome: o.outcome,
            conclusionSha256: sha(o.conclusion),
            answerSha256: o.answer ? sha(o.answer) : null,
            answerDeadline: o.answerDeadline,
            contactPersonSha256: o.contactPerson ? sha(o.contactPerson) : null,
            transferTarget: o.transferTarget,
            documentNumber: o.documentNumber,
            documentDate: o.documentDate,
          })),
          followUps: planned,
        },
      });
      return this.list(sessionId, trx);
    });
  }

  /**
   * The case's line in the sổ (Mẫu 03/TCD) from the case and its outcome. A line the reception
   * board has edited is theirs: only "hướng xử lý" follows a changed outcome, since that column is
   * the outcome itself.
   */
  async #fillRegister(trx: Trx, sessionId: string, receptionDate: string, o: OutcomeInput): Promise<void> {
    const c = await trx.selectFrom('cases').selectAll().where('id', '=', o.caseId).executeTakeFirstOrThrow();
    const people = await trx.selectFrom('case_people').select(['full_name', 'address', 'id_number', 'position']).where('case_id', '=', o.caseId).orderBy('position').execute();
    const handling = ['thu_ly', 'huong_dan', 'chuyen_don'].includes(o.outcome) ? o.outcome : 'khac';
    const derived = { handling, handling_detail: handlingDetail(o) };
    const full = {
      case_type: c.type,
      reception_date: receptionDate,
      names_addresses: people.map((p) => (p.address ? `${p.full_name} – ${p.address}` : p.full_name)).join('; '),
      id_numbers: people.map((p) => p.id_number).filter((n) => n !== '').join('; '),
      content: c.summary ? `${c.title}: ${c.summary}` : c.title,
      classification: CASE_TYPE_LABEL[c.type] ?? c.type,
      group_size: c.group_size,
      agencies_handled: [c.agencies.join(', '), c.prior_handling].filter((s) => s !== '').join('. '),
      ...derived,
    };
    const existing = await trx.selectFrom('register_entries').select(['id', 'edited_at']).where('session_id', '=', sessionId).where('case_id', '=', o.caseId).executeTakeFirst();
    if (existing === undefined) await trx.insertInto('register_entries').values({ session_id: sessionId, case_id: o.caseId, result_tracking: '', note: '', edited_by: null, edited_at: null, ...full }).execute();
    else await trx.updateTable('register_entries').set(existing.edited_at === null ? full : derived).where('id', '=', existing.id).execute();
  }

  /** Open timers follow the outcome (added, moved, or dropped when no longer due); done ones stay as recorded. */
  async #planFollowUps(trx: Trx, sessionId: string, caseId: string, plans: ReturnType<typeof plannedFollowUps>): Promise<string[]> {
    const kinds = plans.map((p) => p.kind);
    let drop = trx.deleteFrom('follow_ups').where('session_id', '=', sessionId).where('case_id', '=', caseId).where('status', '=', 'open');
    if (kinds.length > 0) drop = drop.where('kind', 'not in', kinds);
    await drop.execute();
    for (const p of plans) {
      await trx
        .insertInto('follow_ups')
        .values({ session_id: sessionId, case_id: caseId, kind: p.kind, due_date: p.dueDate, basis: p.basis, done_at: null, done_by: null })
        .onConflict((oc) => oc.columns(['session_id', 'case_id', 'kind']).doUpdateSet({ due_date: p.dueDate, basis: p.basis }).where('follow_ups.status', '=', 'open'))
        .execute();
    }
    return kinds;
  }
}
