import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import { AnnouncedAddresses } from '../sfu/announcedAddresses.ts';
import type { TlsMaterial } from '../tls/tlsMaterial.ts';
import { TurnServer, type ProcUser } from './TurnServer.ts';

/**
 * The embedded TURN, "like the embedded database": with no TURN_URLS and coturn installed,
 * tiepdan runs its own coturn with a secret of its own, so commune networks that block direct
 * media (UDP, or everything but HTTPS) still connect without anyone configuring a TURN server.
 */

const SECRET_FILE = 'turn.secret';

/** DATA_DIR/turn.secret: 32 random bytes (hex), made once, mode 0600. */
export async function readOrCreateTurnSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, SECRET_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return secret;
}

function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

/**
 * Where browsers send media, hence the only peers the relay may reach: the SFU's announced
 * addresses (names resolved), or with none configured every address of the machine the media
 * socket answers on. Read once: coturn's allowed list is fixed until its next start.
 */
export async function defaultPeerAddresses(config: Pick<Config, 'mediasoup'>): Promise<string[]> {
  const announced = new AnnouncedAddresses({ listenIp: config.mediasoup.listenIp, announced: config.mediasoup.announcedAddresses });
  const out: string[] = [];
  for (const a of announced.forConnection()) {
    if (isIP(a) !== 0) out.push(a);
    else out.push(...(await lookup(a, { all: true }).catch(() => [])).map((r) => r.address));
  }
  return out;
}

/** The host put in TURN URLs when no better one (the address a browser reached) is known. */
export function defaultPublicHost(config: Pick<Config, 'mediasoup' | 'http'>): string {
  const configured = config.mediasoup.announcedAddresses[0];
  if (configured !== undefined) return configured;
  if (!isWildcard(config.http.host)) return config.http.host;
  return new AnnouncedAddresses({ listenIp: config.mediasoup.listenIp, announced: [] }).forConnection()[0] ?? '127.0.0.1';
}

/** Debian's coturn package creates the `turnserver` user and group; undefined when absent. */
export async function lookupProcUser(name = 'turnserver'): Promise<ProcUser | undefined> {
  try {
    const passwd = (await readFile('/etc/passwd', 'utf8')).split('\n').map((l) => l.split(':'));
    const entry = passwd.find((f) => f[0] === name);
    if (entry === undefined) return undefined;
    const uid = Number(entry[2]);
    const gid = Number(entry[3]);
    const groups = (await readFile('/etc/group', 'utf8')).split('\n').map((l) => l.split(':'));
    const group = groups.find((f) => Number(f[2]) === gid)?.[0] ?? name;
    return Number.isInteger(uid) && Number.isInteger(gid) ? { user: name, group, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface EmbeddedTurnOptions {
  config: Pick<Config, 'dataDir' | 'http' | 'mediasoup' | 'live' | 'embeddedTurn'>;
  /** The HTTPS material; undefined (TLS=off): no TURN-over-TLS listener. */
  tls: TlsMaterial | undefined;
  logger: Logger;
  /** The SFU's announced media addresses (default: defaultPeerAddresses). */
  peerAddresses?: readonly string[] | undefined;
  /** Host in the TURN URLs (default: defaultPublicHost). */
  publicHost?: string | undefined;
}

/**
 * Starts the embedded TURN when it applies: TURN_EMBEDDED is not `off`, no external TURN
 * (TURN_URLS) is configured, and the coturn binary exists. Otherwise undefined (a missing binary
 * is worth one warning: the server runs, without TURN).
 */
export async function startEmbeddedTurn(options: EmbeddedTurnOptions): Promise<TurnServer | undefined> {
  const { config, logger } = options;
  const settings = config.embeddedTurn;
  if (settings === undefined || config.live.turn !== undefined) return undefined;
  if (!executable(settings.bin)) {
    logger.child({ component: 'turn' }).warn({ bin: settings.bin }, 'no TURN: install coturn (apt-get install coturn) or set TURN_URLS; networks that block direct media cannot connect');
    return undefined;
  }
  const secret = await readOrCreateTurnSecret(config.dataDir);
  // As root, coturn binds its ports and then runs as `turnserver`; as anyone else it stays that user.
  const procUser = process.getuid?.() === 0 ? await lookupProcUser() : undefined;
  return TurnServer.start(
    {
      bin: settings.bin,
      dir: path.join(config.dataDir, 'turn'),
      secret,
      ttlSeconds: settings.ttlSeconds,
      port: settings.port,
      tlsPort: options.tls === undefined ? undefined : settings.tlsPort,
      tls: options.tls === undefined ? undefined : { cert: options.tls.cert, key: options.tls.key },
      listenIp: config.http.host,
      relayIp: config.mediasoup.listenIp,
      relayMinPort: settings.relayMinPort,
      relayMaxPort: settings.relayMaxPort,
      peerAddresses: options.peerAddresses ?? (await defaultPeerAddresses(config)),
      publicHost: options.publicHost ?? defaultPublicHost(config),
      procUser,
    },
    logger,
  );
}
