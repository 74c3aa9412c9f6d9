/**
 * The heart of the product in a real browser: a host and two commune endpoints join one session
 * through /ws with invitation tokens, each receives the others' audio and video (growing inbound
 * RTP bytes in Chromium and growing consumer byte counts on the server); then the host mutes one
 * endpoint and ejects the other.
 */
import t from 'tap';
import { launchChromium } from '../helpers/browser.ts';
import { WsPeer, inbound, openPagePeer, pageEvents, receivesFrom, startLiveServer, until } from './liveHelpers.ts';

t.test('host + two endpoints see and hear each other; host mutes and ejects', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const sid = live.session({ endpointsSeeEachOther: true });

  const host = await openPagePeer(browser, live, sid, live.token(sid, 'host-1', 'host', { name: 'Chủ trì' }));
  const e1 = await openPagePeer(browser, live, sid, live.token(sid, 'xa-a', 'endpoint', { name: 'UBND xã A' }));
  const tokenB = live.token(sid, 'xa-b', 'endpoint', { name: 'UBND xã B' });
  const e2 = await openPagePeer(browser, live, sid, tokenB);

  const atHost = await receivesFrom(host, ['xa-a', 'xa-b']);
  t.pass(`host receives both communes: ${JSON.stringify(atHost)}`);
  const atA = await receivesFrom(e1, ['host-1', 'xa-b']);
  t.pass(`commune A receives the centre and commune B: ${JSON.stringify(atA)}`);
  const atB = await receivesFrom(e2, ['host-1', 'xa-a']);
  t.pass(`commune B receives the centre and commune A: ${JSON.stringify(atB)}`);

  // The server's view: every peer's consumers forward bytes, simulcast for camera video.
  const room = live.server.live.rooms.get(sid)!;
  t.equal(room.peers().length, 3);
  for (const peerId of ['host-1', 'xa-a', 'xa-b']) {
    const stats = await until(`server consumer stats of ${peerId}`, async () => {
      const s = await room.getStats(room.requirePeer(peerId));
      return s.consumers.length === 4 && s.consumers.every((c) => c.byteCount > 0) ? s : undefined;
    });
    t.ok(stats.consumers.every((c) => !c.paused), `${peerId}: 4 consumers resumed and forwarding`);
    t.equal(stats.producers.length, 2, `${peerId}: microphone and camera produced`);
    t.ok(stats.transports.every((tr) => tr.dtlsState === 'connected'), `${peerId}: transports connected`);
    // The console's health figures: loss on what the peer sends, RTT from its receiver reports.
    const health = await until(`link health of ${peerId}`, async () => {
      const s = await room.getStats(room.requirePeer(peerId));
      return s.rttMs !== null && s.lossPct !== null ? s : undefined;
    });
    t.ok(health.rttMs! >= 0 && health.rttMs! < 1000, `${peerId}: round-trip time ${health.rttMs} ms`);
    t.ok(health.lossPct! >= 0 && health.lossPct! <= 100, `${peerId}: loss ${health.lossPct} %`);
  }
  const video = room.producers().find((p) => p.peerId === 'xa-a' && p.source === 'camera')!;
  t.equal(video.producer.rtpParameters.encodings?.length, 3, 'camera sent as three simulcast layers');
  t.equal(room.producers().length, 6, 'recorder view: six producers on the session router');

  // The active speaker is announced (Chromium's fake microphone beeps).
  const speaker = await until('active speaker', async () => (await pageEvents(host)).find((e) => e.e === 'activeSpeaker'));
  t.ok(['host-1', 'xa-a', 'xa-b'].includes(speaker.d as string), `host told who speaks (${String(speaker.d)})`);

  // Layer choice: the host shows commune A in a small tile; the SFU sends the lowest layer.
  const small = await host.evaluate(async () => {
    const c = (window as unknown as { client: { remoteTracks: Map<string, { peerId: string; kind: string }>; request(m: string, d: object): Promise<{ spatialLayer: number }> } }).client;
    const id = [...c.remoteTracks.entries()].find(([, r]) => r.peerId === 'xa-a' && r.kind === 'video')![0];
    return { id, ...(await c.request('setConsumerViewSize', { consumerId: id, width: 320, height: 180 })) };
  });
  t.equal(small.spatialLayer, 0, 'a 320x180 tile asks for the lowest simulcast layer');
  await until('lowest layer forwarded', async () => {
    const c = (await room.getStats(room.requirePeer('host-1'))).consumers.find((x) => x.consumerId === small.id);
    return c?.currentLayers?.spatialLayer === 0 ? true : undefined;
  });
  t.pass('the SFU forwards the lowest layer to the small tile');
  const big = await host.evaluate((id) => (window as unknown as { client: { request(m: string, d: object): Promise<{ spatialLayer: number }> } }).client.request('setConsumerPreferredLayers', { consumerId: id, spatialLayer: 2 }), small.id);
  t.ok(big, 'preferred layers can also be set directly');

  // Host mutes commune A's microphone.
  const muted = await host.evaluate(() =>
    (window as unknown as { client: { request(m: string, d: object): Promise<{ muted: number }> } }).client.request('mutePeer', { peerId: 'xa-a', kind: 'audio' }),
  );
  t.equal(muted.muted, 1, 'one producer muted');
  await until('commune A told it was muted', async () => (await pageEvents(e1)).some((e) => e.e === 'mutedByHost'));
  const local = await e1.evaluate(() => (window as unknown as { client: { localProducers(): { kind: string; paused: boolean }[] } }).client.localProducers());
  t.ok(local.find((p) => p.kind === 'audio')?.paused, 'commune A shows its microphone paused');
  const audioA = room.producers().find((p) => p.peerId === 'xa-a' && p.source === 'microphone')!;
  t.ok(audioA.producer.paused, 'server stopped forwarding commune A audio');
  const before = (await inbound(host)).filter((e) => e.peerId === 'xa-a' && e.kind === 'audio').reduce((n, e) => n + e.bytes, 0);
  await new Promise((r) => setTimeout(r, 2000));
  const after = (await inbound(host)).filter((e) => e.peerId === 'xa-a' && e.kind === 'audio').reduce((n, e) => n + e.bytes, 0);
  t.ok(after - before < 2000, `host hears nothing from commune A (${after - before} bytes in 2 s)`);

  // A non-host cannot mute.
  const refused = await e2.evaluate(() =>
    (window as unknown as { client: { request(m: string, d: object): Promise<unknown> } }).client.request('mutePeer', { peerId: 'host-1', kind: 'audio' }).then(
      () => 'accepted',
      (err: { code: string }) => err.code,
    ),
  );
  t.equal(refused, 'FORBIDDEN', 'an endpoint cannot mute the host');

  // Host ejects commune B: its page closes, the others see it leave, its token cannot come back.
  await host.evaluate(() => (window as unknown as { client: { request(m: string, d: object): Promise<unknown> } }).client.request('ejectPeer', { peerId: 'xa-b' }));
  await until('commune B closed', async () => (await e2.evaluate(() => (window as unknown as { client: { state: string } }).client.state)) === 'closed');
  t.ok((await pageEvents(e2)).some((e) => e.e === 'kicked' && e.d === 'ejected'), 'commune B was told it was ejected');
  await until('host sees B leave', async () => (await pageEvents(host)).some((e) => e.e === 'peerLeft' && (e.d as { peerId: string }).peerId === 'xa-b'));
  await until('commune A sees B leave', async () => (await pageEvents(e1)).some((e) => e.e === 'peerLeft' && (e.d as { peerId: string }).peerId === 'xa-b'));
  t.equal(room.peers().length, 2);
  const again = await WsPeer.open(live.wsUrl);
  const reply = await again.join(sid, tokenB);
  t.equal(reply.error?.code, 'PEER_EJECTED', 'the ejected invitation cannot rejoin');
  t.equal(await again.closed, 4401);
  // Media between the remaining two keeps flowing.
  await receivesFrom(host, ['xa-a'], 40000, ['video']);
  t.pass('host still receives commune A video after the ejection');
});

