import { sql, type Kysely } from 'kysely';
import { TiepdanError } from '../errors.ts';

/**
 * Two PostgreSQL roles (security review H4). The owner creates and alters the tables (migrations
 * only); the application connects as a login role that is not a superuser, owns nothing, and may
 * only SELECT and INSERT on the audit log. So a stolen application password, or an SQL injection,
 * can neither rewrite the audit trail nor switch its append-only trigger off, nor reach the OS
 * (`COPY … TO PROGRAM` needs a superuser).
 */

/** The application's role in the embedded PostgreSQL (the initdb superuser `tiepdan` is the owner). */
export const EMBEDDED_APP_ROLE = 'tiepdan_app';

/**
 * Tables the application may read and append to, never change: the evidence trail (0100, 0410) the
 * issued conclusion notices (0510) and the minutes' versions (0520); and the live store's ejections
 * and host-ended sessions (0550), which nothing in the application takes back (a stolen application
 * password must not let an ejected point back in).
 */
const APPEND_ONLY_TABLES = ['audit_log', 'recording_tombstones', 'conclusion_notices', 'minutes_versions', 'live_ejections', 'live_ended_sessions'] as const;
/** Tables only migrations write: the chain's switch point and the migrator's bookkeeping. */
const READ_ONLY_TABLES = ['audit_chain', 'tiepdan_migration', 'tiepdan_migration_lock'] as const;

export interface RoleInfo {
  name: string;
  superuser: boolean;
  /** CREATEROLE, CREATEDB, BYPASSRLS or REPLICATION: none of these belongs to the application. */
  extraPowers: string[];
}

export async function currentRole<T>(db: Kysely<T>): Promise<RoleInfo> {
  const r = await sql<{ name: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; rolbypassrls: boolean; rolreplication: boolean }>`
    select rolname as name, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication from pg_roles where rolname = current_user`.execute(db);
  const row = r.rows[0];
  if (row === undefined) throw new TiepdanError('DB_ROLE_UNKNOWN', 'the current database role is not in pg_roles');
  const extraPowers = [row.rolcreaterole && 'CREATEROLE', row.rolcreatedb && 'CREATEDB', row.rolbypassrls && 'BYPASSRLS', row.rolreplication && 'REPLICATION'].filter((p): p is string => typeof p === 'string');
  return { name: row.name, superuser: row.rolsuper, extraPowers };
}

/**
 * Creates the login role, or resets an existing one to exactly these attributes and this
 * password (DATA_DIR holds the password; the file is the truth). The password reaches the server
 * as a bound parameter (a transaction-local setting) and is quoted by format(%L) there, never
 * pasted into SQL text here.
 */
export async function ensureLoginRole<T>(ownerDb: Kysely<T>, name: string, password: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new TiepdanError('DB_ROLE_NAME_INVALID', `not a plain role name: ${name}`);
  await ownerDb
    .transaction()
    .execute(async (trx) => {
      await sql`select set_config('tiepdan.role_name', ${name}, true), set_config('tiepdan.role_password', ${password}, true)`.execute(trx);
      await sql`
        do $$
        declare
          attrs constant text := 'login nosuperuser nocreatedb nocreaterole noreplication nobypassrls inherit';
        begin
          begin
            execute format('create role %I %s password %L', current_setting('tiepdan.role_name'), attrs, current_setting('tiepdan.role_password'));
          exception when duplicate_object then
            execute format('alter role %I %s password %L', current_setting('tiepdan.role_name'), attrs, current_setting('tiepdan.role_password'));
          end;
        end $$`.execute(trx);
    });
}

async function existingTables<T>(db: Kysely<T>, names: readonly string[]): Promise<string[]> {
  const r = await sql<{ name: string }>`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and c.relname = any(${[...names]}::text[])`.execute(db);
  return r.rows.map((row) => row.name);
}

/**
 * The application role's privileges, granted by the owner: SELECT/INSERT/UPDATE/DELETE on every
 * table, USAGE on every sequence (nextval), then only SELECT+INSERT on the append-only tables and
 * SELECT on the read-only ones. Default privileges cover tables later migrations create; this runs
 * again after every migration so the exceptions are re-applied. Idempotent.
 */
export async function grantAppPrivileges<T>(ownerDb: Kysely<T>, appRole: string): Promise<void> {
  const app = sql.id(appRole);
  await ownerDb
    .transaction()
    .execute(async (trx) => {
      await sql`grant usage on schema public to ${app}`.execute(trx);
      await sql`grant select, insert, update, delete on all tables in schema public to ${app}`.execute(trx);
      await sql`grant usage, select on all sequences in schema public to ${app}`.execute(trx);
      await sql`alter default privileges in schema public grant select, insert, update, delete on tables to ${app}`.execute(trx);
      await sql`alter default privileges in schema public grant usage, select on sequences to ${app}`.execute(trx);
      for (const table of await existingTables(trx, APPEND_ONLY_TABLES)) {
        await sql`revoke all on table ${sql.table(table)} from ${app}`.execute(trx);
        await sql`grant select, insert on table ${sql.table(table)} to ${app}`.execute(trx);
      }
      for (const table of await existingTables(trx, READ_ONLY_TABLES)) {
        await sql`revoke all on table ${sql.table(table)} from ${app}`.execute(trx);
        await sql`grant select on table ${sql.table(table)} to ${app}`.execute(trx);
      }
    });
}

/** What the current role may do to audit_log beyond SELECT and INSERT (start-up check). */
export async function auditLogOverreach<T>(db: Kysely<T>): Promise<string[]> {
  const r = await sql<{ exists: boolean; owner: boolean; upd: boolean; del: boolean; trunc: boolean }>`
    select to_regclass('audit_log') is not null as exists,
      coalesce(pg_has_role(current_user, (select relowner from pg_class where oid = to_regclass('audit_log')), 'usage'), false) as owner,
      coalesce(has_table_privilege(current_user, to_regclass('audit_log'), 'update'), false) as upd,
      coalesce(has_table_privilege(current_user, to_regclass('audit_log'), 'delete'), false) as del,
      coalesce(has_table_privilege(current_user, to_regclass('audit_log'), 'truncate'), false) as trunc`.execute(db);
  const row = r.rows[0];
  if (row === undefined || !row.exists) return [];
  return [row.owner && 'owns it (can disable its trigger)', row.upd && 'UPDATE', row.del && 'DELETE', row.trunc && 'TRUNCATE'].filter((p): p is string => typeof p === 'string');
}
