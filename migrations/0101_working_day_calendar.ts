import { sql, type Kysely } from 'kysely';

/**
 * Working-day calendar: exceptions to the Monday–Friday week. `holiday` (public holiday),
 * `day_off` (substitute day off, or a day given off and made up on a Saturday) and `working_day`
 * (a make-up working Saturday or Sunday). Editable through the API; these rows are a starting
 * point. Dates marked `uncertain` are computed from the lunar calendar or the usual pattern and
 * must be confirmed against the Prime Minister's / Ministry of Home Affairs' yearly notice.
 */
interface SeedDay {
  date: string;
  kind: 'holiday' | 'day_off' | 'working_day';
  name: string;
  uncertain: boolean;
}

const h = (date: string, name: string, uncertain = false): SeedDay => ({ date, kind: 'holiday', name, uncertain });
const off = (date: string, name: string, uncertain = false): SeedDay => ({ date, kind: 'day_off', name, uncertain });
const work = (date: string, name: string, uncertain = false): SeedDay => ({ date, kind: 'working_day', name, uncertain });

export const SEED_DAYS: SeedDay[] = [
  // 2025
  h('2025-01-01', 'Tết Dương lịch'),
  h('2025-01-27', 'Tết Nguyên đán Ất Tỵ (28 tháng Chạp)'),
  h('2025-01-28', 'Tết Nguyên đán Ất Tỵ (29 tháng Chạp)'),
  h('2025-01-29', 'Tết Nguyên đán Ất Tỵ (mùng 1)'),
  h('2025-01-30', 'Tết Nguyên đán Ất Tỵ (mùng 2)'),
  h('2025-01-31', 'Tết Nguyên đán Ất Tỵ (mùng 3)'),
  h('2025-04-07', 'Giỗ Tổ Hùng Vương (10/3 âm lịch)'),
  h('2025-04-30', 'Ngày Chiến thắng (30/4)'),
  h('2025-05-01', 'Ngày Quốc tế Lao động'),
  off('2025-05-02', 'Nghỉ hoán đổi dịp 30/4–1/5 (làm bù thứ Bảy 26/4)'),
  work('2025-04-26', 'Làm bù cho ngày nghỉ 2/5'),
  h('2025-09-01', 'Quốc khánh (ngày nghỉ liền kề)'),
  h('2025-09-02', 'Quốc khánh'),
  // 2026
  h('2026-01-01', 'Tết Dương lịch'),
  // VPCP 12729/VPCP-KGVX (25/12/2025): Fri 2/1 off, made up on Sat 10/1 (law review §4; also 0500).
  off('2026-01-02', 'Nghỉ hoán đổi dịp Tết Dương lịch (làm bù thứ Bảy 10/1)'),
  work('2026-01-10', 'Làm bù cho ngày nghỉ 2/1'),
  h('2026-02-16', 'Tết Nguyên đán Bính Ngọ (29 tháng Chạp)'),
  h('2026-02-17', 'Tết Nguyên đán Bính Ngọ (mùng 1)'),
  h('2026-02-18', 'Tết Nguyên đán Bính Ngọ (mùng 2)'),
  h('2026-02-19', 'Tết Nguyên đán Bính Ngọ (mùng 3)'),
  h('2026-02-20', 'Tết Nguyên đán Bính Ngọ (mùng 4)'),
  h('2026-04-26', 'Giỗ Tổ Hùng Vương (10/3 âm lịch), rơi vào Chủ nhật'),
  off('2026-04-27', 'Nghỉ bù Giỗ Tổ Hùng Vương'),
  h('2026-04-30', 'Ngày Chiến thắng (30/4)'),
  h('2026-05-01', 'Ngày Quốc tế Lao động'),
  // BNV plan adopted with the Tết 2026 schedule: Mon 31/8 off, made up on Sat 22/8.
  work('2026-08-22', 'Làm bù cho ngày nghỉ 31/8'),
  off('2026-08-31', 'Nghỉ hoán đổi dịp Quốc khánh (làm bù thứ Bảy 22/8)'),
  h('2026-09-01', 'Quốc khánh (ngày nghỉ liền kề)'),
  h('2026-09-02', 'Quốc khánh'),
  // 2027 — Tết and Giỗ Tổ follow the lunar calendar; the split of the five Tết days is a guess.
  h('2027-01-01', 'Tết Dương lịch'),
  h('2027-02-05', 'Tết Nguyên đán Đinh Mùi (29 tháng Chạp)', true),
  h('2027-02-06', 'Tết Nguyên đán Đinh Mùi (mùng 1), thứ Bảy', true),
  h('2027-02-07', 'Tết Nguyên đán Đinh Mùi (mùng 2), Chủ nhật', true),
  h('2027-02-08', 'Tết Nguyên đán Đinh Mùi (mùng 3)', true),
  h('2027-02-09', 'Tết Nguyên đán Đinh Mùi (mùng 4)', true),
  off('2027-02-10', 'Nghỉ bù Tết (mùng 1 rơi vào thứ Bảy)', true),
  off('2027-02-11', 'Nghỉ bù Tết (mùng 2 rơi vào Chủ nhật)', true),
  // 10/3 Đinh Mùi: mùng 1 tháng 3 is 7/4/2027 at UTC+7, so 10/3 is Fri 16/4 (law review §4).
  h('2027-04-16', 'Giỗ Tổ Hùng Vương (10/3 âm lịch)', true),
  h('2027-04-30', 'Ngày Chiến thắng (30/4)'),
  h('2027-05-01', 'Ngày Quốc tế Lao động, thứ Bảy'),
  // Labour Code Art 111(3): a holiday on a weekly rest day is made up the next working day.
  off('2027-05-03', 'Nghỉ bù Ngày Quốc tế Lao động'),
  h('2027-09-02', 'Quốc khánh'),
  h('2027-09-03', 'Quốc khánh (ngày nghỉ liền kề — 1/9 hoặc 3/9, chờ thông báo)', true),
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('calendar_days')
    .addColumn('date', 'date', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('holiday', 'day_off', 'working_day')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('uncertain', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  for (const d of SEED_DAYS) {
    await sql`insert into calendar_days (date, kind, name, uncertain) values (${d.date}, ${d.kind}, ${d.name}, ${d.uncertain})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('calendar_days').execute();
}
