/**
 * Working-day arithmetic over calendar dates (YYYY-MM-DD, local to the province). Monday–Friday
 * work, Saturday and Sunday rest, unless the exceptions table says otherwise: a `holiday` or
 * `day_off` is a rest day even on a weekday; a `working_day` (make-up Saturday) is a working day.
 */
import { TiepdanError } from '../../errors.ts';

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
/** The dates the API's YYYY-MM-DD accepts: four-digit years, 0000 to 9999. */
const FIRST_DAY_MS = Date.parse('0000-01-01T00:00:00Z');
const LAST_DAY_MS = Date.parse('9999-12-31T00:00:00Z');

/**
 * `date` moved by `days`. Refused (400 DATE_OUT_OF_RANGE) past year 9999 or before year 0000: there
 * toISOString() switches to six-digit years ("+010000-01-01"), which the ten characters kept here
 * would cut to a date that maps back to itself, and a working-day walk from 9999-12-31 looped
 * forever, holding the event loop (found by the route guard, test/guards/routeExtremes.test.ts).
 */
export const addDays = (date: string, days: number): string => {
  const ms = Date.parse(`${date}T00:00:00Z`) + days * DAY_MS;
  if (!(ms >= FIRST_DAY_MS && ms <= LAST_DAY_MS)) {
    throw new TiepdanError('DATE_OUT_OF_RANGE', `${date} ${days < 0 ? '−' : '+'} ${Math.abs(days)} days is outside the years 0000–9999`, { details: [{ field: 'date', message: 'out of range' }] });
  }
  return new Date(ms).toISOString().slice(0, 10);
};
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
    // Arithmetic, not a day-by-day walk: a request may span centuries and must not hold the event
    // loop (security review H5). Weekdays by whole weeks, then each exception in the range corrects
    // its own day.
    const a = dayIndex(from);
    const b = dayIndex(to);
    let n = weekdaysBefore(b + 1) - weekdaysBefore(a + 1);
    for (const e of this.#exceptions.values()) {
      if (e.date <= from || e.date > to) continue;
      const natural = !isWeekend(weekday(e.date));
      n += (e.kind === 'working_day' ? 1 : 0) - (natural ? 1 : 0);
    }
    return n;
  }
}

const isWeekend = (d: number): boolean => d === 0 || d === 6;
/** Days since 1970-01-01 (negative before). */
const dayIndex = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
/** Weekdays among the first r days of any week counted from a Thursday (1970-01-01 was one). */
const WEEKDAYS_IN_PART_WEEK = [0, 1, 2, 3, 4, 5, 6].map((r) => [...Array(r).keys()].filter((i) => !isWeekend((4 + i) % 7)).length);
/** Monday–Friday days with index < n (relative to day 0; any integer n, by floor division). */
function weekdaysBefore(n: number): number {
  return 5 * Math.floor(n / 7) + WEEKDAYS_IN_PART_WEEK[((n % 7) + 7) % 7]!;
}
