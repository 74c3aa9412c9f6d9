import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import { MAX_FRAME_BYTES } from '../contract/signaling.ts';
import type { SignalingHub } from './Hub.ts';

export interface SignalingPluginOptions {
  signaling: SignalingHub;
}

/**
 * The signaling endpoint: GET /ws upgrades to a WebSocket speaking docs/signaling.md. The token
 * travels in the first message, never in the URL (URLs end up in logs and browser history).
 */
export const signalingPlugin: FastifyPluginAsync<SignalingPluginOptions> = async (app, { signaling }) => {
  await app.register(websocket, {
    // ws refuses frames beyond this outright (close 1009) before buffering them (security review
    // L7: 1 MiB frames were buffered first); a little over MAX_MESSAGE_BYTES the connection
    // answers MESSAGE_TOO_LARGE and stays open.
    // One message per turn of the event loop (ws defers each 'message' to setImmediate): a socket
    // whose read holds 200 queued frames no longer runs them as one block while every other socket,
    // timer and /healthz waits. Flooding connections held the loop for seconds before (found by
    // test/guards/signalingFuzz.test.ts).
    options: { maxPayload: MAX_FRAME_BYTES, allowSynchronousEvents: false },
  });
  app.get('/ws', { websocket: true }, (socket, request) => {
    signaling.accept(socket, request.socket.localAddress, request.socket.remoteAddress);
  });
  app.addHook('preClose', async () => signaling.close());
};
