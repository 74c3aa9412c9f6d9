import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/config.ts';
import { InMemorySessionDirectory, type SessionDirectory } from '../domain/sessionDirectory.ts';
import type { Logger } from '../logging/logger.ts';
import { SessionRooms } from '../sfu/SessionRooms.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import { TokenSigner } from '../tokens/tokenSigner.ts';
import { clientPagePlugin } from './clientPagePlugin.ts';
import { devSessionsPlugin } from './devSessionsPlugin.ts';
import { LiveSignaling } from './LiveSignaling.ts';
import { signalingPlugin } from './signalingPlugin.ts';
import type { LiveStore } from '../store/LiveStore.ts';
import { MemoryLiveStore } from '../store/MemoryLiveStore.ts';

/** The live-session side of the server: media rooms, the signaling hub and what admission needs. */
export interface LiveSessions {
  rooms: SessionRooms;
  signaling: LiveSignaling;
  directory: SessionDirectory;
  tokens: TokenSigner;
  devSessions: boolean;
}

export async function createLiveSessions(options: {
  config: Config;
  logger: Logger;
  pool: WorkerPool;
  directory?: SessionDirectory | undefined;
  tokens?: TokenSigner | undefined;
  /** What must outlive the process (the server passes its PgLiveStore; default: memory). */
  store?: LiveStore | undefined;
}): Promise<LiveSessions> {
  const { config, logger, pool } = options;
  const rooms = new SessionRooms(pool, logger, { spreadAboveLoad: config.live.spreadAboveLoad });
  const directory = options.directory ?? new InMemorySessionDirectory();
  const tokens = options.tokens ?? (await TokenSigner.fromDataDir(config.dataDir));
  const sockets = config.live.sockets;
  const signaling = new LiveSignaling({
    rooms,
    directory,
    tokens,
    logger,
    store: options.store ?? new MemoryLiveStore(),
    reconnectGraceMs: config.live.reconnectGraceMs,
    turn: config.live.turn,
    limits: { maxSocketsPerIp: sockets.maxPerIp, maxSockets: sockets.maxTotal, authTimeoutMs: sockets.joinTimeoutMs },
  });
  return { rooms, signaling, directory, tokens, devSessions: config.live.devSessions };
}

/**
 * Registers /ws (signaling), /live/client.js and /live/test.html. The development route
 * (DEV_SESSIONS) is registered by src/api/app.ts with the control API (devSessionsRoute).
 */
export const liveSessionsPlugin: FastifyPluginAsync<{ live: LiveSessions }> = async (app, { live }) => {
  await app.register(signalingPlugin, { signaling: live.signaling });
  await app.register(clientPagePlugin);
};

/** The development session route's plugin and options, when DEV_SESSIONS and the in-memory directory allow it. */
export function devSessionsRoute(live: LiveSessions): { plugin: typeof devSessionsPlugin; options: { store: InMemorySessionDirectory; tokens: LiveSessions['tokens'] } } | undefined {
  if (!live.devSessions || !(live.directory instanceof InMemorySessionDirectory)) return undefined;
  return { plugin: devSessionsPlugin, options: { store: live.directory, tokens: live.tokens } };
}
