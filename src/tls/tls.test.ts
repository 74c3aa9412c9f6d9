import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { stat, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { TiepdanServer } from '../server.ts';
import { silentLogger, tempDataDir, testConfig } from '../../test/helpers/env.ts';
import { generatedTls } from './tlsMaterial.ts';

function get(url: string, ca?: string): Promise<{ status: number; location?: string; hsts?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}), ...(res.headers['strict-transport-security'] ? { hsts: String(res.headers['strict-transport-security']) } : {}), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('first start without a certificate generates a local CA and a server certificate that browsers can be taught to trust', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const config = await testConfig(data.dir, { TLS: 'auto', TLS_HOSTNAMES: 'tiepdan.example.vn,127.0.0.1,localhost', HTTP_REDIRECT_PORT: '0' });
  const server = await TiepdanServer.start(config, silentLogger());
  t.teardown(() => server.stop());

  t.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the server URL is https');
  const caPem = await readFile(path.join(data.dir, 'tls', 'ca.crt'), 'utf8');
  // Trusting only our CA (as a commune PC does after importing it), the certificate verifies.
  const health = await get(`${server.url}/healthz`, caPem);
  t.equal(health.status, 200, 'HTTPS answers with the generated certificate trusted via the CA');
  // Security review L14: with TLS on, browsers are told to come back over HTTPS only.
  t.equal(health.hsts, 'max-age=31536000', 'HSTS on every HTTPS answer');
  t.equal((await get(`${server.url}/join`, caPem)).hsts, 'max-age=31536000', 'the pages too');
  const byName = await get(`https://localhost:${server.port}/healthz`, caPem);
  t.equal(byName.status, 200, 'localhost is covered too');
  await t.rejects(get(`${server.url}/healthz`), 'without the CA the certificate is not trusted');

  const keyMode = (await stat(path.join(data.dir, 'tls', 'server.key'))).mode & 0o777;
  t.equal(keyMode, 0o600, 'server key is owner-only');
  t.equal((await stat(path.join(data.dir, 'tls', 'ca.key'))).mode & 0o777, 0o600, 'CA key is owner-only');

  const cert = new X509Certificate(await readFile(path.join(data.dir, 'tls', 'server.crt')));
  t.ok(cert.checkHost('tiepdan.example.vn'), 'the configured host name is in the certificate');
  t.ok(cert.checkIP('127.0.0.1'), 'the configured address is in the certificate');
  t.notOk(cert.ca, 'the server certificate is not itself a CA (Firefox refuses that)');

  t.ok(server.redirectPort, 'redirect port is listening');
  const redirected = await get(`http://127.0.0.1:${server.redirectPort}/join/abc?x=1`);
  t.equal(redirected.status, 308, 'plain HTTP only redirects');
  t.equal(redirected.hsts, undefined, 'no HSTS over plain HTTP (browsers ignore it there)');
  t.equal(redirected.location, `https://127.0.0.1:${server.port}/join/abc?x=1`, 'to the same path on HTTPS');
});

t.test('a second start reuses the certificate; new names renew the server certificate but keep the CA', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const dir = path.join(data.dir, 'tls');
  const first = await generatedTls(dir, ['a.example', '127.0.0.1'], silentLogger());
  const again = await generatedTls(dir, ['a.example', '127.0.0.1'], silentLogger());
  t.equal(again.cert.toString(), first.cert.toString(), 'same names: same certificate');
  const renamed = await generatedTls(dir, ['b.example', '10.0.0.5'], silentLogger());
  t.not(renamed.cert.toString(), first.cert.toString(), 'new names: new server certificate');
  t.equal(renamed.caCertPem, first.caCertPem, 'the CA stays, so commune PCs need not trust anything new');
  const nearExpiry = await generatedTls(dir, ['b.example', '10.0.0.5'], silentLogger(), Date.now() + 820 * 24 * 3600 * 1000);
  t.not(nearExpiry.cert.toString(), renamed.cert.toString(), 'a certificate close to expiry is renewed');
});

t.test('TLS=files needs both files; a missing file is a clear error', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  await t.rejects(testConfig(data.dir, { TLS: 'files', TLS_CERT_FILE: '/nonexistent.crt' }), /TLS/);
  const config = await testConfig(data.dir, { TLS: 'files', TLS_CERT_FILE: '/nonexistent.crt', TLS_KEY_FILE: '/nonexistent.key' });
  await t.rejects(TiepdanServer.start(config, silentLogger()), { code: 'TLS_FILES_UNREADABLE' });
});

t.test('the generated CA vouches for HTTPS servers only: its key cannot make a trusted e-mail-signing certificate (security review M9)', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const dir = path.join(data.dir, 'tls');
  await generatedTls(dir, ['tiepdan.example.vn', '127.0.0.1'], silentLogger());
  const run = promisify(execFile);
  const text = async (file: string) => (await run('openssl', ['x509', '-in', path.join(dir, file), '-noout', '-text'])).stdout;
  const ca = await text('ca.crt');
  t.match(ca, /X509v3 Extended Key Usage:\s*\n\s*TLS Web Server Authentication\s*\n/, 'the CA carries extendedKeyUsage=serverAuth');
  t.match(ca, /CA:TRUE, pathlen:0/, 'and issues no intermediate CAs');
  t.notMatch(ca, /Name Constraints/, 'no nameConstraints: a new server address must not mean reinstalling the CA on every commune PC');
  t.match(await text('server.crt'), /X509v3 Extended Key Usage:\s*\n\s*TLS Web Server Authentication\s*\n/, 'the server certificate too');

  // The attack: whoever copies ca.key signs a certificate for another purpose with it (S/MIME here;
  // this openssl has no code-signing purpose to verify against, Windows applies the same EKU rule).
  const ext = path.join(data.dir, 'codesign.ext');
  await writeFile(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n');
  const key = path.join(data.dir, 'evil.key');
  const csr = path.join(data.dir, 'evil.csr');
  const crt = path.join(data.dir, 'evil.crt');
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=Evil Software Ltd']);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'), '-set_serial', '7', '-days', '30', '-extfile', ext, '-out', crt]);
  const verify = (purpose: string, file: string) => run('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), '-purpose', purpose, file]).then(() => 'ok', (err: { stderr?: string }) => err.stderr ?? 'failed');
  t.match(await verify('smimesign', crt), /at 1 depth lookup: unsuitable certificate purpose/, 'a verifier refuses the S/MIME certificate the CA key made, because of the CA (depth 1)');
  t.equal(await verify('sslserver', path.join(dir, 'server.crt')), 'ok', 'while the server certificate still verifies for HTTPS');
});
