/**
 * The server's recorder wired to live sessions through the signaling layer (real FFmpeg recorders): the host starts and stops the recording over /ws and every participant sees
 * "recording on/off"; a session with autoRecord starts recording when it goes live.
 */
import t from 'tap';
import { WsPeer, startLiveServer, until } from './liveHelpers.ts';

t.test('host starts and stops the recording; everyone sees the state', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  // The server's own recorder, wired to live sessions by the server itself (bridgeRecording).
  const recordings = live.server.recordings;

  const sid = live.session({ autoRecord: false });
  const host = await WsPeer.open(live.wsUrl);
  await host.join(sid, live.token(sid, 'host-1', 'host'));
  const e = await WsPeer.open(live.wsUrl);
  const joined = await e.join(sid, live.token(sid, 'xa-a', 'endpoint'));
  t.match(joined.data?.session, { recording: false });
  t.same((await host.request('startRecording')).data, { recording: true }, 'host starts the recording');
  await e.waitFor('sessionState', (d) => d.recording === true);
  t.ok(recordings.liveState(sid), 'a recorder runs for the session');
  t.equal((await host.request('startRecording')).error?.code, 'RECORDING_RUNNING', 'starting twice: the recorder\'s own code');
  t.equal((await host.request('stopRecording')).error?.code, 'RECORDING_STOP_REASON_REQUIRED', 'no stop without a reason (N154 Art 24(1))');
  t.ok(recordings.liveState(sid), 'the recording goes on');
  t.same((await host.request('stopRecording', { reason: 'Mất điện tại điểm cầu trung tâm' })).data, { recording: false });
  await e.waitFor('sessionState', (d) => d.recording === false);
  t.pass('the endpoint sees recording off');

  // autoRecord: recording starts as the session goes live.
  const auto = live.session({ autoRecord: true });
  const h2 = await WsPeer.open(live.wsUrl);
  const j2 = await h2.join(auto, live.token(auto, 'host-1', 'host'));
  await until('recording on', () => (j2.data?.session as { recording: boolean }).recording || h2.notifications.some((n) => n.notification === 'sessionState' && n.data.recording === true));
  t.pass('autoRecord session is recorded from the start');
  // Ending the session stops its recording.
  await h2.request('endSession');
  await until('recorder stopped', () => recordings.liveState(auto) === null);
  t.pass('ending the session stops the recording');
});
