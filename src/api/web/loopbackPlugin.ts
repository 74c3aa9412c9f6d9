import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { types } from 'mediasoup';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import type { WorkerPool } from '../../sfu/WorkerPool.ts';
import { SESSION_MEDIA_CODECS } from '../../sfu/sessionMedia.ts';
import { actorOf, type Access } from '../control/access.ts';
import { dtlsParametersSchema, rtpCapabilitiesSchema, rtpParametersSchema } from '../../signaling/protocol.ts';
import { safeText } from '../../domain/common/safeText.ts';

export interface LoopbackPluginOptions {
  pool: WorkerPool;
  /** A test is closed after this long whatever happens (default 120 s). */
  maxTestMs?: number;
}

/**
 * One pre-flight loopback: a router of its own on the least-loaded worker, a send and a receive
 * transport on the same WebRtcServer ports a real session uses (so a firewall that blocks the
 * session blocks the test too), and for every producer a consumer of it on the receive transport:
 * the endpoint gets its own picture and sound back through the SFU and measures the path.
 */
class LoopbackTest {
  readonly id = randomUUID();
  readonly owner: string;
  readonly router: types.Router;
  readonly send: types.WebRtcTransport;
  readonly recv: types.WebRtcTransport;
  readonly producers = new Map<string, types.Producer>();
  /** Kinds with a producer made or being made: taken before the first await of a produce request. */
  readonly sending = new Set<types.MediaKind>();
  readonly consumers = new Map<string, types.Consumer>();
  readonly #timer: NodeJS.Timeout;
  #onClose: () => void;
  closed = false;

  constructor(owner: string, router: types.Router, send: types.WebRtcTransport, recv: types.WebRtcTransport, maxMs: number, onClose: () => void) {
    this.owner = owner;
    this.router = router;
    this.send = send;
    this.recv = recv;
    this.#onClose = onClose;
    this.#timer = setTimeout(() => this.close(), maxMs);
    this.#timer.unref();
    router.observer.once('close', () => this.close());
  }

  transport(id: string): types.WebRtcTransport {
    if (id === this.send.id) return this.send;
    if (id === this.recv.id) return this.recv;
    throw new TiepdanError('TRANSPORT_NOT_FOUND', 'no such transport in this test');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#timer);
    if (!this.router.closed) this.router.close(); // cascades to transports, producers, consumers
    this.#onClose();
  }
}

function transportParams(t: types.WebRtcTransport, candidates: types.IceCandidate[]) {
  return { id: t.id, iceParameters: t.iceParameters, iceCandidates: candidates, dtlsParameters: t.dtlsParameters };
}

const createBody = z.strictObject({ transport: z.enum(['udp', 'tcp']) });
const testParams = z.object({ id: z.uuid() });
const connectBody = z.strictObject({ transportId: safeText(64).min(1), dtlsParameters: dtlsParametersSchema });
const produceBody = z.strictObject({ kind: z.enum(['audio', 'video']), rtpParameters: rtpParametersSchema, rtpCapabilities: rtpCapabilitiesSchema });
const resumeBody = z.strictObject({ consumerId: safeText(64).min(1) });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    throw new TiepdanError('VALIDATION_FAILED', 'invalid request', {
      details: result.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
    });
  }
  return result.data;
}

const MAX_TESTS = 16;

const INVITATION_ONLY: Access = { roles: [], invitation: 'live', apiKey: false };
const TAGS = ['preflight loopback'];
const route = (summary: string, extra: Record<string, unknown> = {}) => ({ config: { access: INVITATION_ONLY }, schema: { tags: TAGS, summary, security: [{ bearer: [] }], ...extra } });
const testRoute = (summary: string) => route(summary, { params: testParams });

/**
 * HTTP routes for the pre-flight loopback (a handful of request/response steps, so no WebSocket):
 * POST /web/preflight/loopback {transport} → router capabilities and two transports;
 * POST …/:id/connect, …/:id/produce (answers with the consumer of that producer), …/:id/resume,
 * GET …/:id/stats, DELETE …/:id. The invitation token goes in the Authorization header, never in
 * the URL. `transport: 'tcp'` offers only TCP candidates: the test of a network that blocks UDP.
 * Who may call: the root access hook (`INVITATION_ONLY`): any invitation this server signed and
 * has not revoked, as the signaling socket accepts it; no staff login, no API key.
 */
