import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TiepdanError } from '../errors.ts';

/**
 * Signed, expiring, scoped credentials. An invitation token binds one session, one subject (a
 * bridge point or a person) and one role; the signaling layer admits with it, the control API
 * issues it. Tokens are HMAC-SHA256 signed (key in DATA_DIR/token.key, mode 0600) so any node
 * holding the key verifies them without a database round trip; revocation, where needed, is a
 * store lookup of the token id (`jti`) layered on top.
 */

export const TOKEN_KINDS = ['invitation', 'user'] as const;
// The live roles are part of the signaling contract (the browser names them too); kept importable
// from here, where the invitation claims are, for the control API's many users of them.
import { PARTICIPANT_ROLES, type ParticipantRole } from '../contract/signalingConstants.ts';
export { PARTICIPANT_ROLES, type ParticipantRole };

export const tokenClaimsSchema = z.object({
  /** Token id, unique: lets a store revoke one token or find "the same invitation" on reconnect. */
  jti: z.string().min(8).max(64),
  kind: z.enum(TOKEN_KINDS),
  /** The session the token admits to (invitation tokens). */
  sid: z.string().min(1).max(64).optional(),
  /** Subject: participant / bridge point / user id. */
  sub: z.string().min(1).max(128),
  role: z.string().min(1).max(32),
  /** Display name shown to other participants (no personal data beyond what the chair shows). */
  name: z.string().max(120).optional(),
  /**
   * A staff member's personal live credential (security review H3): the id of the user whose login
   * it was derived from, and that user's role. Absent on a bridge point's paper invitation.
   */
  uid: z.string().min(1).max(64).optional(),
  urole: z.string().min(1).max(32).optional(),
  /** Issued-at and expiry, seconds since the epoch. */
  iat: z.number().int(),
  exp: z.number().int(),
});
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

export interface IssueOptions {
  kind: TokenClaims['kind'];
  sessionId?: string;
  subject: string;
  role: string;
  displayName?: string;
  /** For a staff member's personal credential: the user it is derived from. */
  user?: { id: string; role: string };
  /** Lifetime in seconds. */
  ttlSeconds: number;
  now?: Date;
}

const MAX_TOKEN_LENGTH = 2048;
/** Verified tokens remembered (see `verify`); the oldest goes first past it. */
const MAX_VERIFIED = 10_000;

export class TokenSigner {
  readonly #key: Buffer;
  /**
   * Tokens whose signature and shape were checked, by their exact text (issue 14 item 4): the
   * HMAC, base64 and zod parse cost ≈ 0.3 ms of the server's CPU on every user request, what made
   * the token path slower than the API key's. The key never changes in a process, so the same
   * text always verifies the same way; only successes are kept (a forger cannot fill it), and
   * expiry is still judged on every call.
   */
  readonly #verified = new Map<string, TokenClaims>();

  constructor(key: Buffer) {
    if (key.length < 32) throw new TiepdanError('TOKEN_KEY_TOO_SHORT', 'token signing key must be at least 32 bytes');
    this.#key = key;
  }

  /** Loads DATA_DIR/token.key, creating a random one (mode 0600) on first start. */
  static async fromDataDir(dataDir: string): Promise<TokenSigner> {
    const file = path.join(dataDir, 'token.key');
    if (!existsSync(file)) {
      await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err; // another process made it first: use theirs
      });
    }
    return new TokenSigner(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }

  issue(options: IssueOptions): { token: string; claims: TokenClaims } {
    if (!(options.ttlSeconds > 0)) throw new TiepdanError('TOKEN_TTL_INVALID', 'token lifetime must be positive');
    const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const claims: TokenClaims = tokenClaimsSchema.parse({
      jti: randomUUID(),
      kind: options.kind,
      sid: options.sessionId,
      sub: options.subject,
      role: options.role,
      name: options.displayName,
      // Only on a staff credential: absent keys, not undefined ones (a verified token has none).
      ...(options.user ? { uid: options.user.id, urole: options.user.role } : {}),
      iat,
      exp: iat + Math.floor(options.ttlSeconds),
    });
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `td1.${payload}.${this.#sign(payload)}`, claims };
  }

  /**
   * Verifies signature, shape and expiry. Errors: TOKEN_INVALID (malformed, bad signature: the
   * same code for both, so a forger learns nothing) and TOKEN_EXPIRED.
   */
  verify(token: unknown, now: Date = new Date()): TokenClaims {
    const invalid = () => new TiepdanError('TOKEN_INVALID', 'the token is not valid');
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid();
    const known = this.#verified.get(token);
    if (known !== undefined) return checkExpiry(known, now);
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'td1') throw invalid();
    const [, payload, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.#sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    const parsed = tokenClaimsSchema.safeParse(decoded);
    if (!parsed.success) throw invalid();
    if (this.#verified.size >= MAX_VERIFIED) {
      const oldest = this.#verified.keys().next();
      if (oldest.done !== true) this.#verified.delete(oldest.value);
    }
    this.#verified.set(token, parsed.data);
    return checkExpiry(parsed.data, now);
  }
}

/** A copy of the claims (callers may keep or change theirs), or TOKEN_EXPIRED. */
function checkExpiry(claims: TokenClaims, now: Date): TokenClaims {
  if (claims.exp * 1000 <= now.getTime()) {
    throw new TiepdanError('TOKEN_EXPIRED', 'the token has expired; ask the organiser for a new invitation');
  }
  return { ...claims };
}
