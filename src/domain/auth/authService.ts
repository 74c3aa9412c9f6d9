// Why one file: every way an actor proves who it is (password login and lockout, bearer tokens,
// API keys, the verified-credential cache and its revocation) shares the same tables and rules;
// passwords and the cache are already their own modules.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { TokenSigner } from '../../tokens/tokenSigner.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Clock } from '../common/clock.ts';
import { conflict, isForeignKeyViolation, isUniqueViolation, notFound } from '../common/errors.ts';
import { iso, type Page, type Paged } from '../common/paging.ts';
import { API_KEY_ROLES, USER_ROLES, type Actor, type UserRole } from '../common/roles.ts';
import { hashPassword, randomPassword, verifyPassword } from './passwords.ts';
import type { ApiKeyView, UserView } from '../../contract/views/user.ts';
import { VerifiedCredentials } from './verifiedCredentials.ts';

type BearerActor = Actor & { jti: string; passwordChangeRequired?: boolean };
/** API keys' last use is written at most this often per key (it is informative only). */
const LAST_USED_WRITE_MS = 60_000;

export interface AuthOptions {
  tokenTtlSeconds: number;
  maxFailedLogins: number;
  lockoutSeconds: number;
}

export const DEFAULT_AUTH_OPTIONS: AuthOptions = { tokenTtlSeconds: 8 * 3600, maxFailedLogins: 5, lockoutSeconds: 15 * 60 };


export type { ApiKeyView, UserView };

const API_KEY_PREFIX = 'tdk_';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const asRole = (r: string): UserRole => ((USER_ROLES as readonly string[]).includes(r) ? (r as UserRole) : 'auditor');

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: string;
  bridge_point_id: string | null;
  active: boolean;
  locked_until: Date | null;
  last_login_at: Date | null;
  created_at: Date;
}

function userView(u: UserRow): UserView {
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    role: asRole(u.role),
    bridgePointId: u.bridge_point_id,
    active: u.active,
    lockedUntil: iso(u.locked_until),
    lastLoginAt: iso(u.last_login_at),
    createdAt: u.created_at.toISOString(),
  };
}

const userColumns = ['id', 'username', 'display_name', 'role', 'bridge_point_id', 'active', 'locked_until', 'last_login_at', 'created_at'] as const;

/** Users, password login with lockout, bearer tokens that can be revoked, and API keys. */
export class AuthService {
  readonly #db: Db;
  readonly #signer: TokenSigner;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly options: AuthOptions;
  /** DATA_DIR/initial-admin-password, once bootstrapAdmin has been called. */
  #initialPasswordFile: string | undefined;
  /** User tokens by jti (owner: the user) and API keys by hash (owner: the key), verified recently. */
  readonly #tokens: VerifiedCredentials<BearerActor>;
  readonly #keys: VerifiedCredentials<Actor>;
  /** When each key's last use was last written. */
  readonly #keyUseWritten = new Map<string, number>();

  constructor(deps: { db: Db; signer: TokenSigner; audit: AuditLog; clock: Clock; logger: Logger; options?: Partial<AuthOptions> }) {
    this.#db = deps.db;
    this.#signer = deps.signer;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#logger = deps.logger.child({ component: 'auth' });
    this.options = { ...DEFAULT_AUTH_OPTIONS, ...deps.options };
    const now = () => this.#clock().getTime();
    this.#tokens = new VerifiedCredentials({ now });
    this.#keys = new VerifiedCredentials({ now });
  }

