/**
 * Security review M6 (and M2 on this route): bursts of parallel requests against a real server
 * over real HTTP. One invitation never holds more than one loopback router, all invitations
 * together never more than MAX_TESTS, one test never more than one producer per kind, and hostile
 * codec parameters are refused here as on the signaling socket (the schemas are shared).
 */
import t from 'tap';
import { InMemorySessionDirectory } from '../../domain/sessionDirectory.ts';
import { TiepdanServer } from '../../server.ts';
import { tempDataDir, testConfig, silentLogger } from '../../../test/helpers/env.ts';

const SESSION = '7b0c2d1e-0000-4000-8000-000000000002';
const MAX_TESTS = 16;

type Answer = { status: number; body: Record<string, unknown> };

t.test('pre-flight loopback slots are taken before the first await', async (t) => {
  const data = await tempDataDir();
  t.teardown(() => data.remove());
  // The in-memory directory admits tokens minted here (no invitation rows); admission itself is
  // tested against PostgreSQL in test/live/forged-token.test.ts.
  const server = await TiepdanServer.start(await testConfig(data.dir), silentLogger(), { sessionDirectory: new InMemorySessionDirectory() });
  t.teardown(() => server.stop());
  const invitation = (subject: string) => server.live.tokens.issue({ kind: 'invitation', sessionId: SESSION, subject, role: 'endpoint', ttlSeconds: 600 }).token;
  const call = async (token: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${server.url}/web/preflight/loopback${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const routers = () => server.pool.workers.reduce((n, w) => n + w.routerCount, 0);
  const load = () => server.pool.workers.reduce((n, w) => n + w.load, 0);
  /** Runs `burst` while sampling the live router count; answers the burst's results and the peak. */
  const sampled = async <T>(burst: () => Promise<T>): Promise<{ result: T; peak: number }> => {
    let peak = routers();
    const timer = setInterval(() => (peak = Math.max(peak, routers())), 1);
    try {
      const result = await burst();
      return { result, peak: Math.max(peak, routers()) };
    } finally {
      clearInterval(timer);
    }
  };
  const baseline = routers();

  await t.test('100 parallel POSTs from one invitation: one router at a time', async (t) => {
    const token = invitation('x01');
    const { result: answers, peak } = await sampled(() => Promise.all(Array.from({ length: 100 }, () => call(token, 'POST', '', { transport: 'udp' }))));
    const created = answers.filter((a) => a.status === 201);
    const others = answers.filter((a) => a.status !== 201);
    t.ok(created.length >= 1, `${created.length} created (each replacing the one before)`);
    t.ok(others.every((a) => a.status === 409 && a.body.code === 'TEST_STARTING'), 'the rest: 409 TEST_STARTING while one is being set up');
    t.ok(peak - baseline <= 1, `at most one loopback router alive at any time (peak ${peak - baseline})`);
    t.equal(routers() - baseline, 1, 'one left running');
    // Only the last test created is still there; the others were replaced.
    const alive = (await Promise.all(created.map((a) => call(token, 'GET', `/${String(a.body.id)}/stats`)))).filter((a) => a.status === 200);
    t.equal(alive.length, 1, 'one test answers');
    for (const a of created) await call(token, 'DELETE', `/${String(a.body.id)}`);
    t.equal(routers(), baseline, 'closed');
  });

  await t.test('100 parallel POSTs from 100 invitations: at most MAX_TESTS routers', async (t) => {
    const tokens = Array.from({ length: 100 }, (_, i) => invitation(`x${100 + i}`));
    const { result: answers, peak } = await sampled(() => Promise.all(tokens.map((token) => call(token, 'POST', '', { transport: 'tcp' }))));
    const created = answers.filter((a) => a.status === 201).length;
    t.equal(created, MAX_TESTS, `${MAX_TESTS} tests start`);
    t.ok(answers.every((a) => a.status === 201 || (a.status === 503 && a.body.code === 'TOO_MANY_TESTS')), 'the rest: 503 TOO_MANY_TESTS');
    t.ok(peak - baseline <= MAX_TESTS, `never more than ${MAX_TESTS} loopback routers (peak ${peak - baseline})`);
    await Promise.all(answers.map((a, i) => (a.status === 201 ? call(tokens[i]!, 'DELETE', `/${String(a.body.id)}`) : undefined)));
    t.equal(routers(), baseline, 'all closed');
  });

  await t.test('parallel produce requests: one producer per kind', async (t) => {
    const token = invitation('x02');
    const created = await call(token, 'POST', '', { transport: 'udp' });
    t.equal(created.status, 201);
    const id = String(created.body.id);
    const rtpCapabilities = created.body.routerRtpCapabilities;
    const audio = (ssrc: number, parameters: Record<string, unknown> = { useinbandfec: 1, minptime: 10 }) => ({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters }], encodings: [{ ssrc }], rtcp: { cname: 'loopback' } },
      rtpCapabilities,
    });
    const video = (ssrc: number) => ({ kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc }] }, rtpCapabilities });
    const before = load();

    // M2 on this route: the review's injection gets a 400 and makes nothing.
    const hostile = await call(token, 'POST', `/${id}/produce`, audio(1, { useinbandfec: '1\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000' }));
    t.equal(hostile.status, 400);
    t.equal(hostile.body.code, 'VALIDATION_FAILED', 'hostile codec parameters are refused');
    const hostileCname = await call(token, 'POST', `/${id}/produce`, { ...audio(2), rtpParameters: { ...audio(2).rtpParameters, rtcp: { cname: 'x\r\na=ssrc:1 cname:y' } } });
    t.equal(hostileCname.body.code, 'VALIDATION_FAILED', 'and a hostile cname');
    // A track the browser could not receive is refused and leaves nothing behind (not even its slot).
    const unconsumable = await call(token, 'POST', `/${id}/produce`, { ...audio(3), rtpCapabilities: { codecs: [] } });
    t.equal(unconsumable.body.code, 'MEDIA_REJECTED');
    t.equal(load(), before, 'no producer left over');

    const answers = await Promise.all([...Array.from({ length: 20 }, (_, i) => call(token, 'POST', `/${id}/produce`, audio(1000 + i))), ...Array.from({ length: 20 }, (_, i) => call(token, 'POST', `/${id}/produce`, video(2000 + i)))]);
    const ok = answers.filter((a) => a.status === 200);
    t.equal(ok.length, 2, 'one audio and one video producer');
    t.same(ok.map((a) => (a.body.consumer as { kind: string }).kind).sort(), ['audio', 'video']);
    t.ok(answers.every((a) => a.status === 200 || a.body.code === 'TOO_MANY_PRODUCERS'), 'the rest: 409 TOO_MANY_PRODUCERS');
    t.equal(load() - before, 4, 'two producers and their two consumers, nothing more');
    await call(token, 'DELETE', `/${id}`);
    t.equal(routers(), baseline);
  });
});
