import { sql } from 'kysely';
import t from 'tap';
import { openDatabase, type Db } from './database.ts';
import { migrateToEmpty, migrateToLatest, migrationStatus } from './migrator.ts';
import { silentLogger, tempDataDir } from '../../test/helpers/env.ts';

async function tables(db: Db): Promise<string[]> {
  const r = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' order by 1`.execute(db);
  return r.rows.map((row) => row.table_name);
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

  const applied = await migrateToLatest(database.db, logger);
  t.ok(applied.length >= 1, `applied ${applied.join(', ')}`);
  t.ok((await tables(database.db)).includes('installation'), 'tables exist');
  const status = await migrationStatus(database.db);
  t.ok(status.every((m) => m.executedAt instanceof Date), 'every migration recorded as run');

  t.same(await migrateToLatest(database.db, logger), [], 'running again is a no-op');

  const undone = await migrateToEmpty(database.db, logger);
  t.same([...undone].sort(), [...applied].sort(), 'every migration rolls back');
  const left = (await tables(database.db)).filter((n) => !n.startsWith('tiepdan_migration'));
  t.same(left, [], 'no table is left behind after rolling back');

  t.same(await migrateToLatest(database.db, logger), applied, 'applies again after a full rollback');
});

t.test('the embedded database keeps its data across a restart', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const logger = silentLogger();
  let database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  await migrateToLatest(database.db, logger);
  const before = await database.db.selectFrom('installation').select('installation_id').executeTakeFirstOrThrow();
  await database.close();
  database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  t.teardown(() => database.close());
  const after = await database.db.selectFrom('installation').select('installation_id').executeTakeFirstOrThrow();
  t.equal(after.installation_id, before.installation_id, 'same installation after restart');
  t.same(await migrateToLatest(database.db, logger), [], 'nothing to migrate after restart');
});
