/**
 * Control API throughput and latency under 50 concurrent clients (issue 14 item 4): a list
 * (GET /sessions, 20 per page, with agenda, bridge points and participants) with a user's bearer
 * token and with an API key, a create (POST /cases with a person, which also appends to the audit
 * hash chain) and the bridge-point list. The server is the production app (src/api/app.ts: the one
 * access hook, request logging at LOG_LEVEL=info into /dev/null, the metrics hook) on a real
 * embedded PostgreSQL, over real HTTP on 127.0.0.1 with keep-alive connections. One mediasoup
 * worker is started because the app's health and metrics routes read the pool; it stays idle.
 * The load generator runs in a worker thread so its own work does not sit on the server's event loop.
 * Each line gives req/s, p50/p95/p99 and the SQL queries per request (counted by a Kysely plugin
 * on the services' database handle).
 *
 *   npm run bench api -- [--requests 3000] [--clients 50] [--only list]
 *   npm run bench api -- --show-queries --requests 100   (which queries one request makes)
 *   npm run bench api -- --explain --only list --requests 100   (and PostgreSQL's plan of the list)
 *   npm run bench api -- --no-list-cache --only list   (without the change feed: the list reads the database each time)
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/api-latency.ts --only list   (profile the server)
 */
import { Agent, request as httpRequestRaw } from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CompiledQuery, createQueryId, TableNode, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { pino } from 'pino';
import { buildApp } from '../src/api/app.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { ControlServices } from '../src/domain/controlServices.ts';
import { SESSION_LIST_CHANNEL } from '../src/domain/sessions/sessionListCache.ts';
import { createLogger, REDACT_PATHS } from '../src/logging/logger.ts';
import { TokenSigner } from '../src/tokens/tokenSigner.ts';
import { tempDataDir } from '../test/helpers/env.ts';
import { startTestPool } from '../test/helpers/pool.ts';

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

interface LoadResult {
  latencies: number[];
  errors: number;
  seconds: number;
  /** The generator thread's own CPU over the timed part. */
  cpuMicros: number;
  /** Status and start of the body of the first answer that was not the expected one. */
  firstError?: string;
}

/** CPU (µs) of the embedded PostgreSQL: every process descended from this one, from /proc. */
function postgresCpuMicros(): number {
  const stats = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        // pid (comm) state ppid … utime stime: fields after the parenthesised name.
        const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
        return [{ pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const ours = new Set([process.pid]);
  let ticks = 0;
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of stats) {
      if (!ours.has(s.pid) && ours.has(s.ppid)) {
        ours.add(s.pid);
        ticks += s.ticks;
        grew = true;
      }
    }
  }
  // Clock ticks are 1/100 s on Linux (getconf CLK_TCK); the mediasoup worker is idle here.
  return ticks * 10_000;
}

/**
 * One request over node:http with a keep-alive agent (a connection per client), answered with its
 * status and raw body. Not fetch(): on this 2-core machine the generator shares the cores with the
 * server, and fetch cost as much CPU per request as the server did (and more once it had to
 * gunzip). It asks for gzip as a browser does and keeps the bytes as they come: a browser's
 * decompression runs in its own native code, not on this machine.
 */
