import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/**
 * Configuration comes from environment variables, optionally layered over a JSON file named by
 * TIEPDAN_CONFIG (environment wins). Every variable is validated; a bad value stops start-up with
 * one message listing every bad variable, so a technician fixes them all in one go.
 */

const port = (fallback: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be 1–65535').max(65535, 'must be 1–65535').default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  error: 'must be one of fatal, error, warn, info, debug, trace, silent',
});

const hostOrIp = z
  .string()
  .min(1)
  .refine((v) => isIP(v) !== 0 || /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/.test(v), 'must be an IP address or a host name');

const envSchema = z
  .object({
    NODE_ENV: z.enum(['production', 'development', 'test'], { error: 'must be production, development or test' }).default('production'),
    HOST: z.string().refine((v) => isIP(v) !== 0, 'must be an IP address to listen on').default('0.0.0.0'),
    // 0 asks the OS for a free port (tests); the real port is logged at start-up.
    PORT: z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be 0–65535').max(65535, 'must be 0–65535').default(3000),
    DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    // External PostgreSQL, two roles (security review H4; README, Database): DATABASE_URL is the
    // application's role (not a superuser; only SELECT+INSERT on audit_log), DATABASE_OWNER_URL
    // the role that owns the tables and runs migrations. A superuser DATABASE_URL is refused unless
    // DATABASE_ALLOW_SUPERUSER=true (then logged as an error at every start).
    DATABASE_OWNER_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    DATABASE_ALLOW_SUPERUSER: bool(false),
    EMBEDDED_PG_PORT: z.coerce.number({ error: 'must be a number' }).int().min(0).max(65535, 'must be 0–65535 (0 picks a free port)').default(5433),
    LOG_LEVEL: logLevel.default('info'),
    MEDIASOUP_WORKER_BIN: z.string().min(1).optional(),
    MEDIASOUP_NUM_WORKERS: z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(64, 'must be at most 64').default(availableParallelism()),
    MEDIASOUP_LOG_LEVEL: z.enum(['debug', 'warn', 'error', 'none'], { error: 'must be debug, warn, error or none' }).default('warn'),
    RTC_LISTEN_IP: z.string().refine((v) => isIP(v) !== 0, 'must be an IP address').default('0.0.0.0'),
    // One or several (comma-separated) addresses or names browsers send media to; unset: the
    // address each browser reached plus the machine's own (src/sfu/announcedAddresses.ts).
    RTC_ANNOUNCED_ADDRESS: z
      .string()
      .transform((v) => v.split(',').map((a) => a.trim()).filter((a) => a.length > 0))
      .pipe(
        z
          .array(hostOrIp.refine((v) => v !== '0.0.0.0' && v !== '::', 'must not be 0.0.0.0 or :: (a browser cannot send there); leave it unset instead'))
          .max(8, 'at most 8 addresses'),
      )
      .optional(),
    RTC_PORT_BASE: port(40000),
    RTC_MIN_PORT: port(41000),
    RTC_MAX_PORT: port(49999),
    WORKER_RESPAWN_DELAY_MS: z.coerce.number({ error: 'must be a number' }).int().min(0).max(60000, 'must be at most 60000').default(1000),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number({ error: 'must be a number' }).int().min(100).max(600000).default(10000),
    LOG_PRETTY: bool(false),
    // Live sessions (signaling): how long a dropped peer keeps its place; dev-only session route;
    // optional TURN server (coturn with use-auth-secret) for networks that block direct media.
    LIVE_RECONNECT_GRACE_MS: z.coerce.number({ error: 'must be a number' }).int().min(100, 'must be at least 100').max(600000, 'must be at most 600000').default(30000),
    DEV_SESSIONS: bool(false),
    // Signaling socket caps (security review L7). Per address generous: a province's 136 bridge
    // points may reach the server through a handful of NAT addresses.
    LIVE_WS_MAX_PER_IP: z.coerce.number({ error: 'must be a number' }).int().min(1).max(100000).default(300),
    LIVE_WS_MAX_TOTAL: z.coerce.number({ error: 'must be a number' }).int().min(1).max(1000000).default(2000),
    LIVE_WS_JOIN_TIMEOUT_MS: z.coerce.number({ error: 'must be a number' }).int().min(1000, 'must be at least 1000').max(120000, 'must be at most 120000').default(10000),
    // A province session (136 communes + centre, 818 producers+consumers) used 43-46 % of one
    // worker's core on one router, and 54 + 26 % spread over two: piping every producer to the
    // second router doubled the workers' cost per packet (12 -> 23 µs, npm run bench load). So a
    // room spreads only when one worker would near its core (~1,500 at that cost per entry).
    LIVE_SPREAD_LOAD: z.coerce.number({ error: 'must be a number' }).int().min(1).max(100000).default(1500),
    TURN_URLS: z
      .string()
      .refine((v) => v.split(',').every((u) => /^turns?:[^\s,]+$/.test(u.trim())), 'must be comma-separated turn: or turns: URIs')
      .optional(),
    TURN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    TURN_TTL_SECONDS: z.coerce.number({ error: 'must be a number' }).int().min(60).max(86400).default(3600),
    // Embedded TURN (src/turn): without TURN_URLS, tiepdan runs Debian's coturn itself when it is
    // installed. Unset TURN_EMBEDDED means auto, except under NODE_ENV=test (off: test servers must
    // not all take port 3478, and the tests' random media ports may fall in the relay range).
    TURN_EMBEDDED: z.enum(['auto', 'off'], { error: 'must be auto or off' }).optional(),
    TURN_SERVER_BIN: z.string().min(1).default('/usr/bin/turnserver'),
    TURN_PORT: port(3478),
    TURN_TLS_PORT: port(5349),
    TURN_RELAY_MIN_PORT: port(50000),
    TURN_RELAY_MAX_PORT: port(50999),
    // HTTPS (browsers give camera and microphone only to secure pages). auto: TLS_CERT_FILE/TLS_KEY_FILE
    // if set, otherwise a certificate generated on first start under DATA_DIR/tls; files: those two
    // files only; off: plain HTTP (tests, or behind a TLS-terminating proxy).
    TLS: z.enum(['auto', 'files', 'off'], { error: 'must be auto, files or off' }).default('auto'),
    TLS_CERT_FILE: z.string().min(1).optional(),
    TLS_KEY_FILE: z.string().min(1).optional(),
    // Comma-separated host names and IP addresses the generated certificate covers (default: this
    // machine's host name, its IPv4 addresses, localhost, 127.0.0.1).
    TLS_HOSTNAMES: z
      .string()
      .refine((v) => v.split(',').every((h) => h.trim() === '' || isIP(h.trim()) !== 0 || /^[a-zA-Z0-9*]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/.test(h.trim())), 'must be a comma-separated list of host names and IP addresses')
      .optional(),
    // The address printed on invitations (security review L8: never the request's Host header), e.g.
    // https://tiepdan.gialai.gov.vn:3000. Unset: the first RTC_ANNOUNCED_ADDRESS or TLS_HOSTNAMES
    // entry (else this machine's host name), with the scheme and PORT the server uses.
    PUBLIC_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://tiepdan.example.vn:3000' })
      .refine((v) => { const u = new URL(v); return (u.pathname === '/' || u.pathname === '') && u.search === '' && u.hash === '' && u.username === ''; }, 'must be an origin only (no path, query or credentials)')
      .optional(),
    // A plain-HTTP port that only redirects to HTTPS (unset: none).
    HTTP_REDIRECT_PORT: z.coerce.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be 0–65535').max(65535, 'must be 0–65535').optional(),
    // Recording (src/recording): segment length, free-space thresholds under DATA_DIR/recordings,
    // the UDP ports FFmpeg receives RTP on (outside RTC_MIN_PORT–RTC_MAX_PORT), default retention.
    RECORDING_SEGMENT_SECONDS: z.coerce.number({ error: 'must be a number' }).int().min(1, 'must be 1–60').max(60, 'must be 1–60').default(4),
    RECORDING_DISK_WARN_MB: z.coerce.number({ error: 'must be a number' }).int().min(1).default(4096),
    RECORDING_DISK_FLOOR_MB: z.coerce.number({ error: 'must be a number' }).int().min(1).default(1024),
    RECORDING_PORT_MIN: port(38000),
    RECORDING_PORT_MAX: port(38999),
    RECORDING_RETENTION_DAYS: z.coerce.number({ error: 'must be a number' }).int().min(0).max(36500).default(0),
    // GET /metrics (src/ops/metrics): without a token only loopback may scrape; with one, every
    // scrape (loopback too) presents `Authorization: Bearer <token>`. Long enough that guessing is hopeless.
    METRICS_TOKEN: z
      .string()
      .min(24, 'must be at least 24 characters (e.g. openssl rand -hex 24)')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
    // Exports (security review H1): drives mounted at or below these directories (FHS: /media for
    // removable media, /mnt for what a technician mounts by hand); `none` turns exports off.
    EXPORT_DESTINATIONS: z
      .string()
      .default('/media,/mnt')
      .transform((v) => (v.trim() === 'none' ? [] : v.split(',').map((p) => p.trim()).filter((p) => p.length > 0)))
      .pipe(
        z
          .array(
            z
              .string()
              .startsWith('/', 'must be absolute paths')
              .refine((p) => !p.split('/').includes('..'), 'must not contain ".."')
              .refine((p) => path.resolve(p) !== '/', 'must not be / (exports go to removable drives)'),
          )
          .max(16, 'at most 16 directories'),
      ),
  })
  .superRefine((v, ctx) => {
    if ((v.TURN_URLS === undefined) !== (v.TURN_SECRET === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.TURN_URLS === undefined ? 'TURN_URLS' : 'TURN_SECRET'], message: 'TURN_URLS and TURN_SECRET go together' });
    }
    if (v.TLS === 'files' && (v.TLS_CERT_FILE === undefined || v.TLS_KEY_FILE === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['TLS'], message: 'files needs both TLS_CERT_FILE and TLS_KEY_FILE' });
    }
    if ((v.TLS_CERT_FILE === undefined) !== (v.TLS_KEY_FILE === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'], message: 'must be set together with its pair (TLS_CERT_FILE and TLS_KEY_FILE)' });
    }
    if (v.RECORDING_DISK_FLOOR_MB >= v.RECORDING_DISK_WARN_MB) {
      ctx.addIssue({ code: 'custom', path: ['RECORDING_DISK_FLOOR_MB'], message: `must be below RECORDING_DISK_WARN_MB (${v.RECORDING_DISK_WARN_MB})` });
    }
    if (v.RECORDING_PORT_MIN >= v.RECORDING_PORT_MAX || (v.RECORDING_PORT_MIN <= v.RTC_MAX_PORT && v.RECORDING_PORT_MAX >= v.RTC_MIN_PORT)) {
      ctx.addIssue({ code: 'custom', path: ['RECORDING_PORT_MIN'], message: 'RECORDING_PORT_MIN–RECORDING_PORT_MAX must be a range outside RTC_MIN_PORT–RTC_MAX_PORT' });
    }
    if (v.DATABASE_OWNER_URL !== undefined && v.DATABASE_URL === undefined) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_OWNER_URL'], message: 'needs DATABASE_URL (the embedded PostgreSQL makes its own two roles)' });
    }
    if (v.RTC_MIN_PORT > v.RTC_MAX_PORT) {
      ctx.addIssue({ code: 'custom', path: ['RTC_MIN_PORT'], message: `must not exceed RTC_MAX_PORT (${v.RTC_MAX_PORT})` });
    }
    const webRtcTop = v.RTC_PORT_BASE + v.MEDIASOUP_NUM_WORKERS - 1;
    if (webRtcTop > 65535) {
      ctx.addIssue({ code: 'custom', path: ['RTC_PORT_BASE'], message: `leaves no room for ${v.MEDIASOUP_NUM_WORKERS} workers below port 65535` });
    }
    if (v.RTC_PORT_BASE <= v.RTC_MAX_PORT && webRtcTop >= v.RTC_MIN_PORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['RTC_PORT_BASE'],
        message: `WebRtcServer ports ${v.RTC_PORT_BASE}–${webRtcTop} overlap the RTC_MIN_PORT–RTC_MAX_PORT range`,
      });
    }
    // Embedded TURN: its relay ports must not collide with any other UDP range of this machine, nor
    // its listeners with the HTTP ports (checked only when it would run).
    if ((v.TURN_EMBEDDED ?? (v.NODE_ENV === 'test' ? 'off' : 'auto')) === 'auto' && v.TURN_URLS === undefined) {
      const relay = [v.TURN_RELAY_MIN_PORT, v.TURN_RELAY_MAX_PORT] as const;
      const overlaps = (lo: number, hi: number) => relay[0] <= hi && relay[1] >= lo;
      if (relay[0] > relay[1]) {
        ctx.addIssue({ code: 'custom', path: ['TURN_RELAY_MIN_PORT'], message: `must not exceed TURN_RELAY_MAX_PORT (${relay[1]})` });
      } else if (overlaps(v.RTC_MIN_PORT, v.RTC_MAX_PORT) || overlaps(v.RTC_PORT_BASE, webRtcTop) || overlaps(v.RECORDING_PORT_MIN, v.RECORDING_PORT_MAX)) {
        ctx.addIssue({
          code: 'custom',
          path: ['TURN_RELAY_MIN_PORT'],
          message: `TURN relay ports ${relay[0]}–${relay[1]} overlap RTC_MIN_PORT–RTC_MAX_PORT, the WebRtcServer ports ${v.RTC_PORT_BASE}–${webRtcTop} or RECORDING_PORT_MIN–RECORDING_PORT_MAX`,
        });
      }
      const taken = [v.PORT, v.HTTP_REDIRECT_PORT];
      for (const name of ['TURN_PORT', 'TURN_TLS_PORT'] as const) {
        const p = v[name];
        if (taken.includes(p) || overlaps(p, p) || (p >= v.RTC_PORT_BASE && p <= webRtcTop)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'must differ from PORT, HTTP_REDIRECT_PORT, the WebRtcServer ports and the TURN relay ports' });
        }
      }
      if (v.TURN_PORT === v.TURN_TLS_PORT) ctx.addIssue({ code: 'custom', path: ['TURN_TLS_PORT'], message: 'must differ from TURN_PORT' });
    }
  });

