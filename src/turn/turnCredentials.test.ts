import { createHmac } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../config/config.ts';
import { turnIceServers } from './turnCredentials.ts';

t.test('TURN credentials follow coturn REST (use-auth-secret)', async (t) => {
  t.same(turnIceServers(undefined, 'xa-a'), [], 'no TURN configured: no ICE servers');
  const now = new Date('2026-11-29T10:00:00Z');
  const [server] = turnIceServers({ urls: ['turn:turn.example.vn:3478?transport=tcp'], secret: 's'.repeat(32), ttlSeconds: 600 }, 'xa-a', now);
  const expiry = now.getTime() / 1000 + 600;
  t.equal(server!.username, `${expiry}:xa-a`, 'username is <expiry>:<peer>');
  t.equal(server!.credential, createHmac('sha1', 's'.repeat(32)).update(`${expiry}:xa-a`).digest('base64'));
  t.same(server!.urls, ['turn:turn.example.vn:3478?transport=tcp']);
  const perConnection = { urls: ['turn:10.0.0.1:3478'], secret: 's'.repeat(32), ttlSeconds: 600, urlsFor: (h: string) => [`turn:${h}:3478`] };
  t.same(turnIceServers(perConnection, 'xa-a', now, '::ffff:198.18.3.1')[0]!.urls, ['turn:198.18.3.1:3478'], 'the embedded TURN is named by the address the browser reached');
  t.same(turnIceServers(perConnection, 'xa-a', now)[0]!.urls, ['turn:10.0.0.1:3478'], 'unknown reach: the start-up host');
});

t.test('live-session configuration', async (t) => {
  const c = loadConfig({ TURN_URLS: 'turn:a.vn:3478, turns:a.vn:5349', TURN_SECRET: 'x'.repeat(20), LIVE_RECONNECT_GRACE_MS: '5000', DEV_SESSIONS: 'true' });
  t.same(c.live.turn, { urls: ['turn:a.vn:3478', 'turns:a.vn:5349'], secret: 'x'.repeat(20), ttlSeconds: 3600 });
  t.equal(c.live.reconnectGraceMs, 5000);
  t.equal(c.live.devSessions, true);
  t.equal(loadConfig({}).live.reconnectGraceMs, 30000, 'grace period defaults to 30 s');
  t.equal(loadConfig({}).live.devSessions, false, 'dev sessions off by default');
  t.throws(() => loadConfig({ TURN_URLS: 'turn:a.vn' }), /TURN_SECRET: TURN_URLS and TURN_SECRET go together/);
  t.throws(() => loadConfig({ TURN_URLS: 'http://a.vn', TURN_SECRET: 'x'.repeat(20) }), /TURN_URLS: must be comma-separated turn: or turns: URIs/);
  t.throws(() => loadConfig({ LIVE_RECONNECT_GRACE_MS: '10' }), /LIVE_RECONNECT_GRACE_MS/);
});
