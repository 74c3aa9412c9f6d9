import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import { buildApp } from './api/app.ts';
import { openDatabase, type DatabaseHandle } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import type { Logger } from './logging/logger.ts';
import { resolveWorkerBinary } from './sfu/workerBinary.ts';
import { WorkerPool } from './sfu/WorkerPool.ts';
import { loadTls, type TlsMaterial } from './tls/tlsMaterial.ts';
import { TokenSigner } from './tokens/tokenSigner.ts';
import { HttpRedirectServer } from './tls/httpRedirect.ts';
import type { SessionDirectory } from './domain/sessionDirectory.ts';
import type { Clock } from './domain/common/clock.ts';
import { createLiveSessions, type LiveSessions } from './signaling/liveSessions.ts';
import { ControlServices } from './domain/controlServices.ts';
import { SESSION_LIST_CHANNEL } from './domain/sessions/sessionListCache.ts';
import { RecordingService } from './recording/recordingService.ts';
import { closeRoomsOnControlEnd, disconnectRevokedInvitations, persistLiveEnd } from './liveWiring.ts';
import { auditLiveActions } from './signaling/liveAudit.ts';
import { startEmbeddedTurn } from './turn/embeddedTurn.ts';
import type { RouteEntry } from './api/control/access.ts';
import type { TurnServer } from './turn/TurnServer.ts';
import type { LiveStore } from './store/LiveStore.ts';
import { PgLiveStore } from './store/PgLiveStore.ts';

/** Parts a caller (tests, the lead's wiring) may supply instead of the defaults. */
export interface TiepdanServerOverrides {
  /** Where live sessions are looked up (default: the control API's sessions in PostgreSQL). */
  sessionDirectory?: SessionDirectory;
  /** "Today" for recording retention (default: the control API's clock); tests let dates pass. */
  recordingClock?: Clock;
  /** What the live side keeps across restarts (default: PostgreSQL, the server's own database). */
  liveStore?: LiveStore;
}

/**
 * The composition root: starts the database (embedded unless DATABASE_URL is set), applies
 * migrations, starts the worker pool and the HTTP server; stop() undoes it in reverse order.
 */
export class TiepdanServer {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly pool: WorkerPool;
  readonly app: FastifyInstance;
  #stopping: Promise<void> | undefined;
  /** The HTTPS certificate in use (undefined with TLS=off). */
  tls: TlsMaterial | undefined;
  #redirect: HttpRedirectServer | undefined;
  /** Live sessions: media rooms, signaling hub, session directory, token signer. */
  live!: LiveSessions;
  /** The control API's domain services (sessions, invitations, …; `control.directory` is the PostgreSQL SessionDirectory). */
  control!: ControlServices;
  /** Recorders, archive jobs, verification, retention (src/recording). */
  recordings!: RecordingService;
  /** The embedded TURN (coturn child process), when it runs (no TURN_URLS, coturn installed). */
  turn: TurnServer | undefined;
  /** Every HTTP route with its access rule, as the access hook collected it (the role-matrix test). */
  routeTable: RouteEntry[] = [];

  private constructor(config: Config, logger: Logger, database: DatabaseHandle, pool: WorkerPool, app: FastifyInstance) {
    this.config = config;
    this.logger = logger;
    this.database = database;
    this.pool = pool;
    this.app = app;
  }