function httpRequest(agent: Agent, url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequestRaw(url, { agent, method, headers: { 'accept-encoding': 'gzip', ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The load generator (worker thread): `clients` loops, each one request at a time. */
async function generateLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.clients });
  const url = new URL(job.url);
  const request = (i: number) => httpRequest(agent, url, job.method, job.headers, job.body?.replaceAll('{i}', String(i)));
  await Promise.all(Array.from({ length: job.clients }, (_, c) => request(-1 - c)));
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const cpu0 = process.threadCpuUsage();
  await Promise.all(
    Array.from({ length: job.clients }, async () => {
      for (;;) {
        const i = next++;
        if (i >= job.total) return;
        const t0 = performance.now();
        const r = await request(i);
        latencies.push(performance.now() - t0);
        if (r.status !== job.expected) {
          errors++;
          firstError ??= `${r.status} ${r.body.subarray(0, 200).toString()}`;
        }
      }
    }),
  );
  const cpu = process.threadCpuUsage(cpu0);
  agent.destroy();
  return { latencies, errors, ...(firstError !== undefined ? { firstError } : {}), seconds: (performance.now() - started) / 1000, cpuMicros: cpu.user + cpu.system };
}

/**
 * Counts the queries the services send to PostgreSQL (raw `sql` too: it runs through the same
 * executor). Counted on the result, once per round trip: a CTE's inner builder is transformed too.
 */
class QueryCounter implements KyselyPlugin {
  count = 0;
  /** When set, the kind and first table of each query are recorded here (--show-queries). */
  recorded: string[] | undefined;
  /**
   * The last select's tree (its outermost builder's), for --explain. Selects only: EXPLAIN ANALYZE
   * runs its statement, and the last query overall was the seeding's audit_log insert (it ran again
   * and failed on audit_log_pkey).
   */
  lastNode: RootOperationNode | undefined;
  readonly #described = new WeakMap<object, string>();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.recorded !== undefined) this.#described.set(args.queryId, describeQuery(args.node));
    if (args.node.kind === 'SelectQueryNode') this.lastNode = args.node;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.count++;
    this.recorded?.push(this.#described.get(args.queryId) ?? '?');
    return args.result;
  }
}

function describeQuery(node: RootOperationNode): string {
  const from = node.kind === 'SelectQueryNode' ? node.from?.froms[0] : node.kind === 'UpdateQueryNode' ? node.table : node.kind === 'InsertQueryNode' ? node.into : undefined;
  const table = from !== undefined && TableNode.is(from) ? from.table.identifier.name : '';
  return `${node.kind.replace('QueryNode', '').toLowerCase()} ${table}`.trim();
}

if (!isMainThread) {
  parentPort!.postMessage(await generateLoad(workerData as LoadJob));
} else {
  const { values, positionals } = parseArgs({ options: { requests: { type: 'string' }, clients: { type: 'string' }, only: { type: 'string' }, 'show-queries': { type: 'boolean' }, explain: { type: 'boolean' }, 'no-list-cache': { type: 'boolean' } }, allowPositionals: true });
  const total = Number(values.requests ?? positionals[0] ?? 3000);
  const clients = Number(values.clients ?? positionals[1] ?? 50);
  const only = values.only;
  // Setup talks on stderr at warn; the server's own logger is production's: info, JSON, synchronous.
  const setupLogger = createLogger({ level: 'warn', pretty: false }, process.stderr);
  const serverLogger = pino({ level: 'info', base: { service: 'tiepdan' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.destination({ dest: '/dev/null', sync: true }));
  const tmp = await tempDataDir('tiepdan-bench-');
  const database = await openDatabase({ url: undefined, dataDir: tmp.dir, embeddedPort: 0, logger: setupLogger });
  await migrateToLatest(database, setupLogger);
  const counter = new QueryCounter();
  // As src/server.ts: the change feed turns the session list cache on (--no-list-cache: off).
  const changes = values['no-list-cache'] === true ? undefined : await database.listen(SESSION_LIST_CHANNEL);
  const services = new ControlServices({ db: database.db.withPlugin(counter), signer: await TokenSigner.fromDataDir(tmp.dir), logger: serverLogger, dataDir: tmp.dir, ...(changes ? { changes } : {}) });
  const pool = await startTestPool(1, {}, setupLogger);
  const app = await buildApp({ logger: serverLogger, database, pool, control: { services, dataDir: tmp.dir, publicOrigin: 'https://bench.invalid' }, metrics: { token: undefined, dataDir: tmp.dir } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v1`;

  const system = { kind: 'system' as const, id: 'bench', role: 'admin' as const, label: 'bench', bridgePointId: null };
  const user = await services.auth.createUser(system, { username: 'bench', displayName: 'Bench', role: 'reception_board', password: 'bench-password-1' });
  const { token } = await services.auth.mintToken(user.id, 'reception_board');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const { key: apiKey } = await services.auth.createApiKey(system, { name: 'bench', role: 'auditor' });

  // Data to list: 40 bridge points, 60 cases, 200 sessions.
  const points: string[] = [];
  for (let i = 0; i < 40; i++) points.push((await services.bridgePoints.create(system, { code: `B${i}`, name: `Xã ${i}`, kind: 'commune', address: '', contactName: '', contactPhone: '', contactEmail: '', networkNotes: '', active: true })).id);
  const caseBody = (i: number) => ({ type: 'khieu_nai', title: `Vụ việc ${i}`, summary: 'Nội dung', criteria: ['a', 'c'], people: [{ role: 'complainant', fullName: `Người ${i}` }] });
  const cases: string[] = [];
  for (let i = 0; i < 60; i++) {
    const r = await fetch(`${base}/cases`, { method: 'POST', headers, body: JSON.stringify(caseBody(i)) });
    if (r.status !== 201) throw new Error(`seed case: ${r.status} ${await r.text()}`);
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

  async function run(job: Omit<LoadJob, 'total' | 'clients' | 'headers'> & { headers?: Record<string, string> }): Promise<void> {
    if (values['show-queries'] === true) {
      counter.recorded = [];
      await (await fetch(job.url, { method: job.method, headers: job.headers ?? headers, ...(job.body ? { body: job.body.replaceAll('{i}', 'x') } : {}) })).arrayBuffer();
      console.log(`${job.name}: ${counter.recorded.join('; ')}`);
      counter.recorded = undefined;
    }
    if (values.explain === true && job.method === 'GET') {
      // One request of this job first (the list cache off or cold: it reaches the database), so the
      // plan shown is this job's query, not the last one of the seeding.
      services.sessionListCache.invalidate();
      counter.lastNode = undefined;
      await (await fetch(job.url, { method: job.method, headers: job.headers ?? headers })).arrayBuffer();
    }
    if (values.explain === true && job.method === 'GET' && counter.lastNode !== undefined) {
      // The request's last query (the list itself), as PostgreSQL plans and runs it.
      const compiled = database.db.getExecutor().compileQuery(counter.lastNode, createQueryId());
      const plan = await database.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain (analyze, buffers) ${compiled.sql}`, [...compiled.parameters]));
      console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    const queriesBefore = counter.count;
    const serverCpu0 = process.threadCpuUsage();
    const pgCpu0 = postgresCpuMicros();
    const worker = new Worker(new URL(import.meta.url), { workerData: { headers, ...job, total, clients } satisfies LoadJob });
    const { latencies, errors, seconds, cpuMicros, firstError } = await new Promise<LoadResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const serverCpu = process.threadCpuUsage(serverCpu0);
    const pgMicros = postgresCpuMicros() - pgCpu0;
    await worker.terminate();
    // The warm-up requests (one per client) are counted too.
    const perRequest = (counter.count - queriesBefore) / (total + clients);
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
    // CPU per request is what the machine's load does not change (the warm-up is in the server's
    // and PostgreSQL's figures, hence total + clients). The ceiling: the server's one event loop,
    // and the two cores shared by server, PostgreSQL and this generator.
    const requests = total + clients;
    const serverUs = (serverCpu.user + serverCpu.system) / requests;
    const pgUs = pgMicros / requests;
    const genUs = cpuMicros / total;
    // A backend that exited during the run (the pool closes idle ones) takes its CPU with it: then
    // PostgreSQL's figure is unknown, and the ceiling is the server's alone.
    const pgKnown = pgUs >= 0;
    const ceiling = Math.min(1e6 / serverUs, (availableParallelism() * 1e6) / (serverUs + (pgKnown ? pgUs : 0) + genUs));
    console.log(
      `${job.name.padEnd(38)} n=${total} clients=${clients}  ${(total / seconds).toFixed(0).padStart(5)} req/s  p50 ${q(0.5)} ms  p95 ${q(0.95)} ms  p99 ${q(0.99)} ms  max ${latencies.at(-1)!.toFixed(1)} ms  queries/request ${perRequest.toFixed(2)}  errors ${errors}`,
    );
    if (firstError !== undefined) console.log(`${''.padEnd(38)} first error: ${firstError}`);
    console.log(`${''.padEnd(38)} CPU µs/request: server ${serverUs.toFixed(0)}  postgres ${pgKnown ? pgUs.toFixed(0) : '? (a backend exited)'}  generator ${genUs.toFixed(0)}  → ceiling ≈ ${ceiling.toFixed(0)} req/s on ${availableParallelism()} cores (load average ${loadavg()[0]!.toFixed(1)})`);
  }

  const wanted = (name: string) => only === undefined || name.includes(only);
  try {
    if (wanted('list')) await run({ name: 'GET /sessions?limit=20 (list, token)', method: 'GET', url: `${base}/sessions?limit=20&offset=40`, expected: 200 });
    if (wanted('list')) await run({ name: 'GET /sessions?limit=20 (list, API key)', method: 'GET', url: `${base}/sessions?limit=20&offset=40`, headers: { 'x-api-key': apiKey }, expected: 200 });
    if (wanted('create')) await run({ name: 'POST /cases (create + audit chain)', method: 'POST', url: `${base}/cases`, body: JSON.stringify(caseBody(0)).replace('Vụ việc 0', 'Vụ việc {i}').replace('Người 0', 'Người {i}'), expected: 201 });
    if (wanted('points')) await run({ name: 'GET /bridge-points?limit=50 (list)', method: 'GET', url: `${base}/bridge-points?limit=50`, expected: 200 });
    const verify = await services.audit.verify();
    console.log(`audit chain after the run: ${verify.valid ? 'valid' : 'BROKEN'}, ${verify.checked} records`);
  } finally {
    await app.close();
    pool.close();
    await services.audit.close();
    await database.close();
    await tmp.remove();
  }
}
