/**
 * The systemd service without systemd as PID 1 (these machines): the generated unit passes
 * `systemd-analyze verify` with nothing to say, and the exact ExecStart command line, with the
 * unit's Environment= and an unprivileged user (like the unit's User=), serves /readyz over HTTPS
 * and prints the start-up block on standard error.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chown, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import t from 'tap';
import { freePortBlock, tempDataDir } from '../../../test/helpers/env.ts';
import { INSTALL_ROOT } from './serviceCli.ts';
import { renderServiceFiles } from './systemdUnit.ts';

/** Environment= lines of a unit as variables (the generated unit has no quoting to undo). */
function unitEnvironment(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unit.split('\n')) {
    if (!line.startsWith('Environment=')) continue;
    for (const pair of line.slice('Environment='.length).split(' ')) {
      const i = pair.indexOf('=');
      env[pair.slice(0, i)] = pair.slice(i + 1);
    }
  }
  return env;
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/**
 * The unprivileged user to run as (root only can switch), when it can read this installation: a
 * checkout under /root (mode 0700) cannot be, as the README says; the tests then say so and run
 * as the current user.
 */
function nobody(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = path.join(INSTALL_ROOT, 'bin/tiepdan.mjs');
  if (spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', entry, '-a', '-x', path.join(INSTALL_ROOT, 'node_modules/.bin/node')]).status !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' });
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
}

