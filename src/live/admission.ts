import type { LiveSessionSettings, SessionDirectory } from '../domain/sessionDirectory.ts';
import { TiepdanError } from '../errors.ts';
import type { LiveStore } from '../store/LiveStore.ts';
import { PARTICIPANT_ROLES, type ParticipantRole, type TokenClaims, type TokenSigner } from '../tokens/tokenSigner.ts';
import { PROTOCOL_VERSION } from '../contract/signalingConstants.ts';

/** An invitation's claims once admission accepted them: a session and a live role. */
export type AdmittedClaims = TokenClaims & { sid: string; role: ParticipantRole };

export interface Admitted {
  claims: AdmittedClaims;
  settings: LiveSessionSettings;
}

const isRole = (role: string): role is ParticipantRole => (PARTICIPANT_ROLES as readonly string[]).includes(role);

/**
 * Who may enter a live session (LiveKit checks this in rtcservice before the room manager):
 * the protocol version, the invitation token (signature, expiry, session), whether it was issued
 * and not withdrawn, the session's admission state, and what the LiveStore remembers across a
 * restart: a session the host ended, an invitation the host ejected. Errors, in this order:
 * PROTOCOL_VERSION_UNSUPPORTED, TOKEN_INVALID/TOKEN_EXPIRED, TOKEN_WRONG_SESSION, TOKEN_REVOKED,
 * SESSION_NOT_FOUND, SESSION_ENDED, SESSION_NOT_OPEN, PEER_EJECTED.
 */
export class Admission {
  readonly #tokens: TokenSigner;
  readonly #directory: SessionDirectory;
  readonly #store: LiveStore;

  constructor(options: { tokens: TokenSigner; directory: SessionDirectory; store: LiveStore }) {
    this.#tokens = options.tokens;
    this.#directory = options.directory;
    this.#store = options.store;
  }

  async admit(join: { protocolVersion: number; sessionId: string; token: string }): Promise<Admitted> {
    if (join.protocolVersion !== PROTOCOL_VERSION) {
      throw new TiepdanError('PROTOCOL_VERSION_UNSUPPORTED', `this server speaks protocol version ${PROTOCOL_VERSION}`, { details: { supported: [PROTOCOL_VERSION] } });
    }
    const claims = this.#tokens.verify(join.token);
    if (claims.kind !== 'invitation' || claims.sid === undefined || !isRole(claims.role)) {
      throw new TiepdanError('TOKEN_INVALID', 'the token is not an invitation to a session');
    }
    if (claims.sid !== join.sessionId) throw new TiepdanError('TOKEN_WRONG_SESSION', 'this invitation is for another session');
    const standing = await this.#directory.tokenStanding(claims);
    if (standing === 'revoked') throw new TiepdanError('TOKEN_REVOKED', 'this invitation was withdrawn; ask the organiser for a new one');
    // Signed with the real key but never issued (L1): the same answer as a bad signature.
    if (standing !== 'valid') throw new TiepdanError('TOKEN_INVALID', 'the token is not an invitation to a session');
    const settings = await this.#directory.get(claims.sid);
    if (settings === undefined) throw new TiepdanError('SESSION_NOT_FOUND', 'no such session');
    if (settings.admission === 'ended' || (await this.#store.isEnded(settings.id))) throw new TiepdanError('SESSION_ENDED', 'the session has ended');
    if (settings.admission !== 'open') throw new TiepdanError('SESSION_NOT_OPEN', 'the session is not open yet');
    if (await this.#store.isEjected(settings.id, claims.jti)) throw new TiepdanError('PEER_EJECTED', 'the host removed you from this session');
    return { claims: { ...claims, sid: claims.sid, role: claims.role }, settings };
  }

  /** The host removed this invitation's holder: it cannot come back (a re-issued invitation can). */
  eject(sessionId: string, jti: string): Promise<void> {
    return this.#store.eject(sessionId, jti);
  }

  /** The session ended (by its host, or the control API): later joins get SESSION_ENDED. */
  markEnded(sessionId: string): Promise<void> {
    return this.#store.markEnded(sessionId);
  }
}
