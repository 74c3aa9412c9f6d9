/**
 * The start-up block's wording for each case a technician meets (the generated CA is checked on a
 * real start in src/ops/service/service.test.ts): plain HTTP, a certificate from files, the first
 * login done, a Prometheus with a token.
 */
import t from 'tap';
import { formatBanner, type BannerFacts } from './startupBanner.ts';

const base: BannerFacts = {
  startedMs: 6400,
  consoleUrls: ['https://192.0.2.10:3000/console', 'https://tiepdan-server:3000/console', 'https://127.0.0.1:3000/console'],
  adminPasswordFile: '/var/lib/tiepdan/initial-admin-password',
  media: { mode: 'configured', addresses: ['203.0.113.5'], ports: [40000, 40001] },
  tls: { fingerprint256: 'AB:CD', source: 'generated', caUrl: 'https://192.0.2.10:3000/tls/ca.crt' },
  readyUrl: 'https://127.0.0.1:3000/readyz',
  metrics: { url: 'https://127.0.0.1:3000/metrics', protection: 'loopback' },
  dataDir: '/var/lib/tiepdan',
};

t.test('every address, the password file, the announced address, the CA', async (t) => {
  const text = formatBanner(base);
  t.match(text, /tiepdan is ready \(started in 6\.4 s\)/);
  t.match(text, /Console: +https:\/\/192\.0\.2\.10:3000\/console\n +https:\/\/tiepdan-server:3000\/console\n +https:\/\/127\.0\.0\.1:3000\/console/);
  t.match(text, /password in \/var\/lib\/tiepdan\/initial-admin-password/);
  t.match(text, /Media: +UDP\/TCP 40000, 40001, announced as 203\.0\.113\.5/);
  t.match(text, /TLS CA: +SHA-256 AB:CD\n +commune PCs install https:\/\/192\.0\.2\.10:3000\/tls\/ca\.crt/);
  t.match(text, /from this machine only; set METRICS_TOKEN/);
});

t.test('plain HTTP, a certificate from files, first login done, metrics with a token', async (t) => {
  t.match(formatBanner({ ...base, tls: undefined }), /HTTPS: +off \(TLS=off\)/);
  const files = formatBanner({ ...base, tls: { fingerprint256: 'EF:01', source: 'files', caUrl: undefined } });
  t.match(files, /certificate from TLS_CERT_FILE, SHA-256 EF:01/);
  t.notMatch(files, /TLS CA:/);
  t.match(formatBanner({ ...base, adminPasswordFile: undefined }), /First login: +done/);
  t.match(formatBanner({ ...base, metrics: { ...base.metrics, protection: 'token' } }), /Authorization: Bearer METRICS_TOKEN/);
});
