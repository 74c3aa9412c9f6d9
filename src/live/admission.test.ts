/**
 * Who may enter a session, without workers or sockets: real tokens (a random key), the in-memory
 * directory and the in-memory LiveStore. Each refusal carries the code the client shows.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { DEFAULT_SESSION_SETTINGS, InMemorySessionDirectory } from '../domain/sessionDirectory.ts';
import { MemoryLiveStore } from '../store/MemoryLiveStore.ts';
import { TokenSigner } from '../tokens/tokenSigner.ts';
import { Admission } from './admission.ts';

function setUp() {
  const tokens = new TokenSigner(randomBytes(32));
  const directory = new InMemorySessionDirectory();
  const store = new MemoryLiveStore();
  directory.put({ ...DEFAULT_SESSION_SETTINGS, id: 's1', title: 'Phiên 1' });
  const admission = new Admission({ tokens, directory, store });
  const invite = (role = 'endpoint', sessionId = 's1', kind: 'invitation' | 'user' = 'invitation') =>
    tokens.issue({ kind, sessionId, subject: 'xa-a', role, ttlSeconds: 600 });
  const join = (token: string, sessionId = 's1', protocolVersion = 1) => admission.admit({ protocolVersion, sessionId, token });
  return { tokens, directory, store, admission, invite, join };
}

t.test('an invitation to an open session is admitted, with its live role', async (t) => {
  const { invite, join } = setUp();
  const { claims, settings } = await join(invite().token);
  t.equal(claims.role, 'endpoint');
  t.equal(claims.sid, 's1');
  t.equal(settings.title, 'Phiên 1');
});

t.test('refusals, each with its code', async (t) => {
  const { directory, invite, join } = setUp();
  await t.rejects(join(invite().token, 's1', 2), { code: 'PROTOCOL_VERSION_UNSUPPORTED' });
  await t.rejects(join('td1.garbage.sig'), { code: 'TOKEN_INVALID' });
  await t.rejects(join(invite('endpoint', 's1', 'user').token), { code: 'TOKEN_INVALID' }, 'a login token is no invitation');
  await t.rejects(join(invite('mayor').token), { code: 'TOKEN_INVALID' }, 'an unknown role');
  await t.rejects(join(invite('endpoint', 's2').token), { code: 'TOKEN_WRONG_SESSION' });
  await t.rejects(join(invite('endpoint', 's2').token, 's2'), { code: 'SESSION_NOT_FOUND' });
  const revoked = invite();
  directory.revoke(revoked.claims.jti);
  await t.rejects(join(revoked.token), { code: 'TOKEN_REVOKED' });
  directory.update('s1', { admission: 'not_open' });
  await t.rejects(join(invite().token), { code: 'SESSION_NOT_OPEN' });
  directory.update('s1', { admission: 'ended' });
  await t.rejects(join(invite().token), { code: 'SESSION_ENDED' });
});

t.test('ejection and a host-ended session are remembered by the store', async (t) => {
  const { store, admission, invite, join } = setUp();
  const ejected = invite();
  await join(ejected.token);
  await admission.eject('s1', ejected.claims.jti);
  await t.rejects(join(ejected.token), { code: 'PEER_EJECTED' }, 'the ejected invitation cannot come back');
  t.ok(await store.isEjected('s1', ejected.claims.jti), 'the store holds the ejection');
  await join(invite().token).then(() => t.pass('a re-issued invitation for the same point gets in'));
  await admission.markEnded('s1');
  await t.rejects(join(invite().token), { code: 'SESSION_ENDED' }, 'the host ended it: nobody gets in');
});
