/**
 * Browser side of bench/join-vs-raw.ts for tiepdan: the real client library (/live/client.js,
 * global `tiepdan`) joining with an invitation, as the room page does (media taken first).
 */
import type { LiveClient, LiveClientOptions } from '../../src/web/LiveClient.ts';
import { bench, localMedia, mark, timed, watchVideo } from './probe.ts';

type Library = { LiveClient: new (options: LiveClientOptions) => LiveClient };

async function benchJoin(options: { url: string; sessionId: string; token: string }): Promise<void> {
  const stream = await localMedia();
  const { LiveClient: Client } = (globalThis as unknown as { tiepdan: Library }).tiepdan;
  const client = new Client({ ...options, stream });
  client.on('notification', (method) => {
    if (method === 'newConsumer') mark('newConsumer');
  });
  client.on('track', ({ kind, track, peerId }) => {
    if (kind !== 'video') return;
    mark('track');
    watchVideo(track, peerId);
  });
  // Every request of the library goes through request(): time the first of each method.
  const request = client.request.bind(client);
  client.request = (method, ...args) => timed(method, request(method, ...args));
  Object.assign(globalThis, { client });
  try {
    await client.join();
    mark('setupDone');
  } catch (err) {
    bench.error = `${String(err)} ${JSON.stringify((err as { details?: unknown }).details ?? '')}`;
  }
  // LiveClient notes the moment its socket opened (performance.now() in the open event), which is
  // when the raw page starts its clock too.
  bench.socketOpen = client.timings.socketOpen;
  if (client.timings.joined !== undefined) bench.marks.joinReply = client.timings.joined;
}

Object.assign(globalThis, { benchJoin });
