/**
 * Control API latency under 50 concurrent clients: median and p99 of a list (GET /sessions, 20
 * per page, with agenda, bridge points and participants) and a create (POST /cases with a person,
 * which also appends to the audit hash chain). Real HTTP on 127.0.0.1, real embedded PostgreSQL,
 * keep-alive connections, bearer-token auth checked on every request. The media side is not started.
 * The load generator runs in a worker thread so its own work does not sit on the server's event loop.
 *
 *   node bench/api-latency.ts [requestsPerOperation=3000] [clients=50]
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Fastify, { type FastifyInstance } from 'fastify';
import { controlApiPlugin } from '../src/api/control/controlApiPlugin.ts';
import { installErrorHandling } from '../src/api/errors.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { ControlServices } from '../src/domain/controlServices.ts';
import { createLogger } from '../src/logging/logger.ts';
import { TokenSigner } from '../src/tokens/tokenSigner.ts';
import { tempDataDir } from '../test/helpers/env.ts';

interface LoadJob {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** For POST: a body template; "{i}" is replaced by the request number. */
  body?: string;
  expected: number;
  total: number;
  clients: number;
}

/** The load generator (worker thread): `clients` loops, each one request at a time. */
async function generateLoad(job: LoadJob): Promise<{ latencies: number[]; errors: number; seconds: number }> {
  const request = (i: number) => fetch(job.url, { method: job.method, headers: job.headers, ...(job.body ? { body: job.body.replaceAll('{i}', String(i)) } : {}) });
  await Promise.all(Array.from({ length: job.clients }, (_, c) => request(-1 - c).then((r) => r.arrayBuffer())));
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: job.clients }, async () => {
      for (;;) {
        const i = next++;
        if (i >= job.total) return;
        const t0 = performance.now();
        const r = await request(i);
        await r.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (r.status !== job.expected) errors++;
      }
    }),
  );
  return { latencies, errors, seconds: (performance.now() - started) / 1000 };
}

if (!isMainThread) {
  parentPort!.postMessage(await generateLoad(workerData as LoadJob));
} else {
  const total = Number(process.argv[2] ?? 3000);
  const clients = Number(process.argv[3] ?? 50);
  const logger = createLogger({ level: 'warn', pretty: false });
  const tmp = await tempDataDir('tiepdan-bench-');
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger, maxConnections: 10 });
  await migrateToLatest(database, logger);
  const services = new ControlServices({ db: database.db, signer: await TokenSigner.fromDataDir(tmp.dir), logger, dataDir: tmp.dir });
  const app = Fastify({ loggerInstance: logger }) as unknown as FastifyInstance;
  installErrorHandling(app);
  await app.register(controlApiPlugin, { services, dataDir: tmp.dir, publicOrigin: 'https://bench.invalid' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1`;

  const system = { kind: 'system' as const, id: 'bench', role: 'admin' as const, label: 'bench', bridgePointId: null };
  const user = await services.auth.createUser(system, { username: 'bench', displayName: 'Bench', role: 'reception_board', password: 'bench-password-1' });
  const { token } = await services.auth.mintToken(user.id, 'reception_board');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  // Data to list: 40 bridge points, 60 cases, 200 sessions.
  const points: string[] = [];
  for (let i = 0; i < 40; i++) points.push((await services.bridgePoints.create(system, { code: `B${i}`, name: `Xã ${i}`, kind: 'commune', address: '', contactName: '', contactPhone: '', contactEmail: '', networkNotes: '', active: true })).id);
  const caseBody = (i: number) => ({ type: 'khieu_nai', title: `Vụ việc ${i}`, summary: 'Nội dung', criteria: ['a', 'c'], people: [{ role: 'complainant', fullName: `Người ${i}` }] });
  const cases: string[] = [];
  for (let i = 0; i < 60; i++) {
    const r = await fetch(`${base}/cases`, { method: 'POST', headers, body: JSON.stringify(caseBody(i)) });
    cases.push(((await r.json()) as { id: string }).id);
  }
  for (let i = 0; i < 200; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    const r = await fetch(`${base}/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        title: `Phiên ${i}`,
        scheduledStart: `2027-03-${day}T08:00:00+07:00`,
        scheduledEnd: `2027-03-${day}T11:00:00+07:00`,
        caseIds: cases.slice(i % 50, (i % 50) + 4),
        bridgePointIds: points.slice(i % 30, (i % 30) + 8),
        participants: [{ role: 'host', label: 'Chủ trì' }],
      }),
    });
    if (r.status !== 201) throw new Error(`seed session: ${r.status} ${await r.text()}`);
  }

  async function run(job: Omit<LoadJob, 'total' | 'clients' | 'headers'>): Promise<void> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { ...job, total, clients, headers } satisfies LoadJob });
    const { latencies, errors, seconds } = await new Promise<{ latencies: number[]; errors: number; seconds: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    const name = job.name;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
    console.log(`${name.padEnd(34)} n=${total} clients=${clients}  median ${q(0.5)} ms  p95 ${q(0.95)} ms  p99 ${q(0.99)} ms  max ${latencies.at(-1)!.toFixed(1)} ms  ${(total / seconds).toFixed(0)} req/s  errors ${errors}`);
  }

  try {
    await run({ name: 'GET /sessions?limit=20 (list)', method: 'GET', url: `${base}/sessions?limit=20&offset=40`, expected: 200 });
    await run({ name: 'POST /cases (create + audit chain)', method: 'POST', url: `${base}/cases`, body: JSON.stringify(caseBody(0)).replace('Vụ việc 0', 'Vụ việc {i}').replace('Người 0', 'Người {i}'), expected: 201 });
    await run({ name: 'GET /bridge-points?limit=50 (list)', method: 'GET', url: `${base}/bridge-points?limit=50`, expected: 200 });
    const verify = await services.audit.verify();
    console.log(`audit chain after the run: ${verify.valid ? 'valid' : 'BROKEN'}, ${verify.checked} records`);
  } finally {
    await app.close();
    await database.close();
    await tmp.remove();
  }
}
