/**
 * One recorder per session across processes (issue 12 item 3): the recorder lease in the
 * LiveStore. Two RecordingServices on one store stand for two server processes; the recorders are
 * real (mediasoup router, FFmpeg when tracks come), the sessions carry no media: the lease is
 * what is under test.
 */
import path from 'node:path';
import t from 'tap';
import { ManifestWriter } from '../../src/recording/manifest/manifest.ts';
import { sessionDirFor } from '../../src/recording/recorder/sessionRecorder.ts';
import { recorderLease, RecordingService } from '../../src/recording/recordingService.ts';
import { ensureDir } from '../../src/recording/fsutil.ts';
import { MemoryLiveStore } from '../../src/store/MemoryLiveStore.ts';
import { TiepdanError } from '../../src/errors.ts';
import { silentLogger, tempDataDir } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { recorderOptions, sleep } from './helpers.ts';

const codeOf = (p: Promise<unknown>) => p.then(() => 'started', (err: unknown) => (err instanceof TiepdanError ? err.code : String(err)));

t.test('a second process may not record a session another records; it may once that one stops or dies', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const pool = await startPool();
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const store = new MemoryLiveStore();
  const service = (name: string, leaseTtlMs = 30_000) => {
    const s = new RecordingService({ recorder: recorderOptions(path.join(data.dir, name), silentLogger()), logger: silentLogger(), store, leaseTtlMs, autoPlayable: false });
    t.teardown(() => s.close());
    return s;
  };
  const a = service('a', 600);
  const b = service('b');

  await a.startRecording(new TestSession('s-1', router));
  t.equal(await codeOf(b.startRecording(new TestSession('s-1', router))), 'RECORDING_RUNNING', 'the other process is refused');
  t.equal(await codeOf(a.startRecording(new TestSession('s-1', router))), 'RECORDING_RUNNING', 'and so is the same one');
  await sleep(1500);
  t.ok((await store.lease(recorderLease('s-1')))?.holder.startsWith(a.leaseNode), 'renewed while it records (TTL 600 ms, 1.5 s later)');
  await a.stopRecording('s-1');
  t.equal(await store.lease(recorderLease('s-1')), undefined, 'released when it stops');
  t.equal(await codeOf(b.startRecording(new TestSession('s-1', router))), 'started', 'then the other process records');
  await b.stopRecording('s-1');

  // A process that died holding a lease: nobody renews it, it lapses.
  await store.acquireLease(recorderLease('s-2'), 'elsewhere:/var/lib/tiepdan/recordings#4242:dead', 400);
  t.equal(await codeOf(b.startRecording(new TestSession('s-2', router))), 'RECORDING_RUNNING', 'refused while the dead holder’s lease runs');
  await sleep(500);
  t.equal(await codeOf(b.startRecording(new TestSession('s-2', router))), 'started', 'recorded once it lapsed');
  await b.stopRecording('s-2');
});

t.test('a restart on the same recordings drops at once the lease of the recorder that died with it', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  const store = new MemoryLiveStore();
  const recordingsDir = path.join(data.dir, 'recordings');
  const options = { recorder: recorderOptions(recordingsDir, silentLogger()), logger: silentLogger(), store, autoPlayable: false };
  const before = new RecordingService(options);
  // What kill -9 leaves: an open manifest and an unexpired lease of this machine's earlier process.
  const dir = sessionDirFor(recordingsDir, 's-crashed');
  await ensureDir(dir);
  const w = new ManifestWriter(path.join(dir, 'manifest.json'), 's-crashed');
  w.append({ type: 'opened', sessionId: 's-crashed', segmentSeconds: 2, timing: 'arrival-wallclock' });
  await w.flush();
  await store.acquireLease(recorderLease('s-crashed'), `${before.leaseNode}4242:dead`, 60_000);
  await store.acquireLease(recorderLease('s-other'), 'another-host:/srv/recordings#7:alive', 60_000);

  const after = new RecordingService(options);
  t.teardown(() => after.close());
  t.equal(await after.recoverInterrupted(), 1, 'the open recording is closed as interrupted');
  t.equal(await store.lease(recorderLease('s-crashed')), undefined, 'its lease is gone: automatic recording resumes at once');
  t.ok(await store.lease(recorderLease('s-other')), 'another machine’s lease is left alone');
});
