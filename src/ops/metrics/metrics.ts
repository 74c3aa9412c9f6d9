import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import client from 'prom-client';
import type { Logger } from '../../logging/logger.ts';
import type { RecordingService } from '../../recording/recordingService.ts';
import type { Rooms } from '../../live/Rooms.ts';
import type { WorkerPool } from '../../sfu/WorkerPool.ts';

/**
 * Prometheus metrics. One registry per server (not prom-client's global one), so that several
 * servers in one process (the tests) do not share or clash. Everything about media is read when
 * Prometheus scrapes (collect callbacks), so an idle server does no work for metrics. Labels carry
 * worker indexes, roles, job kinds and HTTP route patterns only: no session ids, no names (a
 * peer's label is a person), so nothing personal leaves through /metrics.
 */
export interface MetricsSources {
  pool: WorkerPool;
  rooms?: Rooms | undefined;
  recordings?: RecordingService | undefined;
  dataDir: string;
  logger: Logger;
}

export interface TiepdanMetrics {
  registry: client.Registry;
  observeHttp(method: string, route: string, status: number, seconds: number): void;
}

// Loss as a fraction of packets (0.01 = 1 %), RTT in seconds: the thresholds the console's link
// health and the pre-flight criteria talk about.
const LOSS_BUCKETS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2];
const RTT_BUCKETS = [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6];
/** Peer statistics ask each worker about every producer and consumer: bound the cost of a scrape. */
const MAX_PEERS_SAMPLED = 500;

export function createMetrics(sources: MetricsSources): TiepdanMetrics {
  const registry = new client.Registry();
  const log = sources.logger.child({ component: 'metrics' });
  // Event-loop delay, heap, GC, CPU of the Node.js process (prom-client's defaults).
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const registers = [registry];

  const http = new client.Histogram({
    name: 'tiepdan_http_request_duration_seconds',
    help: 'HTTP request durations by route pattern',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  // CPU of each mediasoup worker process, cumulative. A respawned worker starts from zero again:
  // the counter adds only what each process used since the last scrape, so it never goes back.
  const lastCpu = new Map<number, { pid: number; seconds: number }>();
  const workerCpu = new client.Counter({
    name: 'tiepdan_worker_cpu_seconds_total',
    help: 'CPU time (user+system) used by mediasoup workers',
    labelNames: ['worker'],
    registers,
    async collect() {
      await Promise.all(
        sources.pool.workers.map(async (w) => {
          if (!w.alive) return;
          try {
            const usage = await w.worker.getResourceUsage();
            const seconds = (usage.ru_utime + usage.ru_stime) / 1000;
            const last = lastCpu.get(w.index);
            const delta = last === undefined || last.pid !== w.pid ? seconds : seconds - last.seconds;
            lastCpu.set(w.index, { pid: w.pid, seconds });
            // inc(0) still creates the series, so a worker that has not run yet shows 0, not nothing.
            workerCpu.inc({ worker: String(w.index) }, Math.max(0, delta));
          } catch (err) {
            // A worker dying during the scrape: its slot is respawned; report the rest.
            log.debug({ err: (err as Error).message, worker: w.index }, 'worker resource usage unavailable');
          }
        }),
      );
    },
  });

  new client.Gauge({
    name: 'tiepdan_worker_up',
    help: '1 while a mediasoup worker is alive',
    labelNames: ['worker'],
    registers,
    collect() {
      this.reset();
      for (const w of sources.pool.workers) this.set({ worker: String(w.index) }, w.alive ? 1 : 0);
    },
  });
  const perWorker = (name: string, help: string, value: (w: WorkerPool['workers'][number]) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const w of sources.pool.workers) this.set({ worker: String(w.index) }, value(w));
      },
    });
  perWorker('tiepdan_worker_routers', 'mediasoup routers (one per session, plus piped ones) on each worker', (w) => w.routerCount);
  perWorker('tiepdan_worker_producers', 'mediasoup producers on each worker', (w) => w.producerCount);
  perWorker('tiepdan_worker_consumers', 'mediasoup consumers on each worker', (w) => w.consumerCount);

  new client.Gauge({
    name: 'tiepdan_live_sessions',
    help: 'sessions with a media room open',
    registers,
    collect() {
      this.set(sources.rooms?.list().length ?? 0);
    },
  });
  new client.Gauge({
    name: 'tiepdan_live_peers',
    help: 'peers in live sessions by role and whether admitted',
    labelNames: ['role', 'admitted'],
    registers,
    collect() {
      this.reset();
      for (const room of sources.rooms?.list() ?? []) {
        for (const peer of room.peers()) this.inc({ role: peer.role, admitted: String(peer.admitted) });
      }
    },
  });

  // Link health per peer, as distributions (buckets) rather than one series per peer: a peer id
  // per series would grow without bound and says nothing a technician can act on from Grafana.
  const loss = new client.Histogram({ name: 'tiepdan_peer_loss_ratio', help: 'worst packet loss on what each live peer sends (at scrape time)', buckets: LOSS_BUCKETS, registers });
  const rtt = new client.Histogram({ name: 'tiepdan_peer_rtt_seconds', help: 'round-trip time each live peer reports (at scrape time)', buckets: RTT_BUCKETS, registers });
  new client.Gauge({
    name: 'tiepdan_peers_sampled',
    help: 'peers whose link statistics the last scrape read',
    registers,
    async collect() {
      loss.reset();
      rtt.reset();
      let sampled = 0;
      for (const room of sources.rooms?.list() ?? []) {
        for (const peer of room.peers()) {
          if (sampled >= MAX_PEERS_SAMPLED) break;
          try {
            const stats = await room.getStats(peer);
            sampled++;
            if (stats.lossPct !== null) loss.observe(stats.lossPct / 100);
            if (stats.rttMs !== null) rtt.observe(stats.rttMs / 1000);
          } catch {
            // The peer left (or its router closed) during the scrape.
          }
        }
      }
      this.set(sampled);
    },
  });

  new client.Gauge({
    name: 'tiepdan_recordings_active',
    help: 'server recordings by recorder state',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const state of ['starting', 'recording', 'stopping'] as const) this.set({ state }, 0);
      for (const room of sources.rooms?.list() ?? []) {
        const s = sources.recordings?.liveState(room.id);
        if (s && s.status !== 'stopped') this.inc({ state: s.status });
      }
    },
  });
  // Each gauge reads the file system itself: prom-client serialises a metric right after its own
  // collect, so one collect setting another gauge would publish the previous scrape's value.
  const dataDirGauge = (name: string, help: string, pick: (s: StatsFs) => number) =>
    new client.Gauge({
      name,
      help,
      registers,
      async collect() {
        try {
          this.set(pick(await statfs(sources.dataDir)));
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'cannot read the free space of DATA_DIR');
        }
      },
    });
  dataDirGauge('tiepdan_data_dir_free_bytes', 'free space (for the service user) on the file system of DATA_DIR, where recordings are written', (s) => s.bavail * s.bsize);
  dataDirGauge('tiepdan_data_dir_size_bytes', 'size of the file system of DATA_DIR', (s) => s.blocks * s.bsize);

  new client.Gauge({
    name: 'tiepdan_jobs',
    help: 'background jobs (playable copies, verification, exports) by kind and status',
    labelNames: ['kind', 'status'],
    registers,
    collect() {
      this.reset();
      for (const job of sources.recordings?.jobs() ?? []) this.inc({ kind: job.kind, status: job.status });
    },
  });

  return {
    registry,
    observeHttp(method, route, status, seconds) {
      http.observe({ method, route, status_code: String(status) }, seconds);
    },
  };
}
