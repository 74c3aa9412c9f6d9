import { once } from 'node:events';
import { accessSync, constants, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { canBind, freePortBlock, memoryLogger, silentLogger, tempDataDir } from '../../test/helpers/env.ts';
import { WsPeer, startLiveServer } from '../../test/live/liveHelpers.ts';
import { loadConfig } from '../config/config.ts';
import { turnIceServers, type IceServer } from './turnCredentials.ts';
import { generatedTls } from '../tls/tlsMaterial.ts';
import { lookupProcUser, readOrCreateTurnSecret } from './embeddedTurn.ts';
import { TurnServer, type TurnServerOptions } from './TurnServer.ts';
import { TurnTestClient } from './turnTestClient.ts';

const BIN = process.env.TURN_SERVER_BIN ?? '/usr/bin/turnserver';
function runnable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
const skip = runnable(BIN) ? false : `coturn is not installed (${BIN} missing): apt-get install coturn`;
/** An address the SFU could announce; CreatePermission needs no live peer behind it. */
const ALLOWED_PEER = '192.0.2.10';

/** Listener ports (TURN, TURN TLS), a relay range and two spare ports, all free and disjoint. */
async function freePorts(): Promise<{ port: number; tlsPort: number; relayMin: number; relayMax: number; spare: number }> {
  for (;;) {
    const listeners = await freePortBlock(2);
    const relayMin = await freePortBlock(16);
    const spare = await freePortBlock(2);
    const ranges = [
      [listeners, listeners + 1],
      [relayMin, relayMin + 15],
      [spare, spare + 1],
    ] as const;
    const disjoint = ranges.every(([lo, hi], i) => ranges.every(([lo2, hi2], j) => i === j || hi < lo2 || lo > hi2));
    if (disjoint) return { port: listeners, tlsPort: listeners + 1, relayMin, relayMax: relayMin + 15, spare };
  }
}

async function withTimeout<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function allocateWith(ice: IceServer, port: number, password = ice.credential): Promise<{ errorCode: number | undefined; client: TurnTestClient; relayPort: number | undefined }> {
  const client = await TurnTestClient.connect('127.0.0.1', port, { kind: 'udp' });
  const result = await client.allocate(ice.username, password);
  return { errorCode: result.errorCode, client, relayPort: result.relayed?.port };
}

t.test('config: embedded TURN defaults, external TURN, port checks', async (t) => {
  const c = loadConfig({}, '/srv/tiepdan');
  t.same(c.embeddedTurn, { bin: '/usr/bin/turnserver', port: 3478, tlsPort: 5349, relayMinPort: 50000, relayMaxPort: 50999, ttlSeconds: 3600 });
  t.equal(loadConfig({ NODE_ENV: 'test' }).embeddedTurn, undefined, 'off by default under NODE_ENV=test');
  t.ok(loadConfig({ NODE_ENV: 'test', TURN_EMBEDDED: 'auto' }).embeddedTurn, 'tests can ask for it');
  t.equal(loadConfig({ TURN_EMBEDDED: 'off' }).embeddedTurn, undefined);
  t.equal(loadConfig({ TURN_URLS: 'turn:a.vn:3478', TURN_SECRET: 'x'.repeat(20) }).embeddedTurn, undefined, 'an external TURN replaces the embedded one');
  t.throws(() => loadConfig({ TURN_RELAY_MIN_PORT: '45000', TURN_RELAY_MAX_PORT: '45999' }), /TURN_RELAY_MIN_PORT: TURN relay ports .* overlap/);
  t.throws(() => loadConfig({ RTC_PORT_BASE: '50500', MEDIASOUP_NUM_WORKERS: '2' }), /TURN_RELAY_MIN_PORT: .*overlap/, 'WebRtcServer ports inside the relay range');
  t.throws(() => loadConfig({ RECORDING_PORT_MIN: '50900', RECORDING_PORT_MAX: '51100' }), /TURN_RELAY_MIN_PORT: .*overlap/);
  t.throws(() => loadConfig({ TURN_TLS_PORT: '443', PORT: '443' }), /TURN_TLS_PORT: must differ from PORT/);
  t.throws(() => loadConfig({ TURN_RELAY_MIN_PORT: '51000', TURN_RELAY_MAX_PORT: '50000' }), /TURN_RELAY_MIN_PORT: must not exceed/);
  t.doesNotThrow(() => loadConfig({ TURN_EMBEDDED: 'off', TURN_RELAY_MIN_PORT: '45000', TURN_RELAY_MAX_PORT: '45999' }), 'no check when it does not run');
});

t.test('the TURN secret is made once, 32 random bytes, owner-only', async (t) => {
  const data = await tempDataDir('tiepdan-turn-');
  t.teardown(data.remove);
  const secret = await readOrCreateTurnSecret(data.dir);
  t.match(secret, /^[0-9a-f]{64}$/);
  t.equal((await stat(path.join(data.dir, 'turn.secret'))).mode & 0o777, 0o600);
  t.equal(await readOrCreateTurnSecret(data.dir), secret, 'kept across starts');
});

t.test('real coturn: credentials, no open relay, crash restart, close', { skip }, async (t) => {
  const data = await tempDataDir('tiepdan-turn-');
  t.teardown(data.remove);
  const { logger, lines } = memoryLogger('debug');
  const ports = await freePorts();
  const tls = await generatedTls(path.join(data.dir, 'tls'), ['localhost', '127.0.0.1'], silentLogger());
  const secret = await readOrCreateTurnSecret(data.dir);
  const options: TurnServerOptions = {
    bin: BIN,
    dir: path.join(data.dir, 'turn'),
    secret,
    ttlSeconds: 600,
    port: ports.port,
    tlsPort: ports.tlsPort,
    tls: { cert: tls.cert, key: tls.key },
    listenIp: '127.0.0.1',
    relayIp: '127.0.0.1',
    relayMinPort: ports.relayMin,
    relayMaxPort: ports.relayMax,
    peerAddresses: [ALLOWED_PEER, '127.0.0.1'],
    publicHost: '127.0.0.1',
    procUser: process.getuid?.() === 0 ? await lookupProcUser() : undefined,
  };
  const started = Date.now();
  const turn = await withTimeout('TurnServer.start', TurnServer.start(options, logger), 10_000);
  t.teardown(() => turn.close());
  t.ok(turn.ready, `ready in ${Date.now() - started} ms`);
  t.same(turn.peerAddresses, [ALLOWED_PEER], 'loopback is never given to coturn as a peer');
  t.same(turn.settings.urls, [`turn:127.0.0.1:${ports.port}?transport=udp`, `turn:127.0.0.1:${ports.port}?transport=tcp`, `turns:127.0.0.1:${ports.tlsPort}?transport=tcp`]);
  t.same(turn.urlsFor('fd00::5'), [`turn:[fd00::5]:${ports.port}?transport=udp`, `turn:[fd00::5]:${ports.port}?transport=tcp`, `turns:[fd00::5]:${ports.tlsPort}?transport=tcp`]);
  for (const file of ['turnserver.conf', 'key.pem', 'cert.pem']) t.equal((await stat(path.join(options.dir, file))).mode & 0o777, 0o600, `${file} is 0600`);
  const conf = await readFile(turn.confFile, 'utf8');
  t.match(conf, /^denied-peer-ip=0\.0\.0\.0-255\.255\.255\.255$/m);
  t.match(conf, /^allowed-peer-ip=192\.0\.2\.10$/m);
  t.notMatch(conf, /allow-loopback-peers/);
  if (options.procUser !== undefined) {
    const status = await readFile(`/proc/${turn.pid}/status`, 'utf8');
    t.match(status, new RegExp(`^Uid:\\s+${options.procUser.uid}\\s`, 'm'), `runs as ${options.procUser.user}`);
  }

  const [ice] = turnIceServers(turn.settings, 'peer-1');
  if (ice === undefined) throw new Error('no ICE server');

  await t.test('Allocate over UDP with the handed-out credentials succeeds', async (t) => {
    const { errorCode, client, relayPort } = await allocateWith(ice, ports.port);
    t.teardown(() => client.close());
    t.equal(errorCode, undefined);
    t.ok(relayPort !== undefined && relayPort >= ports.relayMin && relayPort <= ports.relayMax, `relay port ${relayPort} in ${ports.relayMin}–${ports.relayMax}`);
    t.equal((await client.createPermission(ALLOWED_PEER)).errorCode, undefined, 'permission to the SFU address');
    t.equal((await client.createPermission('8.8.8.8')).errorCode, 403, 'any other address: 403');
    t.equal((await client.createPermission('127.0.0.1')).errorCode, 403, 'loopback (the recorder, PostgreSQL): 403');
    t.equal((await client.createPermission('10.1.2.3')).errorCode, 403, 'the LAN: 403');
  });

  await t.test('a wrong password and an expired credential are refused (401)', async (t) => {
    const wrong = await allocateWith(ice, ports.port, 'not-the-password');
    wrong.client.close();
    t.equal(wrong.errorCode, 401);
    const [expired] = turnIceServers(turn.settings, 'peer-2', new Date(Date.now() - 3600_000));
    if (expired === undefined) throw new Error('no ICE server');
    const old = await allocateWith(expired, ports.port);
    old.client.close();
    t.equal(old.errorCode, 401);
  });

  await t.test('Allocate over TCP and over TLS (the TLS-only network path)', async (t) => {
    const tcp = await TurnTestClient.connect('127.0.0.1', ports.port, { kind: 'tcp' });
    t.teardown(() => tcp.close());
    t.equal((await tcp.allocate(ice.username, ice.credential)).errorCode, undefined, 'TCP');
    const overTls = await TurnTestClient.connect('127.0.0.1', ports.tlsPort, { kind: 'tls', ca: tls.caCertPem ?? '', servername: 'localhost' });
    t.teardown(() => overTls.close());
    t.equal((await overTls.allocate(ice.username, ice.credential)).errorCode, undefined, 'TLS, certificate verified against the local CA');
  });

  await t.test('kill -9: logged, restarted, answers again', async (t) => {
    const before = turn.pid;
    if (before === undefined) throw new Error('no pid');
    const readyAgain = once(turn, 'ready', { signal: AbortSignal.timeout(10_000) });
    process.kill(before, 'SIGKILL');
    const [pid] = (await readyAgain) as [number];
    t.not(pid, before, `new process ${pid}`);
    t.equal(turn.restarts, 1);
    t.ok(lines().some((l) => l.includes('turnserver exited; restarting') && l.includes('SIGKILL') && l.includes('"level":50')), 'an error line with the signal');
    const again = await allocateWith(ice, ports.port);
    again.client.close();
    t.equal(again.errorCode, undefined);
  });

  await t.test('close(): the process is gone and the ports are free', async (t) => {
    const pid = turn.pid;
    await withTimeout('close', turn.close(), 5000);
    t.notOk(existsSync(`/proc/${pid}`), 'process gone');
    t.ok(await canBind(ports.port), 'UDP and TCP port free');
    t.equal(turn.pid, undefined);
  });

  t.notOk(lines().some((l) => l.includes(secret)), 'the secret never reaches the log');
});

t.test('real coturn: a port held by another program does not stop tiepdan; it retries', { skip }, async (t) => {
  const data = await tempDataDir('tiepdan-turn-');
  t.teardown(data.remove);
  const ports = await freePorts();
  const squatter: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(ports.port, '127.0.0.1', resolve));
  const turn = await withTimeout(
    'TurnServer.start',
    TurnServer.start(
      {
        bin: BIN,
        dir: path.join(data.dir, 'turn'),
        secret: 'a'.repeat(64),
        ttlSeconds: 600,
        port: ports.port,
        tlsPort: undefined,
        tls: undefined,
        listenIp: '127.0.0.1',
        relayIp: undefined,
        relayMinPort: ports.relayMin,
        relayMaxPort: ports.relayMax,
        peerAddresses: [ALLOWED_PEER],
        publicHost: '127.0.0.1',
        readyTimeoutMs: 1000,
        backoff: { initialMs: 200, maxMs: 400, healthyMs: 60_000 },
      },
      silentLogger(),
    ),
    5000,
  );
  t.teardown(() => turn.close());
  t.equal(turn.ready, false, 'start() resolved without readiness');
  t.same(turn.settings.urls, [`turn:127.0.0.1:${ports.port}?transport=udp`, `turn:127.0.0.1:${ports.port}?transport=tcp`], 'TLS=off: no turns: URL');
  const readyAgain = once(turn, 'ready', { signal: AbortSignal.timeout(10_000) });
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
  await readyAgain;
  t.ok(turn.ready && turn.restarts >= 1, `ready after ${turn.restarts} restart(s)`);
  await turn.close();
});

