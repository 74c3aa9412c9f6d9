import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../src/config/config.ts';
import { ConfigError } from '../src/errors.ts';
import { tempDataDir } from './helpers/env.ts';

t.test('valid defaults start: an empty environment gives the documented defaults', async (t) => {
  const c = loadConfig({}, '/srv/tiepdan');
  t.equal(c.http.port, 3000);
  t.equal(c.dataDir, '/srv/tiepdan/data');
  t.equal(c.database.url, undefined, 'no DATABASE_URL means the embedded PostgreSQL');
  t.equal(c.log.level, 'info');
  t.equal(c.log.pretty, false, 'production logs are JSON');
  t.ok(c.mediasoup.numWorkers >= 1, 'one worker per core by default');
  t.equal(c.mediasoup.webRtcPortBase, 40000);
});

t.test('every invalid variable is reported in one error', async (t) => {
  const env = {
    PORT: 'eighty',
    DATA_DIR: '',
    DATABASE_URL: 'mysql://x',
    LOG_LEVEL: 'loud',
    MEDIASOUP_NUM_WORKERS: '0',
    RTC_LISTEN_IP: 'not-an-ip',
    RTC_MIN_PORT: '50000',
    RTC_MAX_PORT: '70000',
    NODE_ENV: 'staging',
  };
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    caught = err;
  }
  t.type(caught, ConfigError);
  const problems = (caught as ConfigError).problems;
  for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'MEDIASOUP_NUM_WORKERS', 'RTC_LISTEN_IP', 'RTC_MAX_PORT', 'NODE_ENV']) {
    t.ok(problems.some((p) => p.startsWith(`${name}:`)), `${name} is reported`);
  }
  t.match((caught as ConfigError).message, /PORT: .*\(got "eighty"\)/, 'the message shows the bad value');
  t.equal((caught as ConfigError).code, 'CONFIG_INVALID');
});

t.test('cross-field rules: overlapping WebRtcServer and RTC port ranges', async (t) => {
  t.throws(() => loadConfig({ RTC_PORT_BASE: '41000', RTC_MIN_PORT: '40000', RTC_MAX_PORT: '49999' }), /overlap/);
  t.throws(() => loadConfig({ RTC_MIN_PORT: '45000', RTC_MAX_PORT: '44000' }), /RTC_MIN_PORT: must not exceed/);
});

t.test('an optional JSON file is layered under the environment', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const file = path.join(tmp.dir, 'tiepdan.json');
  await writeFile(file, JSON.stringify({ PORT: 8080, LOG_LEVEL: 'debug', RTC_ANNOUNCED_ADDRESS: 'tcd.gialai.gov.vn' }));
  const c = loadConfig({ TIEPDAN_CONFIG: file, LOG_LEVEL: 'warn' });
  t.equal(c.http.port, 8080, 'file value used');
  t.equal(c.log.level, 'warn', 'environment wins over the file');
  t.same(c.mediasoup.announcedAddresses, ['tcd.gialai.gov.vn']);
  await writeFile(file, JSON.stringify({ PROT: 1 }));
  t.throws(() => loadConfig({ TIEPDAN_CONFIG: file }), /unknown setting PROT/, 'a misspelt key is refused, not ignored');
});

t.test('RTC_ANNOUNCED_ADDRESS: unset means per connection, several are comma-separated, 0.0.0.0 is refused', async (t) => {
  t.same(loadConfig({}).mediasoup.announcedAddresses, [], 'unset: chosen per connection');
  t.same(loadConfig({ RTC_ANNOUNCED_ADDRESS: ' 203.0.113.7, tcd.gialai.gov.vn ,' }).mediasoup.announcedAddresses, ['203.0.113.7', 'tcd.gialai.gov.vn']);
  t.throws(() => loadConfig({ RTC_ANNOUNCED_ADDRESS: '0.0.0.0' }), /RTC_ANNOUNCED_ADDRESS.*0\.0\.0\.0/, 'the unspecified address is never announced');
  t.throws(() => loadConfig({ RTC_ANNOUNCED_ADDRESS: '10.0.0.1,::' }), /RTC_ANNOUNCED_ADDRESS/);
  t.throws(() => loadConfig({ RTC_ANNOUNCED_ADDRESS: 'bad host!' }), /RTC_ANNOUNCED_ADDRESS/);
});
