/**
 * Working-day arithmetic over calendar dates (YYYY-MM-DD, local to the province). Monday–Friday
 * work, Saturday and Sunday rest, unless the exceptions table says otherwise: a `holiday` or
 * `day_off` is a rest day even on a weekday; a `working_day` (make-up Saturday) is a working day.
 */
export type DayKind = 'holiday' | 'day_off' | 'working_day';

export interface CalendarException {
  date: string;
  kind: DayKind;
  name: string;
  uncertain: boolean;
}

export interface DayInfo {
  date: string;
  workingDay: boolean;
  reason: 'weekday' | 'weekend' | DayKind;
  name: string | null;
  uncertain: boolean;
}

const DAY_MS = 86_400_000;
export const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
const weekday = (date: string): number => new Date(`${date}T00:00:00Z`).getUTCDay();

export class WorkingDayCalendar {
  readonly #exceptions: Map<string, CalendarException>;

  constructor(exceptions: Iterable<CalendarException>) {
    this.#exceptions = new Map([...exceptions].map((e) => [e.date, e]));
  }

  info(date: string): DayInfo {
    const e = this.#exceptions.get(date);
    if (e !== undefined) return { date, workingDay: e.kind === 'working_day', reason: e.kind, name: e.name, uncertain: e.uncertain };
    const d = weekday(date);
    const weekend = d === 0 || d === 6;
    return { date, workingDay: !weekend, reason: weekend ? 'weekend' : 'weekday', name: null, uncertain: false };
  }

  isWorkingDay(date: string): boolean {
    return this.info(date).workingDay;
  }

  /**
   * The n-th working day before `date` (date itself not counted): "at least n working days before
   * the session" means on or before this day. subtractWorkingDays('2026-03-16' (Mon), 5) is Mon 9/3.
   */
  subtractWorkingDays(date: string, n: number): string {
    let d = date;
    let left = n;
    while (left > 0) {
      d = addDays(d, -1);
      if (this.isWorkingDay(d)) left--;
    }
    return d;
  }

  /** The n-th working day after `date` (date itself not counted). */
  addWorkingDays(date: string, n: number): string {
    let d = date;
    let left = n;
    while (left > 0) {
      d = addDays(d, 1);
      if (this.isWorkingDay(d)) left--;
    }
    return d;
  }

  /**
   * Working days from `from` (exclusive) up to `to` (inclusive): 0 when the same day, negative
   * when `to` is earlier. Counts how many working days "ahead" a submission is.
   */
  workingDaysBetween(from: string, to: string): number {
    if (from === to) return 0;
    if (to < from) return -this.workingDaysBetween(to, from);
    let n = 0;
    for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (this.isWorkingDay(d)) n++;
    return n;
  }
}
