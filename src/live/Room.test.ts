/**
 * The room on a real mediasoup worker, driven without a browser: the server side accepts
 * producers from given RTP parameters, so visibility, limits, cascades and the rebuild after
 * a worker death are checked here with media (the rules alone, without workers, are in
 * rules.test.ts and permissions.test.ts); the browser tests in test/live prove the media really flows.
 */
import { once } from 'node:events';
import t from 'tap';
import type { types } from 'mediasoup';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { Room } from './Room.ts';
import type { ConsumerDescription, Peer } from './Peer.ts';
import { spatialLayerForSize } from './media.ts';
import { silentLogger } from '../../test/helpers/env.ts';
import { startTestPool } from '../../test/helpers/pool.ts';

async function startPool(workers = 2): Promise<WorkerPool> {
  return startTestPool(workers, { logLevel: 'error', rtcMinPort: 31400, rtcMaxPort: 31499 });
}

let ssrc = 1000;
const audioParams = (): types.RtpParameters => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: ssrc++ }],
});
const simulcastParams = (): types.RtpParameters => ({
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
  encodings: [{ ssrc: ssrc++ }, { ssrc: ssrc++ }, { ssrc: ssrc++ }],
});

function collect(peer: Peer): ConsumerDescription[] {
  const out: ConsumerDescription[] = [];
  peer.on('newConsumer', (c) => out.push(c));
  return out;
}

