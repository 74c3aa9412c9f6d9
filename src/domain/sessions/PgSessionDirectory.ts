import type { Db } from '../../db/database.ts';
import { staffLiveRole } from '../invitations/staffRoles.ts';
import type { LiveSessionSettings, SessionDirectory, StandingClaims, TokenStanding } from '../sessionDirectory.ts';
import { admissionOf, type SessionStatus } from './lifecycle.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The SessionDirectory the live-media side uses in production: sessions and invitations as the
 * control API stores them in PostgreSQL. Admission follows the life-cycle: invitations sent,
 * tested, live → open; draft, submitted, approved, cancelled, rejected → not_open; ended,
 * archived → ended. A revoked (or re-issued) invitation's token id is revoked.
 */
export class PgSessionDirectory implements SessionDirectory {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async get(sessionId: string): Promise<LiveSessionSettings | undefined> {
    if (!UUID.test(sessionId)) return undefined;
    const row = await this.#db
      .selectFrom('sessions')
      .select(['id', 'title', 'status', 'max_peers', 'lobby_enabled', 'endpoints_see_each_other', 'auto_record', 'participant_recording_allowed'])
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      id: row.id,
      title: row.title,
      admission: admissionOf(row.status as SessionStatus),
      maxPeers: row.max_peers,
      lobbyEnabled: row.lobby_enabled,
      endpointsSeeEachOther: row.endpoints_see_each_other,
      autoRecord: row.auto_record,
      live: row.status === 'live',
      participantRecordingAllowed: row.participant_recording_allowed,
    };
  }

  /**
   * Fail closed (security review L1): a paper invitation admits only if its jti is stored with the
   * same session, subject and role and is not revoked; a staff member's personal credential (uid)
   * only while that user is active and still holds a role that gives this live role. Anything
   * else is `unknown`, however good its signature: the key alone no longer opens a session.
   */
  async tokenStanding(claims: StandingClaims): Promise<TokenStanding> {
    if (claims.uid !== undefined) {
      if (!UUID.test(claims.uid) || claims.sub !== `user:${claims.uid}`) return 'unknown';
      const user = await this.#db.selectFrom('users').select(['active', 'role']).where('id', '=', claims.uid).executeTakeFirst();
      if (user === undefined) return 'unknown';
      return user.active && staffLiveRole(user.role) === claims.role ? 'valid' : 'revoked';
    }
    const row = await this.#db.selectFrom('invitations').select(['session_id', 'subject', 'role', 'revoked_at']).where('jti', '=', claims.jti).executeTakeFirst();
    if (row === undefined || row.session_id !== claims.sid || row.subject !== claims.sub || row.role !== claims.role) return 'unknown';
    return row.revoked_at === null ? 'valid' : 'revoked';
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    const row = await this.#db.selectFrom('invitations').select('revoked_at').where('jti', '=', jti).executeTakeFirst();
    return row !== undefined && row.revoked_at !== null;
  }
}