t.test('server wiring: joined peers get the embedded TURN and its credentials work', { skip }, async (t) => {
  const ports = await freePorts();
  const live = await startLiveServer({
    TURN_EMBEDDED: 'auto',
    TURN_PORT: String(ports.port),
    TURN_TLS_PORT: String(ports.tlsPort),
    TURN_RELAY_MIN_PORT: String(ports.relayMin),
    TURN_RELAY_MAX_PORT: String(ports.relayMax),
    RTC_PORT_BASE: String(ports.spare),
  });
  t.teardown(() => live.stop());
  const turn = live.server.turn;
  t.ok(turn?.ready, 'server.turn is running');
  const sessionId = live.session();
  const peer = await WsPeer.open(live.wsUrl);
  t.teardown(() => peer.close());
  const reply = await peer.join(sessionId, live.token(sessionId, 'xa-1', 'endpoint'));
  t.ok(reply.ok, 'joined');
  const [ice] = (reply.data?.iceServers ?? []) as IceServer[];
  if (ice === undefined) throw new Error('no iceServers in the join reply');
  t.same(ice.urls, [`turn:127.0.0.1:${ports.port}?transport=udp`, `turn:127.0.0.1:${ports.port}?transport=tcp`], 'the embedded TURN (TLS=off in tests: no turns:)');
  t.match(ice.username, /^\d+:xa-1$/);
  const allocation = await allocateWith(ice, ports.port);
  allocation.client.close();
  t.equal(allocation.errorCode, undefined, 'the handed-out credential allocates');
  const pid = turn?.pid;
  peer.close();
  await live.server.stop();
  t.notOk(existsSync(`/proc/${pid}`), 'server.stop() stops turnserver');
});
