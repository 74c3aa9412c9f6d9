import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { types } from 'mediasoup';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import type { WorkerPool } from '../../sfu/WorkerPool.ts';
import { LoopbackTest } from '../../live/LoopbackTest.ts';
import { actorOf, type Access } from '../control/access.ts';
import { dtlsParametersSchema, rtpCapabilitiesSchema, rtpParametersSchema } from '../../contract/signaling.ts';
import { safeText } from '../../domain/common/safeText.ts';

export interface LoopbackPluginOptions {
  pool: WorkerPool;
  /** A test is closed after this long whatever happens (default 120 s). */
  maxTestMs?: number;
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
    const test = await LoopbackTest.start({ pool: options.pool, owner: claims.jti, transport, maxMs, onClose: (t) => tests.delete(t.id) });
    tests.set(test.id, test);
    request.log.info({ testId: test.id, transport, sessionId: claims.sid }, 'pre-flight loopback started');
    // The same addresses as in a session: the one this request reached first, then the machine's.
    const reached = request.socket.localAddress;
    return reply.status(201).send({ id: test.id, routerRtpCapabilities: test.router.rtpCapabilities, send: test.describe(test.send, reached), recv: test.describe(test.recv, reached) });
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
    const { producer, consumer } = await test.produce(body.kind, body.rtpParameters as types.RtpParameters, body.rtpCapabilities as types.RtpCapabilities);
    return { producerId: producer.id, consumer: { id: consumer.id, producerId: producer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters } };
  });

  app.post('/web/preflight/loopback/:id/resume', testRoute('Resume a consumer (the picture and sound come back)'), async (request) => {
    const test = await testFor(request);
    const { consumerId } = parse(resumeBody, request.body);
    await test.resume(consumerId);
    return { resumed: true };
  });

  app.get('/web/preflight/loopback/:id/stats', testRoute('ICE and DTLS state, path and bitrates of the test'), async (request) => (await testFor(request)).stats());

  app.delete('/web/preflight/loopback/:id', testRoute('End the test (it ends by itself after two minutes)'), async (request) => {
    (await testFor(request)).close();
    return { closed: true };
  });

  app.addHook('onClose', async () => {
    for (const test of [...tests.values()]) test.close();
  });
};
