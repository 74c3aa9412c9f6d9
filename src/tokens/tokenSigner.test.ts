import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { TokenSigner } from './tokenSigner.ts';
import { tempDataDir } from '../../test/helpers/env.ts';

const signer = new TokenSigner(randomBytes(32));

t.test('an issued token verifies to its claims, bound to one session, subject and role', async (t) => {
  const { token, claims } = signer.issue({ kind: 'invitation', sessionId: 's-1', subject: 'xa-ia-grai', role: 'endpoint', displayName: 'UBND xã Ia Grai', ttlSeconds: 3600 });
  const back = signer.verify(token);
  t.same(back, claims);
  t.equal(back.sid, 's-1');
  t.equal(back.role, 'endpoint');
  t.ok(back.exp - back.iat === 3600);
});

t.test('expired, tampered, foreign and made-up tokens are refused with their codes', async (t) => {
  const past = new Date(Date.now() - 7200_000);
  const expired = signer.issue({ kind: 'invitation', sessionId: 's', subject: 'x', role: 'endpoint', ttlSeconds: 60, now: past }).token;
  t.throws(() => signer.verify(expired), { code: 'TOKEN_EXPIRED' });

  const good = signer.issue({ kind: 'invitation', sessionId: 's', subject: 'x', role: 'endpoint', ttlSeconds: 60 }).token;
  const [v, payload, sig] = good.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'host' })).toString('base64url');
  t.throws(() => signer.verify(`${v}.${forged}.${sig}`), { code: 'TOKEN_INVALID' }, 'role escalation by editing the payload');

  const other = new TokenSigner(randomBytes(32));
  t.throws(() => other.verify(good), { code: 'TOKEN_INVALID' }, 'a token from another installation');
  for (const junk of ['', 'abc', 'td1..', 'td1.x.y', 42, null, 'x'.repeat(5000)]) {
    t.throws(() => signer.verify(junk), { code: 'TOKEN_INVALID' }, `junk ${JSON.stringify(junk).slice(0, 20)}`);
  }
});

t.test('the signing key is created once, owner-only, and reused', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(tmp.remove);
  const a = await TokenSigner.fromDataDir(tmp.dir);
  const b = await TokenSigner.fromDataDir(tmp.dir);
  const { token } = a.issue({ kind: 'user', subject: 'u1', role: 'administrator', ttlSeconds: 10 });
  t.equal(b.verify(token).sub, 'u1', 'same key after reload');
  t.equal((await stat(path.join(tmp.dir, 'token.key'))).mode & 0o777, 0o600);
});

t.test('a token verified before is remembered by its exact text: expiry still counts, edits still fail', async (t) => {
  const now = new Date('2027-01-01T00:00:00Z');
  const { token } = signer.issue({ kind: 'user', subject: 'u1', role: 'administrator', ttlSeconds: 60, now });
  const first = signer.verify(token, now);
  first.sub = 'changed by a caller';
  t.equal(signer.verify(token, now).sub, 'u1', 'each call gets its own copy');
  t.throws(() => signer.verify(token, new Date(now.getTime() + 60_000)), { code: 'TOKEN_EXPIRED' }, 'expiry is judged on every call');
  const [v, payload, sig] = token.split('.');
  const flipped = `${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'AB' : 'AA'}`;
  t.throws(() => signer.verify(`${v}.${payload}.${flipped}`, now), { code: 'TOKEN_INVALID' }, 'another signature is another text: checked');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), role: 'host' })).toString('base64url');
  t.throws(() => signer.verify(`${v}.${forged}.${sig}`, now), { code: 'TOKEN_INVALID' });
});
