import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import type { Actor, UserRole } from '../../domain/common/roles.ts';
import type { RecordingService } from '../../recording/recordingService.ts';
import { readManifest } from '../../recording/manifest/manifest.ts';
import { sessionDirFor } from '../../recording/recorder/sessionRecorder.ts';

/** Resolves the caller of a request (bearer token or API key), or throws AUTH_REQUIRED. */
export type Authenticate = (request: FastifyRequest) => Promise<Actor>;

export interface RecordingsPluginOptions {
  recordings: RecordingService;
  authenticate: Authenticate;
  /**
   * Bridge points that took part in a session (Quy chế Điều 7.3: a commune point may keep its own
   * copy). Without it commune operators get no recording routes.
   */
  sessionBridgePoints?: (sessionId: string) => Promise<string[]>;
}

/** Who may do what with recordings. */
export const RECORDING_ROLES = {
  read: ['admin', 'reception_board', 'inspectorate', 'approver', 'technician', 'auditor'],
  /** The viewing copy and its manifest: also a commune operator whose point took part (checked per session). */
  communeCopy: ['admin', 'reception_board', 'inspectorate', 'approver', 'technician', 'auditor', 'commune_operator'],
  operate: ['admin', 'reception_board', 'technician'],
  govern: ['admin', 'reception_board', 'inspectorate'],
  delete: ['admin'],
} as const satisfies Record<string, readonly UserRole[]>;

declare module 'fastify' {
  interface FastifyContextConfig {
    recordingRoles?: readonly UserRole[];
  }
  interface FastifyRequest {
    recordingActor: Actor | undefined;
  }
}

const sessionParams = z.object({ sessionId: z.string().min(1).max(200) });
const exportSessionIds = z
  .array(z.string().min(1).max(200))
  .min(1)
  .max(200)
  .refine((ids) => new Set(ids).size === ids.length, 'each session once');
/**
 * A mount point from GET …/export-destinations. The server resolves symlinks and checks it again
 * (destinations.ts); refusing `..` here keeps path games out of the logs and the audit too.
 */
const exportDestination = z
  .string()
  .min(1)
  .max(4096)
  .startsWith('/', 'must be an absolute path: one of GET /api/v1/recordings/export-destinations')
  .refine((p) => !p.includes('\0') && !p.split('/').includes('..'), 'must not contain ".." segments');
/**
 * Required: everything exported lands on removable media that leaves the server's access control
 * (security review M4). The recipient decrypts with decrypt.mjs, written next to the files.
 */
const exportPassphrase = z.string().min(8, 'the passphrase must have at least 8 characters').max(1000);

/**
 * Recording routes under /api/v1/recordings. Every route names its roles in
 * `config.recordingRoles`; `requireRecordingRole` (the preHandler) authenticates through the
 * control API's AuthService and checks the role. Swap it for the control API's `config.access`
 * when this plugin moves into the control API scope.
 */