export const loopbackPlugin: FastifyPluginAsync<LoopbackPluginOptions> = async (app, options) => {
  const tests = new Map<string, LoopbackTest>();
  /** Invitations (jti) whose test is being set up: it counts against MAX_TESTS before it exists. */
  const starting = new Set<string>();
  const maxMs = options.maxTestMs ?? 120_000;

  /** The invitation (its jti) running the test; the access hook has checked it. */
  const claimsOf = (request: FastifyRequest): { jti: string; sid: string | undefined } => {
    const actor = actorOf(request);
    return { jti: actor.id, sid: actor.sessionId };
  };
  const testFor = async (request: FastifyRequest): Promise<LoopbackTest> => {
    const claims = claimsOf(request);
    const { id } = parse(testParams, request.params);
    const test = tests.get(id);
    if (test === undefined || test.owner !== claims.jti) throw new TiepdanError('TEST_NOT_FOUND', 'no such connection test (it may have timed out)');
    return test;
  };

  /** Makes the router and the two transports of one test (its slot is already taken). */
  const startTest = async (request: FastifyRequest, reply: FastifyReply, claims: { jti: string; sid: string | undefined }, transport: 'udp' | 'tcp') => {
    const { router, worker } = await options.pool.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS });
    try {
      const transportOptions: types.WebRtcTransportOptions = {
        webRtcServer: worker.webRtcServer,
        enableUdp: transport === 'udp',
        enableTcp: transport === 'tcp',
        preferUdp: transport === 'udp',
        initialAvailableOutgoingBitrate: 1_000_000,
      };
      const send = await router.createWebRtcTransport(transportOptions);
      const recv = await router.createWebRtcTransport(transportOptions);
      const test = new LoopbackTest(claims.jti, router, send, recv, maxMs, () => tests.delete(test.id));
      tests.set(test.id, test);
      request.log.info({ testId: test.id, transport, sessionId: claims.sid }, 'pre-flight loopback started');
      // The same addresses as in a session: the one this request reached first, then the machine's.
      const announce = (t: types.WebRtcTransport) => transportParams(t, options.pool.addresses.candidatesFor(t.iceCandidates, request.socket.localAddress));
      return reply.status(201).send({ id: test.id, routerRtpCapabilities: router.rtpCapabilities, send: announce(send), recv: announce(recv) });
    } catch (err) {
      router.close();
      throw err;
    }
  };

  app.post('/web/preflight/loopback', route('Start a connection test: a router and two transports (body {transport: udp|tcp})'), async (request, reply) => {
    const claims = claimsOf(request);
    const { transport } = parse(createBody, request.body);
    // From here to `starting.add` nothing awaits: the slot is taken before the router is made, so
    // a burst of requests cannot all pass these checks first (security review M6).
    if (starting.has(claims.jti)) throw new TiepdanError('TEST_STARTING', 'a connection test for this invitation is already starting');
    // One test per invitation at a time; a new one replaces the old (a reload must not leak routers).
    for (const t of tests.values()) if (t.owner === claims.jti) t.close();
    if (tests.size + starting.size >= MAX_TESTS) throw new TiepdanError('TOO_MANY_TESTS', 'too many connection tests are running; try again in a minute');
    starting.add(claims.jti);
    try {
      return await startTest(request, reply, claims, transport);
    } finally {
      starting.delete(claims.jti);
    }
  });

  app.post('/web/preflight/loopback/:id/connect', testRoute('Connect a transport of the test (DTLS parameters)'), async (request) => {
    const test = await testFor(request);
    const body = parse(connectBody, request.body);
    await test.transport(body.transportId).connect({ dtlsParameters: body.dtlsParameters as types.DtlsParameters });
    return { connected: true };
  });

  app.post('/web/preflight/loopback/:id/produce', testRoute('Send a track; answers with its consumer on the receive transport'), async (request) => {
    const test = await testFor(request);
    const body = parse(produceBody, request.body);
    // Taken before the first await (security review M6), given back if this request fails.
    if (test.sending.has(body.kind)) throw new TiepdanError('TOO_MANY_PRODUCERS', 'a test sends one audio and one video track');
    test.sending.add(body.kind);
    let producer: types.Producer | undefined;
    try {
      try {
        producer = await test.send.produce({ kind: body.kind, rtpParameters: body.rtpParameters as types.RtpParameters });
      } catch (err) {
        throw new TiepdanError('MEDIA_REJECTED', `the server cannot take this media: ${(err as Error).message}`);
      }
      const rtpCapabilities = body.rtpCapabilities as types.RtpCapabilities;
      if (!test.router.canConsume({ producerId: producer.id, rtpCapabilities })) throw new TiepdanError('MEDIA_REJECTED', 'the browser cannot receive this codec');
      const consumer = await test.recv.consume({ producerId: producer.id, rtpCapabilities, paused: true });
      test.producers.set(producer.id, producer);
      test.consumers.set(consumer.id, consumer);
      return { producerId: producer.id, consumer: { id: consumer.id, producerId: producer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters } };
    } catch (err) {
      // A refused track leaves nothing behind, so it cannot be repeated to pile up producers.
      producer?.close();
      test.sending.delete(body.kind);
      throw err;
    }
  });

  app.post('/web/preflight/loopback/:id/resume', testRoute('Resume a consumer (the picture and sound come back)'), async (request) => {
    const test = await testFor(request);
    const { consumerId } = parse(resumeBody, request.body);
    const consumer = test.consumers.get(consumerId);
    if (consumer === undefined) throw new TiepdanError('CONSUMER_NOT_FOUND', 'no such consumer in this test');
    await consumer.resume();
    if (consumer.kind === 'video') await consumer.requestKeyFrame();
    return { resumed: true };
  });

  app.get('/web/preflight/loopback/:id/stats', testRoute('ICE and DTLS state, path and bitrates of the test'), async (request) => {
    const test = await testFor(request);
    const [send] = await test.send.getStats();
    const [recv] = await test.recv.getStats();
    const tuple = send?.iceSelectedTuple ?? recv?.iceSelectedTuple;
    return {
      iceState: test.send.iceState,
      dtlsState: test.send.dtlsState,
      protocol: tuple?.protocol ?? null,
      sendBitrate: send?.recvBitrate ?? 0,
      recvBitrate: recv?.sendBitrate ?? 0,
    };
  });

  app.delete('/web/preflight/loopback/:id', testRoute('End the test (it ends by itself after two minutes)'), async (request) => {
    (await testFor(request)).close();
    return { closed: true };
  });

  app.addHook('onClose', async () => {
    for (const test of [...tests.values()]) test.close();
  });
};
