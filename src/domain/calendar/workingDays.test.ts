import t from 'tap';
import { SEED_DAYS } from '../../../migrations/0101_working_day_calendar.ts';
import { WorkingDayCalendar, addDays } from './workingDays.ts';

const cal = new WorkingDayCalendar(SEED_DAYS);

t.test('weekends rest, weekdays work, the table overrides both', async (t) => {
  t.equal(cal.isWorkingDay('2026-03-09'), true, 'a Monday');
  t.equal(cal.isWorkingDay('2026-03-14'), false, 'a Saturday');
  t.equal(cal.isWorkingDay('2026-03-15'), false, 'a Sunday');
  t.match(cal.info('2026-02-17'), { workingDay: false, reason: 'holiday', name: /Tết/ }, 'mùng 1 Tết Bính Ngọ');
  t.match(cal.info('2025-04-26'), { workingDay: true, reason: 'working_day' }, 'the make-up Saturday 26/4/2025 is a working day');
  t.match(cal.info('2025-05-02'), { workingDay: false, reason: 'day_off' }, 'the Friday it makes up for is off');
  t.match(cal.info('2027-09-03'), { uncertain: true }, 'unconfirmed dates are marked (the 2027 day beside Quốc khánh awaits its notice)');
});

t.test('"at least 5 working days before" across Tết 2026 (16–20/2)', async (t) => {
  // Session Monday 23/2/2026: the five working days before are 13, 12, 11, 10, 9 February.
  t.equal(cal.subtractWorkingDays('2026-02-23', 5), '2026-02-09');
  t.equal(cal.workingDaysBetween('2026-02-09', '2026-02-23'), 5);
  t.equal(cal.workingDaysBetween('2026-02-13', '2026-02-23'), 1, 'only Monday 23/2 counts after Friday 13/2');
  // Without the holidays it would have been Monday 16/2.
  t.equal(new WorkingDayCalendar([]).subtractWorkingDays('2026-02-23', 5), '2026-02-16');
  t.equal(cal.addWorkingDays('2026-02-13', 1), '2026-02-23', 'the next working day after Tết');
});

t.test('a make-up Saturday counts as a working day (30/4–1/5/2025)', async (t) => {
  // Session Wednesday 7/5/2025: Tue 6, Mon 5, (Fri 2 off, Thu 1, Wed 30 holidays), Tue 29, Mon 28, Sat 26 (make-up).
  t.equal(cal.subtractWorkingDays('2025-05-07', 5), '2025-04-26');
  t.equal(cal.workingDaysBetween('2025-04-25', '2025-04-28'), 2, 'Saturday 26/4 and Monday 28/4');
  t.equal(cal.workingDaysBetween('2025-04-28', '2025-04-25'), -2, 'negative backwards');
  t.equal(cal.workingDaysBetween('2025-04-28', '2025-04-28'), 0);
});

t.test('the 2025–2027 seed is consistent', async (t) => {
  const dates = SEED_DAYS.map((d) => d.date);
  t.equal(new Set(dates).size, dates.length, 'no date twice');
  for (const d of SEED_DAYS) {
    t.ok(/^202[5-7]-\d\d-\d\d$/.test(d.date) && !Number.isNaN(Date.parse(d.date)), `${d.date} is a date`);
    if (d.kind === 'working_day') {
      const wd = new Date(`${d.date}T00:00:00Z`).getUTCDay();
      t.ok(wd === 0 || wd === 6, `make-up day ${d.date} falls on a weekend`);
    }
  }
  for (const fixed of ['01-01', '04-30', '05-01', '09-02']) {
    for (const y of [2025, 2026, 2027]) t.ok(dates.includes(`${y}-${fixed}`), `${y}-${fixed} is a holiday`);
  }
});

t.test('working days between: the arithmetic agrees with walking the days, and is instant over 10,000 years', async (t) => {
  const walk = (from: string, to: string): number => {
    let n = 0;
    for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (cal.isWorkingDay(d)) n++;
    return n;
  };
  // Every start weekday, every span up to 3 weeks, across the seeded holidays, plus long spans.
  let checked = 0;
  for (let start = 0; start < 400; start += 3) {
    const from = addDays('2024-12-20', start);
    for (const span of [1, 2, 3, 4, 5, 6, 7, 8, 13, 20, 95]) {
      const to = addDays(from, span);
      if (cal.workingDaysBetween(from, to) !== walk(from, to)) t.fail(`${from} → ${to}`);
      checked++;
    }
  }
  t.equal(checked, 134 * 11, 'every pair checked');
  t.equal(cal.workingDaysBetween('1969-12-25', '1970-01-08'), walk('1969-12-25', '1970-01-08'), 'across day 0 (floor division)');
  // The request of the security review's H5: one auditor kept the server busy for 308 s.
  const started = performance.now();
  const years = cal.workingDaysBetween('0001-01-01', '9999-12-31');
  const ms = performance.now() - started;
  t.ok(years > 2_600_000 && years < 2_610_000, `about 5/7 of 3.65 M days (${years})`);
  t.ok(ms < 50, `answered in ${ms.toFixed(2)} ms (no day-by-day loop)`);
});

t.test('arithmetic at the ends of the four-digit years is refused, never an endless walk', async (t) => {
  // From 9999-12-31 the next day used to come back as "+010000-01", a date that maps to itself:
  // addWorkingDays spun forever on the event loop.
  t.throws(() => cal.addWorkingDays('9999-12-31', 60), { code: 'DATE_OUT_OF_RANGE' });
  t.throws(() => cal.subtractWorkingDays('0000-01-01', 5), { code: 'DATE_OUT_OF_RANGE' });
  t.equal(cal.subtractWorkingDays('0001-01-01', 5), '0000-12-25', 'year 0000 is still a four-digit year');
  t.throws(() => addDays('9999-12-31', 1), { code: 'DATE_OUT_OF_RANGE' });
  t.equal(addDays('9999-12-30', 1), '9999-12-31', 'the last day is still reachable');
  t.equal(addDays('0000-01-02', -1), '0000-01-01', 'and the first');
  t.equal(cal.workingDaysBetween('0001-01-01', '9999-12-31') > 2_500_000, true, 'counting across the whole range stays arithmetic');
});
