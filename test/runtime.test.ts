import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { checkNodeVersion } from '../src/runtime/nodeVersion.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

t.test('supported runtimes', async (t) => {
  t.equal(checkNodeVersion('24.21.0').ok, true);
  t.equal(checkNodeVersion('v22.18.0').ok, true);
  const old = checkNodeVersion('v20.20.2');
  t.equal(old.ok, false);
  t.match(old.message, /needs Node\.js 22 or newer.*v20\.20\.2/);
  t.equal(checkNodeVersion('garbage').ok, false);
});

t.test('tests and scripts run on the project Node.js (24 from the npm registry)', async (t) => {
  t.ok(Number(process.versions.node.split('.')[0]) >= 22, `running on ${process.version}`);
});

// The system Node.js of this machine is older than 22: starting tiepdan with it must fail clearly.
const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
const systemMajor = systemNode ? Number(spawnSync(systemNode, ['-p', 'process.versions.node.split(".")[0]']).stdout.toString()) : NaN;
t.test('an unsupported system Node.js gets a clear message and exit code 78', { skip: !(systemMajor < 22) && 'system Node.js is already >= 22' }, async (t) => {
  const r = spawnSync(systemNode!, [path.join(root, 'bin/tiepdan.mjs'), 'start'], { encoding: 'utf8' });
  t.equal(r.status, 78);
  t.match(r.stderr, /tiepdan needs Node\.js 22 or newer/);
});
