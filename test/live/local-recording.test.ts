/**
 * Local recording at a bridge point over /ws with Node's `ws`: forbidden unless the chair allows it
 * for the session (the default is off); when allowed, every start and stop is told to every peer,
 * and a recorder that leaves, is ejected or reloads its page stops recording in everyone's eyes.
 */
import t from 'tap';
import { WsPeer, startLiveServer, until, type LiveServer } from './liveHelpers.ts';

async function joined(live: LiveServer, sid: string, subject: string, role: 'host' | 'central' | 'endpoint' | 'observer' | 'technician', extra: object = {}): Promise<{ peer: WsPeer; join: Record<string, unknown> }> {
  const peer = await WsPeer.open(live.wsUrl);
  const reply = await peer.join(sid, live.token(sid, subject, role, { name: `Điểm cầu ${subject}` }), extra);
  if (!reply.ok) throw new Error(`${subject} could not join: ${reply.error?.code}`);
  return { peer, join: reply.data! };
}

const localRecordings = (p: WsPeer) => p.notifications.filter((n) => n.notification === 'localRecording').map((n) => n.data);

t.test('local recording is refused unless the chair allows it (default off)', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session();
  const host = await joined(live, sid, 'host-1', 'host');
  const xa = await joined(live, sid, 'xa-a', 'endpoint');
  t.match(xa.join.session, { participantRecordingAllowed: false }, 'the join answer says local recording is not allowed');
  t.same(xa.join.localRecordings, [], 'nobody records locally');

  const refused = await xa.peer.request('startLocalRecording');
  t.equal(refused.ok, false);
  t.equal(refused.error?.code, 'LOCAL_RECORDING_FORBIDDEN', 'refused with LOCAL_RECORDING_FORBIDDEN');
  t.match(refused.error?.message, /chair/, 'the message says why');
  t.equal((await host.peer.request('startLocalRecording')).error?.code, 'LOCAL_RECORDING_FORBIDDEN', 'the host too, when the session forbids it');
  t.equal((await xa.peer.request('startLocalRecording', { extra: 1 })).error?.code, 'LOCAL_RECORDING_FORBIDDEN', 'unknown fields are ignored, the rule still applies');
  t.equal((await xa.peer.request('stopLocalRecording')).ok, true, 'stopping when not recording is harmless');
  await xa.peer.request('ping'); // notifications sent before this reply have arrived
  await host.peer.request('ping');
  t.same(localRecordings(host.peer), [], 'a refused start is told to nobody');
  t.same(localRecordings(xa.peer), []);

  // Before joining: NOT_JOINED like every other request.
  const early = await WsPeer.open(live.wsUrl);
  t.equal((await early.request('startLocalRecording')).error?.code, 'NOT_JOINED');
  early.close();
  host.peer.close();
  xa.peer.close();
});