  /**
   * First start with no users: create `admin` with a random password written once to
   * DATA_DIR/initial-admin-password (0600). Only the file's path is logged. The file is deleted
   * when that password is changed (see setPassword).
   */
  async bootstrapAdmin(dataDir: string): Promise<{ created: boolean; passwordFile?: string }> {
    const file = path.join(dataDir, 'initial-admin-password');
    // Also on later starts: a file not yet deleted is still removed at the password change.
    this.#initialPasswordFile = file;
    const existing = await this.#db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (existing !== undefined) return { created: false };
    const password = randomPassword();
    await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('users')
        .values({ username: 'admin', display_name: 'Quản trị hệ thống', role: 'admin', bridge_point_id: null, password_hash: await hashPassword(password), locked_until: null, last_login_at: null })
        .onConflict((oc) => oc.column('username').doNothing())
        .returning(['id'])
        .executeTakeFirst();
      if (row === undefined) return; // another process won the race
      await writeFile(file, `${password}\n`, { mode: 0o600 });
      await this.#audit.append(trx, { kind: 'system', id: 'system', role: undefined, label: 'system', bridgePointId: null }, {
        action: 'user.bootstrap',
        entity: 'user',
        entityId: row.id,
        after: { username: 'admin', role: 'admin' },
      });
    });
    this.#logger.warn({ passwordFile: file }, 'created the first administrator "admin"; its password is in the file named here — change it after the first login (the file is then deleted)');
    return { created: true, passwordFile: file };
  }

  // ——— login and tokens ———

  /**
   * Password login. A locked account, an unknown user and a wrong password get the same answer
   * (LOGIN_FAILED, 401), so the lockout does not tell which user names exist (security review M5).
   */
  async login(usernameInput: string, password: string): Promise<{ token: string; expiresAt: string; user: UserView; passwordChangeRequired: boolean }> {
    const username = usernameInput.trim().toLowerCase();
    const user = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    const failed = () => new TiepdanError('LOGIN_FAILED', 'wrong user name or password');
    const now = this.#clock();
    if (user === undefined) {
      await hashPassword(password); // same cost as a real check: user names are not revealed by timing
      throw failed();
    }
    const attempt = await this.#countAttempt(user.id);
    if (attempt === undefined) {
      await hashPassword(password); // locked: the password is not even looked at, but the answer takes as long
      throw failed();
    }
    const ok = await verifyPassword(password, user.password_hash);
    if (!ok || !user.active) {
      if (attempt.locked) await this.#recordLock(user.id, user.username, attempt.failures, 'login');
      throw failed();
    }
    if (unboundOperator(user.role, user.bridge_point_id)) throw accountBridgePointMissing();
    await this.#db.updateTable('users').set({ failed_logins: 0, locked_until: null, last_login_at: now }).where('id', '=', user.id).execute();
    const issued = await this.mintToken(user.id, asRole(user.role));
    await this.#audit.append(this.#db, { kind: 'user', id: user.id, role: asRole(user.role), label: user.username, bridgePointId: user.bridge_point_id }, {
      action: 'auth.login',
      entity: 'user',
      entityId: user.id,
      after: { expiresAt: issued.expiresAt },
    });
    return { ...issued, user: userView({ ...user, last_login_at: now, locked_until: null }), passwordChangeRequired: user.must_change_password };
  }

  /**
   * Counts one password attempt against the user's lock before the password is checked, in one
   * UPDATE (PostgreSQL takes the row lock): parallel attempts each get their own number, and the
   * attempt that reaches the limit locks the account at once, so at most `maxFailedLogins`
   * passwords are ever checked per lockout period however many requests run together (security
   * review M5). A successful check resets the count (and lifts a lock its own attempt set); a
   * crash between the two leaves at most a lock that expires. Answers undefined while locked.
   * An expired lock starts a fresh count.
   */
  async #countAttempt(userId: string): Promise<{ failures: number; locked: boolean } | undefined> {
    const now = this.#clock();
    const lockUntil = new Date(now.getTime() + this.options.lockoutSeconds * 1000);
    const failures = sql<number>`case when ${sql.ref('locked_until')} is null then ${sql.ref('failed_logins')} + 1 else 1 end`;
    const row = await this.#db
      .updateTable('users')
      .set({
        failed_logins: failures,
        locked_until: sql<Date | null>`case when ${failures} >= ${this.options.maxFailedLogins} then ${lockUntil}::timestamptz else null end`,
      })
      .where('id', '=', userId)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .returning(['failed_logins', 'locked_until'])
      .executeTakeFirst();
    return row === undefined ? undefined : { failures: row.failed_logins, locked: row.locked_until !== null };
  }

  async #recordLock(userId: string, username: string, failures: number, via: 'login' | 'password change'): Promise<void> {
    await this.#audit.append(this.#db, { kind: 'system', id: 'system', role: undefined, label: 'system', bridgePointId: null }, {
      action: 'user.locked',
      entity: 'user',
      entityId: userId,
      after: { username, failedLogins: failures, via },
    });
    this.#logger.warn({ userId, via }, 'account locked after repeated wrong passwords');
  }

  /** Issues a bearer token for a user and records it (so logout can revoke it). */
  async mintToken(userId: string, role: UserRole): Promise<{ token: string; expiresAt: string }> {
    const now = this.#clock();
    const { token, claims } = this.#signer.issue({ kind: 'user', subject: userId, role, ttlSeconds: this.options.tokenTtlSeconds, now });
    const expiresAt = new Date(claims.exp * 1000);
    await this.#db.insertInto('auth_tokens').values({ jti: claims.jti, user_id: userId, issued_at: now, expires_at: expiresAt, revoked_at: null }).execute();
    return { token, expiresAt: expiresAt.toISOString() };
  }

  /** Resolves a bearer token to an actor. User tokens are checked against their row; invitation tokens against revocation. */
  async authenticateBearer(token: string): Promise<BearerActor> {
    const claims = this.#signer.verify(token, this.#clock());
    // Signature and expiry above on every request; the row's verdict from the last few seconds.
    const known = claims.kind === 'invitation' ? undefined : this.#tokens.get(claims.jti);
    if (known !== undefined) return { ...known };
    const readAt = this.#tokens.epoch();
    if (claims.kind === 'invitation') {
      const inv = await this.#db
        .selectFrom('invitations')
        .select(['id', 'revoked_at', 'bridge_point_id', 'display_name', 'session_id'])
        .where('jti', '=', claims.jti)
        .executeTakeFirst();
      if (inv === undefined || inv.revoked_at !== null) throw new TiepdanError('TOKEN_REVOKED', 'this invitation was revoked or replaced');
      return { kind: 'invitation', id: inv.id, role: undefined, label: inv.display_name, bridgePointId: inv.bridge_point_id, sessionId: inv.session_id, subject: claims.sub, jti: claims.jti };
    }
    const row = await this.#db
      .selectFrom('auth_tokens')
      .innerJoin('users', 'users.id', 'auth_tokens.user_id')
      .select(['auth_tokens.revoked_at', 'users.id', 'users.username', 'users.role', 'users.active', 'users.bridge_point_id', 'users.must_change_password'])
      .where('auth_tokens.jti', '=', claims.jti)
      .executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) throw new TiepdanError('TOKEN_REVOKED', 'this token was revoked (logged out); log in again');
    if (!row.active) throw new TiepdanError('ACCOUNT_DISABLED', 'this account is disabled');
    if (unboundOperator(row.role, row.bridge_point_id)) throw accountBridgePointMissing();
    const actor: BearerActor = { kind: 'user', id: row.id, role: asRole(row.role), label: row.username, bridgePointId: row.bridge_point_id, jti: claims.jti, passwordChangeRequired: row.must_change_password };
    this.#tokens.set(claims.jti, row.id, actor, readAt, claims.exp * 1000);
    return actor;
  }

  async logout(actor: Actor, jti: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('auth_tokens').set({ revoked_at: this.#clock() }).where('jti', '=', jti).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) await this.#audit.append(trx, actor, { action: 'auth.logout', entity: 'user', entityId: actor.id });
    });
    // After the commit: a request that read the row before it may not keep it (VerifiedCredentials.set).
    this.#tokens.forget(jti);
  }

  /** Revokes every token of a user (disabled account, password reset). */
  async revokeAllTokens(userId: string): Promise<void> {
    this.#tokens.forgetOwner(userId);
    await this.#db.updateTable('auth_tokens').set({ revoked_at: this.#clock() }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
    // Again after the write: a request that read the row meanwhile may not keep it (see VerifiedCredentials.set).
    this.#tokens.forgetOwner(userId);
  }

  // ——— API keys ———

  async authenticateApiKey(key: string): Promise<Actor> {
    const hash = sha256(key);
    const known = this.#keys.get(hash);
    if (known !== undefined) {
      this.#noteKeyUse(known.id);
      return { ...known };
    }
    const readAt = this.#keys.epoch();
    const row = await this.#db.selectFrom('api_keys').select(['id', 'name', 'role', 'revoked_at']).where('key_hash', '=', hash).executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) throw new TiepdanError('API_KEY_INVALID', 'the API key is not valid');
    // A key made before the rule below keeps no personal-data, approver or commune role.
    if (!API_KEY_ROLES.includes(asRole(row.role))) throw apiKeyRoleRetired(row.role);
    this.#noteKeyUse(row.id);
    const actor: Actor = { kind: 'api_key', id: row.id, role: asRole(row.role), label: `api-key:${row.name}`, bridgePointId: null };
    this.#keys.set(hash, row.id, actor, readAt);
    return actor;
  }

  /** Last use is informative only: no request waits for it, and it is written once a minute per key at most. */
  #noteKeyUse(id: string): void {
    const now = this.#clock();
    const written = this.#keyUseWritten.get(id);
    if (written !== undefined && now.getTime() - written < LAST_USED_WRITE_MS) return;
    this.#keyUseWritten.set(id, now.getTime());
    void this.#db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute().catch(() => undefined);
  }

  async createApiKey(actor: Actor, input: { name: string; role: UserRole }): Promise<{ key: string; apiKey: ApiKeyView }> {
    if (!API_KEY_ROLES.includes(input.role)) throw apiKeyRoleForbidden(input.role);
    const key = `${API_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('api_keys')
        .values({ name: input.name, role: input.role, key_prefix: key.slice(0, 10), key_hash: sha256(key), created_by: actor.kind === 'user' ? actor.id : null, revoked_at: null, last_used_at: null })
        .returningAll()
        .executeTakeFirstOrThrow();
      const view = apiKeyView(row);
      await this.#audit.append(trx, actor, { action: 'api_key.create', entity: 'api_key', entityId: row.id, after: view });
      return { key, apiKey: view };
    });
  }

  async listApiKeys(): Promise<ApiKeyView[]> {
    return (await this.#db.selectFrom('api_keys').selectAll().orderBy('created_at').execute()).map(apiKeyView);
  }

  async revokeApiKey(actor: Actor, id: string): Promise<ApiKeyView> {
    const view = await this.#db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
      if (before === undefined) throw notFound('api key', id);
      const after = await trx.updateTable('api_keys').set({ revoked_at: before.revoked_at ?? this.#clock() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      await this.#audit.append(trx, actor, { action: 'api_key.revoke', entity: 'api_key', entityId: id, before: apiKeyView(before), after: apiKeyView(after) });
      return apiKeyView(after);
    });
    this.#keys.forgetOwner(id); // after the commit, as in logout
    return view;
  }

  // ——— users ———

  async createUser(actor: Actor, input: { username: string; displayName: string; role: UserRole; password: string; bridgePointId?: string | null }): Promise<UserView> {
    const username = input.username.trim().toLowerCase();
    if (unboundOperator(input.role, input.bridgePointId ?? null)) throw bridgePointRequired();
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('users')
          .values({
            username,
            display_name: input.displayName,
            role: input.role,
            bridge_point_id: input.bridgePointId ?? null,
            password_hash: await hashPassword(input.password),
            locked_until: null,
            last_login_at: null,
          })
          .returning(userColumns)
          .executeTakeFirstOrThrow();
        const view = userView(row);
        await this.#audit.append(trx, actor, { action: 'user.create', entity: 'user', entityId: row.id, after: view });
        return view;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('USERNAME_TAKEN', `user name ${username} is already taken`);
      if (isForeignKeyViolation(err)) throw notFound('bridge point', String(input.bridgePointId));
      throw err;
    }
  }

  async listUsers(filter: { role?: UserRole; active?: boolean }, page: Page): Promise<Paged<UserView>> {
    let q = this.#db.selectFrom('users');
    if (filter.role !== undefined) q = q.where('role', '=', filter.role);
    if (filter.active !== undefined) q = q.where('active', '=', filter.active);
    const total = Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await q.select(userColumns).orderBy('username').limit(page.limit).offset(page.offset).execute();
    return { items: rows.map(userView), total, ...page };
  }

  async getUser(id: string): Promise<UserView> {
    const row = await this.#db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('user', id);
    return userView(row);
  }

  async updateUser(actor: Actor, id: string, patch: { displayName?: string; role?: UserRole; active?: boolean; bridgePointId?: string | null; unlock?: boolean }): Promise<UserView> {
    try {
      const view = await this.#db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst();
        if (before === undefined) throw notFound('user', id);
        if (unboundOperator(patch.role ?? before.role, patch.bridgePointId === undefined ? before.bridge_point_id : patch.bridgePointId)) throw bridgePointRequired();
        const after = await trx
          .updateTable('users')
          .set({
            ...(patch.displayName !== undefined ? { display_name: patch.displayName } : {}),
            ...(patch.role !== undefined ? { role: patch.role } : {}),
            ...(patch.active !== undefined ? { active: patch.active } : {}),
            ...(patch.bridgePointId !== undefined ? { bridge_point_id: patch.bridgePointId } : {}),
            ...(patch.unlock === true ? { locked_until: null, failed_logins: 0 } : {}),
            updated_at: this.#clock(),
          })
          .where('id', '=', id)
          .returning(userColumns)
          .executeTakeFirstOrThrow();
        await this.#audit.append(trx, actor, { action: 'user.update', entity: 'user', entityId: id, before: userView(before), after: userView(after) });
        return userView(after);
      });
      if (patch.active === false || patch.role !== undefined) await this.revokeAllTokens(id);
      // The actor its tokens stand for changed (bridge point, name): read again at the next request.
      this.#tokens.forgetOwner(id);
      return view;
    } catch (err) {
      if (isForeignKeyViolation(err)) throw notFound('bridge point', String(patch.bridgePointId));
      throw err;
    }
  }

  /**
   * Sets a password. With `currentPassword` (a user changing their own), the check counts against
   * the same lock as login: a stolen token alone gives no unlimited guesses (security review M5).
   * The caller already holds a token of this user, so here a lock is said as it is.
   */
  async setPassword(actor: Actor, id: string, password: string, currentPassword?: string): Promise<void> {
    const user = await this.#db.selectFrom('users').select(['id', 'username', 'password_hash']).where('id', '=', id).executeTakeFirst();
    if (user === undefined) throw notFound('user', id);
    if (currentPassword !== undefined) {
      const attempt = await this.#countAttempt(user.id);
      if (attempt === undefined) throw new TiepdanError('ACCOUNT_LOCKED', 'too many wrong passwords; try again later or ask an administrator');
      if (!(await verifyPassword(currentPassword, user.password_hash))) {
        if (attempt.locked) await this.#recordLock(user.id, user.username, attempt.failures, 'password change');
        throw new TiepdanError('CURRENT_PASSWORD_WRONG', 'the current password is wrong', { details: [{ field: '/currentPassword', message: 'wrong password' }] });
      }
    }
    const hash = await hashPassword(password);
    // Someone else's reset (an administrator's) is a password the user did not choose: they must
    // choose their own at the next login (security review M10). It does not stop the administrator
    // logging in once as them with it; the audit row and the user's changed password say so.
    const reset = currentPassword === undefined && !(actor.kind === 'user' && actor.id === id);
    await this.#db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ password_hash: hash, failed_logins: 0, locked_until: null, must_change_password: reset, updated_at: this.#clock() }).where('id', '=', id).execute();
      await this.#audit.append(trx, actor, { action: 'user.password', entity: 'user', entityId: id, after: { resetByOther: reset, mustChangePassword: reset } });
    });
    await this.revokeAllTokens(id);
    await this.#removeInitialPasswordFile(user);
  }

  /**
   * The initial admin password file (security review L14) lives on after the first login unless
   * someone deletes it. It is deleted once the password it holds stops being the account's: when
   * the password just replaced is the one in the file. Checking the file against the old hash
   * (not the user name) deletes it exactly then, whoever changed the password and whatever the
   * account is called by now.
   */
  async #removeInitialPasswordFile(user: { id: string; password_hash: string }): Promise<void> {
    const file = this.#initialPasswordFile;
    if (file === undefined) return;
    const initial = await readFile(file, 'utf8').then((t) => t.trim(), () => undefined);
    if (initial === undefined || initial === '' || !(await verifyPassword(initial, user.password_hash))) return;
    await rm(file, { force: true });
    this.#logger.info({ passwordFile: file, userId: user.id }, 'initial administrator password changed; deleted the file that held it');
  }
}

function apiKeyView(r: { id: string; name: string; role: string; key_prefix: string; created_at: Date; revoked_at: Date | null; last_used_at: Date | null }): ApiKeyView {
  return { id: r.id, name: r.name, role: asRole(r.role), keyPrefix: r.key_prefix, createdAt: r.created_at.toISOString(), revokedAt: iso(r.revoked_at), lastUsedAt: iso(r.last_used_at) };
}

export const isApiKey = (value: string): boolean => value.startsWith(API_KEY_PREFIX);

/**
 * A commune operator acts for one bridge point; without one every "own point" check would compare
 * null with null (security review L5). Refused when such a user is made or changed, and at
 * authentication for one left over from before.
 */
function unboundOperator(role: string, bridgePointId: string | null): boolean {
  return role === 'commune_operator' && bridgePointId === null;
}

/** Asking for a key with a role keys may not have (400). */
const apiKeyRoleForbidden = (role: string) =>
  new TiepdanError('API_KEY_ROLE_FORBIDDEN', `an API key may have the role ${API_KEY_ROLES.join(', ')} only, not ${role}: keys see no complainant's personal data, decide nothing and belong to no bridge point`, {
    details: [{ field: '/role', message: `one of ${API_KEY_ROLES.join(', ')}` }],
  });

/**
 * A key made before the role rule, used now (403). A separate code from API_KEY_ROLE_FORBIDDEN: that one
 * refuses a request's input, this one refuses a stored key, so each has one HTTP status.
 */
const apiKeyRoleRetired = (role: string) =>
  new TiepdanError('API_KEY_ROLE_RETIRED', `this API key has the role ${role}, which keys may no longer have (only ${API_KEY_ROLES.join(', ')}): ask an administrator for a new key`);

/** Creating or changing a commune operator without a bridge point (400). */
const bridgePointRequired = () =>
  new TiepdanError('BRIDGE_POINT_REQUIRED', 'a commune operator is bound to one bridge point: give bridgePointId', { details: [{ field: '/bridgePointId', message: 'required for commune_operator' }] });

/** A commune operator account left unbound from before the rule, logging in or using its token (403). */
const accountBridgePointMissing = () =>
  new TiepdanError('ACCOUNT_BRIDGE_POINT_MISSING', 'this commune operator account is bound to no bridge point: an administrator must choose its bridge point first');
