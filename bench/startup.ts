/**
 * Server start-up time until GET /readyz answers 200, with the embedded PostgreSQL: first start
 * (initdb included) and a restart on the same data directory.
 */
import { TiepdanServer } from '../src/server.ts';
import { silentLogger, tempDataDir, testConfig } from '../test/helpers/env.ts';

async function timeToReady(dataDir: string): Promise<{ ms: number; server: TiepdanServer }> {
  const t0 = performance.now();
  const server = await TiepdanServer.start(await testConfig(dataDir, { MEDIASOUP_NUM_WORKERS: '2' }), silentLogger());
  for (;;) {
    const r = await fetch(`${server.url}/readyz`);
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  return { ms: performance.now() - t0, server };
}

const tmp = await tempDataDir('tiepdan-bench-');
try {
  const first = await timeToReady(tmp.dir);
  await first.server.stop();
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    const again = await timeToReady(tmp.dir);
    warm.push(again.ms);
    await again.server.stop();
  }
  warm.sort((a, b) => a - b);
  console.log(`start → /readyz 200, first start (initdb + migrations + 2 workers): ${first.ms.toFixed(0)} ms`);
  console.log(`start → /readyz 200, restart on existing data (median of 3):        ${warm[1]!.toFixed(0)} ms`);
} finally {
  await tmp.remove();
}
