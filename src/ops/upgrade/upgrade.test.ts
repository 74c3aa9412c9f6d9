/**
 * Upgrading from the previous release: a DATA_DIR as the release at commit 3c31f2d left it (its
 * migration list, 0001 … 0300_recordings; no application role; a plain SHA-256 audit chain; a
 * closed recording whose head is only in recordings.head_hash), with users, a bridge point, cases
 * and sessions written in that release's schema. Two ways a technician upgrades, both checked:
 * 1. the new version started on the old DATA_DIR (migrations 0400 and 0410 run at start-up);
 * 2. a backup of the old installation restored by the new version (`tiepdan restore` applies the
 *    backup's migrations, loads, then the newer ones).
 * In both, the old users log in, the sessions and cases are there, the audit chain verifies (the
 * old rows as plain SHA-256, new rows keyed after them) and new case references continue.
 */
import { execFileSync } from 'node:child_process';
import { chmod, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { openDatabase } from '../../db/database.ts';
import { migrateTo, migrationStatus, MIGRATIONS_DIR } from '../../db/migrator.ts';
import { EMBEDDED_APP_ROLE } from '../../db/roles.ts';
import { GENESIS_HASH, recordHash, type AuditRecord } from '../../domain/audit/auditChain.ts';
import { AuditKey } from '../../domain/audit/auditKey.ts';
import { hashPassword } from '../../domain/auth/passwords.ts';
import { ManifestWriter } from '../../recording/manifest/manifest.ts';
import { sessionDirFor } from '../../recording/recorder/sessionRecorder.ts';
import { ensureDir } from '../../recording/fsutil.ts';
import { TiepdanServer } from '../../server.ts';
import { silentLogger, tempDataDir, testConfig } from '../../../test/helpers/env.ts';
import { runBackup } from '../backup/backup.ts';
import { runRestore } from '../backup/restore.ts';
import { apiFor } from '../testing/api.ts';

/** The previous release's migrations (git ls-tree 3c31f2d migrations/). */
const PREVIOUS_RELEASE = '3c31f2d';
const PREVIOUS_MIGRATIONS = ['0001_installation', '0100_control_core', '0101_working_day_calendar', '0102_cases_sessions', '0103_case_reference_sequence', '0300_recordings'];
const PASSWORD = 'mat-khau-cu-cua-ban-1';
const SESSIONS = 3;

/** Writes what the previous release wrote, in its schema (raw SQL: today's services expect today's tables). */
async function previousReleaseDataDir(dataDir: string): Promise<{ sessionIds: string[]; recordingSession: string }> {
  const logger = silentLogger();
  const database = await openDatabase({ url: undefined, dataDir, embeddedPort: 0, logger });
  try {
    await migrateTo(database, PREVIOUS_MIGRATIONS.at(-1)!, logger);
    return await database.asOwner(async (db) => {
      const passwordHash = await hashPassword(PASSWORD);
      const user = (await sql<{ id: string }>`insert into users (username, display_name, role, password_hash) values ('ban.tcd', 'Ban tiếp công dân', 'reception_board', ${passwordHash}) returning id`.execute(db)).rows[0]!.id;
      const point = (await sql<{ id: string }>`insert into bridge_points (code, name, kind) values ('XA-CU', 'Điểm cầu xã (bản cũ)', 'commune') returning id`.execute(db)).rows[0]!.id;
      const plain = { key: new AuditKey(Buffer.alloc(32)), keyedFromSeq: Number.MAX_SAFE_INTEGER };
      let prev = GENESIS_HASH;
      let seq = 0;
      const audit = async (action: string, entity: string, entityId: string, after: unknown) => {
        seq++;
        const r: Omit<AuditRecord, 'hash'> = { seq, at: new Date(Date.UTC(2026, 5, 1, 8, seq)).toISOString(), actorId: user, actorLabel: 'ban.tcd', action, entity, entityId, before: null, after, prevHash: prev };
        const hash = recordHash(r, plain);
        await sql`insert into audit_log (seq, at, actor_id, actor_label, action, entity, entity_id, after, prev_hash, hash)
          values (${seq}, ${r.at}, ${r.actorId}, ${r.actorLabel}, ${action}, ${entity}, ${entityId}, ${JSON.stringify(after)}::jsonb, ${prev}, ${hash})`.execute(db);
        prev = hash;
      };
      const sessionIds: string[] = [];
      for (let i = 1; i <= SESSIONS; i++) {
        const n = (await sql<{ n: string }>`select nextval('case_reference_seq') as n`.execute(db)).rows[0]!.n;
        const c = (await sql<{ id: string }>`insert into cases (reference, type, title, criteria, created_by) values (${`VV-2026-${n}`}, 'khieu_nai', ${`Khiếu nại cũ ${i}`}, '{a}', ${user}) returning id`.execute(db)).rows[0]!.id;
        await sql`insert into case_people (case_id, position, role, full_name) values (${c}, 0, 'complainant', ${`Công dân ${i}`})`.execute(db);
        await audit('case.create', 'case', c, { reference: `VV-2026-${n}` });
        const s = (await sql<{ id: string }>`insert into sessions (title, scheduled_start, scheduled_end, location, chair_title, created_by) values (${`Tiếp công dân cũ ${i}`}, '2026-06-15T01:00:00Z', '2026-06-15T04:00:00Z', 'Trụ sở', 'Chủ tịch', ${user}) returning id`.execute(db)).rows[0]!.id;
        await sql`insert into session_cases (session_id, case_id, position) values (${s}, ${c}, 0)`.execute(db);
        await sql`insert into session_bridge_points (session_id, bridge_point_id) values (${s}, ${point})`.execute(db);
        await audit('session.create', 'session', s, { title: `Tiếp công dân cũ ${i}` });
        sessionIds.push(s);
      }
      await sql`select setval(pg_get_serial_sequence('audit_log', 'seq'), ${seq})`.execute(db);
      // A recording the old server closed: its head hash in recordings.head_hash only.
      const recordingSession = sessionIds[0]!;
      const dir = sessionDirFor(path.join(dataDir, 'recordings'), recordingSession);
      await ensureDir(dir);
      const w = new ManifestWriter(path.join(dir, 'manifest.json'), recordingSession);
      w.append({ type: 'opened', sessionId: recordingSession, segmentSeconds: 4, timing: 'arrival-wallclock' });
      w.append({ type: 'closed', status: 'complete' });
      await w.flush();
      await sql`insert into recordings (session_id, status, closed_at, head_hash) values (${recordingSession}, 'complete', now(), ${w.headHash})`.execute(db);
      // The previous release had no application role: the server connected as the owner.
      await sql`drop owned by ${sql.id(EMBEDDED_APP_ROLE)}`.execute(db);
      await sql`drop role ${sql.id(EMBEDDED_APP_ROLE)}`.execute(db);
      return { sessionIds, recordingSession };
    });
  } finally {
    await database.close();
    await rm(path.join(dataDir, 'postgres-app.secret'), { force: true });
  }
}

async function checkUpgraded(t: Test, dataDir: string, fixture: { sessionIds: string[]; recordingSession: string }, how: string): Promise<void> {
  const server = await TiepdanServer.start(await testConfig(dataDir, { MEDIASOUP_NUM_WORKERS: '1', EXPORT_DESTINATIONS: 'none' }), silentLogger());
  try {
    const status = await migrationStatus(server.database);
    t.ok(status.every((m) => m.executedAt !== undefined), `${how}: every current migration applied (${status.map((m) => m.name).join(', ')})`);
    t.equal(server.database.roles.app, EMBEDDED_APP_ROLE, `${how}: the application role exists`);
    const call = apiFor(server);
    const api = (method: string, url: string, token?: string, body?: unknown) => call(method, url, { token, body });
    const login = await api('POST', '/api/v1/auth/login', undefined, { username: 'ban.tcd', password: PASSWORD });
    t.equal(login.status, 200, `${how}: the old user logs in with the old password`);
    const token = login.body.token;
    const sessions = (await api('GET', '/api/v1/sessions?limit=50', token)).body;
    t.same((sessions.items ?? []).map((s) => s.id).sort(), [...fixture.sessionIds].sort(), `${how}: the old sessions`);
    const cases = (await api('GET', '/api/v1/cases?limit=50', token)).body;
    t.same((cases.items ?? []).map((c) => c.reference).sort(), ['VV-2026-1', 'VV-2026-2', 'VV-2026-3'], `${how}: the old cases`);
    const made = await api('POST', '/api/v1/cases', token, { type: 'khieu_nai', title: 'Sau nâng cấp', criteria: ['a'] });
    t.equal(made.status, 201);
    t.notOk(['VV-2026-1', 'VV-2026-2', 'VV-2026-3'].includes(made.body.reference ?? 'VV-2026-1'), `${how}: a new case reference (${made.body.reference})`);
    const chain = await server.control.audit.verify();
    t.match(chain, { valid: true, keyedFromSeq: 2 * SESSIONS + 1 }, `${how}: the old plain rows verify, keyed rows follow them`);
    t.ok(chain.headSeq > 2 * SESSIONS, 'and new keyed rows were added (the first admin, the new case)');
    const rec = await server.recordings.verify(fixture.recordingSession);
    // Its head was only in recordings.head_hash: start-up copies such heads into the keyed audit log.
    t.ok(rec.ok, `${how}: the old recording verifies (${rec.problems.map((p) => p.message).join('; ') || 'no problems'})`);
    t.ok((await server.control.audit.list({ entity: 'recording', entityId: fixture.recordingSession, action: 'recording.anchored' }, { limit: 5, offset: 0 })).items.length === 1, `${how}: its head is now in the keyed audit log`);
  } finally {
    await server.stop();
  }
}

t.test('the previous release’s migration list is what this fixture applies', async (t) => {
  let listed: string[];
  try {
    listed = execFileSync('git', ['ls-tree', '--name-only', PREVIOUS_RELEASE, 'migrations/'], { cwd: path.dirname(MIGRATIONS_DIR), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean)
      .map((f) => path.basename(f).replace(/\.ts$/, ''));
  } catch {
    t.comment(`commit ${PREVIOUS_RELEASE} is not in this clone: the list above is taken as given`);
    t.pass('skipped');
    return;
  }
  t.same(listed, PREVIOUS_MIGRATIONS);
});

t.test('upgrade from the previous release: in place, and through its backup', async (t) => {
  const tmp = await tempDataDir('tiepdan-upgrade-');
  t.teardown(tmp.remove);
  await chmod(tmp.dir, 0o711);
  const old = path.join(tmp.dir, 'old');
  const fixture = await previousReleaseDataDir(old);

  // A backup of the old installation, taken before it is upgraded (server stopped).
  const backupDir = path.join(tmp.dir, 'backup');
  const backup = await runBackup(await testConfig(old), backupDir, silentLogger());
  t.same(backup.manifest.database.migrations, PREVIOUS_MIGRATIONS, 'the backup names the old schema');

  await checkUpgraded(t, old, fixture, 'in place');

  const restored = path.join(tmp.dir, 'restored');
  const r = await runRestore(await testConfig(restored), backupDir, silentLogger());
  // Every migration newer than the old release, whatever later work adds.
  const newer = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_.*\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, '')).filter((m) => !PREVIOUS_MIGRATIONS.includes(m)).sort();
  t.ok(newer.includes('0400_audit_keyed_chain') && newer.includes('0410_recording_governance'), 'the keyed audit chain and the governance migrations are among them');
  t.same(r.upgraded, newer, 'restore applied the newer migrations after loading');
  await checkUpgraded(t, restored, fixture, 'restored');
});
