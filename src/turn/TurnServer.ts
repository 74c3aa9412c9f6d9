// Why one file: it supervises one coturn process (config file, start, readiness probe on both
// ports, logs, restart with back-off, stop); each part needs the process handle and its state.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, isIP } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { TiepdanError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { TurnSettings } from './turnCredentials.ts';
import { StunClass, StunMethod, decodeStun, encodeStun, newTransactionId, stunMessageLength } from './stun.ts';
import { renderTurnConfig, usablePeerAddresses } from './turnConfig.ts';

/** The unprivileged account coturn switches to after binding its ports (Debian's `turnserver`). */
export interface ProcUser {
  user: string;
  group: string;
  uid: number;
  gid: number;
}

export interface TurnServerOptions {
  /** The coturn binary (Debian: /usr/bin/turnserver). */
  bin: string;
  /** Directory of the generated files (DATA_DIR/turn). */
  dir: string;
  /** coturn's static-auth-secret, also what turnCredentials.ts signs with. */
  secret: string;
  ttlSeconds: number;
  /** UDP and TCP listener port. */
  port: number;
  /** TURN over TLS port; no TLS listener when this or `tls` is undefined. */
  tlsPort: number | undefined;
  /** The HTTPS certificate (chain) and key, copied for coturn. */
  tls: { cert: Buffer; key: Buffer } | undefined;
  /** Listener address; undefined: every address of the machine. */
  listenIp: string | undefined;
  /** Relay socket address; undefined: the address the client reached. */
  relayIp: string | undefined;
  relayMinPort: number;
  relayMaxPort: number;
  /** The SFU's announced media addresses: the only peers the relay may send to. */
  peerAddresses: readonly string[];
  /** Host name or address put in the TURN URLs handed to browsers (see urlsFor for per-connection hosts). */
  publicHost: string;
  /** Set when tiepdan runs as root: coturn drops to this user once its ports are bound. */
  procUser?: ProcUser | undefined;
  /** How long a start may take to answer a STUN Binding on the TCP port (default 5 s). */
  readyTimeoutMs?: number;
  /** Restart back-off: first delay, doubling up to maxMs, back to initialMs after healthyMs of good running. */
  backoff?: { initialMs: number; maxMs: number; healthyMs: number };
  /** SIGTERM, then SIGKILL after this long (default 3 s). */
  stopTimeoutMs?: number;
}

export interface TurnServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines coturn printed (stdout and stderr), for the error log. */
  lastLines: string[];
}

export type TurnServerEvents = {
  /** turnserver answers STUN on its TCP port (first start and every restart). */
  ready: [pid: number];
  /** turnserver exited without close() (crash, kill, or no readiness in time); a restart follows. */
  died: [exit: TurnServerExit];
};

const REALM = 'tiepdan';
const USER_QUOTA = 24;
const LAST_LINES = 20;
const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 30_000, healthyMs: 60_000 };

/**
 * coturn lines that are normal on every start or per client request: debug, not warnings.
 * Per-request events (`session …` lines, a refused peer, an unknown or wrong credential) are
 * what any client can cause at will: they must not flood the log at warning level.
 */
const ROUTINE = [/\bsession\b/i, /A peer IP .* denied/, /check_stun_auth/, /NO EXPLICIT (LISTENER|RELAY) ADDRESS/, /^socket: Protocol not supported/, /CONFIG: --no-/];

function lineLevel(line: string): 'warn' | 'debug' {
  if (ROUTINE.some((re) => re.test(line))) return 'debug';
  return /ERROR|WARNING|ALERT|[Cc]annot|errno/.test(line) ? 'warn' : 'debug';
}

async function writePrivate(file: string, data: string | Buffer): Promise<void> {
  await writeFile(file, data, { mode: 0o600 });
  await chmod(file, 0o600); // writeFile's mode applies only to a new file
}

