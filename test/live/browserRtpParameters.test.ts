/**
 * The SDP-safe signaling schemas (security review M2) still accept what a real browser sends:
 * Chromium's mediasoup-client produce parameters for speech Opus, simulcast VP8 and both H.264
 * profiles, as the room client asks for them, and its receive capabilities. A schema stricter
 * than the browsers would silently break every session, so this runs against real Chromium.
 */
import t from 'tap';
import type { types } from 'mediasoup';
import { SESSION_MEDIA_CODECS } from '../../src/live/media.ts';
import { requestSchemas } from '../../src/contract/signaling.ts';
import { blankPageServer, launchChromium, mediasoupClientBundle, toClientCapabilities } from '../helpers/browser.ts';
import { startTestPool } from '../helpers/pool.ts';

t.test('Chromium’s produce parameters and capabilities pass the signaling schemas', async (t) => {
  const pool = await startTestPool(1, { rtcMinPort: 31300, rtcMaxPort: 31399 });
  t.teardown(() => pool.close());
  const { router, worker } = await pool.createRouter({ mediaCodecs: SESSION_MEDIA_CODECS });
  const send = await router.createWebRtcTransport({ webRtcServer: worker.webRtcServer, enableUdp: true });
  const site = await blankPageServer();
  t.teardown(site.close);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(site.url);
  await page.addScriptTag({ content: await mediasoupClientBundle() });

  // Nothing is connected: the parameters are taken at the `produce` event, which is what the client would send.
  const captured = await page.evaluate(
    async ({ caps, sendParams }) => {
      const w = window as unknown as { mediasoupClient: typeof import('mediasoup-client') };
      const device = new w.mediasoupClient.Device();
      await device.load({ routerRtpCapabilities: caps });
      const transport = device.createSendTransport(sendParams);
      const produced: { label: string; kind: string; rtpParameters: unknown }[] = [];
      let label = '';
      transport.on('connect', (_p, ok) => ok());
      transport.on('produce', ({ kind, rtpParameters }, ok) => {
        produced.push({ label, kind, rtpParameters });
        ok({ id: `p${produced.length}` });
      });
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
      const simulcast = [
        { scaleResolutionDownBy: 4, maxBitrate: 130_000, scalabilityMode: 'L1T3' },
        { scaleResolutionDownBy: 2, maxBitrate: 450_000, scalabilityMode: 'L1T3' },
        { scaleResolutionDownBy: 1, maxBitrate: 1_000_000, scalabilityMode: 'L1T3' },
      ];
      label = 'speech opus';
      await transport.produce({ track: stream.getAudioTracks()[0]!.clone(), codecOptions: { opusNack: true, opusFec: true, opusDtx: true, opusStereo: false, opusMaxAverageBitrate: 32_000, opusPtime: 20 } });
      label = 'simulcast VP8';
      await transport.produce({ track: stream.getVideoTracks()[0]!.clone(), encodings: simulcast, codecOptions: { videoGoogleStartBitrate: 1000 } });
      for (const profile of ['42e01f', '42001f']) {
        const codec = device.rtpCapabilities.codecs?.find((c) => c.mimeType === 'video/H264' && c.parameters?.['profile-level-id'] === profile);
        if (codec === undefined) continue;
        label = `H.264 ${profile}`;
        await transport.produce({ track: stream.getVideoTracks()[0]!.clone(), codec, encodings: simulcast });
      }
      return { produced, capabilities: device.rtpCapabilities };
    },
    { caps: toClientCapabilities(router.rtpCapabilities), sendParams: { id: send.id, iceParameters: send.iceParameters, iceCandidates: send.iceCandidates, dtlsParameters: send.dtlsParameters } },
  );

  t.ok(captured.produced.length >= 2, `${captured.produced.map((p) => p.label).join(', ')}`);
  for (const p of captured.produced) {
    const source = p.kind === 'audio' ? 'microphone' : 'camera';
    const parsed = requestSchemas.produce.safeParse({ transportId: send.id, kind: p.kind, source, rtpParameters: p.rtpParameters });
    t.ok(parsed.success, `${p.label} passes the produce schema${parsed.success ? '' : `: ${JSON.stringify(parsed.error.issues)}`}`);
    // And mediasoup takes it, so the schema let through all that matters.
    if (parsed.success) t.ok(await send.produce({ kind: p.kind as types.MediaKind, rtpParameters: p.rtpParameters as types.RtpParameters }), `${p.label}: mediasoup accepts it`);
  }
  const caps = requestSchemas.setRtpCapabilities.safeParse({ rtpCapabilities: captured.capabilities });
  t.ok(caps.success, `the receive capabilities pass${caps.success ? '' : `: ${JSON.stringify(caps.error.issues)}`}`);
});