t.test('the unit verifies; bad options are refused before anything is written', async (t) => {
  const tmp = await tempDataDir('tiepdan-unit-');
  t.teardown(tmp.remove);
  const files = renderServiceFiles({ root: INSTALL_ROOT, dataDir: '/var/lib/tiepdan', configDir: path.join(tmp.dir, 'etc') });
  const unitFile = path.join(tmp.dir, 'tiepdan.service');
  await writeFile(unitFile, files.unit);
  const verify = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  t.equal(verify.status, 0, `systemd-analyze verify exits 0 (${verify.stderr})`);
  t.equal(verify.stderr.trim(), '', 'and has nothing to say about the unit (unknown keys only warn)');
  for (const directive of ['User=tiepdan', 'Restart=on-failure', 'StateDirectory=tiepdan', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', `EnvironmentFile=-${path.join(tmp.dir, 'etc', 'tiepdan.env')}`]) {
    t.ok(files.unit.split('\n').includes(directive), directive);
  }
  t.throws(() => renderServiceFiles({ root: '/opt/tie pdan' }), { code: 'SERVICE_OPTIONS_INVALID' }, 'a path systemd would split is refused');
  t.throws(() => renderServiceFiles({ root: 'relative/dir' }), { code: 'SERVICE_OPTIONS_INVALID' });
});

t.test('the unit’s ExecStart, as an unprivileged user, serves /readyz and prints the start-up block', async (t) => {
  const tmp = await tempDataDir('tiepdan-svc-');
  t.teardown(tmp.remove);
  const dataDir = path.join(tmp.dir, 'data');
  const files = renderServiceFiles({ root: INSTALL_ROOT, dataDir });
  const user = nobody();
  if (user) await chown(tmp.dir, user.uid, user.gid);
  const port = await freePortBlock(1);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...unitEnvironment(files.unit),
    // What a technician would put in tiepdan.env, plus what keeps parallel tests apart.
    PORT: String(port),
    HOST: '127.0.0.1',
    EMBEDDED_PG_PORT: '0',
    MEDIASOUP_NUM_WORKERS: '1',
    RTC_LISTEN_IP: '127.0.0.1',
    RTC_PORT_BASE: String(await freePortBlock(1)),
    TURN_EMBEDDED: 'off',
    LOG_LEVEL: 'info',
  };
  if (process.env.MEDIASOUP_WORKER_BIN) env.MEDIASOUP_WORKER_BIN = process.env.MEDIASOUP_WORKER_BIN;
  t.equal(env.DATA_DIR, dataDir, 'DATA_DIR comes from the unit');
  const [command, ...args] = files.execStart;
  const run = async () => {
    const started = Date.now();
    const child = spawn(command!, args, { cwd: INSTALL_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.teardown(() => void child.kill('SIGKILL'));
    let ca: string | undefined;
    let ready: { status: number; body: string } | undefined;
    const until = Date.now() + 90000;
    while (ready?.status !== 200) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`not ready:\n${out.stdout}\n${out.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
      ca ??= await readFile(path.join(dataDir, 'tls', 'ca.crt'), 'utf8').catch(() => undefined);
      if (ca !== undefined) ready = await httpsGet(`https://127.0.0.1:${port}/readyz`, ca).catch(() => undefined);
    }
    return { child, out, exited, ca: ca!, ready, ms: Date.now() - started };
  };
  const first = await run();
  const { child, exited, ca, ready } = first;
  t.comment(`ExecStart to /readyz 200: ${first.ms} ms (first start: initdb, migrations, CA; ${user ? 'as nobody' : 'as the current user'})`);
  t.match(JSON.parse(ready.body), { status: 'ready', database: 'ok' });

  // The start-up block: on stderr, once; stdout stays JSON lines.
  await new Promise((r) => setTimeout(r, 300));
  const { stdout, stderr } = first.out;
  t.match(stderr, /tiepdan is ready/);
  t.equal(stderr.split('tiepdan is ready').length - 1, 1, 'printed once');
  t.match(stderr, new RegExp(`Console: +https://127\\.0\\.0\\.1:${port}/console`));
  t.match(stderr, new RegExp(`password in ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/initial-admin-password`));
  const fingerprint = /TLS CA: +SHA-256 ([0-9A-F:]{95})/.exec(stderr)?.[1];
  t.ok(fingerprint, 'the CA fingerprint is shown');
  const { X509Certificate } = await import('node:crypto');
  t.equal(fingerprint, new X509Certificate(ca!).fingerprint256, 'and it is the fingerprint of DATA_DIR/tls/ca.crt');
  t.match(stderr, /Media: +UDP\/TCP \d+, on the listen address 127\.0\.0\.1/);
  const password = (await readFile(path.join(dataDir, 'initial-admin-password'), 'utf8')).trim();
  t.notOk(stderr.includes(password) || stdout.includes(password), 'the password itself is printed nowhere');
  for (const line of stdout.split('\n').filter(Boolean)) {
    if (!line.startsWith('{')) {
      t.fail(`a non-JSON line on stdout: ${line}`);
      break;
    }
  }
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM (what systemctl stop sends) exits 0');
  // What Restart=on-failure or `systemctl restart` costs: a start on an existing DATA_DIR.
  const second = await run();
  t.comment(`restart, ExecStart to /readyz 200: ${second.ms} ms (existing DATA_DIR)`);
  t.match(second.out.stderr, /First login: +user "admin"/, 'the password file is still named while it exists');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

t.test('scripts/tiepdan-service-cli.sh runs a command as the service user with the service’s configuration', async (t) => {
  const user = nobody();
  if (user === undefined) {
    t.comment('needs root (to switch to an unprivileged user) and an installation that user can read');
    t.pass('skipped');
    return;
  }
  const tmp = await tempDataDir('tiepdan-svc-cli-');
  t.teardown(tmp.remove);
  await chown(tmp.dir, user.uid, user.gid);
  const dataDir = path.join(tmp.dir, 'data');
  const envFile = path.join(tmp.dir, 'tiepdan.env');
  // The file wins over the unit's DATA_DIR=/var/lib/tiepdan, as EnvironmentFile= does in the unit.
  await writeFile(envFile, `# test\nDATA_DIR=${dataDir}\nEMBEDDED_PG_PORT=0\nLOG_LEVEL=silent\n`);
  const r = spawnSync(path.join(INSTALL_ROOT, 'scripts/tiepdan-service-cli.sh'), ['migrate', 'status'], { encoding: 'utf8', env: { ...process.env, TIEPDAN_USER: 'nobody', TIEPDAN_ENV_FILE: envFile } });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /pending\s+0001_installation/, 'the command ran on the configured DATA_DIR');
  const { stat } = await import('node:fs/promises');
  t.equal((await stat(path.join(dataDir, 'postgres'))).uid, user.uid, 'and what it created belongs to the service user');
});