async function until(what: string, cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function joinWithMedia(room: Room, peerId: string, role: 'host' | 'endpoint' | 'observer', produce: boolean) {
  const peer = room.addPeer({ peerId, role, label: peerId });
  const consumers = collect(peer);
  let send: string | undefined;
  if (produce) send = (await room.createTransport(peer, 'send')).transportId;
  await room.createTransport(peer, 'recv');
  await room.setRtpCapabilities(peer, room.rtpCapabilities);
  if (produce && send !== undefined) {
    await room.produce(peer, { transportId: send, kind: 'audio', rtpParameters: audioParams(), source: 'microphone' });
    await room.produce(peer, { transportId: send, kind: 'video', rtpParameters: simulcastParams(), source: 'camera', size: { width: 1280, height: 720 } });
  }
  return { peer, consumers };
}

t.test('who is told of joins and leaves: a commune is not told of communes it may not see, the centre of all', async (t) => {
  const pool = await startPool(1);
  t.teardown(() => pool.close());
  const told = (peer: Peer) => {
    const events: string[] = [];
    peer.on('peerJoined', (p) => events.push(`+${p.peerId}`));
    peer.on('peerLeft', (id) => events.push(`-${id}`));
    return events;
  };
  for (const endpointsSeeEachOther of [false, true]) {
    const room = await Room.open({ id: `told-${endpointsSeeEachOther}`, settings: { maxPeers: 5, lobbyEnabled: false, endpointsSeeEachOther }, pool, logger: silentLogger() });
    const host = room.addPeer({ peerId: 'host', role: 'host', label: 'host' });
    const hostHeard = told(host);
    const a = room.addPeer({ peerId: 'a', role: 'endpoint', label: 'a' });
    const aHeard = told(a);
    const b = room.addPeer({ peerId: 'b', role: 'endpoint', label: 'b' });
    t.same(room.knownPeers(b).map((p) => p.id), endpointsSeeEachOther ? ['host', 'a'] : ['host'], `b's peer list (communes see each other: ${endpointsSeeEachOther})`);
    room.removePeer(b, 'left');
    t.same(hostHeard, ['+a', '+b', '-b'], 'the host is told of every commune');
    t.same(aHeard, endpointsSeeEachOther ? ['+b', '-b'] : [], `commune a is told of b only when they may see each other (${endpointsSeeEachOther})`);
    room.close();
  }
});

t.test('visibility: central sees all, communes see only the centre unless allowed; observer receives only', async (t) => {
  const pool = await startPool();
  t.teardown(() => pool.close());
  const room = await Room.open({ id: 's1', settings: { maxPeers: 5, lobbyEnabled: false, endpointsSeeEachOther: false }, pool, logger: silentLogger() });
  const added: string[] = [];
  room.on('producerAdded', (p) => added.push(`${p.peerId}/${p.source}`));
  const host = await joinWithMedia(room, 'host', 'host', true);
  const a = await joinWithMedia(room, 'a', 'endpoint', true);
  const b = await joinWithMedia(room, 'b', 'endpoint', true);
  const obs = await joinWithMedia(room, 'obs', 'observer', false);
  await until('consumers', () => host.consumers.length === 4 && a.consumers.length === 2 && b.consumers.length === 2 && obs.consumers.length === 6);
  t.same(new Set(host.consumers.map((c) => c.peerId)), new Set(['a', 'b']), 'host receives both communes');
  t.same(new Set(a.consumers.map((c) => c.peerId)), new Set(['host']), 'commune a receives only the centre');
  t.equal(obs.consumers.length, 6, 'observer receives everyone');
  t.ok(host.consumers.every((c) => c.kind === 'audio' || c.type === 'simulcast'), 'camera video is consumed as simulcast');
  t.same(added.sort(), ['a/camera', 'a/microphone', 'b/camera', 'b/microphone', 'host/camera', 'host/microphone'], 'recorder sees every producer');
  t.equal(room.producers().length, 6);

  // Layer choice from the viewer's size: a 320x180 tile needs the lowest of three layers.
  const video = host.consumers.find((c) => c.kind === 'video')!;
  t.equal(await room.setConsumerViewSize(host.peer, video.consumerId, { width: 320, height: 180 }), 0);
  t.equal(await room.setConsumerViewSize(host.peer, video.consumerId, { width: 1280, height: 720 }), 2);

  // Host mute pauses the producer; viewers' consumers report the pause.
  const paused: string[] = [];
  host.peer.on('consumerPaused', (id) => paused.push(id));
  const mutedNotice = once(a.peer, 'producerPaused');
  t.equal(await a.peer.mute('audio'), 1);
  t.equal((await mutedNotice)[1], true, 'the muted peer is told it was the host');
  await until('consumer paused', () => paused.length === 1);

  // Removing a peer cascades: its producers close and viewers' consumers go.
  const left: string[] = [];
  host.peer.on('peerLeft', (id) => left.push(id));
  const closedIds: string[] = [];
  host.peer.on('consumerClosed', (id) => closedIds.push(id));
  const recorderClosed: string[] = [];
  room.on('producerClosed', (id) => recorderClosed.push(id));
  room.removePeer(a.peer, 'ejected');
  t.same(left, ['a']);
  await until('consumers closed', () => closedIds.length === 2);
  t.equal(recorderClosed.length, 2, 'recorder told both producers closed');
  t.equal(room.producers().length, 4);
  room.close();
});

t.test('lobby and limits on a room with routers', async (t) => {
  const pool = await startPool(1);
  t.teardown(() => pool.close());
  const room = await Room.open({ id: 's2', settings: { maxPeers: 3, lobbyEnabled: true, endpointsSeeEachOther: true }, pool, logger: silentLogger() });
  const host = room.addPeer({ peerId: 'h', role: 'host', label: 'h' });
  const lobbies: string[][] = [];
  host.on('lobby', (w) => lobbies.push(w.map((p) => p.peerId)));
  const joined: string[] = [];
  host.on('peerJoined', (p) => joined.push(p.peerId));
  const e = room.addPeer({ peerId: 'e', role: 'endpoint', label: 'e' });
  t.equal(e.admitted, false, 'an endpoint waits in the lobby');
  t.same(lobbies, [['e']], 'the host sees it waiting');
  room.addPeer({ peerId: 't', role: 'technician', label: 't' });
  t.throws(() => room.addPeer({ peerId: 'x', role: 'endpoint', label: 'x' }), { code: 'SESSION_FULL' });
  t.throws(() => room.addPeer({ peerId: 'e', role: 'endpoint', label: 'e' }), { code: 'PEER_EXISTS' });
  const admitted = once(e, 'admitted');
  room.admit(e);
  await admitted;
  t.same(joined, ['t', 'e'], 'others see it join once admitted');
  room.close();
});

t.test('worker death: the room rebuilds on another worker and tells every peer to set up again', async (t) => {
  const pool = await startPool(2);
  t.teardown(() => pool.close());
  const room = await Room.open({ id: 's3', settings: { maxPeers: 5, lobbyEnabled: false, endpointsSeeEachOther: true }, pool, logger: silentLogger() });
  const a = await joinWithMedia(room, 'a', 'host', true);
  await joinWithMedia(room, 'b', 'endpoint', true);
  const firstPid = room.worker.pid;
  const closed: string[] = [];
  room.on('producerClosed', (id) => closed.push(id));
  const reset = once(a.peer, 'mediaReset');
  process.kill(firstPid, 'SIGKILL');
  const [caps] = (await reset) as [types.RtpCapabilities];
  t.not(room.worker.pid, firstPid, 'router now on another worker');
  t.ok(caps.codecs?.some((c) => c.mimeType === 'video/H264'), 'new router capabilities handed out');
  t.equal(closed.length, 4, 'recorder told the old producers are gone');
  t.equal(room.peers().length, 2, 'peers keep their place');
  // Peers set up again on the new router.
  const again = await room.createTransport(a.peer, 'send');
  await room.produce(a.peer, { transportId: again.transportId, kind: 'audio', rtpParameters: audioParams(), source: 'microphone' });
  t.equal(room.producers().length, 1);
  t.equal(room.rebuilds, 1);
  room.close();
});

t.test('a session that outgrows its worker spreads to another, media piped between the routers', async (t) => {
  const pool = await startPool(2);
  t.teardown(() => pool.close());
  const room = await Room.open({
    id: 's4',
    settings: { maxPeers: 5, lobbyEnabled: false, endpointsSeeEachOther: true },
    pool,
    logger: silentLogger(),
    spreadAboveLoad: 1,
  });
  const host = await joinWithMedia(room, 'host', 'host', true);
  const a = await joinWithMedia(room, 'a', 'endpoint', true);
  const b = await joinWithMedia(room, 'b', 'endpoint', true);
  t.equal(room.workers.length, 2, 'the session spans both workers');
  t.not(room.workers[0]!.pid, room.workers[1]!.pid);
  await until('consumers across routers', () => host.consumers.length === 4 && a.consumers.length === 4 && b.consumers.length === 4);
  t.pass('every peer consumes every other peer, whichever router it is on');
  const recorded = room.producers();
  t.equal(recorded.length, 6);
  t.ok(
    recorded.every((p) => room.router.canConsume({ producerId: p.producer.id, rtpCapabilities: room.rtpCapabilities })),
    'every producer is available on the primary router (for the recorder)',
  );
  // Pausing the original pauses its pipe copy on the primary router.
  const remote = recorded.find((p) => p.peerId === 'a' && p.source === 'microphone')!;
  await a.peer.mute('audio');
  await until('pipe producer paused', () => remote.producer.paused);
  t.pass('host mute reaches the piped copy');
  room.close();
});

t.test('layer choice from view size', async (t) => {
  t.equal(spatialLayerForSize(3, { width: 1280, height: 720 }, { width: 160, height: 90 }), 0);
  t.equal(spatialLayerForSize(3, { width: 1280, height: 720 }, { width: 640, height: 360 }), 1);
  t.equal(spatialLayerForSize(3, { width: 1280, height: 720 }, { width: 1920, height: 1080 }), 2);
  t.equal(spatialLayerForSize(1, undefined, { width: 1920, height: 1080 }), 0);
});

t.test('capabilities mediasoup chokes on cost one warning, not the process (no unhandled rejection)', async (t) => {
  const pool = await startPool(1);
  t.teardown(() => pool.close());
  const room = await Room.open({ id: 's-deep', settings: { maxPeers: 5, lobbyEnabled: false, endpointsSeeEachOther: true }, pool, logger: silentLogger() });
  t.teardown(() => room.close());
  await joinWithMedia(room, 'host', 'host', true);
  const rejections: unknown[] = [];
  const onRejection = (err: unknown) => rejections.push(err);
  process.on('unhandledRejection', onRejection);
  t.teardown(() => process.off('unhandledRejection', onRejection));
  // Deep enough that mediasoup's structuredClone in canConsume overflows the stack.
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 20_000; i++) deep = { a: deep };
  const x = room.addPeer({ peerId: 'x', role: 'endpoint', label: 'x' });
  await room.createTransport(x, 'recv');
  await room.setRtpCapabilities(x, { ...room.rtpCapabilities, extra: deep } as unknown as types.RtpCapabilities);
  await new Promise((r) => setTimeout(r, 300));
  t.same(rejections.map((e) => (e as Error).message), [], 'nothing escaped');
  // The room still works for the others.
  const b = await joinWithMedia(room, 'b', 'endpoint', false);
  await until('b consumes the host', () => b.consumers.length === 2);
  t.pass('the room goes on');
});

t.test('a session ending while a transport is being made: a coded error, never a raw mediasoup one', async (t) => {
  const pool = await startPool(1);
  t.teardown(() => pool.close());
  const outcomes = new Map<string, number>();
  // The room closes at different moments of createTransport (router call, bitrate, trace events).
  for (let attempt = 0; attempt < 30; attempt++) {
    const room = await Room.open({ id: `s-race-${attempt}`, settings: { maxPeers: 5, lobbyEnabled: false, endpointsSeeEachOther: true }, pool, logger: silentLogger() });
    const x = room.addPeer({ peerId: 'x', role: 'endpoint', label: 'x' });
    await room.createTransport(x, 'recv');
    const pending = room.createTransport(x, attempt % 2 === 0 ? 'recv' : 'send');
    for (let i = 0; i < attempt % 10; i++) await new Promise((r) => setImmediate(r));
    room.close();
    const outcome = await pending.then(
      () => 'created',
      (err: unknown) => (err instanceof Error && 'code' in err ? String((err as { code: unknown }).code) : `raw: ${(err as Error).message}`),
    );
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  t.comment(JSON.stringify([...outcomes]));
  t.same([...outcomes.keys()].filter((o) => o.startsWith('raw')), [], 'every failure has a code');
});
