// Why one file: the session's legal life cycle (draft → submitted → approved → live → ended) is
// one state machine; its transitions must be read together to be checked against the regulation.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sql, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import { TiepdanError } from '../../errors.ts';
import { PARTICIPANT_ROLES } from '../../tokens/tokenSigner.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CalendarStore } from '../calendar/calendarStore.ts';
import { localDate, type Clock } from '../common/clock.ts';
import { badRequest, conflict, forbidden, notFound } from '../common/errors.ts';
import { iso, type Page, type Paged } from '../common/paging.ts';
import type { Actor } from '../common/roles.ts';
import type { SettingsStore } from '../settings/controlSettings.ts';
import type { MinutesVersionsTable } from '../afterSitting/tables.ts';
import { nextStatus, SESSION_STATUSES, type SessionAction, type SessionStatus } from './lifecycle.ts';
import { safeText } from '../common/safeText.ts';
import type { SessionListCache } from './sessionListCache.ts';
import type { SessionView } from '../../contract/views/session.ts';
import { CASE_OUTCOMES } from '../../contract/views/afterSitting.ts';
import type { NotPassedPoint } from '../../contract/views/preflight.ts';

export type { SessionView };

type Trx = Transaction<DatabaseSchema>;

/** Approved, not yet live: a change to one of its cases sends it back to the chairman (M8). */
const RETURNABLE: readonly SessionStatus[] = ['approved', 'invitations_sent', 'tested'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** N154 Art 23(1): citizens and agencies are notified at the latest 5 working days before the session. */
export const NOTICE_LEAD_WORKING_DAYS = 5;

export { CASE_OUTCOMES };

export const participantInput = z.object({
  role: z.enum(PARTICIPANT_ROLES),
  /** A role label ("Chủ trì", "Đại diện Sở TN&MT") — never a complainant's name. */
  label: safeText(120).trim().min(1),
  bridgePointId: z.uuid().nullable().default(null),
});

export const sessionInput = z.object({
  title: safeText(300).trim().min(1),
  scheduledStart: z.iso.datetime({ offset: true }),
  scheduledEnd: z.iso.datetime({ offset: true }),
  location: safeText(300).default(''),
  chairUserId: z.uuid().nullable().default(null),
  chairTitle: safeText(200).default(''),
  maxPeers: z.number().int().min(2).max(500).default(50),
  lobbyEnabled: z.boolean().default(true),
  endpointsSeeEachOther: z.boolean().default(false),
  autoRecord: z.boolean().default(true),
  participantRecordingAllowed: z.boolean().default(false),
  notes: safeText(10_000).default(''),
  caseIds: z.array(z.uuid()).max(50).default([]),
  bridgePointIds: z.array(z.uuid()).max(500).default([]),
  participants: z.array(participantInput).max(100).default([]),
});
export type SessionInput = z.infer<typeof sessionInput>;


type SessionRow = {
  id: string;
  title: string;
  scheduled_start: Date;
  scheduled_end: Date;
  location: string;
  chair_user_id: string | null;
  chair_title: string;
  status: string;
  max_peers: number;
  lobby_enabled: boolean;
  endpoints_see_each_other: boolean;
  auto_record: boolean;
  participant_recording_allowed: boolean;
  notes: string;
  go_live_override_reason: string | null;
  status_reason: string;
  created_at: Date;
  updated_at: Date;
  status_changed_at: Date;
};

/** A page's agenda items, bridge points and participants, fetched with the sessions. */
interface Relations {
  cases: { session_id: string; case_id: string; position: number; outcome: string | null; reference: string; type: string }[];
  points: { session_id: string; bridge_point_id: string }[];
  participants: { id: string; session_id: string; role: string; label: string; bridge_point_id: string | null }[];
}

export type { NotPassedPoint };

export type SessionListFilter = { status?: SessionStatus; from?: string; to?: string; bridgePointId?: string };

export interface SessionServiceDeps {
  db: Db;
  /** Keeps list answers until a change is heard (off when absent: every list reads the database). */
  listCache?: SessionListCache<Paged<SessionView>>;
  audit: AuditLog;
  calendar: CalendarStore;
  settings: SettingsStore;
  clock: Clock;
  /** Points that lack a pass in the T-1 working-day slot, the one the "tested" step requires. */
  testedGaps: (sessionId: string) => Promise<(NotPassedPoint & { missing: string[] })[]>;
  /** Points that lack a pass in a slot the go-live rule requires (T-1 WD, T-2 h, connected at T-1 h). */
  goLiveGaps: (sessionId: string) => Promise<(NotPassedPoint & { missing: string[] })[]>;
  /** Called after approval (creates the test slots) — inside the approval's transaction. */
  onApproved: (trx: Trx, sessionId: string) => Promise<void>;
  /** Called after cancellation: revoke every invitation. */
  onClosed: (trx: Trx, sessionId: string, reason: string) => Promise<void>;
}

export type SessionServiceEvents = {
  /** A life-cycle step changed a session's status (emitted after its transaction committed). */
  statusChanged: [{ sessionId: string; from: SessionStatus; to: SessionStatus }];
};

export class SessionService extends EventEmitter<SessionServiceEvents> {
  readonly #d: SessionServiceDeps;

  constructor(deps: SessionServiceDeps) {
    super();
    this.#d = deps;
  }

  async #row(executor: Db | Trx, id: string, lock = false): Promise<SessionRow> {
    // Other layers pass ids they got elsewhere (recordings, signaling): a non-UUID is simply unknown.
    if (!UUID.test(id)) throw notFound('session', id);
    let q = executor.selectFrom('sessions').selectAll().where('id', '=', id);
    if (lock) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (row === undefined) throw notFound('session', id);
    return row;
  }

  async #views(executor: Db | Trx, rows: SessionRow[], preloaded?: Relations): Promise<SessionView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [cases, points, participants, settings] = preloaded !== undefined ? [preloaded.cases, preloaded.points, preloaded.participants, await this.#d.settings.get()] : await Promise.all([
      executor
        .selectFrom('session_cases')
        .innerJoin('cases', 'cases.id', 'session_cases.case_id')
        .select(['session_cases.session_id', 'session_cases.case_id', 'session_cases.position', 'session_cases.outcome', 'cases.reference', 'cases.type'])
        .where('session_cases.session_id', 'in', ids)
        .orderBy('session_cases.position')
        .execute(),
      executor.selectFrom('session_bridge_points').selectAll().where('session_id', 'in', ids).execute(),
      executor.selectFrom('session_participants').selectAll().where('session_id', 'in', ids).orderBy('label').execute(),
      this.#d.settings.get(),
    ]);
    const dates = rows.map((r) => localDate(r.scheduled_start));
    const cal = await this.#d.calendar.calendar(dates);
    // Each deadline is a day-by-day walk over the calendar: once per distinct date of the page, not
    // twice per session (it was the list's largest cost in the server, issue 14 item 4).
    const deadlines = new Map<string, { submission: string; notice: string }>();
    const deadlinesOf = (date: string) => {
      let d = deadlines.get(date);
      if (d === undefined) {
        d = { submission: cal.subtractWorkingDays(date, settings.approvalLeadWorkingDays), notice: cal.subtractWorkingDays(date, NOTICE_LEAD_WORKING_DAYS) };
        deadlines.set(date, d);
      }
      return d;
    };
    return rows.map((r, i) => ({
      id: r.id,
      title: r.title,
      scheduledStart: r.scheduled_start.toISOString(),
      scheduledEnd: r.scheduled_end.toISOString(),
      location: r.location,
      chairUserId: r.chair_user_id,
      chairTitle: r.chair_title,
      status: r.status as SessionStatus,
      statusReason: r.status_reason,
      maxPeers: r.max_peers,
      lobbyEnabled: r.lobby_enabled,
      endpointsSeeEachOther: r.endpoints_see_each_other,
      autoRecord: r.auto_record,
      participantRecordingAllowed: r.participant_recording_allowed,
      notes: r.notes,
      goLiveOverrideReason: r.go_live_override_reason,
      cases: cases.filter((c) => c.session_id === r.id).map((c) => ({ caseId: c.case_id, reference: c.reference, type: c.type, position: c.position, outcome: c.outcome })),
      bridgePointIds: points.filter((p) => p.session_id === r.id).map((p) => p.bridge_point_id),
      participants: participants.filter((p) => p.session_id === r.id).map((p) => ({ id: p.id, role: p.role, label: p.label, bridgePointId: p.bridge_point_id })),
      submissionDeadline: deadlinesOf(dates[i]!).submission,
      noticeDeadline: deadlinesOf(dates[i]!).notice,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      statusChangedAt: r.status_changed_at.toISOString(),
    }));
  }

  async get(id: string, actor?: Actor): Promise<SessionView> {
    const view = (await this.#views(this.#d.db, [await this.#row(this.#d.db, id)]))[0]!;
    if (actor?.role === 'commune_operator' && (actor.bridgePointId === null || !view.bridgePointIds.includes(actor.bridgePointId))) {
      throw notFound('session', id); // an operator sees only the sessions of their own point
    }
    return view;
  }

  /** Answers from the list cache when it is on (its rules: sessionListCache.ts). Callers must not change the answer. */
  async list(filter: SessionListFilter, page: Page): Promise<Paged<SessionView>> {
    const cache = this.#d.listCache;
    if (cache === undefined) return this.#list(filter, page);
    // Every field the answer depends on, the operator's confinement (bridgePointId) included.
    const key = JSON.stringify([filter.status ?? null, filter.from ?? null, filter.to ?? null, filter.bridgePointId ?? null, page.limit, page.offset]);
    return cache.get(key, () => this.#list(filter, page));
  }

  async #list(filter: SessionListFilter, page: Page): Promise<Paged<SessionView>> {
    let q = this.#d.db.selectFrom('sessions');
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.from !== undefined) q = q.where('scheduled_start', '>=', new Date(filter.from));
    if (filter.to !== undefined) q = q.where('scheduled_start', '<=', new Date(filter.to));
    if (filter.bridgePointId !== undefined) {
      const bp = filter.bridgePointId;
      q = q.where((eb) => eb.exists(eb.selectFrom('session_bridge_points').select(sql`1`.as('x')).whereRef('session_bridge_points.session_id', '=', 'sessions.id').where('session_bridge_points.bridge_point_id', '=', bp)));
    }
    // One round trip for the page, its total and every session's agenda, points and participants
    // (the relations are built for the page's rows only, after LIMIT/OFFSET).
    const rows = await this.#d.db
      .with('page', () => q.selectAll('sessions').select(sql<string>`count(*) over ()`.as('total_count')).orderBy('scheduled_start', 'desc').orderBy('sessions.id').limit(page.limit).offset(page.offset))
      .selectFrom('page')
      .selectAll('page')
      .select((eb) => [
        jsonArrayFrom(
          eb
            .selectFrom('session_cases')
            .innerJoin('cases', 'cases.id', 'session_cases.case_id')
            .select(['session_cases.session_id', 'session_cases.case_id', 'session_cases.position', 'session_cases.outcome', 'cases.reference', 'cases.type'])
            .whereRef('session_cases.session_id', '=', 'page.id')
            .orderBy('session_cases.position'),
        ).as('agenda'),
        jsonArrayFrom(eb.selectFrom('session_bridge_points').select(['session_bridge_points.session_id', 'session_bridge_points.bridge_point_id']).whereRef('session_bridge_points.session_id', '=', 'page.id')).as('points'),
        jsonArrayFrom(eb.selectFrom('session_participants').selectAll('session_participants').whereRef('session_participants.session_id', '=', 'page.id').orderBy('session_participants.label')).as('people'),
      ])
      .orderBy('page.scheduled_start', 'desc')
      .orderBy('page.id')
      .execute();
    const total =
      rows.length > 0 ? Number(rows[0]!.total_count) : Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const preloaded: Relations = { cases: rows.flatMap((r) => r.agenda), points: rows.flatMap((r) => r.points), participants: rows.flatMap((r) => r.people) };
    return { items: await this.#views(this.#d.db, rows, preloaded), total, ...page };
  }

  #checkSchedule(start: Date, end: Date): void {
    if (!(end > start)) throw badRequest('SESSION_SCHEDULE_INVALID', 'the session must end after it starts', [{ field: '/scheduledEnd', message: 'must be after scheduledStart' }]);
  }

  async #writeLinks(trx: Trx, sessionId: string, input: Pick<SessionInput, 'caseIds' | 'bridgePointIds' | 'participants'>, replace: { cases: boolean; points: boolean; participants: boolean }): Promise<void> {
    if (replace.cases) {
      const unique = [...new Set(input.caseIds)];
      if (unique.length > 0) {
        const found = await trx.selectFrom('cases').select('id').where('id', 'in', unique).execute();
        const missing = unique.filter((id) => !found.some((f) => f.id === id));
        if (missing.length > 0) throw new TiepdanError('CASE_NOT_FOUND', `case(s) not found: ${missing.join(', ')}`, { details: missing });
      }
      await trx.deleteFrom('session_cases').where('session_id', '=', sessionId).execute();
      if (unique.length > 0) await trx.insertInto('session_cases').values(unique.map((caseId, position) => ({ session_id: sessionId, case_id: caseId, position, outcome: null }))).execute();
    }
    if (replace.points || replace.participants) {
      const referenced = [...new Set([...(replace.points ? input.bridgePointIds : []), ...(replace.participants ? input.participants.flatMap((p) => (p.bridgePointId ? [p.bridgePointId] : [])) : [])])];
      if (referenced.length > 0) {
        const found = await trx.selectFrom('bridge_points').select('id').where('id', 'in', referenced).execute();
        const missing = referenced.filter((id) => !found.some((f) => f.id === id));
        if (missing.length > 0) throw new TiepdanError('BRIDGE_POINT_NOT_FOUND', `bridge point(s) not found: ${missing.join(', ')}`, { details: missing });
      }
    }
    if (replace.points) {
      await trx.deleteFrom('session_bridge_points').where('session_id', '=', sessionId).execute();
      const unique = [...new Set(input.bridgePointIds)];
      if (unique.length > 0) await trx.insertInto('session_bridge_points').values(unique.map((id) => ({ session_id: sessionId, bridge_point_id: id }))).execute();
    }
    if (replace.participants) {
      await trx.deleteFrom('session_participants').where('session_id', '=', sessionId).execute();
      if (input.participants.length > 0) {
        await trx.insertInto('session_participants').values(input.participants.map((p) => ({ session_id: sessionId, role: p.role, label: p.label, bridge_point_id: p.bridgePointId }))).execute();
      }
    }
  }

  async #checkChair(trx: Trx, chairUserId: string | null | undefined): Promise<void> {
    if (chairUserId == null) return;
    const chair = await trx.selectFrom('users').select(['id', 'role']).where('id', '=', chairUserId).executeTakeFirst();
    if (chair === undefined) throw new TiepdanError('USER_NOT_FOUND', `chair user ${chairUserId} not found`);
    // The chair decides to go live on failed tests (Đ6.1.b): the Chủ tịch or the deputy who chairs,
    // never the Ban TCD staffer preparing the session (law review §5.2, issue 11 item 7).
    if (chair.role !== 'approver') throw badRequest('CHAIR_NOT_APPROVER', 'the chair is the Chủ tịch or a Phó Chủ tịch UBND tỉnh: an account with the approver role', [{ field: '/chairUserId', message: 'not an approver account' }]);
  }

  async create(actor: Actor, input: SessionInput): Promise<SessionView> {
    const start = new Date(input.scheduledStart);
    const end = new Date(input.scheduledEnd);
    this.#checkSchedule(start, end);
    return this.#d.db.transaction().execute(async (trx) => {
      await this.#checkChair(trx, input.chairUserId);
      const row = await trx
        .insertInto('sessions')
        .values({
          title: input.title,
          scheduled_start: start,
          scheduled_end: end,
          location: input.location,
          chair_user_id: input.chairUserId,
          chair_title: input.chairTitle,
          max_peers: input.maxPeers,
          lobby_enabled: input.lobbyEnabled,
          endpoints_see_each_other: input.endpointsSeeEachOther,
          auto_record: input.autoRecord,
          participant_recording_allowed: input.participantRecordingAllowed,
          notes: input.notes,
          go_live_override_reason: null,
          created_by: actor.kind === 'user' ? actor.id : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.#writeLinks(trx, row.id, input, { cases: true, points: true, participants: true });
      const view = (await this.#views(trx, [await this.#row(trx, row.id)]))[0]!;
      await this.#d.audit.append(trx, actor, { action: 'session.create', entity: 'session', entityId: row.id, after: view });
      return view;
    });
  }

  /** Edits a draft. Once submitted the proposal is locked (reopen a rejected one to change it). */
  async update(actor: Actor, id: string, patch: Partial<SessionInput>): Promise<SessionView> {
    return this.#d.db.transaction().execute(async (trx) => {
      const before = await this.#row(trx, id, true);
      if (before.status !== 'draft') throw conflict('SESSION_LOCKED', `a ${before.status} session cannot be edited; only drafts can`, { status: before.status });
      const beforeView = (await this.#views(trx, [before]))[0]!;
      const start = patch.scheduledStart !== undefined ? new Date(patch.scheduledStart) : before.scheduled_start;
      const end = patch.scheduledEnd !== undefined ? new Date(patch.scheduledEnd) : before.scheduled_end;
      this.#checkSchedule(start, end);
      await this.#checkChair(trx, patch.chairUserId);
      await trx
        .updateTable('sessions')
        .set({
          ...(patch.title !== undefined ? { title: patch.title } : {}),
          scheduled_start: start,
          scheduled_end: end,
          ...(patch.location !== undefined ? { location: patch.location } : {}),
          ...(patch.chairUserId !== undefined ? { chair_user_id: patch.chairUserId } : {}),
          ...(patch.chairTitle !== undefined ? { chair_title: patch.chairTitle } : {}),
          ...(patch.maxPeers !== undefined ? { max_peers: patch.maxPeers } : {}),
          ...(patch.lobbyEnabled !== undefined ? { lobby_enabled: patch.lobbyEnabled } : {}),
          ...(patch.endpointsSeeEachOther !== undefined ? { endpoints_see_each_other: patch.endpointsSeeEachOther } : {}),
          ...(patch.autoRecord !== undefined ? { auto_record: patch.autoRecord } : {}),
          ...(patch.participantRecordingAllowed !== undefined ? { participant_recording_allowed: patch.participantRecordingAllowed } : {}),
          ...(patch.notes !== undefined ? { notes: patch.notes } : {}),
          updated_at: this.#d.clock(),
        })
        .where('id', '=', id)
        .execute();
      await this.#writeLinks(
        trx,
        id,
        { caseIds: patch.caseIds ?? [], bridgePointIds: patch.bridgePointIds ?? [], participants: patch.participants ?? [] },
        { cases: patch.caseIds !== undefined, points: patch.bridgePointIds !== undefined, participants: patch.participants !== undefined },
      );
      const view = (await this.#views(trx, [await this.#row(trx, id)]))[0]!;
      await this.#d.audit.append(trx, actor, { action: 'session.update', entity: 'session', entityId: id, before: beforeView, after: view });
      return view;
    });
  }

  /** Runs one life-cycle action: locks the row, checks the transition first, then the action's rules. */
  async #transition(
    actor: Actor,
    id: string,
    action: SessionAction,
    rules: (trx: Trx, row: SessionRow) => Promise<{ reason?: string; set?: { go_live_override_reason?: string | null }; audit?: Record<string, unknown> } | void>,
  ): Promise<SessionView> {
    let change: { from: SessionStatus; to: SessionStatus } | undefined;
    const view = await this.#d.db.transaction().execute(async (trx) => {
      const row = await this.#row(trx, id, true);
      const from = row.status as SessionStatus;
      const to = nextStatus(action, from);
      change = { from, to };
      const extra = (await rules(trx, row)) ?? {};
      const now = this.#d.clock();
      await trx
        .updateTable('sessions')
        .set({ status: to, status_reason: extra.reason ?? '', ...(extra.set ?? {}), updated_at: now, ...(to !== from ? { status_changed_at: now } : {}) })
        .where('id', '=', id)
        .execute();
      await this.#d.audit.append(trx, actor, {
        action: `session.${action}`,
        entity: 'session',
        entityId: id,
        before: { status: from },
        after: { status: to, ...(extra.reason ? { reason: extra.reason } : {}), ...(extra.audit ?? {}) },
      });
      return (await this.#views(trx, [await this.#row(trx, id)]))[0]!;
    });
    // Told only after commit: the live side (signaling, recorder) acts on what is now stored.
    if (change !== undefined && change.from !== change.to) this.emit('statusChanged', { sessionId: id, ...change });
    return view;
  }

  /** Rules every proposal must meet (checked at submission and again at approval). */
  async #checkProposal(trx: Trx, row: SessionRow): Promise<void> {
    const cases = await trx
      .selectFrom('session_cases')
      .innerJoin('cases', 'cases.id', 'session_cases.case_id')
      .select(['cases.id', 'cases.reference', 'cases.type', 'cases.criteria', 'cases.identity_protection_waived'])
      .where('session_cases.session_id', '=', row.id)
      .execute();
    if (cases.length === 0) throw conflict('SESSION_NO_CASES', 'put at least one case on the agenda before submitting');
    const points = await trx.selectFrom('session_bridge_points').select('bridge_point_id').where('session_id', '=', row.id).execute();
    if (points.length === 0) throw conflict('SESSION_NO_BRIDGE_POINTS', 'choose at least one bridge point before submitting');
    const noCriteria = cases.filter((c) => c.criteria.length === 0);
    if (noCriteria.length > 0) {
      throw conflict('CASE_CRITERIA_REQUIRED', `every case needs at least one selection criterion (Quy chế Điều 4.1 a–d); missing on ${noCriteria.map((c) => c.reference).join(', ')}`, {
        cases: noCriteria.map((c) => ({ caseId: c.id, reference: c.reference })),
      });
    }
    const notWaived = cases.filter((c) => c.type === 'to_cao' && !c.identity_protection_waived);
    if (notWaived.length > 0) {
      throw conflict('DENUNCIATION_IDENTITY_NOT_WAIVED', `a denunciation (tố cáo) goes online only when the denouncer has waived identity protection; not waived on ${notWaived.map((c) => c.reference).join(', ')}`, {
        cases: notWaived.map((c) => ({ caseId: c.id, reference: c.reference })),
      });
    }
  }

  /**
   * The proposal's rules again after approval (security review M8): the cases are checked as they are
   * now, not as the chairman saw them. A case change normally sends the session back for approval
   * (`returnForApproval`); this is the last gate if something slipped past that (data from before the
   * rule, a change made outside the service).
   */
  async #recheckProposal(trx: Trx, row: SessionRow): Promise<void> {
    try {
      await this.#checkProposal(trx, row);
    } catch (err) {
      if (!(err instanceof TiepdanError)) throw err;
      const cases = (err.details as { cases?: unknown } | undefined)?.cases ?? [];
      throw conflict('PROPOSAL_NO_LONGER_VALID', `the approved proposal no longer meets its rules (${err.code}): ${err.message}; submit it again`, { rule: err.code, cases });
    }
  }

  /**
   * A case on a session changed in what the chairman's consent rests on (type, criteria, the
   * denouncer's waiver). Quy chế Đ4.2 wants his consent to the case as it is, so an approved session
   * (invitations sent or tested included) goes back to `submitted` and waits for a new decision;
   * its invitations stop admitting (not open) until then. The change itself is kept: refusing it
   * would hide, for example, a denouncer's withdrawn consent. A live session cannot go back: the
   * change is refused until it ends. Runs inside the case's transaction; returns what to emit after commit.
   */
  async returnForApproval(trx: Trx, actor: Actor, change: { caseId: string; reference: string; fields: string[] }): Promise<() => void> {
    const onAgenda = await trx
      .selectFrom('session_cases')
      .innerJoin('sessions', 'sessions.id', 'session_cases.session_id')
      .select(['sessions.id', 'sessions.status'])
      .where('session_cases.case_id', '=', change.caseId)
      .where('sessions.status', 'in', [...RETURNABLE, 'live'])
      .orderBy('sessions.id')
      .execute();
    const live = onAgenda.filter((s) => s.status === 'live');
    if (live.length > 0) {
      throw conflict('CASE_ON_LIVE_SESSION', `case ${change.reference} is on a session that is live; change its ${change.fields.join(', ')} after the session ends`, {
        cases: [{ caseId: change.caseId, reference: change.reference }],
        sessionIds: live.map((s) => s.id),
      });
    }
    const changes: { sessionId: string; from: SessionStatus; to: SessionStatus }[] = [];
    for (const { id } of onAgenda) {
      const row = await this.#row(trx, id, true);
      const from = row.status as SessionStatus;
      if (!RETURNABLE.includes(from)) continue; // changed status while we waited for the lock
      const now = this.#d.clock();
      const reason = `case ${change.reference} changed (${change.fields.join(', ')}): the chairman decides again`;
      await trx.updateTable('sessions').set({ status: 'submitted', status_reason: reason, updated_at: now, status_changed_at: now }).where('id', '=', id).execute();
      await trx.insertInto('approvals').values({ session_id: id, kind: 'returned', actor_id: actor.kind === 'user' ? actor.id : null, comment: reason, working_days_ahead: null, at: now }).execute();
      await this.#d.audit.append(trx, actor, {
        action: 'session.returned_for_approval',
        entity: 'session',
        entityId: id,
        before: { status: from },
        after: { status: 'submitted', reason, caseId: change.caseId, fields: change.fields },
      });
      changes.push({ sessionId: id, from, to: 'submitted' });
    }
    return () => {
      for (const c of changes) this.emit('statusChanged', c);
    };
  }

  async submit(actor: Actor, id: string, comment = ''): Promise<SessionView> {
    return this.#transition(actor, id, 'submit', async (trx, row) => {
      await this.#checkProposal(trx, row);
      const settings = await this.#d.settings.get();
      const today = localDate(this.#d.clock());
      const sessionDate = localDate(row.scheduled_start);
      const cal = await this.#d.calendar.calendar([today, sessionDate]);
      const latest = cal.subtractWorkingDays(sessionDate, settings.approvalLeadWorkingDays);
      const ahead = cal.workingDaysBetween(today, sessionDate);
      if (today > latest) {
        throw conflict(
          'SUBMISSION_TOO_LATE',
          `the proposal must reach the chairman at least ${settings.approvalLeadWorkingDays} working days before the session (Quy chế Điều 6.1.a): latest ${latest}, today is ${today}`,
          { today, sessionDate, latestSubmissionDate: latest, workingDaysAhead: ahead, requiredWorkingDays: settings.approvalLeadWorkingDays },
        );
      }
      await trx.insertInto('approvals').values({ session_id: id, kind: 'submitted', actor_id: actor.kind === 'user' ? actor.id : null, comment, working_days_ahead: ahead, at: this.#d.clock() }).execute();
      return { audit: { workingDaysAhead: ahead, latestSubmissionDate: latest } };
    });
  }

  /** The chairman's decision (the route admits the approver role only: APPROVER_ROLE_REQUIRED). */
  async decide(actor: Actor, id: string, decision: 'approved' | 'rejected', comment: string, rejectedCases: { caseId: string; reason: string }[] = []): Promise<SessionView> {
    if (actor.role !== 'approver') throw forbidden('APPROVER_ROLE_REQUIRED', 'only the chairman (approver role) approves or rejects an online reception');
    // The chairman's decision is a person's act on record (approvals.actor_id), never an integration's (security review M10).
    if (actor.kind !== 'user') throw forbidden('APPROVER_PERSON_REQUIRED', 'a decision on a session is made by the chairman logged in as themself, not by an API key');
    return this.#transition(actor, id, decision === 'approved' ? 'approve' : 'reject', async (trx, row) => {
      // A refusal goes back to the board with its reason (issue 11 item 6): they must know what to change.
      if (decision === 'rejected' && comment.trim() === '') throw badRequest('REJECTION_REASON_REQUIRED', 'say why the reception is not approved', [{ field: '/comment', message: 'required when rejecting' }]);
      if (decision === 'approved' && rejectedCases.length > 0) await this.#rejectCases(trx, actor, id, rejectedCases);
      if (decision === 'approved') {
        await this.#checkProposal(trx, row);
        if (row.scheduled_start <= this.#d.clock()) throw conflict('SESSION_IN_PAST', 'the session time has passed; reschedule it');
      }
      await trx.insertInto('approvals').values({ session_id: id, kind: decision, actor_id: actor.id, comment, working_days_ahead: null, at: this.#d.clock() }).execute();
      if (decision === 'approved') await this.#d.onApproved(trx, id);
      return { reason: comment };
    });
  }

  /**
   * Đ4.2: the Chủ tịch consents to each case. Approving the session, he may leave some cases out,
   * each with its reason: they come off the agenda (and can go on another session), and the
   * decision is kept in the approvals history and the audit (references only, no personal data).
   */
  async #rejectCases(trx: Trx, actor: Actor, sessionId: string, rejected: { caseId: string; reason: string }[]): Promise<void> {
    const onAgenda = await trx
      .selectFrom('session_cases')
      .innerJoin('cases', 'cases.id', 'session_cases.case_id')
      .select(['cases.id', 'cases.reference'])
      .where('session_cases.session_id', '=', sessionId)
      .execute();
    for (const [i, r] of rejected.entries()) {
      if (!onAgenda.some((c) => c.id === r.caseId)) throw new TiepdanError('CASE_NOT_ON_AGENDA', `case ${r.caseId} is not on this session's agenda`, { details: [{ field: `/rejectedCases/${i}/caseId`, message: 'not on the agenda' }] });
      if (r.reason.trim() === '') throw badRequest('REJECTION_REASON_REQUIRED', 'say why this case is not approved', [{ field: `/rejectedCases/${i}/reason`, message: 'required when a case is left out' }]);
    }
    const at = this.#d.clock();
    for (const r of rejected) {
      const reference = onAgenda.find((c) => c.id === r.caseId)!.reference;
      await trx.deleteFrom('session_cases').where('session_id', '=', sessionId).where('case_id', '=', r.caseId).execute();
      await trx.insertInto('approvals').values({ session_id: sessionId, kind: 'case_rejected', actor_id: actor.kind === 'user' ? actor.id : null, comment: `${reference}: ${r.reason.trim()}`, working_days_ahead: null, at }).execute();
      await this.#d.audit.append(trx, actor, { action: 'session.case_rejected', entity: 'session', entityId: sessionId, after: { caseId: r.caseId, reference, reason: r.reason.trim() } });
    }
  }

  /** approved → invitations_sent; `issue` creates the invitations inside the same transaction. */
  async sendInvitations(actor: Actor, id: string, issue: (trx: Trx, sessionId: string) => Promise<number>): Promise<{ session: SessionView; issued: number; lateNotice: boolean }> {
    let issued = 0;
    let lateNotice = false;
    const session = await this.#transition(actor, id, 'send_invitations', async (trx, row) => {
      await this.#recheckProposal(trx, row);
      issued = await issue(trx, id);
      // N154 Art 23(1): notice at least 5 working days before. Late invitations still go out (a
      // session the chairman approved late must be able to run), but the lateness is recorded and shown.
      const today = localDate(this.#d.clock());
      const latest = (await this.#d.calendar.calendar([today])).subtractWorkingDays(localDate(row.scheduled_start), NOTICE_LEAD_WORKING_DAYS);
      lateNotice = today > latest;
      return { audit: { issued, notice: { latestNoticeDate: latest, today, late: lateNotice } } };
    });
    return { session, issued, lateNotice };
  }

  async reopen(actor: Actor, id: string): Promise<SessionView> {
    return this.#transition(actor, id, 'reopen', async () => undefined);
  }

  async cancel(actor: Actor, id: string, reason: string): Promise<SessionView> {
    return this.#transition(actor, id, 'cancel', async (trx) => {
      await this.#d.onClosed(trx, id, `session cancelled: ${reason}`);
      return { reason };
    });
  }

  /**
   * invitations_sent → tested: every bridge point passed its test in the T-1 working-day slot (by
   * slot, as goLive checks; a later pass in another slot does not make up for it).
   */
  async markTested(actor: Actor, id: string): Promise<SessionView> {
    return this.#transition(actor, id, 'mark_tested', async () => {
      const notPassed = await this.#d.testedGaps(id);
      if (notPassed.length > 0) throw conflict('PREFLIGHT_NOT_PASSED', `${notPassed.length} bridge point(s) have not passed their test on the working day before`, { notPassed });
    });
  }

  /**
   * Goes live when every bridge point passed its tests; otherwise only with the chair's logged
   * override: the approver role only (the chair user is one, see #checkChair), not the staff.
   */
  async goLive(actor: Actor, id: string, override?: { reason: string }): Promise<SessionView> {
    return this.#transition(actor, id, 'go_live', async (trx, row) => {
      await this.#recheckProposal(trx, row);
      const notPassed = await this.#d.goLiveGaps(id);
      if (notPassed.length === 0) return { set: { go_live_override_reason: null } };
      if (override === undefined) {
        throw conflict('GO_LIVE_TESTS_NOT_PASSED', `${notPassed.length} bridge point(s) have not passed their tests; the chair may override with a reason`, { notPassed });
      }
      const isChair = actor.role === 'approver';
      if (!isChair) throw forbidden('GO_LIVE_OVERRIDE_CHAIR_ONLY', 'only the session chair may go live before every bridge point passed its tests');
      return { set: { go_live_override_reason: override.reason }, reason: override.reason, audit: { override: true, notPassed } };
    });
  }

  async end(actor: Actor, id: string): Promise<SessionView> {
    return this.#transition(actor, id, 'end', async () => undefined);
  }

  async archive(actor: Actor, id: string): Promise<SessionView> {
    return this.#transition(actor, id, 'archive', async () => undefined);
  }

  async approvals(id: string): Promise<{ kind: string; actorId: string | null; comment: string; workingDaysAhead: number | null; at: string }[]> {
    await this.#row(this.#d.db, id);
    const rows = await this.#d.db.selectFrom('approvals').selectAll().where('session_id', '=', id).orderBy('at').execute();
    return rows.map((r) => ({ kind: r.kind, actorId: r.actor_id, comment: r.comment, workingDaysAhead: r.working_days_ahead, at: r.at.toISOString() }));
  }

  // ——— minutes ———

  async getMinutes(id: string): Promise<{ sessionId: string; text: string; version: number; updatedAt: string | null; outcomes: { caseId: string; outcome: string | null; note: string }[] }> {
    await this.#row(this.#d.db, id);
    const m = await this.#d.db.selectFrom('minutes').selectAll().where('session_id', '=', id).executeTakeFirst();
    const outcomes = await this.#d.db.selectFrom('session_cases').select(['case_id', 'outcome', 'outcome_note']).where('session_id', '=', id).orderBy('position').execute();
    const version = await latestMinutesVersion(this.#d.db, id);
    return { sessionId: id, text: m?.text ?? '', version, updatedAt: iso(m?.updated_at), outcomes: outcomes.map((o) => ({ caseId: o.case_id, outcome: o.outcome, note: o.outcome_note })) };
  }

  async putMinutes(actor: Actor, id: string, input: { text: string; baseVersion?: number | undefined; outcomes: { caseId: string; outcome: (typeof CASE_OUTCOMES)[number]; note: string }[] }) {
    await this.#d.db.transaction().execute(async (trx) => {
      const row = await this.#row(trx, id, true);
      // Archived minutes are frozen: no status after `ended` admits a new version.
      if (!['live', 'ended'].includes(row.status)) throw conflict('MINUTES_NOT_ALLOWED', `minutes are written during or after the session (session is ${row.status})`);
      const now = this.#d.clock();
      // Versioned (security review M12): a save based on an older version is refused, not merged over.
      const current = await latestMinutesVersion(trx, id);
      if (input.baseVersion !== undefined && input.baseVersion !== current) {
        throw conflict('MINUTES_VERSION_CONFLICT', `the minutes changed since version ${input.baseVersion} (now version ${current}): reload, then save again`, { baseVersion: input.baseVersion, currentVersion: current });
      }
      const latest = current === 0 ? undefined : await trx.withTables<{ minutes_versions: MinutesVersionsTable }>().selectFrom('minutes_versions').select('sha256').where('session_id', '=', id).where('version', '=', current).executeTakeFirst();
      const sha = createHash('sha256').update(input.text).digest('hex');
      if (latest?.sha256 !== sha) {
        await trx
          .withTables<{ minutes_versions: MinutesVersionsTable }>()
          .insertInto('minutes_versions')
          .values({ session_id: id, version: current + 1, text: input.text, sha256: sha, written_by: actor.kind === 'user' ? actor.id : `${actor.kind}:${actor.id}`, written_at: now })
          .execute();
      }
      await trx
        .insertInto('minutes')
        .values({ session_id: id, text: input.text, written_by: actor.kind === 'user' ? actor.id : null, updated_at: now })
        .onConflict((oc) => oc.column('session_id').doUpdateSet({ text: input.text, written_by: actor.kind === 'user' ? actor.id : null, updated_at: now }))
        .execute();
      for (const o of input.outcomes) {
        const r = await trx.updateTable('session_cases').set({ outcome: o.outcome, outcome_note: o.note }).where('session_id', '=', id).where('case_id', '=', o.caseId).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw new TiepdanError('CASE_NOT_ON_AGENDA', `case ${o.caseId} is not on this session's agenda`, { details: [{ field: '/outcomes', message: `unknown case ${o.caseId}` }] });
      }
      // The minutes hold personal data: the audit keeps their fingerprint, not their text.
      await this.#d.audit.append(trx, actor, {
        action: 'session.minutes',
        entity: 'session',
        entityId: id,
        after: { minutesSha256: sha, version: latest?.sha256 === sha ? current : current + 1, length: input.text.length, outcomes: input.outcomes.map((o) => ({ caseId: o.caseId, outcome: o.outcome })) },
      });
    });
    return this.getMinutes(id);
  }
}

/** The latest version number of a session's minutes (0: none yet). */
async function latestMinutesVersion(executor: Db | Trx, sessionId: string): Promise<number> {
  const r = await executor.withTables<{ minutes_versions: MinutesVersionsTable }>().selectFrom('minutes_versions').select((eb) => eb.fn.max('version').as('v')).where('session_id', '=', sessionId).executeTakeFirst();
  return Number(r?.v ?? 0);
}

export { SESSION_STATUSES };