export const recordingsPlugin: FastifyPluginAsync<RecordingsPluginOptions> = async (app, { recordings, authenticate, sessionBridgePoints }) => {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('recordingActor', undefined);
  app.addHook('onRoute', (route) => {
    if (!route.config?.recordingRoles) throw new Error(`recording route ${route.url} declares no roles`);
  });
  app.addHook('preHandler', async function requireRecordingRole(request) {
    const roles = request.routeOptions.config.recordingRoles ?? [];
    const actor = await authenticate(request);
    if (actor.role === undefined || !roles.includes(actor.role)) {
      throw new TiepdanError('ROLE_FORBIDDEN', `the ${actor.role ?? actor.kind} role may not do this (allowed: ${roles.join(', ')})`, { status: 403 });
    }
    request.recordingActor = actor;
  });
  /** A commune operator only reaches sessions its own bridge point took part in; each download is audited. */
  const communeGate = async (req: FastifyRequest, sessionId: string, what: string): Promise<void> => {
    const a = actor(req);
    if (a.role !== 'commune_operator') return;
    const points = sessionBridgePoints ? await sessionBridgePoints(sessionId).catch(() => [] as string[]) : [];
    if (a.bridgePointId === null || !points.includes(a.bridgePointId)) {
      throw new TiepdanError('BRIDGE_POINT_FORBIDDEN', 'your bridge point did not take part in this session', { status: 403 });
    }
    await recordings.audit(a, 'recording.commune_copy_downloaded', sessionId, { what, bridgePointId: a.bridgePointId });
  };
  const actor = (r: FastifyRequest): Actor => {
    if (!r.recordingActor) throw new TiepdanError('AUTH_REQUIRED', 'log in first', { status: 401 });
    return r.recordingActor;
  };
  const communeGateNoAudit = async (req: FastifyRequest, sessionId: string): Promise<void> => {
    const a = actor(req);
    const points = sessionBridgePoints ? await sessionBridgePoints(sessionId).catch(() => [] as string[]) : [];
    if (a.bridgePointId === null || !points.includes(a.bridgePointId)) throw new TiepdanError('BRIDGE_POINT_FORBIDDEN', 'your bridge point did not take part in this session', { status: 403 });
  };
  const api = app.withTypeProvider<ZodTypeProvider>();
  const base = '/api/v1/recordings';

  api.get(base, { config: { recordingRoles: RECORDING_ROLES.read } }, async () => ({ items: await recordings.list() }));

  api.get(`${base}/due`, { config: { recordingRoles: RECORDING_ROLES.read }, schema: { querystring: z.object({ asOf: z.iso.date().optional() }) } }, async (req) =>
    recordings.dueForArchivingOrDisposal(req.query.asOf ? new Date(`${req.query.asOf}T23:59:59Z`) : new Date()),
  );

  api.get(`${base}/jobs/:jobId`, { config: { recordingRoles: RECORDING_ROLES.read }, schema: { params: z.object({ jobId: z.uuid() }) } }, async (req) => recordings.getJob(req.params.jobId));

  api.get(`${base}/:sessionId`, { config: { recordingRoles: RECORDING_ROLES.read }, schema: { params: sessionParams } }, async (req) => recordings.get(req.params.sessionId));

  api.get(`${base}/:sessionId/manifest`, { config: { recordingRoles: RECORDING_ROLES.communeCopy }, schema: { params: sessionParams } }, async (req) => {
    await recordings.get(req.params.sessionId);
    await communeGate(req, req.params.sessionId, 'manifest');
    return readManifest(path.join(sessionDirFor(recordings.recordingsDir, req.params.sessionId), 'manifest.json'));
  });

  api.get(
    `${base}/:sessionId/segments/*`,
    { config: { recordingRoles: RECORDING_ROLES.read }, schema: { params: sessionParams.extend({ '*': z.string().min(1).max(500) }) } },
    async (req, reply) => {
      const dir = sessionDirFor(recordings.recordingsDir, req.params.sessionId);
      const manifest = await readManifest(path.join(dir, 'manifest.json')).catch(() => {
        throw new TiepdanError('RECORDING_NOT_FOUND', `no recording for session ${req.params.sessionId}`, { status: 404 });
      });
      // Only files the manifest lists can be fetched: no path tricks reach anything else.
      const listed = manifest.entries.some((e) => e.type === 'segment' && e.file === req.params['*']);
      if (!listed) throw new TiepdanError('SEGMENT_NOT_FOUND', `no segment ${req.params['*']} in this recording`, { status: 404 });
      return sendFile(req, reply, path.join(dir, req.params['*']), 'video/x-matroska');
    },
  );

  api.get(`${base}/:sessionId/playable`, { config: { recordingRoles: RECORDING_ROLES.communeCopy }, schema: { params: sessionParams } }, async (req, reply) => {
    // Range requests of one viewing are audited once: only the request starting at byte 0.
    if (!req.headers.range || /^bytes=0-/.test(req.headers.range)) await communeGate(req, req.params.sessionId, 'playable copy');
    else if (actor(req).role === 'commune_operator') await communeGateNoAudit(req, req.params.sessionId);
    const file = path.join(sessionDirFor(recordings.recordingsDir, req.params.sessionId), 'playable', 'playable.mp4');
    return sendFile(req, reply, file, 'video/mp4');
  });

  api.post(`${base}/:sessionId/playable`, { config: { recordingRoles: RECORDING_ROLES.operate }, schema: { params: sessionParams } }, async (req, reply) => {
    await recordings.get(req.params.sessionId);
    return reply.code(202).send(recordings.startPlayable(req.params.sessionId));
  });

  api.post(`${base}/:sessionId/verify`, { config: { recordingRoles: RECORDING_ROLES.read }, schema: { params: sessionParams } }, async (req) => recordings.verify(req.params.sessionId, actor(req)));

  api.post(`${base}/:sessionId/stop`, { config: { recordingRoles: RECORDING_ROLES.operate }, schema: { params: sessionParams } }, async (req) => {
    await recordings.stopRecording(req.params.sessionId);
    return recordings.get(req.params.sessionId);
  });

  // Exports go only to a drive the server lists (security review H1): the console offers this list.
  api.get(`${base}/export-destinations`, { config: { recordingRoles: RECORDING_ROLES.operate } }, async () => recordings.exportDestinations());

  api.post(
    `${base}/exports`,
    {
      config: { recordingRoles: RECORDING_ROLES.operate },
      schema: {
        body: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('directory'), sessionIds: exportSessionIds, destination: exportDestination, passphrase: exportPassphrase }).strict(),
          z.object({ kind: z.literal('iso'), sessionIds: exportSessionIds, destination: exportDestination, media: z.enum(['cd', 'dvd']).default('dvd'), passphrase: exportPassphrase }).strict(),
        ]),
      },
    },
    async (req, reply) => reply.code(202).send(await recordings.startExport(req.body, actor(req))),
  );

  api.put(
    `${base}/:sessionId/retention`,
    { config: { recordingRoles: RECORDING_ROLES.govern }, schema: { params: sessionParams, body: z.object({ until: z.iso.date().nullable() }) } },
    async (req) => recordings.setRetention(req.params.sessionId, req.body.until, actor(req)),
  );

  api.put(
    `${base}/:sessionId/legal-hold`,
    { config: { recordingRoles: RECORDING_ROLES.govern }, schema: { params: sessionParams, body: z.object({ hold: z.boolean(), reason: z.string().max(2000).default('') }).refine((b) => !b.hold || b.reason.trim().length > 0, { message: 'a legal hold needs a reason', path: ['reason'] }) } },
    async (req) => recordings.setLegalHold(req.params.sessionId, req.body.hold, req.body.reason, actor(req)),
  );

  api.delete(
    `${base}/:sessionId`,
    { config: { recordingRoles: RECORDING_ROLES.delete }, schema: { params: sessionParams, body: z.object({ reason: z.string().min(3).max(2000) }) } },
    async (req, reply) => {
      await recordings.deleteRecording(req.params.sessionId, actor(req), req.body.reason);
      return reply.code(204).send();
    },
  );
};

