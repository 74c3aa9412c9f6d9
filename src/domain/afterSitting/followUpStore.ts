import type { FollowUpView } from '../../contract/views/afterSitting.ts';
import { createHash } from 'node:crypto';
import type { Db } from '../../db/database.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CalendarStore } from '../calendar/calendarStore.ts';
import { localDate, type Clock } from '../common/clock.ts';
import { conflict, notFound } from '../common/errors.ts';
import type { Page, Paged } from '../common/paging.ts';
import type { Actor } from '../common/roles.ts';
import { DUE_SOON_WORKING_DAYS, nthWorkingDayAfter } from './deadlines.ts';
import type { Selectable } from 'kysely';
import { auditExecutor, dateString, withAfterSitting, type AfterSittingDb, type FollowUpsTable } from './tables.ts';

type Row = Selectable<FollowUpsTable> & { reference: string; title: string };

export type FollowUpState = FollowUpView['state'];

export type { FollowUpView };

export class FollowUpStore {
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

  #query(executor: AfterSittingDb = this.#db) {
    return executor
      .selectFrom('follow_ups')
      .innerJoin('cases', 'cases.id', 'follow_ups.case_id')
      .selectAll('follow_ups')
      .select(['cases.reference', 'cases.title']);
  }

  async #views(rows: Row[]): Promise<FollowUpView[]> {
    const today = localDate(this.#clock());
    const cal = await this.#calendar.calendar([today]);
    const soon = nthWorkingDayAfter(cal, today, DUE_SOON_WORKING_DAYS);
    return rows.map((r) => {
      const due = dateString(r.due_date)!;
      const status = r.status === 'done' ? 'done' : 'open';
      // Bounded: workingDaysBetween is arithmetic (whole weeks plus exceptions), whatever the distance.
      const left = cal.workingDaysBetween(today, due);
      const state: FollowUpState = status === 'done' ? 'done' : due < today ? 'overdue' : due <= soon ? 'due_soon' : 'open';
      return {
        id: r.id,
        sessionId: r.session_id,
        caseId: r.case_id,
        caseReference: r.reference,
        caseTitle: r.title,
        kind: r.kind,
        dueDate: due,
        basis: r.basis,
        status,
        state,
        workingDaysLeft: left,
        result: r.result,
        doneAt: r.done_at ? r.done_at.toISOString() : null,
      };
    });
  }

  async list(filter: { status?: 'open' | 'done'; sessionId?: string; caseId?: string }, page: Page): Promise<Paged<FollowUpView>> {
    let count = this.#db.selectFrom('follow_ups');
    let q = this.#query();
    if (filter.status !== undefined) {
      count = count.where('status', '=', filter.status);
      q = q.where('follow_ups.status', '=', filter.status);
    }
    if (filter.sessionId !== undefined) {
      count = count.where('session_id', '=', filter.sessionId);
      q = q.where('follow_ups.session_id', '=', filter.sessionId);
    }
    if (filter.caseId !== undefined) {
      count = count.where('case_id', '=', filter.caseId);
      q = q.where('follow_ups.case_id', '=', filter.caseId);
    }
    const total = Number((await count.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await q.orderBy('follow_ups.due_date').orderBy('follow_ups.id').limit(page.limit).offset(page.offset).execute();
    return { items: await this.#views(rows), total, ...page };
  }

  /** The console home's list: open items overdue or due within `withinWorkingDays` working days. */
  async due(withinWorkingDays: number, limit: number): Promise<{ items: FollowUpView[]; overdue: number; dueSoon: number }> {
    const today = localDate(this.#clock());
    const cal = await this.#calendar.calendar([today]);
    const until = nthWorkingDayAfter(cal, today, withinWorkingDays);
    const rows = await this.#query().where('follow_ups.status', '=', 'open').where('follow_ups.due_date', '<=', until).orderBy('follow_ups.due_date').orderBy('follow_ups.id').limit(limit).execute();
    const items = await this.#views(rows);
    const counts = await this.#db
      .selectFrom('follow_ups')
      .select((eb) => [eb.fn.countAll<string>().filterWhere('due_date', '<', today).as('overdue'), eb.fn.countAll<string>().filterWhere('due_date', '>=', today).as('soon')])
      .where('status', '=', 'open')
      .where('due_date', '<=', until)
      .executeTakeFirstOrThrow();
    return { items, overdue: Number(counts.overdue), dueSoon: Number(counts.soon) };
  }

  /** Done, with its outcome (what was answered or decided, and when). */
  async close(actor: Actor, id: string, result: string): Promise<FollowUpView> {
    await this.#db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('follow_ups').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (before === undefined) throw notFound('follow-up', id);
      if (before.status === 'done') throw conflict('FOLLOW_UP_DONE', 'this follow-up item is already closed');
      const now = this.#clock();
      await trx.updateTable('follow_ups').set({ status: 'done', result, done_at: now, done_by: actor.kind === 'user' ? actor.id : `${actor.kind}:${actor.id}` }).where('id', '=', id).execute();
      // The result may name the citizen: the audit keeps its fingerprint.
      await this.#audit.append(auditExecutor(trx), actor, {
        action: 'follow_up.close',
        entity: 'case',
        entityId: before.case_id,
        before: { followUpId: id, kind: before.kind, status: before.status, dueDate: dateString(before.due_date) },
        after: { followUpId: id, status: 'done', onTime: localDate(now) <= dateString(before.due_date)!, resultSha256: createHash('sha256').update(result).digest('hex'), resultLength: result.length },
      });
    });
    const row = await this.#query().where('follow_ups.id', '=', id).executeTakeFirstOrThrow();
    return (await this.#views([row]))[0]!;
  }
}
