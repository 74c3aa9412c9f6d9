import type { Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import type { PreflightResultsTable } from '../../db/controlTables.ts';
import { TiepdanError } from '../../errors.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CalendarStore } from '../calendar/calendarStore.ts';
import { localDate, localInstant, type Clock } from '../common/clock.ts';
import { conflict, forbidden, notFound } from '../common/errors.ts';
import type { Actor } from '../common/roles.ts';
import type { ControlSettings, SettingsStore } from '../settings/controlSettings.ts';
import { SLOT_KINDS, type GoLiveGap, type MatrixView, type NotPassedPoint, type ResultView, type SlotKind, type SlotView } from '../../contract/views/preflight.ts';
import { safeText } from '../common/safeText.ts';

type Trx = Transaction<DatabaseSchema>;

/**
 * Pre-flight connection tests (Quy chế Điều 6.1.b–c): for every bridge point, a test the working
 * day before and one two hours before, a rehearsal (tổng duyệt) in which all points connect
 * together, and the national decree's "every point connected one hour before".
 */
export { SLOT_KINDS, type SlotKind };
export const ICE_PATHS = ['udp', 'tcp', 'relay'] as const;

export const resultInput = z.object({
  sessionId: z.uuid(),
  /** Omitted: the slot nearest in time. */
  slotId: z.uuid().optional(),
  bridgePointId: z.uuid(),
  connected: z.boolean(),
  icePath: z.enum(ICE_PATHS).nullable().default(null),
  rttMs: z.number().min(0).max(60_000).nullable().default(null),
  lossPct: z.number().min(0).max(100).nullable().default(null),
  bitrateKbps: z.number().min(0).max(1_000_000).nullable().default(null),
  camera: z.boolean(),
  microphone: z.boolean(),
  notes: safeText(2000).default(''),
});
export type ResultInput = z.infer<typeof resultInput>;




export type { GoLiveGap, MatrixView, ResultView, SlotView };

/**
 * What must have happened before going live (issue 11 item 7): a passed test the working day
 * before and two hours before (Quy chế Đ6.1.b), and the point connected one hour before (N154 Art
 * 23(1)). The rehearsal is a run-through with everyone, not a per-point test, so it is not gated.
 * A single late pass no longer stands in for the tests that were skipped.
 */
const GATE_SLOTS: readonly SlotKind[] = ['day_before', 'hours_before', 'all_connected'];

/**
 * What "tested" (invitations_sent → tested) means: every point passed the test the working day
 * before (Quy chế Đ6.1.b), the one gated slot that exists by then; the T-2 h and T-1 h slots come
 * on the day itself and are checked at go-live. As for go-live, a pass in another slot does not
 * stand in for it (issue 11 item 7).
 */
const TESTED_SLOTS: readonly SlotKind[] = ['day_before'];

const SLOT_LABELS: Record<SlotKind, string> = {
  day_before: 'Kiểm thử trước 01 ngày làm việc',
  rehearsal: 'Tổng duyệt (tất cả điểm cầu)',
  // The rule itself, as the Quy chế Đ6.1.b and N154 Art 23(1) state it (law review §3).
  hours_before: 'Kiểm thử trước 02 giờ',
  all_connected: 'Hoàn tất kết nối các điểm cầu (trước 01 giờ)',
};

/** A stored result row, as kysely selects it from the table type. */
type ResultRow = Selectable<PreflightResultsTable>;

const resultView = (r: ResultRow): ResultView => ({
  id: r.id,
  slotId: r.slot_id,
  sessionId: r.session_id,
  bridgePointId: r.bridge_point_id,
  connected: r.connected,
  icePath: r.ice_path,
  rttMs: r.rtt_ms,
  lossPct: r.loss_pct,
  bitrateKbps: r.bitrate_kbps,
  camera: r.camera_ok,
  microphone: r.microphone_ok,
  passed: r.passed,
  problems: r.problems,
  notes: r.notes,
  reportedBy: r.reported_by,
  reportedAt: r.reported_at.toISOString(),
});

const slotView = (s: { id: string; session_id: string; kind: string; label: string; starts_at: Date }): SlotView => ({
  id: s.id,
  sessionId: s.session_id,
  kind: s.kind as SlotKind,
  label: s.label,
  startsAt: s.starts_at.toISOString(),
});

/** Why a test did not pass (empty when it passed). */
export function evaluate(input: Pick<ResultInput, 'connected' | 'rttMs' | 'lossPct' | 'bitrateKbps' | 'camera' | 'microphone'>, criteria: ControlSettings['passCriteria']): string[] {
  const problems: string[] = [];
  if (!input.connected) problems.push('not_connected');
  if (!input.camera) problems.push('camera');
  if (!input.microphone) problems.push('microphone');
  if (input.rttMs !== null && input.rttMs > criteria.maxRttMs) problems.push('rtt_too_high');
  if (input.lossPct !== null && input.lossPct > criteria.maxLossPct) problems.push('loss_too_high');
  if (input.bitrateKbps !== null && input.bitrateKbps < criteria.minBitrateKbps) problems.push('bitrate_too_low');
  return problems;
}

export class PreflightService {
  readonly #db: Db;
  readonly #audit: AuditLog;
  readonly #calendar: CalendarStore;
  readonly #settings: SettingsStore;
  readonly #clock: Clock;

  constructor(deps: { db: Db; audit: AuditLog; calendar: CalendarStore; settings: SettingsStore; clock: Clock }) {
    this.#db = deps.db;
    this.#audit = deps.audit;
    this.#calendar = deps.calendar;
    this.#settings = deps.settings;
    this.#clock = deps.clock;
  }

  /** The slot times for a session start, per the settings and the working-day calendar. */
  async plan(start: Date): Promise<{ kind: SlotKind; startsAt: Date }[]> {
    const s = (await this.#settings.get()).preflight;
    const sessionDate = localDate(start);
    const cal = await this.#calendar.calendar([sessionDate]);
    const testDay = cal.subtractWorkingDays(sessionDate, s.dayBeforeWorkingDays);
    const slots: { kind: SlotKind; startsAt: Date }[] = [
      { kind: 'day_before', startsAt: localInstant(testDay, s.dayBeforeTime) },
      { kind: 'rehearsal', startsAt: localInstant(testDay, s.rehearsalTime) },
      { kind: 'hours_before', startsAt: new Date(start.getTime() - s.hoursBefore * 3_600_000) },
    ];
    if (s.allConnectedHoursBefore > 0) slots.push({ kind: 'all_connected', startsAt: new Date(start.getTime() - s.allConnectedHoursBefore * 3_600_000) });
    return slots.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  }

  /** (Re)creates the slots of a session (on approval); results of removed slots go with them. */
  async generateSlots(trx: Trx, sessionId: string): Promise<void> {
    // A re-approval (after a case change sent the session back, M8) keeps the slots and the results
    // already recorded against them: deleting the slots would cascade to that evidence.
    const existing = await trx.selectFrom('preflight_slots').select('id').where('session_id', '=', sessionId).limit(1).executeTakeFirst();
    if (existing !== undefined) return;
    const session = await trx.selectFrom('sessions').select(['scheduled_start']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    const planned = await this.plan(session.scheduled_start);
    await trx.deleteFrom('preflight_slots').where('session_id', '=', sessionId).execute();
    const s = (await this.#settings.get()).preflight;
    const hours = (n: number) => (Number.isInteger(n) ? `${String(n).padStart(2, '0')} giờ` : `${Math.round(n * 60)} phút`);
    const label = (kind: SlotKind) =>
      kind === 'hours_before' ? `Kiểm thử trước ${hours(s.hoursBefore)}` : kind === 'all_connected' ? `Hoàn tất kết nối các điểm cầu (trước ${hours(s.allConnectedHoursBefore)})` : SLOT_LABELS[kind];
    await trx.insertInto('preflight_slots').values(planned.map((p) => ({ session_id: sessionId, kind: p.kind, starts_at: p.startsAt, label: label(p.kind) }))).execute();
  }

  async slots(sessionId: string): Promise<SlotView[]> {
    const rows = await this.#db.selectFrom('preflight_slots').selectAll().where('session_id', '=', sessionId).orderBy('starts_at').execute();
    return rows.map(slotView);
  }

  async moveSlot(actor: Actor, slotId: string, startsAt: string): Promise<SlotView> {
    return this.#db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('preflight_slots').selectAll().where('id', '=', slotId).executeTakeFirst();
      if (before === undefined) throw notFound('preflight slot', slotId);
      const row = await trx.updateTable('preflight_slots').set({ starts_at: new Date(startsAt) }).where('id', '=', slotId).returningAll().executeTakeFirstOrThrow();
      await this.#audit.append(trx, actor, { action: 'preflight.slot_move', entity: 'preflight_slot', entityId: slotId, before: slotView(before), after: slotView(row) });
      return slotView(row);
    });
  }

  /**
   * Records a test result, from a technician, the point's operator, or the endpoint itself
   * (its invitation token: only for its own session and bridge point).
   */
  async report(actor: Actor, reported: ResultInput): Promise<ResultView> {
    let input = reported;
    if (actor.kind === 'invitation') {
      // The endpoint names its point by the invitation's subject: the bridge point itself, or the
      // participant invited at a bridge point (a technician at the central point, say).
      const mine = input.bridgePointId === actor.bridgePointId || input.bridgePointId === actor.subject;
      if (actor.sessionId !== input.sessionId || !mine) throw forbidden('PREFLIGHT_OTHER_POINT', 'an invitation reports tests for its own session and bridge point only');
      if (actor.bridgePointId === null) throw conflict('PREFLIGHT_NO_BRIDGE_POINT', 'this invitation is not tied to a bridge point: there is no point to test');
      input = { ...input, bridgePointId: actor.bridgePointId };
    }
    if (actor.role === 'commune_operator' && actor.bridgePointId !== input.bridgePointId) {
      throw forbidden('PREFLIGHT_OTHER_POINT', 'a commune operator reports tests for their own bridge point only');
    }
    const criteria = (await this.#settings.get()).passCriteria;
    return this.#db.transaction().execute(async (trx) => {
      const session = await trx.selectFrom('sessions').select(['status']).where('id', '=', input.sessionId).executeTakeFirst();
      if (session === undefined) throw notFound('session', input.sessionId);
      if (!['invitations_sent', 'tested', 'live'].includes(session.status)) {
        throw conflict('PREFLIGHT_NOT_OPEN', `tests run once invitations are sent (session is ${session.status})`);
      }
      const member = await trx.selectFrom('session_bridge_points').select('bridge_point_id').where('session_id', '=', input.sessionId).where('bridge_point_id', '=', input.bridgePointId).executeTakeFirst();
      if (member === undefined) throw new TiepdanError('BRIDGE_POINT_NOT_IN_SESSION', 'this bridge point is not part of the session', { details: [{ field: '/bridgePointId', message: 'not in the session' }] });
      const slots = await trx.selectFrom('preflight_slots').selectAll().where('session_id', '=', input.sessionId).execute();
      let slot = input.slotId === undefined ? undefined : slots.find((s) => s.id === input.slotId);
      if (input.slotId !== undefined && slot === undefined) throw notFound('preflight slot', input.slotId);
      if (slot === undefined) {
        const now = this.#clock().getTime();
        slot = [...slots].sort((a, b) => Math.abs(a.starts_at.getTime() - now) - Math.abs(b.starts_at.getTime() - now))[0];
      }
      if (slot === undefined) throw conflict('PREFLIGHT_NO_SLOTS', 'the session has no test slots (they are created on approval)');
      const problems = evaluate(input, criteria);
      const row = await trx
        .insertInto('preflight_results')
        .values({
          slot_id: slot.id,
          session_id: input.sessionId,
          bridge_point_id: input.bridgePointId,
          connected: input.connected,
          ice_path: input.icePath,
          rtt_ms: input.rttMs,
          loss_pct: input.lossPct,
          bitrate_kbps: input.bitrateKbps,
          camera_ok: input.camera,
          microphone_ok: input.microphone,
          passed: problems.length === 0,
          problems,
          notes: input.notes,
          reported_by: actor.label,
          reported_at: this.#clock(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const view = resultView(row);
      await this.#audit.append(trx, actor, { action: 'preflight.result', entity: 'preflight_result', entityId: row.id, after: view });
      return view;
    });
  }

  /** The go-live gate's gaps: points without a pass in every required slot. */
  async goLiveGaps(sessionId: string): Promise<GoLiveGap[]> {
    return (await this.matrix(sessionId)).goLiveGaps;
  }

  /** The mark-tested gate's gaps: points without a pass in the T-1 working-day slot. */
  async testedGaps(sessionId: string): Promise<GoLiveGap[]> {
    return (await this.matrix(sessionId)).testedGaps;
  }

  /** Points of the session whose most recent test did not pass (or that have none). */
  async notPassed(sessionId: string): Promise<NotPassedPoint[]> {
    return (await this.matrix(sessionId)).notPassed;
  }

  async matrix(sessionId: string): Promise<MatrixView> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sessionId)) throw notFound('session', sessionId);
    const session = await this.#db.selectFrom('sessions').select('id').where('id', '=', sessionId).executeTakeFirst();
    if (session === undefined) throw notFound('session', sessionId);
    const [slots, points, results] = await Promise.all([
      this.slots(sessionId),
      this.#db
        .selectFrom('session_bridge_points')
        .innerJoin('bridge_points', 'bridge_points.id', 'session_bridge_points.bridge_point_id')
        .select(['bridge_points.id', 'bridge_points.code', 'bridge_points.name', 'bridge_points.kind'])
        .where('session_bridge_points.session_id', '=', sessionId)
        .orderBy('bridge_points.kind')
        .orderBy('bridge_points.code')
        .execute(),
      this.#db.selectFrom('preflight_results').selectAll().where('session_id', '=', sessionId).orderBy('reported_at').execute(),
    ]);
    const rows = points.map((p) => {
      const mine = results.filter((r) => r.bridge_point_id === p.id);
      const cells = slots.map((s) => {
        const last = mine.filter((r) => r.slot_id === s.id).at(-1);
        return { slotId: s.id, status: last === undefined ? ('pending' as const) : last.passed ? ('passed' as const) : ('failed' as const), result: last === undefined ? null : resultView(last) };
      });
      const latest = mine.at(-1);
      return { bridgePointId: p.id, code: p.code, name: p.name, kind: p.kind, cells, latest: latest === undefined ? ('none' as const) : latest.passed ? ('passed' as const) : ('failed' as const) };
    });
    const notPassed = rows.filter((r) => r.latest !== 'passed').map((r) => ({ bridgePointId: r.bridgePointId, name: r.name, lastResult: r.latest as 'failed' | 'none' }));
    const gapsFor = (kinds: readonly SlotKind[]): GoLiveGap[] => {
      const gated = slots.filter((sl) => kinds.includes(sl.kind));
      return rows.flatMap((r) => {
        const missing = gated
          .filter((sl) => {
            const last = r.cells.find((c) => c.slotId === sl.id)?.result ?? null;
            // T-1 h asks that the point be connected; the two tests ask that it pass.
            return last === null || (sl.kind === 'all_connected' ? !last.connected : !last.passed);
          })
          .map((sl) => sl.kind);
        // Without slots (never approved) the latest result is all there is to go by.
        const failing = gated.length === 0 ? r.latest !== 'passed' : missing.length > 0;
        return failing ? [{ bridgePointId: r.bridgePointId, name: r.name, lastResult: r.latest === 'passed' ? ('none' as const) : r.latest, missing }] : [];
      });
    };
    const goLiveGaps = gapsFor(GATE_SLOTS);
    const testedGaps = gapsFor(TESTED_SLOTS);
    return { sessionId, slots, points: rows, notPassed, goLiveGaps, testedGaps };
  }
}
