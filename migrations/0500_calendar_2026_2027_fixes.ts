import { sql, type Kysely } from 'kysely';

/**
 * Corrects the working-day rows 0101 seeded wrong (law review §4, issue 11 item 8), in databases
 * that already ran 0101 (0101 itself now seeds the right rows, so on a new database every step
 * here finds nothing to do):
 * - 2026: Fri 2/1 off, made up on Sat 10/1 (VPCP 12729/VPCP-KGVX); Mon 31/8 off, made up on Sat 22/8.
 * - Giỗ Tổ 2027 is Fri 16/4, not Thu 15/4 (mùng 1 tháng 3 Đinh Mùi is 7/4/2027 at UTC+7).
 * - There is no 30 tháng Chạp in 2026 nor in 2027: the first Tết day is 29 tháng Chạp.
 * - Confirmed rows lose their "to be confirmed" mark (Giỗ Tổ 2026, 1/9/2026; 3/5/2027 is the
 *   Labour Code's own make-up rule, Art 111(3)).
 * - 30/4 is "Ngày Chiến thắng" (Labour Code Art 112(1)).
 *
 * A row is changed only while it still holds exactly what 0101 seeded: a date the reception board
 * already edited through the API is theirs, and stays as they left it. Rows added here are added
 * only where the date has no row yet. `down` undoes the same way.
 */
export interface CalendarRow {
  kind: 'holiday' | 'day_off' | 'working_day';
  name: string;
  uncertain: boolean;
}

export interface CalendarCorrection {
  date: string;
  /** As 0101 seeded it (null: the row was missing). */
  from: CalendarRow | null;
  /** As it should be (null: the row must go). */
  to: CalendarRow | null;
}

const h = (name: string, uncertain = false): CalendarRow => ({ kind: 'holiday', name, uncertain });
const off = (name: string, uncertain = false): CalendarRow => ({ kind: 'day_off', name, uncertain });
const work = (name: string, uncertain = false): CalendarRow => ({ kind: 'working_day', name, uncertain });

export const CALENDAR_CORRECTIONS: CalendarCorrection[] = [
  { date: '2026-01-02', from: null, to: off('Nghỉ hoán đổi dịp Tết Dương lịch (làm bù thứ Bảy 10/1)') },
  { date: '2026-01-10', from: null, to: work('Làm bù cho ngày nghỉ 2/1') },
  { date: '2026-02-16', from: h('Tết Nguyên đán Bính Ngọ (30 tháng Chạp)'), to: h('Tết Nguyên đán Bính Ngọ (29 tháng Chạp)') },
  { date: '2026-04-26', from: h('Giỗ Tổ Hùng Vương (10/3 âm lịch), rơi vào Chủ nhật', true), to: h('Giỗ Tổ Hùng Vương (10/3 âm lịch), rơi vào Chủ nhật') },
  { date: '2026-04-27', from: off('Nghỉ bù Giỗ Tổ Hùng Vương', true), to: off('Nghỉ bù Giỗ Tổ Hùng Vương') },
  { date: '2026-08-22', from: null, to: work('Làm bù cho ngày nghỉ 31/8') },
  { date: '2026-08-31', from: null, to: off('Nghỉ hoán đổi dịp Quốc khánh (làm bù thứ Bảy 22/8)') },
  { date: '2026-09-01', from: h('Quốc khánh (ngày nghỉ liền kề — 1/9 hoặc 3/9, chờ thông báo)', true), to: h('Quốc khánh (ngày nghỉ liền kề)') },
  { date: '2027-02-05', from: h('Tết Nguyên đán Đinh Mùi (30 tháng Chạp)', true), to: h('Tết Nguyên đán Đinh Mùi (29 tháng Chạp)', true) },
  { date: '2027-04-15', from: h('Giỗ Tổ Hùng Vương (10/3 âm lịch)', true), to: null },
  { date: '2027-04-16', from: null, to: h('Giỗ Tổ Hùng Vương (10/3 âm lịch)', true) },
  { date: '2027-05-03', from: off('Nghỉ bù Ngày Quốc tế Lao động', true), to: off('Nghỉ bù Ngày Quốc tế Lao động') },
  ...['2025-04-30', '2026-04-30', '2027-04-30'].map((date) => ({ date, from: h('Ngày Giải phóng miền Nam'), to: h('Ngày Chiến thắng (30/4)') })),
];

async function apply(db: Kysely<unknown>, date: string, from: CalendarRow | null, to: CalendarRow | null): Promise<void> {
  if (from === null && to !== null) {
    await sql`insert into calendar_days (date, kind, name, uncertain) values (${date}, ${to.kind}, ${to.name}, ${to.uncertain}) on conflict (date) do nothing`.execute(db);
  } else if (from !== null && to === null) {
    await sql`delete from calendar_days where date = ${date} and kind = ${from.kind} and name = ${from.name} and uncertain = ${from.uncertain}`.execute(db);
  } else if (from !== null && to !== null) {
    await sql`update calendar_days set kind = ${to.kind}, name = ${to.name}, uncertain = ${to.uncertain}, updated_at = now()
      where date = ${date} and kind = ${from.kind} and name = ${from.name} and uncertain = ${from.uncertain}`.execute(db);
  }
}

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const c of CALENDAR_CORRECTIONS) await apply(db, c.date, c.from, c.to);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Added rows are removed only while unchanged, as above; 0101's down drops the table anyway.
  for (const c of [...CALENDAR_CORRECTIONS].reverse()) await apply(db, c.date, c.to, c.from);
}
