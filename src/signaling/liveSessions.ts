import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/config.ts';
import { InMemorySessionDirectory, type SessionDirectory } from '../domain/sessionDirectory.ts';
import type { Logger } from '../logging/logger.ts';
import { Admission } from '../live/admission.ts';
import { RecordingPolicy } from '../live/recordingPolicy.ts';
import { Rooms } from '../live/Rooms.ts';
import type { WorkerPool } from '../sfu/WorkerPool.ts';
import type { LiveStore } from '../store/LiveStore.ts';
import { MemoryLiveStore } from '../store/MemoryLiveStore.ts';
import { TokenSigner } from '../tokens/tokenSigner.ts';
import { clientPagePlugin } from './clientPagePlugin.ts';
import { devSessionsPlugin } from './devSessionsPlugin.ts';
import { SignalingHub } from './Hub.ts';
import { signalingPlugin } from './signalingPlugin.ts';

/** The live-session side of the server: media rooms, the signaling hub and what admission needs. */
export interface LiveSessions {
  rooms: Rooms;
  signaling: SignalingHub;
  /** When sessions record (the composition root wires the recorder to it). */
  recording: RecordingPolicy;
  directory: SessionDirectory;
  tokens: TokenSigner;
  /** Ejections and host-ended sessions, kept across a restart by the server's store. */
  store: LiveStore;
  devSessions: boolean;
}

export async function createLiveSessions(options: {
  config: Config;
  logger: Logger;
  pool: WorkerPool;
  directory?: SessionDirectory | undefined;
  tokens?: TokenSigner | undefined;
  /** Where ejections and host-ended sessions are kept (default: in memory, forgotten on restart). */
  store?: LiveStore | undefined;
}): Promise<LiveSessions> {
  const { config, logger, pool } = options;
  const rooms = new Rooms(pool, logger, { spreadAboveLoad: config.live.spreadAboveLoad });
  const directory = options.directory ?? new InMemorySessionDirectory();
  const tokens = options.tokens ?? (await TokenSigner.fromDataDir(config.dataDir));
  const store = options.store ?? new MemoryLiveStore();
  const recording = new RecordingPolicy({ directory, logger });
  const sockets = config.live.sockets;
  const signaling = new SignalingHub({
    rooms,
    admission: new Admission({ tokens, directory, store }),
    recording,
    logger,
    reconnectGraceMs: config.live.reconnectGraceMs,
    turn: config.live.turn,
    limits: { maxSocketsPerIp: sockets.maxPerIp, maxSockets: sockets.maxTotal, authTimeoutMs: sockets.joinTimeoutMs },
  });
  return { rooms, signaling, recording, directory, tokens, store, devSessions: config.live.devSessions };
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
