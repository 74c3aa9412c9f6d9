/**
 * Control API latency under 50 concurrent clients: median and p99 of a list (GET /sessions, 20
 * per page, with agenda, bridge points and participants) and a create (POST /cases with a person,
 * which also appends to the audit hash chain). Real HTTP on 127.0.0.1, real embedded PostgreSQL,
 * keep-alive connections, bearer-token auth checked on every request. The media side is not started.
 *
 *   node bench/api-latency.ts [requestsPerOperation=3000] [clients=50]
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { controlApiPlugin } from '../src/api/control/controlApiPlugin.ts';
import { installErrorHandling } from '../src/api/errors.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { ControlServices } from '../src/domain/controlServices.ts';
import { createLogger } from '../src/logging/logger.ts';
import { TokenSigner } from '../src/tokens/tokenSigner.ts';
import { tempDataDir } from '../test/helpers/env.ts';

const total = Number(process.argv[2] ?? 3000);
const clients = Number(process.argv[3] ?? 50);
const logger = createLogger({ level: 'warn', pretty: false });
const tmp = await tempDataDir('tiepdan-bench-');
const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger, maxConnections: 10 });
await migrateToLatest(database.db, logger);
const services = new ControlServices({ db: database.db, signer: await TokenSigner.fromDataDir(tmp.dir), logger });
const app = Fastify({ loggerInstance: logger }) as unknown as FastifyInstance;
installErrorHandling(app);
await app.register(controlApiPlugin, { services, dataDir: tmp.dir });
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

async function run(name: string, request: (i: number) => Promise<Response>, expected: number): Promise<void> {
  // Warm-up (JIT, connection pools).
  await Promise.all(Array.from({ length: clients }, (_, c) => request(-1 - c).then((r) => r.arrayBuffer())));
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const t0 = performance.now();
        const r = await request(i);
        await r.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (r.status !== expected) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  console.log(`${name.padEnd(34)} n=${total} clients=${clients}  median ${q(0.5)} ms  p95 ${q(0.95)} ms  p99 ${q(0.99)} ms  max ${latencies.at(-1)!.toFixed(1)} ms  ${(total / seconds).toFixed(0)} req/s  errors ${errors}`);
}

try {
  await run('GET /sessions?limit=20 (list)', () => fetch(`${base}/sessions?limit=20&offset=40`, { headers }), 200);
  await run('POST /cases (create + audit chain)', (i) => fetch(`${base}/cases`, { method: 'POST', headers, body: JSON.stringify(caseBody(1000 + i)) }), 201);
  await run('GET /bridge-points?limit=50 (list)', () => fetch(`${base}/bridge-points?limit=50`, { headers }), 200);
  const verify = await services.audit.verify();
  console.log(`audit chain after the run: ${verify.valid ? 'valid' : 'BROKEN'}, ${verify.checked} records`);
} finally {
  await app.close();
  await database.close();
  await tmp.remove();
}
