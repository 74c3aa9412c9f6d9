import { EventEmitter } from 'node:events';
import type { Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';
import type { TokenSigner } from '../../tokens/tokenSigner.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Clock } from '../common/clock.ts';
import { conflict, forbidden, notFound } from '../common/errors.ts';
import type { Actor } from '../common/roles.ts';
import type { SettingsStore } from '../settings/controlSettings.ts';
import type { SessionService, SessionView } from '../sessions/sessionService.ts';
import { TiepdanError } from '../../errors.ts';
import { newJoinCode } from './joinCode.ts';
import type { InvitationView } from '../../contract/views/invitation.ts';

export type { InvitationView };
import { staffLiveRole } from './staffRoles.ts';

type Trx = Transaction<DatabaseSchema>;

/**
 * Invitations (giấy mời, Quy chế Điều 6.1.c): one per bridge point and per named participant of a
 * session, each carrying an expiring single-session token — exactly what the signaling layer
 * admits. The token id (jti) is kept so that an invitation can be revoked or re-issued; the
 * display name is the bridge point's name or a role label, never a complainant's name.
 */

type InvitationRow = {
  id: string;
  session_id: string;
  bridge_point_id: string | null;
  participant_id: string | null;
  subject: string;
  role: string;
  display_name: string;
  jti: string;
  token: string;
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string;
  join_code: string | null;
};

/** Sessions in which invitations may be issued or re-issued. */
const ISSUABLE = ['approved', 'invitations_sent', 'tested', 'live'];
/** A staff credential outlives no working day: a new one is asked for at the next console load. */
const STAFF_CREDENTIAL_MAX_SECONDS = 12 * 3600;
/** Invitation roles whose token a technician is not shown (the chair's credential, H3). */
const WITHHELD_FROM_TECHNICIANS = ['host'];

/** What the live side listens to: an invitation stopped admitting (revoked, or replaced by a re-issue). */
export type InvitationServiceEvents = { revoked: [{ sessionId: string; jti: string }] };

export class InvitationService extends EventEmitter<InvitationServiceEvents> {
  readonly #db: Db;
  readonly #signer: TokenSigner;
  readonly #audit: AuditLog;
  readonly #settings: SettingsStore;
  readonly #sessions: SessionService;
  readonly #clock: Clock;

  constructor(deps: { db: Db; signer: TokenSigner; audit: AuditLog; settings: SettingsStore; sessions: SessionService; clock: Clock }) {
    super();
    this.#db = deps.db;
    this.#signer = deps.signer;
    this.#audit = deps.audit;
    this.#settings = deps.settings;
    this.#sessions = deps.sessions;
    this.#clock = deps.clock;
  }

  view(r: InvitationRow): InvitationView {
    const now = this.#clock();
    return {
      id: r.id,
      sessionId: r.session_id,
      bridgePointId: r.bridge_point_id,
      participantId: r.participant_id,
      subject: r.subject,
      role: r.role,
      displayName: r.display_name,
      jti: r.jti,
      token: r.token,
      status: r.revoked_at !== null ? 'revoked' : r.expires_at <= now ? 'expired' : 'active',
      issuedAt: r.issued_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      revokedAt: r.revoked_at === null ? null : r.revoked_at.toISOString(),
      revokedReason: r.revoked_reason,
    };
  }

  /** The view a reader gets: a technician never sees a chair's token (it would let them act as chair). */
  #viewFor(r: InvitationRow, actor: Actor | undefined): InvitationView {
    const v = this.view(r);
    return actor?.role === 'technician' && WITHHELD_FROM_TECHNICIANS.includes(r.role) ? { ...v, token: null } : v;
  }

  async #ttlSeconds(trx: Db | Trx, sessionId: string): Promise<number> {
    const session = await trx.selectFrom('sessions').select(['scheduled_end']).where('id', '=', sessionId).executeTakeFirstOrThrow();
    const grace = (await this.#settings.get()).invitationGraceHours;
    const ttl = Math.floor((session.scheduled_end.getTime() + grace * 3_600_000 - this.#clock().getTime()) / 1000);
    if (ttl <= 0) throw conflict('SESSION_IN_PAST', 'the session is over: no invitation can be issued for it');
    return ttl;
  }

  async #issueOne(trx: Trx, actor: Actor, target: { sessionId: string; bridgePointId: string | null; participantId: string | null; subject: string; role: string; displayName: string }, ttlSeconds: number): Promise<InvitationRow> {
    const now = this.#clock();
    const { token, claims } = this.#signer.issue({
      kind: 'invitation',
      sessionId: target.sessionId,
      subject: target.subject,
      role: target.role,
      displayName: target.displayName.slice(0, 120),
      ttlSeconds,
      now,
    });
    const row = await trx
      .insertInto('invitations')
      .values({
        session_id: target.sessionId,
        bridge_point_id: target.bridgePointId,
        participant_id: target.participantId,
        subject: target.subject,
        role: target.role,
        display_name: target.displayName,
        jti: claims.jti,
        token,
        issued_at: now,
        expires_at: new Date(claims.exp * 1000),
        revoked_at: null,
        issued_by: actor.kind === 'user' ? actor.id : null,
        // 50 random bits: a clash with a stored code (unique index) is not worth a retry loop.
        join_code: newJoinCode(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const { token: _secret, ...auditable } = this.view(row);
    // The join code stands for the token: it stays out of the audit trail too (view() omits it).
    await this.#audit.append(trx, actor, { action: 'invitation.issue', entity: 'invitation', entityId: row.id, after: auditable });
    return row;
  }

  /**
   * A staff member's own live credential for a session (security review H3), derived from their
   * login instead of the session's stored host invitation, which used to be handed to every
   * technician: the chair's roles get `host`, a technician gets `technician` (statistics only).
   * Each user is their own peer (`user:<id>`), so every mute, eject, admit, end and recording
   * action in the session is audited with the person who did it. Not stored: it lives at most
   * `STAFF_CREDENTIAL_MAX_SECONDS` and no longer than the session's invitations.
   */
  async issueStaffCredential(actor: Actor, sessionId: string): Promise<{ token: string; role: 'host' | 'technician'; expiresAt: string }> {
    if (actor.kind !== 'user' || actor.role === undefined) throw forbidden('STAFF_CREDENTIAL_USERS_ONLY', 'only a logged-in staff member gets a personal live credential');
    const role = staffLiveRole(actor.role);
    if (role === undefined) throw forbidden('STAFF_CREDENTIAL_ROLE', 'your role takes no part in a live session from the console');
    const session = await this.#db.selectFrom('sessions').select(['status']).where('id', '=', sessionId).executeTakeFirst();
    if (session === undefined) throw notFound('session', sessionId);
    if (!ISSUABLE.includes(session.status)) throw conflict('SESSION_NOT_LIVE_READY', `a live credential is issued for an approved or live session (this one is ${session.status})`);
    const ttlSeconds = Math.min(await this.#ttlSeconds(this.#db, sessionId), STAFF_CREDENTIAL_MAX_SECONDS);
    const { token, claims } = this.#signer.issue({
      kind: 'invitation',
      sessionId,
      subject: `user:${actor.id}`,
      role,
      displayName: `${role === 'host' ? 'Chủ trì' : 'Kỹ thuật viên'} (${actor.label})`.slice(0, 120),
      user: { id: actor.id, role: actor.role },
      ttlSeconds,
      now: this.#clock(),
    });
    const expiresAt = new Date(claims.exp * 1000).toISOString();
    await this.#audit.append(this.#db, actor, { action: 'live.credential.issue', entity: 'session', entityId: sessionId, after: { role, jti: claims.jti, expiresAt } });
    return { token, role, expiresAt };
  }

  /** Issues every missing invitation of a session (approved → invitations_sent on the first call). */
  async send(actor: Actor, sessionId: string): Promise<{ session: SessionView; issued: number; lateNotice: boolean; invitations: InvitationView[] }> {
    const { session, issued, lateNotice } = await this.#sessions.sendInvitations(actor, sessionId, async (trx, id) => {
      const ttl = await this.#ttlSeconds(trx, id);
      const now = this.#clock();
      const existing = await trx.selectFrom('invitations').select(['subject']).where('session_id', '=', id).where('revoked_at', 'is', null).where('expires_at', '>', now).execute();
      const have = new Set(existing.map((e) => e.subject));
      const points = await trx
        .selectFrom('session_bridge_points')
        .innerJoin('bridge_points', 'bridge_points.id', 'session_bridge_points.bridge_point_id')
        .select(['bridge_points.id', 'bridge_points.name', 'bridge_points.kind'])
        .where('session_bridge_points.session_id', '=', id)
        .execute();
      const participants = await trx.selectFrom('session_participants').selectAll().where('session_id', '=', id).execute();
      let n = 0;
      for (const p of points) {
        if (have.has(p.id)) continue;
        await this.#issueOne(trx, actor, { sessionId: id, bridgePointId: p.id, participantId: null, subject: p.id, role: p.kind === 'central' ? 'central' : 'endpoint', displayName: p.name }, ttl);
        n++;
      }
      for (const p of participants) {
        if (have.has(p.id)) continue;
        await this.#issueOne(trx, actor, { sessionId: id, bridgePointId: p.bridge_point_id, participantId: p.id, subject: p.id, role: p.role, displayName: p.label }, ttl);
        n++;
      }
      return n;
    });
    return { session, issued, lateNotice, invitations: await this.list(sessionId) };
  }

  async list(sessionId: string, actor?: Actor): Promise<InvitationView[]> {
    let q = this.#db.selectFrom('invitations').selectAll().where('session_id', '=', sessionId);
    if (actor?.role === 'commune_operator') q = q.where('bridge_point_id', '=', actor.bridgePointId ?? '00000000-0000-0000-0000-000000000000');
    const rows = await q.orderBy('issued_at').orderBy('display_name').execute();
    return rows.map((r) => this.#viewFor(r, actor));
  }

  async get(id: string, actor?: Actor): Promise<InvitationView> {
    const row = await this.#db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('invitation', id);
    // Null-safe: a point-less (host, observer) invitation is no operator's own (security review L5).
    if (actor?.role === 'commune_operator' && (actor.bridgePointId === null || row.bridge_point_id !== actor.bridgePointId)) throw forbidden('INVITATION_OTHER_POINT', 'a commune operator sees the invitations of their own bridge point only');
    return this.#viewFor(row, actor);
  }

  /**
   * The invitation's short join code, for its printout (the caller has been allowed to read the
   * invitation and its token). Rows issued before migration 0530 get one on their first print.
   */
  async joinCode(id: string): Promise<string> {
    const row = await this.#db.selectFrom('invitations').select(['join_code']).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('invitation', id);
    if (row.join_code !== null) return row.join_code;
    await this.#db.updateTable('invitations').set({ join_code: newJoinCode() }).where('id', '=', id).where('join_code', 'is', null).execute();
    const after = await this.#db.selectFrom('invitations').select(['join_code']).where('id', '=', id).executeTakeFirstOrThrow();
    return after.join_code!;
  }

  /**
   * Exchanges a join code typed at /m (or read from the printed QR code) for its invitation's
   * token: refused once the invitation is revoked, re-issued or expired, exactly like the token.
   * Every successful exchange is audited with the invitation as actor and the caller's address.
   */
  async redeemJoinCode(code: string, from: { address: string }): Promise<{ token: string; invitationId: string; sessionId: string }> {
    const row = await this.#db.selectFrom('invitations').selectAll().where('join_code', '=', code).executeTakeFirst();
    if (row === undefined) throw new TiepdanError('JOIN_CODE_UNKNOWN', 'no invitation has this code');
    const status = this.view(row).status;
    if (status === 'revoked') throw new TiepdanError('JOIN_CODE_REVOKED', 'this invitation was revoked or replaced by a new one');
    if (status === 'expired') throw new TiepdanError('JOIN_CODE_EXPIRED', 'this invitation has expired');
    const actor: Actor = { kind: 'invitation', id: row.jti, role: undefined, label: row.display_name, bridgePointId: row.bridge_point_id, sessionId: row.session_id, subject: row.subject };
    await this.#audit.append(this.#db, actor, { action: 'invitation.join_code.redeem', entity: 'invitation', entityId: row.id, after: { jti: row.jti, address: from.address } });
    return { token: row.token, invitationId: row.id, sessionId: row.session_id };
  }

  async revoke(actor: Actor, id: string, reason: string): Promise<InvitationView> {
    const { view, revokedNow } = await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('invitations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (row === undefined) throw notFound('invitation', id);
      if (row.revoked_at !== null) return { view: this.view(row), revokedNow: undefined };
      const after = await trx.updateTable('invitations').set({ revoked_at: this.#clock(), revoked_reason: reason }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      await this.#audit.append(trx, actor, { action: 'invitation.revoke', entity: 'invitation', entityId: id, before: { status: this.view(row).status }, after: { status: 'revoked', reason, jti: row.jti } });
      return { view: this.view(after), revokedNow: { sessionId: row.session_id, jti: row.jti } };
    });
    // After the commit: the live side disconnects whoever is in the session with it.
    if (revokedNow) this.emit('revoked', revokedNow);
    return view;
  }

  /** Revokes the invitation and issues a new one for the same bridge point or participant. */
  async reissue(actor: Actor, id: string): Promise<InvitationView> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('invitations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
      if (row === undefined) throw notFound('invitation', id);
      const session = await trx.selectFrom('sessions').select(['status']).where('id', '=', row.session_id).forUpdate().executeTakeFirstOrThrow();
      if (!ISSUABLE.includes(session.status)) throw conflict('INVITATION_SESSION_CLOSED', `invitations cannot be re-issued for a ${session.status} session`);
      if (row.revoked_at === null) {
        await trx.updateTable('invitations').set({ revoked_at: this.#clock(), revoked_reason: 'reissued' }).where('id', '=', id).execute();
      }
      const fresh = await this.#issueOne(
        trx,
        actor,
        { sessionId: row.session_id, bridgePointId: row.bridge_point_id, participantId: row.participant_id, subject: row.subject, role: row.role, displayName: row.display_name },
        await this.#ttlSeconds(trx, row.session_id),
      );
      await this.#audit.append(trx, actor, { action: 'invitation.reissue', entity: 'invitation', entityId: id, after: { replacedBy: fresh.id, revokedJti: row.jti } });
      return { view: this.view(fresh), revoked: { sessionId: row.session_id, jti: row.jti } };
    }).then(({ view, revoked }) => {
      this.emit('revoked', revoked);
      return view;
    });
  }

  /** Revokes every invitation of a session (cancellation). */
  async revokeAll(trx: Trx, sessionId: string, reason: string): Promise<void> {
    await trx.updateTable('invitations').set({ revoked_at: this.#clock(), revoked_reason: reason }).where('session_id', '=', sessionId).where('revoked_at', 'is', null).execute();
  }
}