t.test('a session spread over two workers: media crosses the pipe between routers', async (t) => {
  const live = await startLiveServer({ LIVE_SPREAD_LOAD: '1', MEDIASOUP_NUM_WORKERS: '2' });
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const sid = live.session({ endpointsSeeEachOther: true });
  const host = await openPagePeer(browser, live, sid, live.token(sid, 'host-1', 'host'));
  const a = await openPagePeer(browser, live, sid, live.token(sid, 'xa-a', 'endpoint'));
  const room = live.server.live.rooms.get(sid)!;
  t.equal(room.workers.length, 2, 'the commune was placed on the second worker');
  await receivesFrom(host, ['xa-a']);
  await receivesFrom(a, ['host-1']);
  t.pass('host and commune hear and see each other across workers');
  t.equal(room.producers().length, 4, 'recorder view: every producer on the primary router');
});

t.test('UDP blocked: a commune reaches the SFU over TCP on the same WebRtcServer port', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const sid = live.session();
  const host = await openPagePeer(browser, live, sid, live.token(sid, 'host-1', 'host'));
  const commune = await openPagePeer(browser, live, sid, live.token(sid, 'xa-a', 'endpoint'), '&tcp=1');
  await receivesFrom(host, ['xa-a']);
  await receivesFrom(commune, ['host-1']);
  const room = live.server.live.rooms.get(sid)!;
  const stats = await room.getStats(room.requirePeer('xa-a'));
  t.same(stats.transports.map((tr) => tr.protocol), ['tcp', 'tcp'], 'both of the commune\'s transports run over TCP');
  t.equal((await room.getStats(room.requirePeer('host-1'))).transports[0]?.protocol, 'udp', 'the host stays on UDP');
});

t.test('H.264 (constrained baseline) from the browser, when Chromium can encode it', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const sid = live.session();
  const probe = await (await browser.newContext()).newPage();
  await probe.goto(`${live.server.url}/live/test.html#session=none`);
  const h264 = await probe.evaluate(() => (RTCRtpSender.getCapabilities('video')?.codecs ?? []).some((c) => c.mimeType === 'video/H264'));
  if (!h264) {
    t.pass('this Chromium build has no H.264 encoder: nothing to check');
    return;
  }
  const host = await openPagePeer(browser, live, sid, live.token(sid, 'host-1', 'host'), '&codec=H264');
  const endpoint = await openPagePeer(browser, live, sid, live.token(sid, 'xa-a', 'endpoint'));
  await receivesFrom(endpoint, ['host-1']);
  const room = live.server.live.rooms.get(sid)!;
  const video = room.producers().find((p) => p.peerId === 'host-1' && p.source === 'camera')!;
  t.equal(video.producer.rtpParameters.codecs[0]?.mimeType, 'video/H264', 'the host sends H.264');
  t.match(String(video.producer.rtpParameters.codecs[0]?.parameters?.['profile-level-id']), /^42(e0|00)/, 'baseline or constrained baseline');
  t.ok(host, 'host page joined');
});
