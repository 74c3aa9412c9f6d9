/**
 * Security review L7: no cap on /ws sockets (open 20,000 and reopen each every 14 s), idle sockets
 * lived 15 s, and 1 MiB frames were buffered before being refused. Against a real server with
 * small caps: the socket over the per-address cap and the one over the total cap are closed at
 * once with 4429, a freed place is usable again, an idle socket is closed with 4408 after the join
 * timeout, and a frame over ~72 KiB closes its socket (1009) without touching the others.
 */
import { once } from 'node:events';
import t from 'tap';
import { WebSocket } from 'ws';
import { WsPeer, startLiveServer } from './liveHelpers.ts';

t.test('signaling socket caps per address and in total; join timeout; frame size', async (t) => {
  const live = await startLiveServer({ LIVE_WS_MAX_PER_IP: '5', LIVE_WS_MAX_TOTAL: '8', LIVE_WS_JOIN_TIMEOUT_MS: '4000' });
  t.teardown(() => live.stop());
  const sid = live.session({});
  t.same(live.server.config.live.sockets, { maxPerIp: 5, maxTotal: 8, joinTimeoutMs: 4000 }, 'configured');

  // The review's flood, scaled down: every socket from one address (127.0.0.1).
  // Other loopback source addresses (127.0.0.2…, all loopback on Linux) stand for other IPs.
  const open = async (from = '127.0.0.1') => {
    const ws = new WebSocket(live.wsUrl, { localAddress: from });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await Promise.race([once(ws, 'open'), closed]);
    return { ws, closed };
  };
  const first = await Promise.all(Array.from({ length: 5 }, () => open()));
  const sixth = await open();
  t.equal(await sixth.closed, 4429, 'the sixth socket from one address is refused with 4429');
  first[0]!.ws.close();
  await first[0]!.closed;
  const host = await WsPeer.open(live.wsUrl);
  t.teardown(() => host.close());
  t.equal((await host.join(sid, live.token(sid, 'host-1', 'host'))).ok, true, 'a freed place is usable again');

  // The total cap, from other addresses.
  const others = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((ip) => open(ip)));
  t.same(await Promise.race([Promise.all(others.map((o) => o.closed)), new Promise((r) => setTimeout(() => r('open'), 300))]), 'open', 'other addresses fit until the total');
  const over = await open('127.0.0.5');
  t.equal(await over.closed, 4429, 'the socket over the total cap is refused with 4429');

  // Idle sockets (never joined) go after the join timeout.
  const started = Date.now();
  t.equal(await first[1]!.closed, 4408, 'an idle socket is closed with 4408');
  t.ok(Date.now() - started < 6000, 'after the configured 4 s');

  // A 1 MiB frame is refused by the WebSocket layer (maxPayload ~72 KiB), only for its socket.
  const big = await open('127.0.0.6');
  big.ws.send('x'.repeat(1024 * 1024));
  t.equal(await big.closed, 1009, 'a 1 MiB frame closes its socket');
  t.equal((await host.request('ping')).ok, true, 'the host is unaffected');
  for (const o of [...first, ...others]) o.ws.close();
});
