/**
 * The worker binary forwards real media: a Chromium peer completes ICE and a real DTLS handshake
 * (the code path that crashed with Debian's kTLS OpenSSL), sends VP8 + Opus over SRTP (AES-GCM,
 * Chromium's choice) and an SCTP data channel, and receives its own media back through the SFU.
 * FFmpeg sends SRTP with AES-CM to a PlainTransport. Run against whichever worker is installed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import t from 'tap';
import type { types } from 'mediasoup';
import { blankPageServer, launchChromium, mediasoupClientBundle, toClientCapabilities, toClientRtpParameters } from './helpers/browser.ts';
import { startTestPool } from './helpers/pool.ts';

const mediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('Chromium: ICE + DTLS handshake, VP8/Opus over SRTP-GCM, SCTP data, media forwarded back', async (t) => {
  const pool = await startTestPool(1, { rtcMinPort: 31200, rtcMaxPort: 31299 });
  t.teardown(() => pool.close());
  const { router, worker } = await pool.createRouter({ mediaCodecs });
  const transportOptions = { webRtcServer: worker.webRtcServer, enableUdp: true, enableTcp: true, enableSctp: true };
  const send = await router.createWebRtcTransport(transportOptions);
  const recv = await router.createWebRtcTransport(transportOptions);
  const producers: types.Producer[] = [];
  const dataProducers: types.DataProducer[] = [];

  const site = await blankPageServer();
  t.teardown(site.close);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(site.url);
  await page.addScriptTag({ content: await mediasoupClientBundle() });

  const transports: Record<string, types.WebRtcTransport> = { [send.id]: send, [recv.id]: recv };
  await page.exposeFunction('sfuConnect', async (transportId: string, dtlsParameters: types.DtlsParameters) => {
    await transports[transportId]!.connect({ dtlsParameters });
  });
  await page.exposeFunction('sfuProduce', async (kind: types.MediaKind, rtpParameters: types.RtpParameters) => {
    const p = await send.produce({ kind, rtpParameters });
    producers.push(p);
    return p.id;
  });
  await page.exposeFunction('sfuProduceData', async (sctpStreamParameters: types.SctpStreamParameters) => {
    const d = await send.produceData({ sctpStreamParameters, label: 'chat' });
    dataProducers.push(d);
    return d.id;
  });

  const asParams = (tr: types.WebRtcTransport) => ({
    id: tr.id,
    iceParameters: tr.iceParameters,
    iceCandidates: tr.iceCandidates,
    dtlsParameters: tr.dtlsParameters,
    sctpParameters: tr.sctpParameters,
  });
  const dtlsConnected = once(send, 'dtlsstatechange');

  await page.evaluate(
    async ({ caps, sendParams }) => {
      type Fn = (...a: unknown[]) => Promise<string>;
      const w = window as unknown as Record<string, unknown> & { mediasoupClient: typeof import('mediasoup-client') };
      const device = new w.mediasoupClient.Device();
      await device.load({ routerRtpCapabilities: caps });
      const transport = device.createSendTransport(sendParams);
      transport.on('connect', ({ dtlsParameters }, ok, fail) => {
        (w.sfuConnect as Fn)(transport.id, dtlsParameters).then(() => ok(), fail);
      });
      transport.on('produce', ({ kind, rtpParameters }, ok, fail) => {
        (w.sfuProduce as Fn)(kind, rtpParameters).then((id) => ok({ id }), fail);
      });
      transport.on('producedata', ({ sctpStreamParameters }, ok, fail) => {
        (w.sfuProduceData as Fn)(sctpStreamParameters).then((id) => ok({ id }), fail);
      });
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
      await transport.produce({ track: stream.getAudioTracks()[0]! });
      await transport.produce({ track: stream.getVideoTracks()[0]! });
      const data = await transport.produceData({ ordered: true, label: 'chat' });
      const timer = setInterval(() => data.readyState === 'open' && data.send(`hello ${Date.now()}`), 100);
      w.stopData = () => clearInterval(timer);
      w.device = device;
    },
    { caps: toClientCapabilities(router.rtpCapabilities), sendParams: asParams(send) },
  );

  await dtlsConnected;
  t.equal(send.dtlsState, 'connected', 'the worker completed a DTLS handshake with Chromium');
  t.equal(send.iceState === 'completed' || send.iceState === 'connected', true, `ICE ${send.iceState}`);
  t.equal(send.iceSelectedTuple?.protocol, 'udp', 'ICE over UDP on loopback');

  const video = await waitFor('video producer', async () => producers.find((p) => p.kind === 'video'));
  const audio = await waitFor('audio producer', async () => producers.find((p) => p.kind === 'audio'));
  t.equal(video.rtpParameters.codecs[0]?.mimeType, 'video/VP8');
  t.equal(audio.rtpParameters.codecs[0]?.mimeType, 'audio/opus');
  for (const p of [audio, video]) {
    const bytes = await waitFor(`${p.kind} bytes`, async () => {
      const b = (await p.getStats()).reduce((n, s) => n + s.byteCount, 0);
      return b > 5000 ? b : undefined;
    });
    t.ok(bytes > 5000, `${p.kind} arrives decrypted at the worker (${bytes} bytes)`);
  }
  const dp = await waitFor('data producer', async () => dataProducers[0]);
  const messages = await waitFor('SCTP messages', async () => {
    const n = (await dp.getStats())[0]?.messagesReceived ?? 0;
    return n >= 3 ? n : undefined;
  });
  t.ok(messages >= 3, `SCTP data channel messages reach the worker (${messages})`);

  // Loop the media back through the SFU to the same browser: the worker encrypts (SRTP) and forwards.
  const consumers: types.Consumer[] = [];
  for (const p of [audio, video]) {
    consumers.push(await recv.consume({ producerId: p.id, rtpCapabilities: router.rtpCapabilities, paused: false }));
  }
  const received = await page.evaluate(
    async ({ recvParams, consumerParams }) => {
      type Fn = (...a: unknown[]) => Promise<void>;
      const w = window as unknown as Record<string, unknown> & { device: import('mediasoup-client').types.Device };
      const transport = w.device.createRecvTransport(recvParams);
      transport.on('connect', ({ dtlsParameters }, ok, fail) => {
        (w.sfuConnect as Fn)(transport.id, dtlsParameters).then(() => ok(), fail);
      });
      const cs: import("mediasoup-client").types.Consumer[] = [];
      for (const c of consumerParams) cs.push(await transport.consume(c));
      const bytes = async () => {
        const out: Record<string, number> = {};
        for (const c of cs) {
          const stats = await c.getStats();
          stats.forEach((s: { type: string; bytesReceived?: number }) => {
            if (s.type === 'inbound-rtp') out[c.kind] = (out[c.kind] ?? 0) + (s.bytesReceived ?? 0);
          });
        }
        return out;
      };
      const first = await bytes();
      await new Promise((r) => setTimeout(r, 3000));
      return { first, second: await bytes() };
    },
    {
      recvParams: asParams(recv),
      consumerParams: consumers.map((c) => ({ id: c.id, producerId: c.producerId, kind: c.kind, rtpParameters: toClientRtpParameters(c.rtpParameters) })),
    },
  );
  for (const kind of ['audio', 'video']) {
    t.ok((received.second[kind] ?? 0) > (received.first[kind] ?? 0) && (received.second[kind] ?? 0) > 1000, `browser receives growing ${kind} from the SFU (${received.first[kind]} → ${received.second[kind]} bytes)`);
  }
  t.equal(recv.dtlsState, 'connected', 'second DTLS handshake (receive transport) completed');
});

t.test('FFmpeg → PlainTransport over SRTP AES_CM_128_HMAC_SHA1_80: the worker decrypts', async (t) => {
  const pool = await startTestPool(1, { rtcMinPort: 31300, rtcMaxPort: 31399 });
  t.teardown(() => pool.close());
  const { router } = await pool.createRouter({ mediaCodecs });
  const plain = await router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: true,
    enableSrtp: true,
    srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
  });
  const key = randomBytes(30).toString('base64');
  await plain.connect({ srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: key } });
  const producer = await plain.produce({
    kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 22222222 }] },
  });
  const port = plain.tuple.localPort;
  const ff = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=30',
    '-c:a', 'libopus', '-ac', '2', '-ar', '48000', '-payload_type', '100', '-ssrc', '22222222',
    // Without skip_rtcp FFmpeg's first packet can be RTCP from another port, and comedia latches onto it.
    '-rtpflags', 'skip_rtcp', '-f', 'rtp', '-srtp_out_suite', 'AES_CM_128_HMAC_SHA1_80', '-srtp_out_params', key,
    `srtp://127.0.0.1:${port}?rtcpport=${port}&pkt_size=1200`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => void ff.kill('SIGKILL'));
  const bytes = await waitFor('decrypted opus', async () => {
    const b = (await producer.getStats()).reduce((n, s) => n + s.byteCount, 0);
    return b > 3000 ? b : undefined;
  });
  t.ok(bytes > 3000, `AES-CM SRTP from FFmpeg is decrypted and accepted (${bytes} bytes)`);
});