  static async start(config: Config, logger: Logger, overrides: TiepdanServerOverrides = {}): Promise<TiepdanServer> {
    const started = Date.now();
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    // Resolve the worker first: a missing binary is the likeliest install problem, report it before anything starts.
    const workerBinary = resolveWorkerBinary(config.mediasoup.workerBin);
    logger.info({ workerBin: workerBinary.path, source: workerBinary.source }, 'mediasoup worker binary');

    const database = await openDatabase({
      url: config.database.url,
      ownerUrl: config.database.ownerUrl,
      allowSuperuser: config.database.allowSuperuser,
      dataDir: config.dataDir,
      embeddedPort: config.database.embeddedPort,
      logger,
    });
    let pool: WorkerPool | undefined;
    let turn: TurnServer | undefined;
    try {
      const tls = await loadTls(config, logger);
      await migrateToLatest(database, logger);
      pool = await WorkerPool.start(
        {
          numWorkers: config.mediasoup.numWorkers,
          workerBin: workerBinary.path,
          logLevel: config.mediasoup.logLevel,
          listenIp: config.mediasoup.listenIp,
          announcedAddresses: config.mediasoup.announcedAddresses,
          webRtcPortBase: config.mediasoup.webRtcPortBase,
          rtcMinPort: config.mediasoup.rtcMinPort,
          rtcMaxPort: config.mediasoup.rtcMaxPort,
          respawnDelayMs: config.mediasoup.respawnDelayMs,
        },
        logger,
      );
      // One signing key for invitations (control API) and admission (signaling).
      const tokens = await TokenSigner.fromDataDir(config.dataDir);
      // Ejections, ended sessions, recorder leases, jobs and login attempts survive a restart (issue 12 item 3).
      const store = overrides.liveStore ?? new PgLiveStore(database.db);
      // Every process's writes to what a session list shows, heard at commit: the list cache's invalidation.
      const changes = await database.listen(SESSION_LIST_CHANNEL);
      const control = new ControlServices({ db: database.db, signer: tokens, logger, dataDir: config.dataDir, liveStore: store, changes });
      // The audit chain's key and anchor (DATA_DIR): a lost key stops start-up here (AUDIT_KEY_MISSING).
      await control.audit.start();
      // Live sessions are the control API's sessions (PostgreSQL) unless a caller supplies a directory.
      // Without TURN_URLS, the embedded coturn (if installed) is the TURN server participants are given.
      turn = await startEmbeddedTurn({ config, tls, logger });
      // Its URLs name the address each browser reached, unless addresses are announced by hand (NAT).
      const embedded = turn;
      const turnSettings = embedded === undefined ? undefined : { ...embedded.settings, ...(config.mediasoup.announcedAddresses.length === 0 ? { urlsFor: (host: string) => embedded.urlsFor(host) } : {}) };
      const liveConfig = turnSettings === undefined ? config : { ...config, live: { ...config.live, turn: turnSettings } };
      const live = await createLiveSessions({ config: liveConfig, logger, pool, directory: overrides.sessionDirectory ?? control.directory, tokens, store });
      const recordings = new RecordingService({
        recorder: {
          recordingsDir: path.join(config.dataDir, 'recordings'),
          segmentSeconds: config.recording.segmentSeconds,
          disk: { warnBytes: config.recording.diskWarnBytes, floorBytes: config.recording.diskFloorBytes },
          diskCheckMs: 3000,
          portMin: config.recording.portMin,
          portMax: config.recording.portMax,
        },
        logger,
        db: database.db,
        audit: control.audit,
        retentionDays: config.recording.retentionDays || null,
        exports: { roots: config.recording.exportDestinations, dataDir: config.dataDir },
        clock: overrides.recordingClock ?? control.clock,
        store,
      });
      // Recordings a crash left open are closed (as interrupted) before anything new records.
      await recordings.recoverInterrupted();
      // When sessions record (automatically, by the host; disk warnings), with the real recorder.
      live.recording.wire(live.rooms, recordings, control.sessions);
      // Who admitted, muted, ejected or ended, with their own login (security review H3).
      live.signaling.audit = auditLiveActions(control.audit, database.db);
      // The console's end/cancel disconnects the room.
      closeRoomsOnControlEnd(control.sessions, live, logger);
      // The host's end over WebSocket is stored (and audited) as the session's end (L10).
      live.signaling.ender = persistLiveEnd(control.sessions);
      disconnectRevokedInvitations(control.invitations, live, logger);
      const routeTable: RouteEntry[] = [];
      const app = await buildApp({ routeTable, logger, database, pool, ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}), ...(tls?.caCertPem ? { tlsCaPem: tls.caCertPem } : {}), tokenSigner: live.tokens, live, control: { services: control, dataDir: config.dataDir, publicOrigin: config.publicOrigin }, recordings, metrics: { token: config.metrics.token, dataDir: config.dataDir } });
      await app.listen({ host: config.http.host, port: config.http.port });
      const server = new TiepdanServer(config, logger, database, pool, app);
      server.tls = tls;
      server.live = live;
      server.control = control;
      server.recordings = recordings;
      server.turn = turn;
      server.routeTable = routeTable;
      if (tls && config.tls.redirectPort !== undefined) {
        server.#redirect = await HttpRedirectServer.listen({ host: config.http.host, port: config.tls.redirectPort, httpsPort: server.port }).catch(async (err: unknown) => {
          await app.close();
          throw err;
        });
        logger.info({ port: server.#redirect.port }, 'plain HTTP redirects to HTTPS');
      }
      logger.info({ url: server.url, ms: Date.now() - started }, 'tiepdan ready');
      return server;
    } catch (err) {
      await turn?.close();
      pool?.close();
      await database.close();
      throw err;
    }
  }

  /** Base URL of the HTTP server (with the real port when PORT=0 was asked for). */
  get url(): string {
    const host = this.config.http.host === '0.0.0.0' ? '127.0.0.1' : this.config.http.host;
    const scheme = this.config.tls.mode === 'off' ? 'http' : 'https';
    return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** The listening HTTP(S) port (the real one when PORT=0 was asked for). */
  get port(): number {
    const address = this.app.server.address();
    return typeof address === 'object' && address !== null ? address.port : this.config.http.port;
  }

  /** The plain-HTTP port that redirects to HTTPS, when HTTP_REDIRECT_PORT is set. */
  get redirectPort(): number | undefined {
    return this.#redirect?.port;
  }

  /** Graceful stop: no new requests, close the media workers, then the database. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.logger.info('shutting down');
      await this.#redirect?.close();
      await this.app.close();
      await this.turn?.close();
      await this.recordings.close();
      this.live.rooms.close();
      this.pool.close();
      // The audit anchor's last update needs the database.
      await this.control.audit.close();
      await this.control.liveStore.close();
      await this.database.close();
      this.logger.info('stopped');
    })();
    return this.#stopping;
  }
}
