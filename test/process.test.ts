/**
 * The real entry point as a technician runs it: `tiepdan start` serves until SIGTERM/SIGINT and
 * then shuts down cleanly (exit 0, PostgreSQL stopped); CLI mistakes exit non-zero.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { freePortBlock, tempDataDir } from './helpers/env.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'bin/tiepdan.mjs');

async function startProcess(dataDir: string) {
  const port = await freePortBlock(1);
  const child = spawn(process.execPath, [entry, 'start'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      TLS: 'off',
      EMBEDDED_PG_PORT: '0',
      MEDIASOUP_NUM_WORKERS: '1',
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_PORT_BASE: String(await freePortBlock(1)),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = Date.now() + 60000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > until || child.exitCode !== null) throw new Error(`server did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port, exited, output: () => output };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`tiepdan start serves, then ${signal} shuts it down cleanly`, async (t) => {
    const tmp = await tempDataDir();
    t.teardown(tmp.remove);
    const server = await startProcess(tmp.dir);
    t.teardown(() => void server.child.kill('SIGKILL'));
    server.child.kill(signal);
    const code = await server.exited;
    t.equal(code, 0, 'exit code 0 after a graceful shutdown');
    t.match(server.output(), /"msg":"stopped"/, 'the shutdown ran to its end');
    t.notOk(existsSync(path.join(tmp.dir, 'postgres', 'postmaster.pid')), 'the embedded PostgreSQL stopped with the server');
    await t.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`), 'the port is closed');
    for (const file of ['initial-admin-password', 'postgres.secret', 'token.key']) {
      const secret = readFileSync(path.join(tmp.dir, file), 'utf8').trim();
      t.ok(secret.length >= 16 && !server.output().includes(secret), `the secret in ${file} never reaches the log`);
    }
  });
}

t.test('CLI mistakes exit non-zero; migrate status exits 0', async (t) => {
  const bad = spawnSync(process.execPath, [entry, 'nonsense'], { encoding: 'utf8' });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /CLI_USAGE: unknown command "nonsense"/);
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const status = spawnSync(process.execPath, [entry, 'migrate', 'status'], { encoding: 'utf8', env: { ...process.env, DATA_DIR: tmp.dir, EMBEDDED_PG_PORT: '0', LOG_LEVEL: 'silent' } });
  t.equal(status.status, 0, status.stderr);
  t.match(status.stdout, /pending\s+0001_installation/);
  const badEnv = spawnSync(process.execPath, [entry, 'start'], { encoding: 'utf8', env: { ...process.env, PORT: 'abc', LOG_LEVEL: 'loud' } });
  t.equal(badEnv.status, 78, 'bad configuration: EX_CONFIG');
  t.match(badEnv.stderr, /PORT: .*\n.*LOG_LEVEL: /, 'every bad variable listed');
});
