/**
 * `tiepdan migrate down` refuses to drop tables holding rows (security review L12): recordings,
 * cases, invitations, the audit log… are the evidence of citizen receptions. The real CLI on a
 * real embedded PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { openDatabase } from '../../src/db/database.ts';
import { MIGRATIONS_DIR, migrateTo } from '../../src/db/migrator.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';

const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'tiepdan.mjs');

t.test('migrate down refuses while the tables it drops hold rows, unless told it destroys evidence', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const logger = silentLogger();
  let database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  await migrateTo(database, '0300_recordings', logger);
  await database.asOwner((db) => sql`insert into recordings (session_id, status, head_hash) values ('session-1', 'complete', ${'a'.repeat(64)})`.execute(db));
  await database.close();

  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, 'migrate', ...args], { encoding: 'utf8', env: { ...process.env, DATA_DIR: tmp.dir, EMBEDDED_PG_PORT: '0', LOG_LEVEL: 'silent' } });
  const refused = cli('down');
  t.equal(refused.status, 1, 'refused: exit 1');
  t.match(refused.stderr, /MIGRATE_DOWN_DESTROYS_DATA: rolling back 0300_recordings would permanently delete recordings \(1 row\); nothing was changed/, 'names the migration, the table and its rows');
  t.match(refused.stderr, /--i-know-this-destroys-evidence/, 'and how to go on anyway');
  t.match(cli('status').stdout, /^\S+Z\s+0300_recordings$/m, '0300 is still applied');

  database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger });
  const kept = await database.asOwner((db) => sql<{ n: string }>`select count(*) as n from recordings`.execute(db));
  t.equal(Number(kept.rows[0]?.n), 1, 'the recording row is still there');
  await database.close();

  t.equal(cli('down', '--force').status, 1, 'another flag is a usage error, not a licence');
  const forced = cli('down', '--i-know-this-destroys-evidence');
  t.equal(forced.status, 0, forced.stderr);
  t.match(forced.stdout, /rolled back: 0300_recordings/, 'with the flag it rolls back');

  const harmless = cli('down');
  t.equal(harmless.status, 0, harmless.stderr);
  t.match(harmless.stdout, /rolled back: 0103_case_reference_sequence/, 'a migration that deletes no rows rolls back without the flag');
  const cases = cli('down');
  t.equal(cases.status, 0, 'cases and sessions are empty: 0102 rolls back too');
  const calendar = cli('down');
  t.equal(calendar.status, 1, 'the working-day calendar holds rows: refused');
  t.match(calendar.stderr, /calendar_days \(\d+ rows\)/);
});

t.test('every table a migration drops is declared in its downDestroys', async (t) => {
  for (const file of (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.ts')).sort()) {
    const text = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
    const down = text.slice(text.indexOf('export async function down'));
    const mod = (await import(path.join(MIGRATIONS_DIR, file))) as { downDestroys?: readonly string[] };
    t.ok(Array.isArray(mod.downDestroys), `${file} declares downDestroys`);
    const dropped = [...down.matchAll(/dropTable\('([a-z_]+)'\)/g), ...down.matchAll(/alterTable\('([a-z_]+)'\)[\s\S]{0,40}\.dropColumn/g)].map((m) => m[1] ?? '');
    // 0102 drops its tables in a loop over a list of names.
    const listed = /for \(const t of \[([^\]]+)\]\)/.exec(down)?.[1]?.match(/'([a-z_]+)'/g)?.map((s) => s.slice(1, -1)) ?? [];
    for (const table of [...dropped, ...listed]) {
      if (file.startsWith('0400_') && table === 'audit_chain') continue; // only its own switch-point row; its down guards itself
      t.ok(mod.downDestroys?.includes(table), `${file}: down drops ${table}, which is in downDestroys`);
    }
  }
});