/** Sends a file with HTTP range support (players seek in segments and the playable copy). */
async function sendFile(req: FastifyRequest, reply: FastifyReply, file: string, type: string): Promise<FastifyReply> {
  const s = await stat(file).catch(() => undefined);
  if (!s?.isFile()) throw new TiepdanError('FILE_NOT_FOUND', 'no such file (is the playable copy built yet?)', { status: 404 });
  reply.header('accept-ranges', 'bytes').header('content-type', type);
  const range = req.headers.range;
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    let start = m?.[1] ? Number(m[1]) : undefined;
    let end = m?.[2] ? Number(m[2]) : undefined;
    if (start === undefined && end !== undefined) {
      start = Math.max(0, s.size - end);
      end = s.size - 1;
    }
    start ??= 0;
    end = Math.min(end ?? s.size - 1, s.size - 1);
    if (!m || start > end || start >= s.size) {
      return reply.code(416).header('content-range', `bytes */${s.size}`).send();
    }
    reply.code(206).header('content-range', `bytes ${start}-${end}/${s.size}`).header('content-length', end - start + 1);
    return reply.send(createReadStream(file, { start, end }));
  }
  reply.header('content-length', s.size);
  return reply.send(createReadStream(file));
}

/** Authentication through the control API's AuthService: a bearer token or an X-API-Key header. */
export function authenticateWith(auth: { authenticateBearer(token: string): Promise<Actor & { jti: string }>; authenticateApiKey(key: string): Promise<Actor> }, isApiKey: (v: string) => boolean): Authenticate {
  return async (request) => {
    const apiKey = request.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey !== '') return auth.authenticateApiKey(apiKey);
    const header = request.headers.authorization;
    if (typeof header === 'string' && /^bearer /i.test(header)) {
      const credential = header.slice(7).trim();
      if (isApiKey(credential)) return auth.authenticateApiKey(credential);
      const { jti: _jti, ...actor } = await auth.authenticateBearer(credential);
      return actor;
    }
    throw new TiepdanError('AUTH_REQUIRED', 'this route needs a bearer token (POST /api/v1/auth/login) or an X-API-Key header', { status: 401 });
  };
}