export interface Config {
  env: 'production' | 'development' | 'test';
  http: { host: string; port: number };
  /** The origin invitations link to (PUBLIC_URL, or derived from the announced address). */
  publicOrigin: string;
  dataDir: string;
  database: { url: string | undefined; ownerUrl: string | undefined; allowSuperuser: boolean; embeddedPort: number };
  log: { level: z.infer<typeof logLevel>; pretty: boolean };
  mediasoup: {
    workerBin: string | undefined;
    numWorkers: number;
    logLevel: 'debug' | 'warn' | 'error' | 'none';
    listenIp: string;
    /** RTC_ANNOUNCED_ADDRESS as a list (empty: unset, addresses are chosen per connection). */
    announcedAddresses: string[];
    webRtcPortBase: number;
    rtcMinPort: number;
    rtcMaxPort: number;
    respawnDelayMs: number;
  };
  shutdownTimeoutMs: number;
  live: {
    reconnectGraceMs: number;
    /** Signaling socket caps and the time a socket has to join (L7). */
    sockets: { maxPerIp: number; maxTotal: number; joinTimeoutMs: number };
    /** Producers+consumers on a session's worker beyond which new peers go to another worker (piped). */
    spreadAboveLoad: number;
    /** POST /api/v1/live/sessions makes in-memory sessions with tokens (development only). */
    devSessions: boolean;
    turn: { urls: string[]; secret: string; ttlSeconds: number } | undefined;
  };
  /** The embedded coturn (src/turn); undefined with TURN_EMBEDDED=off or an external TURN (TURN_URLS). */
  embeddedTurn: { bin: string; port: number; tlsPort: number; relayMinPort: number; relayMaxPort: number; ttlSeconds: number } | undefined;
  recording: {
    segmentSeconds: number;
    diskWarnBytes: number;
    diskFloorBytes: number;
    portMin: number;
    portMax: number;
    /** 0: no default retention date (set per recording). */
    retentionDays: number;
    /** EXPORT_DESTINATIONS: mount points, or directories drives are mounted below (empty: exports off). */
    exportDestinations: string[];
  };
  /** GET /metrics: undefined token means loopback only. */
  metrics: { token: string | undefined };
  tls: {
    mode: 'auto' | 'files' | 'off';
    certFile: string | undefined;
    keyFile: string | undefined;
    /** Names and addresses for a generated certificate; undefined: the machine's own. */
    hostnames: string[] | undefined;
    redirectPort: number | undefined;
  };
}

