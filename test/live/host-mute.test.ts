/**
 * Security review L3: the host's `mutePeer` only paused the producer, and the muted commune could
 * `resumeProducer` at once (its mic button did exactly that). Over a real WebSocket to a real
 * server: after the mute, resume is refused with MUTED_BY_HOST and the producer stays paused on
 * the SFU; a new microphone starts paused; only the host's `unmutePeer` gives the floor back.
 */
import t from 'tap';
import { WsPeer, startLiveServer, until } from './liveHelpers.ts';

const produceData = (transportId: unknown, ssrc: number) => ({
  transportId,
  kind: 'audio',
  source: 'microphone',
  rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }], rtcp: { cname: 'mute-test' } },
});

t.test('a host mute is enforced by the server until the host gives the floor back', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({});
  const host = await WsPeer.open(live.wsUrl);
  t.teardown(() => host.close());
  t.equal((await host.join(sid, live.token(sid, 'host-1', 'host'))).ok, true);
  const commune = await WsPeer.open(live.wsUrl);
  t.teardown(() => commune.close());
  t.equal((await commune.join(sid, live.token(sid, 'xa-a', 'endpoint'))).ok, true);
  const transportId = (await commune.request('createTransport', { direction: 'send' })).data!.transportId;
  const produced = await commune.request('produce', produceData(transportId, 31111111));
  t.equal(produced.ok, true, produced.error?.message ?? 'produced');
  const producerId = String(produced.data!.producerId);
  const room = live.server.live.rooms.get(sid)!;
  const paused = () => room.getPeer('xa-a')!.producers.get(producerId)!.producer.paused;

  t.equal((await host.request('mutePeer', { peerId: 'xa-a', kind: 'audio' })).data?.muted, 1, 'the host mutes the commune');
  t.same(await commune.waitFor('hostMute'), { kind: 'audio', muted: true }, 'the commune is told the chair holds its mic');
  t.equal(paused(), true);

  // The review's attack: the muted peer resumes its own producer.
  const resume = await commune.request('resumeProducer', { producerId });
  t.equal(resume.ok, false, 'resume is refused');
  t.equal(resume.error?.code, 'MUTED_BY_HOST');
  t.equal(paused(), true, 'and the SFU still forwards nothing');
  // Nor is a second microphone a way around it.
  await commune.request('closeProducer', { producerId });
  const again = await commune.request('produce', produceData(transportId, 31111112));
  t.equal(again.ok, true);
  const second = String(again.data!.producerId);
  t.equal(room.getPeer('xa-a')!.producers.get(second)!.producer.paused, true, 'a new microphone starts paused');
  t.equal((await commune.request('resumeProducer', { producerId: second })).error?.code, 'MUTED_BY_HOST');
  t.equal((await commune.request('unmutePeer', { peerId: 'xa-a', kind: 'audio' })).error?.code, 'FORBIDDEN', 'the commune cannot lift its own mute');

  // The host gives the floor back: the mic stays off until the commune itself turns it on.
  t.equal((await host.request('unmutePeer', { peerId: 'xa-a', kind: 'audio' })).data?.unmuted, true);
  await until('floor given back', () => commune.notifications.some((n) => n.notification === 'hostMute' && n.data.muted === false));
  t.equal(room.getPeer('xa-a')!.producers.get(second)!.producer.paused, true, 'still paused: the commune decides when to speak');
  t.equal((await commune.request('resumeProducer', { producerId: second })).ok, true, 'now resume works');
  t.equal(room.getPeer('xa-a')!.producers.get(second)!.producer.paused, false);
});
