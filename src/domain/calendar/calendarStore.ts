import type { Db } from '../../db/database.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Clock } from '../common/clock.ts';
import { notFound } from '../common/errors.ts';
import type { Actor } from '../common/roles.ts';
import { addDays, WorkingDayCalendar, type CalendarException, type DayInfo, type DayKind } from './workingDays.ts';

const toDateString = (v: unknown): string => (v instanceof Date ? new Date(v.getTime() - v.getTimezoneOffset() * 60_000).toISOString().slice(0, 10) : String(v));

/** The editable exceptions table (holidays, days off, make-up working days) behind the calendar. */
export class CalendarStore {
  readonly #db: Db;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(db: Db, audit: AuditLog, clock: Clock) {
    this.#db = db;
    this.#audit = audit;
    this.#clock = clock;
  }

  // The table is small (a few dozen rows a year): keep it in memory, reload after every change of
  // this process, and after another's when the change feed tells (`invalidate`). Every session
  // view computes a deadline from it.
  #cache: Promise<{ list: CalendarException[]; calendar: WorkingDayCalendar }> | undefined;

  #load(): Promise<{ list: CalendarException[]; calendar: WorkingDayCalendar }> {
    this.#cache ??= (async () => {
      const rows = await this.#db.selectFrom('calendar_days').select(['date', 'kind', 'name', 'uncertain']).orderBy('date').execute();
      const list = rows.map((r) => ({ date: toDateString(r.date), kind: r.kind as DayKind, name: r.name, uncertain: r.uncertain }));
      return { list, calendar: new WorkingDayCalendar(list) };
    })().catch((err: unknown) => {
      this.#cache = undefined;
      throw err;
    });
    return this.#cache;
  }

  /** Another process changed the table (heard on the change feed, see ControlServices): load it again. */
  invalidate(): void {
    this.#cache = undefined;
  }

  async exceptions(from?: string, to?: string): Promise<CalendarException[]> {
    const { list } = await this.#load();
    return list.filter((e) => (from === undefined || e.date >= from) && (to === undefined || e.date <= to));
  }

  /** The working-day calendar (dates are only a hint of the window needed). */
  async calendar(_around: string[] = []): Promise<WorkingDayCalendar> {
    return (await this.#load()).calendar;
  }

  async days(from: string, to: string): Promise<DayInfo[]> {
    const cal = await this.calendar([from, to]);
    const out: DayInfo[] = [];
    // Counted first, then walked: never a step past `to` (from 9999-12-31 there is no next day).
    const count = Math.min(400, Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1);
    for (let i = 0; i < count; i++) out.push(cal.info(addDays(from, i)));
    return out;
  }

  async put(actor: Actor, day: CalendarException): Promise<CalendarException> {
    const result = await this.#db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('calendar_days').select(['date', 'kind', 'name', 'uncertain']).where('date', '=', day.date).executeTakeFirst();
      await trx
        .insertInto('calendar_days')
        .values({ date: day.date, kind: day.kind, name: day.name, uncertain: day.uncertain })
        .onConflict((oc) => oc.column('date').doUpdateSet({ kind: day.kind, name: day.name, uncertain: day.uncertain, updated_at: this.#clock() }))
        .execute();
      await this.#audit.append(trx, actor, {
        action: 'calendar.put',
        entity: 'calendar_day',
        entityId: day.date,
        before: before === undefined ? null : { ...before, date: toDateString(before.date) },
        after: day,
      });
      return day;
    });
    this.#cache = undefined;
    return result;
  }

  async remove(actor: Actor, date: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const before = await trx.deleteFrom('calendar_days').where('date', '=', date).returning(['date', 'kind', 'name', 'uncertain']).executeTakeFirst();
      if (before === undefined) throw notFound('calendar day', date);
      await this.#audit.append(trx, actor, { action: 'calendar.delete', entity: 'calendar_day', entityId: date, before: { ...before, date: toDateString(before.date) } });
    });
    this.#cache = undefined;
  }
}