/** Names of every variable the configuration reads (also the keys allowed in the JSON file). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as readonly string[];

function readConfigFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`TIEPDAN_CONFIG: cannot read ${file} as JSON (${(err as Error).message})`]);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`TIEPDAN_CONFIG: ${file} must hold a JSON object of VARIABLE: value pairs`]);
  }
  const out: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (!CONFIG_VARIABLES.includes(key)) problems.push(`TIEPDAN_CONFIG: unknown setting ${key} in ${file}`);
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else problems.push(`${key}: must be a string, number or boolean in ${file}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/**
 * Builds the configuration from an environment (process.env by default). Throws ConfigError
 * listing every invalid variable.
 */
/** PUBLIC_URL's origin, or one built from the addresses the server announces (L8). */
function publicOriginOf(v: { PUBLIC_URL?: string | undefined; TLS: string; PORT: number; RTC_ANNOUNCED_ADDRESS?: string[] | undefined; TLS_HOSTNAMES?: string | undefined }): string {
  if (v.PUBLIC_URL !== undefined) return new URL(v.PUBLIC_URL).origin;
  const scheme = v.TLS === 'off' ? 'http' : 'https';
  const named = v.TLS_HOSTNAMES?.split(',').map((h) => h.trim()).find((h) => h !== '' && !h.includes('*'));
  const host = v.RTC_ANNOUNCED_ADDRESS?.[0] ?? named ?? hostname();
  const defaultPort = scheme === 'https' ? 443 : 80;
  return new URL(`${scheme}://${isIP(host) === 6 ? `[${host}]` : host}${v.PORT === defaultPort || v.PORT === 0 ? '' : `:${v.PORT}`}`).origin;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const fromFile = env.TIEPDAN_CONFIG ? readConfigFile(path.resolve(cwd, env.TIEPDAN_CONFIG)) : {};
  const raw: Record<string, string | undefined> = { ...fromFile };
  for (const key of CONFIG_VARIABLES) {
    const value = env[key];
    // An empty variable means "unset", as in most shells' `VAR= command`.
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const result = envSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      const got = raw[name];
      return `${name}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
    });
    throw new ConfigError(problems);
  }
  const v = result.data;
  return {
    env: v.NODE_ENV,
    http: { host: v.HOST, port: v.PORT },
    publicOrigin: publicOriginOf(v),
    dataDir: path.resolve(cwd, v.DATA_DIR),
    database: { url: v.DATABASE_URL, ownerUrl: v.DATABASE_OWNER_URL, allowSuperuser: v.DATABASE_ALLOW_SUPERUSER, embeddedPort: v.EMBEDDED_PG_PORT },
    log: { level: v.LOG_LEVEL, pretty: v.LOG_PRETTY || v.NODE_ENV === 'development' },
    mediasoup: {
      workerBin: v.MEDIASOUP_WORKER_BIN,
      numWorkers: v.MEDIASOUP_NUM_WORKERS,
      logLevel: v.MEDIASOUP_LOG_LEVEL,
      listenIp: v.RTC_LISTEN_IP,
      announcedAddresses: v.RTC_ANNOUNCED_ADDRESS ?? [],
      webRtcPortBase: v.RTC_PORT_BASE,
      rtcMinPort: v.RTC_MIN_PORT,
      rtcMaxPort: v.RTC_MAX_PORT,
      respawnDelayMs: v.WORKER_RESPAWN_DELAY_MS,
    },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    live: {
      reconnectGraceMs: v.LIVE_RECONNECT_GRACE_MS,
      sockets: { maxPerIp: v.LIVE_WS_MAX_PER_IP, maxTotal: v.LIVE_WS_MAX_TOTAL, joinTimeoutMs: v.LIVE_WS_JOIN_TIMEOUT_MS },
      spreadAboveLoad: v.LIVE_SPREAD_LOAD,
      devSessions: v.DEV_SESSIONS,
      turn:
        v.TURN_URLS !== undefined && v.TURN_SECRET !== undefined
          ? { urls: v.TURN_URLS.split(',').map((u) => u.trim()), secret: v.TURN_SECRET, ttlSeconds: v.TURN_TTL_SECONDS }
          : undefined,
    },
    embeddedTurn:
      (v.TURN_EMBEDDED ?? (v.NODE_ENV === 'test' ? 'off' : 'auto')) === 'auto' && v.TURN_URLS === undefined
        ? { bin: v.TURN_SERVER_BIN, port: v.TURN_PORT, tlsPort: v.TURN_TLS_PORT, relayMinPort: v.TURN_RELAY_MIN_PORT, relayMaxPort: v.TURN_RELAY_MAX_PORT, ttlSeconds: v.TURN_TTL_SECONDS }
        : undefined,
    recording: {
      segmentSeconds: v.RECORDING_SEGMENT_SECONDS,
      diskWarnBytes: v.RECORDING_DISK_WARN_MB * 1024 * 1024,
      diskFloorBytes: v.RECORDING_DISK_FLOOR_MB * 1024 * 1024,
      portMin: v.RECORDING_PORT_MIN,
      portMax: v.RECORDING_PORT_MAX,
      retentionDays: v.RECORDING_RETENTION_DAYS,
      exportDestinations: v.EXPORT_DESTINATIONS.map((p) => path.resolve(p)),
    },
    metrics: { token: v.METRICS_TOKEN },
    tls: {
      mode: v.TLS,
      certFile: v.TLS_CERT_FILE === undefined ? undefined : path.resolve(cwd, v.TLS_CERT_FILE),
      keyFile: v.TLS_KEY_FILE === undefined ? undefined : path.resolve(cwd, v.TLS_KEY_FILE),
      hostnames: v.TLS_HOSTNAMES === undefined ? undefined : v.TLS_HOSTNAMES.split(',').map((h) => h.trim()).filter(Boolean),
      redirectPort: v.HTTP_REDIRECT_PORT,
    },
  };
}
