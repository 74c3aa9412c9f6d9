import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { openDatabase, type Db } from './database.ts';
import { migrateTo, migrateToEmpty, migrateToLatest, migrationStatus } from './migrator.ts';
import { EMBEDDED_APP_ROLE } from './roles.ts';
import { AuditLog } from '../domain/audit/auditLog.ts';
import { GENESIS_HASH, recordHash, type AuditRecord } from '../domain/audit/auditChain.ts';
import { AuditKey } from '../domain/audit/auditKey.ts';
import { SYSTEM_ACTOR } from '../domain/common/roles.ts';
import { memoryLogger, silentLogger, tempDataDir } from '../../test/helpers/env.ts';

async function tables(db: Db): Promise<string[]> {
  const r = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' order by 1`.execute(db);
  return r.rows.map((row) => row.table_name);
}

/** The PostgreSQL error code of a refused statement (42501: insufficient privilege). */
async function refusal(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'accepted';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}

t.test('migrations on an empty embedded PostgreSQL: apply, no-op twice, roll back cleanly, re-apply', async (t) => {
  const tmp = await tempDataDir();
  const logger = silentLogger();
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  t.teardown(async () => {
    await database.close();
    await tmp.remove();
  });
  t.equal(database.embedded, true);
  t.same(database.roles, { app: EMBEDDED_APP_ROLE, owner: 'tiepdan', separate: true }, 'the application and the owner are two roles');

  const applied = await migrateToLatest(database, logger);
  t.ok(applied.length >= 1, `applied ${applied.join(', ')}`);
  t.ok((await tables(database.db)).includes('installation'), 'tables exist');
  const status = await migrationStatus(database);
  t.ok(status.every((m) => m.executedAt instanceof Date), 'every migration recorded as run');

  t.same(await migrateToLatest(database, logger), [], 'running again is a no-op');

  const undone = await migrateToEmpty(database, logger);
  t.same([...undone].sort(), [...applied].sort(), 'every migration rolls back');
  const left = (await tables(database.db)).filter((n) => !n.startsWith('tiepdan_migration'));
  t.same(left, [], 'no table is left behind after rolling back');

  t.same(await migrateToLatest(database, logger), applied, 'applies again after a full rollback');
});

