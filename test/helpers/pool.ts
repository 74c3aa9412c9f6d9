import type { Logger } from '../../src/logging/logger.ts';
import { resolveWorkerBinary } from '../../src/sfu/workerBinary.ts';
import { WorkerPool, type WorkerPoolOptions } from '../../src/sfu/WorkerPool.ts';
import { freePortBlock, silentLogger } from './env.ts';

/**
 * Options for a real worker pool under test: the installed worker binary, loopback only, WebRtcServer
 * ports from a free block; callers keep their own RTC port range so concurrent files stay apart.
 */
export async function testPoolOptions(numWorkers: number, overrides: Partial<WorkerPoolOptions> = {}): Promise<WorkerPoolOptions> {
  return {
    numWorkers,
    workerBin: resolveWorkerBinary(process.env.MEDIASOUP_WORKER_BIN).path,
    logLevel: 'warn',
    listenIp: '127.0.0.1',
    announcedAddresses: [],
    webRtcPortBase: await freePortBlock(numWorkers),
    rtcMinPort: 30000,
    rtcMaxPort: 30999,
    respawnDelayMs: 100,
    ...overrides,
  };
}

export async function startTestPool(numWorkers: number, overrides: Partial<WorkerPoolOptions> = {}, logger: Logger = silentLogger()): Promise<WorkerPool> {
  return WorkerPool.start(await testPoolOptions(numWorkers, overrides), logger);
}