t.test('allowed: every start and stop is visible to every peer; leaving, ejection and reload end it', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({ participantRecordingAllowed: true });
  const host = await joined(live, sid, 'host-1', 'host');
  const xa = await joined(live, sid, 'xa-a', 'endpoint');
  const xb = await joined(live, sid, 'xa-b', 'endpoint');
  const obs = await joined(live, sid, 'obs', 'observer');
  const tech = await joined(live, sid, 'tech', 'technician');
  t.match(xa.join.session, { participantRecordingAllowed: true }, 'the join answer says local recording is allowed');

  t.equal((await obs.peer.request('startLocalRecording')).error?.code, 'FORBIDDEN', 'an observer may not record locally');
  t.equal((await tech.peer.request('startLocalRecording')).error?.code, 'FORBIDDEN', 'a technician may not record locally');

  const start = await xa.peer.request('startLocalRecording');
  t.same(start.data, { recording: true }, 'commune A starts recording');
  const started = { peerId: 'xa-a', label: 'Điểm cầu xa-a', recording: true };
  for (const [name, p] of [['host', host], ['commune B', xb], ['observer', obs], ['technician', tech], ['commune A itself', xa]] as const) {
    t.same(await p.peer.waitFor('localRecording', (d) => d.peerId === 'xa-a' && d.recording === true), started, `${name} is told commune A records`);
  }
  t.same((await xa.peer.request('startLocalRecording')).data, { recording: true }, 'a second start is answered');
  await host.peer.request('ping');
  t.equal(localRecordings(host.peer).length, 1, 'a repeated start is not announced twice');

  // Someone joining now learns who records.
  const late = await joined(live, sid, 'xa-c', 'endpoint');
  t.same(late.join.localRecordings, [started], 'a late joiner sees commune A recording in its join answer');

  t.same((await xa.peer.request('stopLocalRecording')).data, { recording: false });
  for (const [name, p] of [['host', host], ['commune B', xb], ['late joiner', late]] as const) {
    await p.peer.waitFor('localRecording', (d) => d.peerId === 'xa-a' && d.recording === false);
    t.pass(`${name} is told commune A stopped`);
  }

  // Commune B records, then leaves: the others are told it stopped (before it left).
  t.equal((await xb.peer.request('startLocalRecording')).ok, true);
  await host.peer.waitFor('localRecording', (d) => d.peerId === 'xa-b' && d.recording === true);
  t.equal((await xb.peer.request('leave')).ok, true);
  await host.peer.waitFor('localRecording', (d) => d.peerId === 'xa-b' && d.recording === false);
  await host.peer.waitFor('peerLeft', (d) => d.peerId === 'xa-b');
  const order = host.peer.notifications.filter((n) => (n.notification === 'localRecording' && n.data.peerId === 'xa-b' && n.data.recording === false) || (n.notification === 'peerLeft' && n.data.peerId === 'xa-b')).map((n) => n.notification);
  t.same(order, ['localRecording', 'peerLeft'], 'leaving ends the recording, told before the departure');
  await late.peer.waitFor('localRecording', (d) => d.peerId === 'xa-b' && d.recording === false);
  t.pass('the late joiner too');

  // The late joiner records and is ejected by the host.
  t.equal((await late.peer.request('startLocalRecording')).ok, true);
  await host.peer.waitFor('localRecording', (d) => d.peerId === 'xa-c' && d.recording === true);
  t.equal((await host.peer.request('ejectPeer', { peerId: 'xa-c' })).ok, true);
  await xa.peer.waitFor('localRecording', (d) => d.peerId === 'xa-c' && d.recording === false);
  t.pass('ejecting a recorder ends its recording for everyone');

  // Commune A records and reloads its page (the same invitation joins again, without its transports):
  // the browser's recorder is gone, so the others must stop seeing it record.
  t.equal((await xa.peer.request('startLocalRecording')).ok, true);
  await host.peer.waitFor('localRecording', (d) => d.peerId === 'xa-a' && d.recording === true);
  const before = localRecordings(host.peer).length;
  // The same tab reloads: it proves the seat with the secret its first join got (sessionStorage).
  const reloaded = await joined(live, sid, 'xa-a', 'endpoint', { resumeSecret: xa.join.resumeSecret });
  await until('the reload is announced', () => localRecordings(host.peer).slice(before).some((d) => d.peerId === 'xa-a' && d.recording === false));
  t.same(reloaded.join.localRecordings, [], 'the reloaded page is not recording');
  t.pass('a reloaded page ends its recording for everyone');

  // The chair forbids it mid-session: the next start is refused.
  live.directory.put({ ...(await live.directory.get(sid))!, participantRecordingAllowed: false });
  t.equal((await reloaded.peer.request('startLocalRecording')).error?.code, 'LOCAL_RECORDING_FORBIDDEN', 'a change of the setting applies to the next start');

  for (const p of [host, obs, tech, reloaded, xa]) p.peer.close();
});

t.test('a participant waiting in the lobby learns who records when admitted, and may not record before', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const sid = live.session({ participantRecordingAllowed: true, lobbyEnabled: true });
  const host = await joined(live, sid, 'host-1', 'host');
  t.equal((await host.peer.request('startLocalRecording')).ok, true, 'the chair records locally');
  const waiting = await joined(live, sid, 'xa-a', 'endpoint');
  t.equal(waiting.join.admitted, false);
  t.same(waiting.join.localRecordings, [], 'the lobby is told nothing yet');
  t.equal((await waiting.peer.request('startLocalRecording')).error?.code, 'IN_LOBBY', 'no recording from the lobby');
  t.equal((await host.peer.request('admitPeer', { peerId: 'xa-a' })).ok, true);
  await waiting.peer.waitFor('admitted');
  t.same(await waiting.peer.waitFor('localRecording'), { peerId: 'host-1', label: 'Điểm cầu host-1', recording: true }, 'once admitted it is told the chair records');
  host.peer.close();
  waiting.peer.close();
});
