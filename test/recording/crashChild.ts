/**
 * Child process for the server-crash test: records a real session and reports its pids, then
 * waits to be killed with SIGKILL by the parent (the "whole server" dying mid-recording).
 */
import path from 'node:path';
import { SessionRecorder } from '../../src/recording/recorder/sessionRecorder.ts';
import { silentLogger } from '../helpers/env.ts';
import { mediaCodecs, startPool, TestSession } from './harness.ts';
import { recorderOptions } from './helpers.ts';

const recordingsDir = process.argv[2] ?? '';
const pool = await startPool();
const { router } = await pool.createRouter({ mediaCodecs });
const session = new TestSession('session-crash', router);
await session.addSource('peer-1', 'Điểm cầu 1', 'audio');
await session.addSource('peer-1', 'Điểm cầu 1', 'video');
const recorder = await SessionRecorder.start(session, recorderOptions(recordingsDir, silentLogger()));
recorder.on('segment', () => {
  process.stdout.write(`${JSON.stringify({ dir: path.join(recordingsDir, 'session-crash'), tracks: recorder.state.tracks, sourcePids: session.sourcePids(), at: Date.now() / 1000 })}\n`);
});
setInterval(() => undefined, 1000);
