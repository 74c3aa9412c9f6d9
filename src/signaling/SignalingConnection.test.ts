/**
 * The connection's first checks, on a real WebSocket: a message nested deeper than the protocol
 * allows is answered BAD_MESSAGE before any schema or handler sees it (a 5,000-level object once
 * reached mediasoup and overflowed its stack), and an ordinary deep-enough one still passes.
 */
import { once } from 'node:events';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { silentLogger } from '../../test/helpers/env.ts';
import { MAX_MESSAGE_DEPTH, nestsDeeperThan } from '../contract/signaling.ts';
import { DEFAULT_LIMITS, SignalingConnection, type RequestHandler } from './SignalingConnection.ts';

t.test('nestsDeeperThan counts levels of objects and arrays, without recursion', async (t) => {
  t.equal(nestsDeeperThan({ a: 1 }, 1), false);
  t.equal(nestsDeeperThan({ a: {} }, 1), true);
  t.equal(nestsDeeperThan([[[]]], 3), false);
  t.equal(nestsDeeperThan([[[]]], 2), true);
  t.equal(nestsDeeperThan('x', 0), false);
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  t.equal(nestsDeeperThan(deep, MAX_MESSAGE_DEPTH), true, '200,000 levels: no stack overflow');
});

t.test('a too-deep message is refused before the handler; a real produce passes', async (t) => {
  const calls: string[] = [];
  const handler: RequestHandler = {
    async handle(_c, method) {
      calls.push(method);
      return {};
    },
    closed() {},
  };
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.teardown(() => wss.close());
  wss.on('connection', (socket) => new SignalingConnection(socket as never, handler, DEFAULT_LIMITS, silentLogger()));
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  t.teardown(() => ws.close());
  await once(ws, 'open');
  const next = () => once(ws, 'message').then(([raw]) => JSON.parse(String(raw)) as { id: number | null; ok: boolean; error?: { code: string } });

  ws.send(`{"id":1,"method":"setRtpCapabilities","data":{"rtpCapabilities":{"codecs":[],"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}}`);
  t.match(await next(), { ok: false, error: { code: 'BAD_MESSAGE' } }, '5,000 levels: BAD_MESSAGE');
  ws.send(JSON.stringify({ id: 2, method: 'ping', data: { x: JSON.parse('['.repeat(MAX_MESSAGE_DEPTH) + ']'.repeat(MAX_MESSAGE_DEPTH)) } }));
  t.match(await next(), { ok: false, error: { code: 'BAD_MESSAGE' } }, `just past ${MAX_MESSAGE_DEPTH}: refused too`);
  t.same(calls, [], 'the handler saw neither');

  // The deepest message a browser sends: produce with a codec's rtcpFeedback (7 levels).
  const produce = { id: 3, method: 'produce', data: { transportId: 't', kind: 'video', source: 'camera', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 }, rtcpFeedback: [{ type: 'nack' }] }], encodings: [{ ssrc: 1, rtx: { ssrc: 2 } }] } } };
  ws.send(JSON.stringify(produce));
  t.match(await next(), { id: 3, ok: true }, 'a real produce is let through');
  t.same(calls, ['produce']);
});
