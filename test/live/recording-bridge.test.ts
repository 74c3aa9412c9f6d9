/**
 * The recorder wired to live sessions through the signaling layer, with the real RecordingService
 * (FFmpeg recorders): the host starts and stops the recording over /ws and every participant sees
 * "recording on/off"; a session with autoRecord starts recording when it goes live.
 */
import path from 'node:path';
import t from 'tap';
import { RecordingService } from '../../src/recording/recordingService.ts';
import { bridgeRecording } from '../../src/signaling/recordingBridge.ts';
import { silentLogger } from '../helpers/env.ts';
import { WsPeer, startLiveServer, until } from './liveHelpers.ts';

t.test('host starts and stops the recording; everyone sees the state', async (t) => {
  const live = await startLiveServer();
  t.teardown(() => live.stop());
  const recordings = new RecordingService({
    recorder: {
      recordingsDir: path.join(live.server.config.dataDir, 'recordings'),
      segmentSeconds: 2,
      disk: { warnBytes: 1, floorBytes: 1 },
      diskCheckMs: 5000,
      portMin: 46000,
      portMax: 46999,
    },
    logger: silentLogger(),
    autoPlayable: false,
  });
  t.teardown(() => recordings.close());
  const unwire = bridgeRecording(live.server.live, recordings, silentLogger());
  t.teardown(unwire);

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
  t.same((await host.request('stopRecording')).data, { recording: false });
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
