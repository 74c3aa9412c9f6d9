import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { toCsv } from '../bridgePoints/csv.ts';

/**
 * The yearly review of the model (Quy chế Điều 8.1.d): counts only — no names, no personal data,
 * so the report can leave the central point.
 */
export interface AnnualReport {
  year: number;
  generatedAt: string;
  sessions: { total: number; held: number; byStatus: Record<string, number>; goLiveOverrides: number };
  cases: { total: number; byType: Record<string, number>; byCriterion: Record<string, number>; byOutcome: Record<string, number> };
  bridgePoints: { used: number; codes: string[] };
  tests: { total: number; passed: number; failed: number; bySlotKind: Record<string, { passed: number; failed: number }>; byIcePath: Record<string, number> };
}

const HELD = ['live', 'ended', 'archived'];
const NOT_COUNTED = ['cancelled', 'rejected'];

export async function annualReport(db: Db, year: number, now: Date): Promise<AnnualReport> {
  // Years are the province's local years.
  const from = new Date(`${year}-01-01T00:00:00+07:00`);
  const to = new Date(`${year + 1}-01-01T00:00:00+07:00`);
  const sessions = await db.selectFrom('sessions').select(['id', 'status', 'go_live_override_reason']).where('scheduled_start', '>=', from).where('scheduled_start', '<', to).execute();
  const byStatus: Record<string, number> = {};
  for (const s of sessions) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const counted = sessions.filter((s) => !NOT_COUNTED.includes(s.status)).map((s) => s.id);
  const held = sessions.filter((s) => HELD.includes(s.status)).map((s) => s.id);

  const agenda =
    counted.length === 0
      ? []
      : await db
          .selectFrom('session_cases')
          .innerJoin('cases', 'cases.id', 'session_cases.case_id')
          .select(['cases.id', 'cases.type', 'cases.criteria', 'session_cases.outcome'])
          .where('session_cases.session_id', 'in', counted)
          .execute();
  const byType: Record<string, number> = { khieu_nai: 0, to_cao: 0, kien_nghi: 0, phan_anh: 0 };
  const byCriterion: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
  const byOutcome: Record<string, number> = {};
  const seen = new Set<string>();
  for (const c of agenda) {
    byOutcome[c.outcome ?? 'chua_co'] = (byOutcome[c.outcome ?? 'chua_co'] ?? 0) + 1;
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    byType[c.type] = (byType[c.type] ?? 0) + 1;
    for (const k of c.criteria) byCriterion[k] = (byCriterion[k] ?? 0) + 1;
  }

  const points =
    held.length === 0
      ? []
      : await db
          .selectFrom('session_bridge_points')
          .innerJoin('bridge_points', 'bridge_points.id', 'session_bridge_points.bridge_point_id')
          .select(sql<string>`distinct bridge_points.code`.as('code'))
          .where('session_bridge_points.session_id', 'in', held)
          .execute();

  const results =
    counted.length === 0
      ? []
      : await db
          .selectFrom('preflight_results')
          .innerJoin('preflight_slots', 'preflight_slots.id', 'preflight_results.slot_id')
          .select(['preflight_results.passed', 'preflight_results.ice_path', 'preflight_slots.kind'])
          .where('preflight_results.session_id', 'in', counted)
          .execute();
  const bySlotKind: Record<string, { passed: number; failed: number }> = {};
  const byIcePath: Record<string, number> = {};
  for (const r of results) {
    const k = (bySlotKind[r.kind] ??= { passed: 0, failed: 0 });
    if (r.passed) k.passed++;
    else k.failed++;
    const path = r.ice_path ?? 'unknown';
    byIcePath[path] = (byIcePath[path] ?? 0) + 1;
  }
  const passed = results.filter((r) => r.passed).length;

  return {
    year,
    generatedAt: now.toISOString(),
    sessions: { total: sessions.length, held: held.length, byStatus, goLiveOverrides: sessions.filter((s) => s.go_live_override_reason !== null).length },
    cases: { total: seen.size, byType, byCriterion, byOutcome },
    bridgePoints: { used: points.length, codes: points.map((p) => p.code).sort() },
    tests: { total: results.length, passed, failed: results.length - passed, bySlotKind, byIcePath },
  };
}

/** The same report as CSV: one `section,key,value` row per figure (opens in any spreadsheet). */
export function annualReportCsv(r: AnnualReport): string {
  const rows: (string | number)[][] = [['section', 'key', 'value']];
  rows.push(['report', 'year', r.year], ['report', 'generated_at', r.generatedAt]);
  rows.push(['sessions', 'total', r.sessions.total], ['sessions', 'held', r.sessions.held], ['sessions', 'go_live_overrides', r.sessions.goLiveOverrides]);
  for (const [k, v] of Object.entries(r.sessions.byStatus)) rows.push(['sessions_by_status', k, v]);
  rows.push(['cases', 'total', r.cases.total]);
  for (const [k, v] of Object.entries(r.cases.byType)) rows.push(['cases_by_type', k, v]);
  for (const [k, v] of Object.entries(r.cases.byCriterion)) rows.push(['cases_by_criterion', k, v]);
  for (const [k, v] of Object.entries(r.cases.byOutcome)) rows.push(['cases_by_outcome', k, v]);
  rows.push(['bridge_points', 'used', r.bridgePoints.used]);
  for (const code of r.bridgePoints.codes) rows.push(['bridge_points_used', code, 1]);
  rows.push(['tests', 'total', r.tests.total], ['tests', 'passed', r.tests.passed], ['tests', 'failed', r.tests.failed]);
  for (const [k, v] of Object.entries(r.tests.bySlotKind)) rows.push(['tests_by_slot', `${k}.passed`, v.passed], ['tests_by_slot', `${k}.failed`, v.failed]);
  for (const [k, v] of Object.entries(r.tests.byIcePath)) rows.push(['tests_by_ice_path', k, v]);
  return toCsv(rows);
}