t.test('the application role: no superuser, audit_log only SELECT and INSERT, no DDL (security review H4)', async (t) => {
  const tmp = await tempDataDir();
  const logger = silentLogger();
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  t.teardown(async () => {
    await database.close();
    await tmp.remove();
  });
  await migrateToLatest(database, logger);
  const app = database.db;
  const su = await sql<{ rolsuper: boolean }>`select rolsuper from pg_roles where rolname = current_user`.execute(app);
  t.equal(su.rows[0]?.rolsuper, false, 'select rolsuper … current_user answers false on the application pool');
  t.equal((await sql<{ u: string }>`select current_user as u`.execute(app)).rows[0]?.u, EMBEDDED_APP_ROLE);

  await sql`insert into audit_log (at, actor_id, actor_label, action, entity, entity_id, prev_hash, hash) values (now(), 'x', 'x', 'x', 'x', 'x', 'p', 'h')`.execute(app);
  t.equal((await app.selectFrom('audit_log').select('seq').execute()).length, 1, 'it may insert and read');
  t.equal(await refusal(sql`update audit_log set actor_label = 'y'`.execute(app)), '42501', 'UPDATE audit_log: permission denied');
  t.equal(await refusal(sql`delete from audit_log`.execute(app)), '42501', 'DELETE FROM audit_log: permission denied');
  t.equal(await refusal(sql`truncate audit_log`.execute(app)), '42501', 'TRUNCATE audit_log: permission denied');
  t.equal(await refusal(sql`alter table audit_log disable trigger user`.execute(app)), '42501', 'ALTER TABLE audit_log DISABLE TRIGGER USER: must be owner');
  t.equal(await refusal(sql`update audit_chain set keyed_from_seq = 999`.execute(app)), '42501', 'the keyed switch point is read-only');
  t.equal(await refusal(sql`delete from tiepdan_migration`.execute(app)), '42501', 'so is the migrator’s table');
  t.equal(await refusal(sql`create table intruder (x int)`.execute(app)), '42501', 'no CREATE TABLE');
  t.equal(await refusal(sql`copy (select 1) to program 'true'`.execute(app)), '42501', 'no COPY … TO PROGRAM');
  t.equal(await refusal(sql`select setval(pg_get_serial_sequence('audit_log', 'seq'), 1)`.execute(app)), '42501', 'no setval on the audit sequence');
  // Ordinary tables and sequences work as before.
  await sql`update installation set schema_note = schema_note`.execute(app);
  t.ok((await sql<{ n: string }>`select nextval('case_reference_seq') as n`.execute(app)).rows[0], 'nextval on a sequence');

  // Even as the owner the append-only trigger still refuses (it must be switched off first).
  await t.rejects(database.asOwner((db) => sql`delete from audit_log`.execute(db)), /append-only/);

  // The same server as an "external" PostgreSQL (DATABASE_URL / DATABASE_OWNER_URL).
  const port = (await sql<{ p: number }>`select inet_server_port() as p`.execute(app)).rows[0]!.p;
  const superuserUrl = `postgresql://tiepdan:${encodeURIComponent((await readFile(path.join(tmp.dir, 'postgres.secret'), 'utf8')).trim())}@127.0.0.1:${port}/tiepdan`;
  const external = (url: string, more: { ownerUrl?: string; allowSuperuser?: boolean; logger?: typeof logger } = {}) => openDatabase({ url, dataDir: tmp.dir, embeddedPort: 0, logger, ...more });
  await t.rejects(external(superuserUrl), { code: 'DB_APP_ROLE_SUPERUSER' }, 'a superuser DATABASE_URL is refused');
  const loud = memoryLogger('warn');
  const allowed = await external(superuserUrl, { allowSuperuser: true, logger: loud.logger });
  await allowed.close();
  t.ok(loud.lines().some((l) => l.includes('"level":50') && l.includes('SUPERUSER')), 'DATABASE_ALLOW_SUPERUSER=true starts, with an error in the log');

  await database.asOwner(async (db) => {
    await sql`create role ext_owner login password 'owner-pw'`.execute(db);
    await sql`create role ext_app login password 'app-pw'`.execute(db);
  });
  await database.asOwner((db) => sql`create database ext owner ext_owner`.execute(db));
  const extUrl = (user: string, pw: string) => `postgresql://${user}:${pw}@127.0.0.1:${port}/ext`;
  const two = await external(extUrl('ext_app', 'app-pw'), { ownerUrl: extUrl('ext_owner', 'owner-pw') });
  t.same(two.roles, { app: 'ext_app', owner: 'ext_owner', separate: true }, 'two external roles');
  await migrateToLatest(two, logger);
  t.equal(await refusal(sql`delete from audit_log`.execute(two.db)), '42501', 'the external application role gets only SELECT+INSERT on audit_log');
  t.equal(await refusal(sql`alter table audit_log disable trigger user`.execute(two.db)), '42501');
  await sql`update installation set schema_note = schema_note`.execute(two.db);
  await two.close();
  const single = memoryLogger('warn');
  const one = await external(extUrl('ext_owner', 'owner-pw'), { logger: single.logger });
  t.same(one.roles, { app: 'ext_owner', owner: 'ext_owner', separate: false });
  await migrateToLatest(one, single.logger);
  await one.close();
  t.ok(single.lines().some((l) => l.includes('can change audit_log')), 'one role for both: warned that audit_log rests on its trigger and keyed chain');
});

