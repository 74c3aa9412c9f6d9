import { sql } from 'kysely';
import t from 'tap';
import { openDatabase, type Db } from '../../src/db/database.ts';
import { migrateTo, migrateToLatest } from '../../src/db/migrator.ts';
import { WorkingDayCalendar, type CalendarException, type DayKind } from '../../src/domain/calendar/workingDays.ts';
import { CALENDAR_CORRECTIONS } from '../../migrations/0500_calendar_2026_2027_fixes.ts';
import { SEED_DAYS } from '../../migrations/0101_working_day_calendar.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';

async function rows(db: Db): Promise<Map<string, CalendarException>> {
  const r = await sql<{ date: string; kind: DayKind; name: string; uncertain: boolean }>`select to_char(date, 'YYYY-MM-DD') as date, kind, name, uncertain from calendar_days order by date`.execute(db);
  return new Map(r.rows.map((row) => [row.date, row]));
}

t.test('0500 corrects a database seeded by the old 0101, and leaves rows the board edited alone (issue 11 item 8)', async (t) => {
  const tmp = await tempDataDir();
  const logger = silentLogger();
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  t.teardown(async () => {
    await database.close();
    await tmp.remove();
  });
  await migrateTo(database, '0410_recording_governance', logger);
  // Put the calendar back as the old 0101 left it, then let the board edit one seeded row itself.
  await database.asOwner(async (db) => {
    for (const c of CALENDAR_CORRECTIONS) {
      await sql`delete from calendar_days where date = ${c.date}`.execute(db);
      if (c.from) await sql`insert into calendar_days (date, kind, name, uncertain) values (${c.date}, ${c.from.kind}, ${c.from.name}, ${c.from.uncertain})`.execute(db);
    }
    await sql`update calendar_days set name = 'Quốc khánh (nghỉ liền kề, theo thông báo của tỉnh)' where date = '2026-09-01'`.execute(db);
  });
  const old = await rows(database.db);
  t.equal(old.get('2027-04-15')?.name, 'Giỗ Tổ Hùng Vương (10/3 âm lịch)', 'the old wrong Giỗ Tổ 2027');
  t.notOk(old.has('2026-01-02'));

  await migrateToLatest(database, logger);
  const fixed = await rows(database.db);
  t.notOk(fixed.has('2027-04-15'), 'Thu 15/4/2027 is a working day again');
  t.match(fixed.get('2027-04-16'), { kind: 'holiday', name: /Giỗ Tổ/ }, 'Giỗ Tổ 2027 is Fri 16/4');
  t.match(fixed.get('2026-01-02'), { kind: 'day_off' });
  t.match(fixed.get('2026-01-10'), { kind: 'working_day' });
  t.match(fixed.get('2026-08-31'), { kind: 'day_off' });
  t.match(fixed.get('2026-08-22'), { kind: 'working_day' });
  t.equal(fixed.get('2026-02-16')?.name, 'Tết Nguyên đán Bính Ngọ (29 tháng Chạp)');
  t.equal(fixed.get('2027-02-05')?.name, 'Tết Nguyên đán Đinh Mùi (29 tháng Chạp)');
  t.equal(fixed.get('2026-04-26')?.uncertain, false, 'Giỗ Tổ 2026 confirmed');
  t.equal(fixed.get('2027-05-03')?.uncertain, false, 'the make-up day of 1/5/2027 is the Labour Code’s rule');
  t.equal(fixed.get('2026-04-30')?.name, 'Ngày Chiến thắng (30/4)');
  t.same(fixed.get('2026-09-01'), { date: '2026-09-01', kind: 'holiday', name: 'Quốc khánh (nghỉ liền kề, theo thông báo của tỉnh)', uncertain: true }, 'a row the board edited is kept as they left it');
  t.ok([...fixed.values()].every((r) => !r.name.includes('30 tháng Chạp')), 'no "30 tháng Chạp" left');

  // The effects the review lists (§4), on the corrected table.
  const cal = new WorkingDayCalendar(fixed.values());
  t.equal(cal.subtractWorkingDays('2026-09-03', 1), '2026-08-28', 'session Thu 3/9/2026: the T-1 test is on Fri 28/8, not the day off Mon 31/8');
  t.equal(cal.subtractWorkingDays('2026-01-14', 5), '2026-01-08', 'session Wed 14/1/2026: Sat 10/1 counts, so the deadline is Thu 8/1 (the old table said Wed 7/1)');
  t.equal(cal.subtractWorkingDays('2026-01-05', 1), '2025-12-31', 'session Mon 5/1/2026: the T-1 test is on Wed 31/12, not the day off Fri 2/1');
  t.equal(cal.isWorkingDay('2027-04-15'), true);
  t.equal(cal.isWorkingDay('2027-04-16'), false);

  // A new database gets the same table straight from 0101, and 0500 changes nothing there.
  const seeded = new Map(SEED_DAYS.map((d) => [d.date, d]));
  for (const c of CALENDAR_CORRECTIONS) {
    if (c.date === '2026-09-01') continue;
    t.same(seeded.get(c.date) === undefined ? null : { kind: seeded.get(c.date)!.kind, name: seeded.get(c.date)!.name, uncertain: seeded.get(c.date)!.uncertain }, c.to, `0101 seeds ${c.date} as corrected`);
  }
});
