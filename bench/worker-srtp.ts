/**
 * Cost of forwarding in the mediasoup worker, plain RTP against SRTP (AES_CM_128_HMAC_SHA1_80):
 * one ~1 Mbps VP8 stream from FFmpeg fanned out to N consumers on PlainTransports (SRTP
 * encryption happens per consumer, as for WebRTC viewers), sent to a UDP sink. Prints the worker's
 * CPU share and the CPU time per forwarded packet. Reads the worker's CPU from /proc.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { types } from 'mediasoup';
import { startTestPool } from '../test/helpers/pool.ts';

const TICKS = 100; // USER_HZ on Linux
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pool = await startTestPool(1, { logLevel: 'error', rtcMinPort: 46000, rtcMaxPort: 47999 });
const sink = createSocket('udp4');
sink.on('message', () => undefined);
await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
const sinkPort = sink.address().port;

try {
  const { router, worker } = await pool.createRouter({ mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] });
  const ingest = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await ingest.produce({
    kind: 'video',
    rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 31313131 }] },
  });
  const ff = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-c:v', 'libvpx', '-b:v', '1M', '-deadline', 'realtime', '-cpu-used', '8', '-g', '60',
    '-payload_type', '96', '-ssrc', '31313131', '-rtpflags', 'skip_rtcp', '-f', 'rtp',
    `rtp://127.0.0.1:${ingest.tuple.localPort}?pkt_size=1200`,
  ], { stdio: 'ignore' });
  try {
    await sleep(3000);
    console.log('consumers  mode   worker CPU %   packets/s out   µs per packet');
    for (const srtp of [false, true]) {
      const consumers: types.Consumer[] = [];
      const transports: types.PlainTransport[] = [];
      for (const n of [25, 50, 100, 200]) {
        while (consumers.length < n) {
          const tr = await router.createPlainTransport({
            listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
            rtcpMux: true,
            comedia: false,
            enableSrtp: srtp,
            srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
          });
          await tr.connect({
            ip: '127.0.0.1',
            port: sinkPort,
            ...(srtp ? { srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' as const, keyBase64: randomBytes(30).toString('base64') } } : {}),
          });
          transports.push(tr);
          consumers.push(await tr.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities, paused: false }));
        }
        await sleep(1500);
        const packets = async () => (await Promise.all(consumers.map((c) => c.getStats()))).flat().filter((s) => s.type === 'outbound-rtp').reduce((a, s) => a + s.packetCount, 0);
        const c0 = cpuSeconds(worker.pid);
        const p0 = await packets();
        const t0 = performance.now();
        await sleep(5000);
        const secs = (performance.now() - t0) / 1000;
        const cpu = cpuSeconds(worker.pid) - c0;
        const sent = (await packets()) - p0;
        console.log(
          `${String(n).padStart(9)}  ${(srtp ? 'SRTP' : 'RTP ').padEnd(5)}  ${((cpu / secs) * 100).toFixed(1).padStart(11)}   ${(sent / secs).toFixed(0).padStart(13)}   ${((cpu * 1e6) / Math.max(1, sent)).toFixed(1).padStart(13)}`,
        );
      }
      for (const tr of transports) tr.close();
    }
  } finally {
    ff.kill('SIGKILL');
  }
} finally {
  pool.close();
  sink.close();
}