t.test('a data directory from the previous version upgrades on start: second role, keyed chain after the old rows', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const logger = silentLogger();
  let database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  // As the previous version left it: migrations up to 0300, no application role, plain SHA-256 rows.
  await migrateTo(database, '0300_recordings', logger);
  const plain = { key: new AuditKey(Buffer.alloc(32)), keyedFromSeq: Number.MAX_SAFE_INTEGER };
  await database.asOwner(async (db) => {
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const r: Omit<AuditRecord, 'hash'> = { seq, at: new Date(Date.UTC(2025, 0, seq)).toISOString(), actorId: 'u1', actorLabel: 'admin', action: 'user.create', entity: 'user', entityId: `u${seq}`, before: null, after: { n: seq }, prevHash: prev };
      const hash = recordHash(r, plain);
      await sql`insert into audit_log (seq, at, actor_id, actor_label, action, entity, entity_id, after, prev_hash, hash)
        values (${seq}, ${r.at}, ${r.actorId}, ${r.actorLabel}, ${r.action}, ${r.entity}, ${r.entityId}, ${JSON.stringify(r.after)}::jsonb, ${prev}, ${hash})`.execute(db);
      prev = hash;
    }
    await sql`select setval(pg_get_serial_sequence('audit_log', 'seq'), 3)`.execute(db);
    await sql`drop owned by ${sql.id(EMBEDDED_APP_ROLE)}`.execute(db);
    await sql`drop role ${sql.id(EMBEDDED_APP_ROLE)}`.execute(db);
  });
  const before = await database.asOwner((db) => db.selectFrom('installation').select('installation_id').executeTakeFirstOrThrow());
  await database.close();
  await rm(path.join(tmp.dir, 'postgres-app.secret'));

  // The new version starts on it.
  database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  t.teardown(() => database.close());
  t.equal(database.roles.app, EMBEDDED_APP_ROLE, 'the application role is made again');
  const after = await database.db.selectFrom('installation').select('installation_id').executeTakeFirstOrThrow();
  t.equal(after.installation_id, before.installation_id, 'same installation after restart');
  const pending = (await migrationStatus(database)).filter((m) => m.executedAt === undefined).map((m) => m.name);
  t.ok(pending.includes('0400_audit_keyed_chain'), `pending: ${pending.join(', ')}`);
  t.same(await migrateToLatest(database, logger), pending, 'the new migrations run');
  t.same(await migrateToLatest(database, logger), [], 'nothing to migrate after that');
  const chain = await database.db.selectFrom('audit_chain').select('keyed_from_seq').executeTakeFirstOrThrow();
  t.equal(Number(chain.keyed_from_seq), 4, 'keyed from the row after the last plain one');

  const audit = new AuditLog(database.db, () => new Date(), { dataDir: tmp.dir, logger, anchorDelayMs: 10 });
  await audit.start();
  t.match(await audit.verify(), { valid: true, checked: 3, keyedFromSeq: 4, anchor: { seq: 3 } }, 'the old plain rows verify and are anchored');
  await audit.append(database.db, SYSTEM_ACTOR, { action: 'test.keyed', entity: 'test', entityId: '1' });
  t.match(await audit.verify(), { valid: true, checked: 4, headSeq: 4 }, 'the first keyed row links to the last plain one');
  t.equal((await audit.anchorNow())?.seq, 4);
  await audit.close();

  // DATA_DIR's audit files: a lost key stops start-up, a lost anchor is re-made and said so in the log.
  const keyFile = path.join(tmp.dir, 'audit.key');
  const key = await readFile(keyFile, 'utf8');
  t.equal((await stat(keyFile)).mode & 0o777, 0o600, 'audit.key is 0600');
  await rm(keyFile);
  await t.rejects(new AuditLog(database.db, () => new Date(), { dataDir: tmp.dir, logger }).start(), { code: 'AUDIT_KEY_MISSING' }, 'no new key behind the keyed rows’ back');
  await writeFile(keyFile, key, { mode: 0o600 });
  await rm(path.join(tmp.dir, 'audit.anchor'));
  const again = new AuditLog(database.db, () => new Date(), { dataDir: tmp.dir, logger, anchorDelayMs: 10 });
  await again.start();
  t.match((await again.list({ action: 'audit.anchor_recreated' }, { limit: 5, offset: 0 })).items, [{ after: { seq: 4 } }], 'a re-made anchor is itself audited');
  t.match(await again.verify(), { valid: true, headSeq: 5, anchor: { seq: 5 } });
  await again.close();
  await writeFile(keyFile, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
  const replaced = new AuditLog(database.db, () => new Date(), { dataDir: tmp.dir, logger });
  t.match(await replaced.verify(), { valid: false, firstBrokenSeq: 4, reason: /keyed hash/ }, 'a replaced key: the keyed rows no longer verify');
  await replaced.close();
});