/**
 * Answers whether a STUN server (not just anything) listens on host:port over TCP: a Binding
 * request must come back as a Binding success with our transaction id. A port taken by another
 * program accepts the connection but never answers like this.
 */
export function probeStun(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const transactionId = newTransactionId();
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => {
      socket.write(encodeStun({ method: StunMethod.binding, cls: StunClass.request, transactionId, attributes: [] }, { fingerprint: true }));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const length = stunMessageLength(received);
      if (length === undefined) {
        if (received.length >= 20) done(false);
        return;
      }
      if (received.length < length) return;
      const answer = decodeStun(received);
      done(answer !== undefined && answer.method === StunMethod.binding && answer.cls === StunClass.success && answer.transactionId.equals(transactionId));
    });
  });
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The embedded TURN server: Debian's coturn `turnserver` as a supervised child process with a
 * configuration generated under DATA_DIR/turn. A crash is logged and followed by a restart with
 * back-off (a port in use included: tiepdan keeps running, without TURN until it works); close()
 * stops it and waits for the process to be gone.
 */
export class TurnServer extends EventEmitter<TurnServerEvents> {
  readonly port: number;
  /** The TURN-over-TLS port, undefined when there is no TLS listener. */
  readonly tlsPort: number | undefined;
  readonly publicHost: string;
  readonly peerAddresses: readonly string[];
  readonly confFile: string;
  readonly #options: TurnServerOptions;
  readonly #logger: Logger;
  readonly #backoff: { initialMs: number; maxMs: number; healthyMs: number };
  readonly #probeHost: string;
  readonly #pidFile: string;
  #child: ChildProcess | undefined;
  #childExited: Promise<void> = Promise.resolve();
  #notReadyKill: ChildProcess | undefined;
  #ready = false;
  #readyAt = 0;
  #delayMs: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #restarts = 0;
  #lastLines: string[] = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  // A tiepdan that exits without close() (an uncaught error) must not leave coturn holding the ports.
  readonly #onProcessExit = (): void => {
    this.#child?.kill('SIGTERM');
  };

  private constructor(options: TurnServerOptions, peerAddresses: string[], logger: Logger) {
    super();
    this.#options = options;
    this.#logger = logger;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#delayMs = this.#backoff.initialMs;
    this.port = options.port;
    this.tlsPort = options.tlsPort !== undefined && options.tls !== undefined ? options.tlsPort : undefined;
    this.publicHost = options.publicHost;
    this.peerAddresses = peerAddresses;
    this.confFile = path.join(options.dir, 'turnserver.conf');
    this.#pidFile = path.join(options.dir, 'turnserver.pid');
    const listen = options.listenIp;
    this.#probeHost = listen === undefined || listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen;
  }

  /**
   * Writes the configuration, starts turnserver and waits (bounded by readyTimeoutMs) until it
   * answers. Resolves even when it does not: the supervisor keeps retrying, `ready` tells.
   */
  static async start(options: TurnServerOptions, logger: Logger): Promise<TurnServer> {
    const log = logger.child({ component: 'turn' });
    const { usable, dropped } = usablePeerAddresses(options.peerAddresses);
    if (dropped.length > 0) log.warn({ dropped }, 'TURN peers must be non-loopback IP addresses; these are left out');
    if (usable.length === 0) log.warn('the embedded TURN has no peer address to relay to: relayed media will not flow');
    const server = new TurnServer(options, usable, log);
    await server.#prepareFiles();
    await server.#stopOrphan();
    process.on('exit', server.#onProcessExit);
    await server.#launch();
    return server;
  }

  /** True while turnserver is running and has answered the readiness probe. */
  get ready(): boolean {
    return this.#ready;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Restarts after a crash or a failed start, since start(). */
  get restarts(): number {
    return this.#restarts;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** TURN URLs for a browser that reached this machine at `host` (the WebSocket's local address, say). */
  urlsFor(host: string): string[] {
    const h = isIP(host) === 6 ? `[${host}]` : host;
    const urls = [`turn:${h}:${this.port}?transport=udp`, `turn:${h}:${this.port}?transport=tcp`];
    if (this.tlsPort !== undefined) urls.push(`turns:${h}:${this.tlsPort}?transport=tcp`);
    return urls;
  }

  /** What createLiveSessions hands out (short-lived credentials are derived from the secret per peer). */
  get settings(): TurnSettings {
    return { urls: this.urlsFor(this.publicHost), secret: this.#options.secret, ttlSeconds: this.#options.ttlSeconds };
  }

  /** Stops turnserver (SIGTERM, SIGKILL after stopTimeoutMs) and resolves once it has exited. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      clearTimeout(this.#restartTimer);
      this.#restartTimer = undefined;
      const child = this.#child;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        const killer = setTimeout(() => child.kill('SIGKILL'), this.#options.stopTimeoutMs ?? 3000);
        child.kill('SIGTERM');
        await this.#childExited;
        clearTimeout(killer);
      }
      process.off('exit', this.#onProcessExit);
      await rm(this.#pidFile, { force: true });
      this.#logger.info('embedded TURN stopped');
    })();
    return this.#closing;
  }

  /**
   * DATA_DIR/turn (0700) holds the configuration (with the secret), the certificate and the key,
   * all 0600 and owned by tiepdan's user. coturn reads them before it drops to the unprivileged user
   * (mainrelay.c: openssl_setup() runs before drop_privileges()), so that user never needs, and
   * cannot read, the key or the secret. Nothing else is opened later: coturn's SQLite user database
   * (which it always uses, and whose secrets it would accept besides ours) is `:memory:`, empty and
   * private to the process; a database file it could not open would fail the first authentication of
   * each thread. (coturn re-reads the certificate only on SIGUSR2, which tiepdan never sends: a
   * renewed certificate arrives with tiepdan's next start.)
   */
  async #prepareFiles(): Promise<void> {
    const o = this.#options;
    const user = o.procUser;
    try {
      await mkdir(o.dir, { recursive: true, mode: 0o700 });
      await chmod(o.dir, 0o700);
      let certFile: string | undefined;
      let keyFile: string | undefined;
      if (this.tlsPort !== undefined && o.tls !== undefined) {
        certFile = path.join(o.dir, 'cert.pem');
        keyFile = path.join(o.dir, 'key.pem');
        await writePrivate(certFile, o.tls.cert);
        await writePrivate(keyFile, o.tls.key);
      }
      const conf = renderTurnConfig({
        port: o.port,
        tlsPort: this.tlsPort,
        certFile,
        keyFile,
        listenIp: o.listenIp === '0.0.0.0' || o.listenIp === '::' ? undefined : o.listenIp,
        relayIp: o.relayIp === '0.0.0.0' || o.relayIp === '::' ? undefined : o.relayIp,
        relayMinPort: o.relayMinPort,
        relayMaxPort: o.relayMaxPort,
        peerAddresses: this.peerAddresses,
        secret: o.secret,
        realm: REALM,
        userQuota: USER_QUOTA,
        userDbFile: ':memory:',
        pidFile: this.#pidFile,
        procUser: user === undefined ? undefined : { user: user.user, group: user.group },
      });
      await writePrivate(this.confFile, conf);
    } catch (err) {
      throw new TiepdanError('TURN_SETUP_FAILED', `cannot write the embedded TURN's files under ${o.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * A tiepdan killed with SIGKILL leaves its turnserver running: coturn binds with SO_REUSEPORT, so
   * a second one would share the ports with the orphan instead of failing. Stop the orphan (only a
   * turnserver started with this very configuration file).
   */
  async #stopOrphan(): Promise<void> {
    let pid: number;
    try {
      pid = Number.parseInt(await readFile(this.#pidFile, 'utf8'), 10);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 0) return;
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return; // not running
    }
    if (!cmdline.includes('turnserver') || !cmdline.includes(this.confFile)) return;
    this.#logger.warn({ pid }, 'stopping an orphaned turnserver left by an earlier crash');
    try {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + (this.#options.stopTimeoutMs ?? 3000);
      while (Date.now() < deadline) {
        await delay(100);
        process.kill(pid, 0);
      }
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }

  #remember(line: string): void {
    this.#lastLines.push(line);
    if (this.#lastLines.length > LAST_LINES) this.#lastLines.shift();
  }

  #pipeLines(stream: NodeJS.ReadableStream | null): void {
    if (stream === null) return;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (raw: string) => {
      // coturn prefixes every line with "<seconds since start>: <session or empty>: ".
      const line = raw.replace(/^\d+: [^:]*: ?/, '').trim();
      if (line === '') return;
      this.#remember(line);
      this.#logger[lineLevel(line)]({ turnserver: line }, 'turnserver');
    });
  }

  /** Spawns turnserver and waits for readiness; on failure the exit handler schedules the restart. */
  async #launch(): Promise<void> {
    if (this.#closed) return;
    this.#lastLines = [];
    this.#ready = false;
    const child = spawn(this.#options.bin, ['-c', this.confFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // coturn needs nothing from tiepdan's environment, which may hold DATABASE_URL or TURN_SECRET.
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
    });
    this.#child = child;
    this.#pipeLines(child.stdout);
    this.#pipeLines(child.stderr);
    let running = true;
    this.#childExited = new Promise<void>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (!running) return;
        running = false;
        this.#onExit(child, code, signal);
        resolve();
      };
      // 'close' rather than 'exit': by then coturn's last lines have been read, for the error log.
      child.once('close', finish);
      child.once('error', (err) => {
        this.#remember(`cannot run ${this.#options.bin}: ${err.message}`);
        finish(null, null);
      });
    });

    const readyTimeoutMs = this.#options.readyTimeoutMs ?? 5000;
    const deadline = Date.now() + readyTimeoutMs;
    let answered = false;
    while (running && !this.#closed && Date.now() < deadline) {
      answered = await probeStun(this.#probeHost, this.port, Math.max(50, Math.min(1000, deadline - Date.now())));
      if (answered) break;
      await delay(100);
    }
    if (!running || this.#closed) return;
    if (answered) {
      this.#ready = true;
      this.#readyAt = Date.now();
      this.#logger.info({ pid: child.pid, port: this.port, tlsPort: this.tlsPort, relayPorts: `${this.#options.relayMinPort}-${this.#options.relayMaxPort}`, peers: this.peerAddresses }, 'embedded TURN ready');
      if (child.pid !== undefined) this.emit('ready', child.pid);
      return;
    }
    // Started but never answered: typically the port is held by another program, and coturn would
    // keep retrying the bind forever on its own. Treat it as a failed start: kill, back off, retry.
    this.#logger.warn({ port: this.port, ms: readyTimeoutMs, lastLines: this.#lastLines }, 'turnserver does not answer STUN on its port (in use by another program?)');
    this.#notReadyKill = child;
    child.kill('SIGKILL');
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return;
    const wasReady = this.#ready;
    this.#child = undefined;
    this.#ready = false;
    if (this.#closed) return;
    // A run that stayed healthy long enough starts the back-off again from the beginning.
    if (wasReady && Date.now() - this.#readyAt >= this.#backoff.healthyMs) this.#delayMs = this.#backoff.initialMs;
    const exit: TurnServerExit = { code, signal, lastLines: [...this.#lastLines] };
    const inMs = this.#delayMs;
    if (this.#notReadyKill === child) this.#logger.warn({ inMs }, 'turnserver did not become ready; restarting');
    else this.#logger.error({ code, signal, lastLines: exit.lastLines, inMs }, 'turnserver exited; restarting');
    this.#notReadyKill = undefined;
    this.emit('died', exit);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restarts++;
      void this.#launch();
    }, inMs);
    this.#delayMs = Math.min(this.#delayMs * 2, this.#backoff.maxMs);
  }
}
