import type { TokenClaims } from '../tokens/tokenSigner.ts';

/**
 * What the live-media side (signaling, SFU rooms, recorder) needs to know about a reception
 * session, without knowing how the control API stores it. The control API provides the
 * PostgreSQL-backed implementation; InMemorySessionDirectory serves tests and the embedded
 * development path. One interface, a local and a distributed implementation.
 */
export interface LiveSessionSettings {
  id: string;
  title: string;
  /**
   * Whether participants may connect now: `open` (invitations sent, tests, rehearsal, live),
   * `not_open` (draft/awaiting approval, or cancelled/rejected), `ended` (ended or archived).
   */
  admission: 'open' | 'not_open' | 'ended';
  /** Maximum simultaneous peers in the session. */
  maxPeers: number;
  /** Joiners other than host/technician wait in a lobby until the host admits them. */
  lobbyEnabled: boolean;
  /** Whether commune endpoints see each other (the chair may allow it); the central room always sees all. */
  endpointsSeeEachOther: boolean;
  /**
   * The session records automatically (else the host starts it). When that happens is the
   * recording policy's rule (live/recordingPolicy.ts): only once the session is `live`.
   */
  autoRecord: boolean;
  /**
   * The session itself is under way (status `live`), not its pre-flight tests or rehearsal.
   * Absent where the directory has no life-cycle (the in-memory development one): counted as live.
   */
  live?: boolean;
  /** The chair allows endpoints to record locally (national decree: default off). */
  participantRecordingAllowed: boolean;
}

/**
 * What the store says of a signed invitation token: `valid` (issued here, for this session, subject
 * and role, not withdrawn), `revoked` (withdrawn, re-issued, its staff user disabled), `unknown`
 * (never issued: a token minted with a stolen key, security review L1). Only `valid` admits.
 */
export type TokenStanding = 'valid' | 'revoked' | 'unknown';

/** The claims a standing is decided on (from a verified token). */
export type StandingClaims = Pick<TokenClaims, 'jti' | 'sid' | 'sub' | 'role' | 'uid'>;

export interface SessionDirectory {
  /** The session's settings, or undefined if no such session exists. */
  get(sessionId: string): Promise<LiveSessionSettings | undefined>;
  /** True when the token with this id was revoked (e.g. an invitation re-issued). */
  isTokenRevoked(jti: string): Promise<boolean>;
  /** Whether a verified invitation token admits (signaling join, pre-flight loopback). */
  tokenStanding(claims: StandingClaims): Promise<TokenStanding>;
}

/** A directory kept in memory: tests, and sessions made with the development CLI. */
export class InMemorySessionDirectory implements SessionDirectory {
  readonly #sessions = new Map<string, LiveSessionSettings>();
  readonly #revoked = new Set<string>();

  put(settings: LiveSessionSettings): void {
    this.#sessions.set(settings.id, { ...settings });
  }

  update(sessionId: string, patch: Partial<Omit<LiveSessionSettings, 'id'>>): void {
    const s = this.#sessions.get(sessionId);
    if (s !== undefined) this.#sessions.set(sessionId, { ...s, ...patch });
  }

  revoke(jti: string): void {
    this.#revoked.add(jti);
  }

  async get(sessionId: string): Promise<LiveSessionSettings | undefined> {
    const s = this.#sessions.get(sessionId);
    return s === undefined ? undefined : { ...s };
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    return this.#revoked.has(jti);
  }

  /**
   * Development and tests only: tokens are minted straight from the signer (no store records
   * them), so any token not revoked here is valid. Production uses PgSessionDirectory (fail closed).
   */
  async tokenStanding(claims: StandingClaims): Promise<TokenStanding> {
    return this.#revoked.has(claims.jti) ? 'revoked' : 'valid';
  }
}

export const DEFAULT_SESSION_SETTINGS: Omit<LiveSessionSettings, 'id' | 'title'> = {
  admission: 'open',
  maxPeers: 50,
  lobbyEnabled: false,
  endpointsSeeEachOther: false,
  autoRecord: true,
  participantRecordingAllowed: false,
};
