import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { TiepdanError } from '../../errors.ts';
import { DENOUNCER_IDENTITY_ROLES, type UserRole } from '../../domain/common/roles.ts';

/**
 * The denouncer rule applied to recordings (security review M3): a session with a tố cáo case
 * shows the denouncer's face and voice, so its recording — list entry, manifest (participants'
 * names), segments, playable copy, exports — is for the roles that may know a denouncer's
 * identity (Luật Tố cáo Art 8–9, as for the case's people: cases/confidentiality.ts). A waiver
 * lets the denunciation be received online; it does not widen who sees the identity.
 */
export const DENUNCIATION = 'to_cao';

export function seesDenunciations(role: UserRole | undefined): boolean {
  return role !== undefined && DENOUNCER_IDENTITY_ROLES.includes(role);
}

export function denouncerProtected(sessionId: string): TiepdanError {
  return new TiepdanError('RECORDING_DENOUNCER_PROTECTED', `session ${sessionId} includes a denunciation (tố cáo): its recording is for ${DENOUNCER_IDENTITY_ROLES.join(' and ')} only`);
}

/** Which sessions carry which case types (the control API's tables). */
export interface SessionCaseTypes {
  /** Case types on one session; [] for a session with no cases or not in the control API. */
  of(sessionId: string): Promise<string[]>;
  /** Every session with a tố cáo case. */
  denunciationSessions(): Promise<ReadonlySet<string>>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads session_cases ⋈ cases. A failing query fails the request (never "no cases, so open"). A
 * recording id that is not a UUID has no control-API session (development sessions).
 */
export function sessionCaseTypesFromDb(db: Db): SessionCaseTypes {
  return {
    async of(sessionId) {
      if (!UUID.test(sessionId)) return [];
      const rows = await db.selectFrom('session_cases').innerJoin('cases', 'cases.id', 'session_cases.case_id').select('cases.type').where('session_cases.session_id', '=', sessionId).execute();
      return [...new Set(rows.map((r) => r.type))];
    },
    async denunciationSessions() {
      const rows = await db
        .selectFrom('session_cases')
        .innerJoin('cases', 'cases.id', 'session_cases.case_id')
        .select(sql<string>`session_cases.session_id::text`.as('session_id'))
        .where('cases.type', '=', DENUNCIATION)
        .distinct()
        .execute();
      return new Set(rows.map((r) => r.session_id));
    },
  };
}
