import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TiepdanError } from '../../errors.ts';
import type { Actor, UserRole } from '../../domain/common/roles.ts';
import { DENUNCIATION, denouncerProtected, seesDenunciations, type SessionCaseTypes } from '../../recording/access/denouncerRule.ts';
import { DELETE_ROLES, GOVERN_ROLES, HOLD_RELEASE_ROLES } from '../../recording/governance/rules.ts';
import { LIST_MAX_LIMIT, type RecordingService } from '../../recording/recordingService.ts';
import { readManifest } from '../../recording/manifest/manifest.ts';
import { sessionDirFor } from '../../recording/recorder/sessionRecorder.ts';
import { actorOf } from '../control/access.ts';
import { ViewingAudit } from './viewingAudit.ts';
import { safeText } from '../../domain/common/safeText.ts';

export interface RecordingsPluginOptions {
  recordings: RecordingService;
  /**
   * Bridge points that took part in a session (Quy chế Điều 7.3: a commune point may keep its own
   * copy). Without it commune operators get no recording routes.
   */
  sessionBridgePoints?: (sessionId: string) => Promise<string[]>;
  /** Case types per session, for the denouncer rule (access/denouncerRule.ts); app.ts always passes it. */
  caseTypes?: SessionCaseTypes;
}

/** Who may do what with recordings (on a tố cáo session, content also needs DENOUNCER_IDENTITY_ROLES). */
export const RECORDING_ROLES = {
  read: ['admin', 'reception_board', 'inspectorate', 'approver', 'technician', 'auditor'],
  /** The viewing copy and its manifest: also a commune operator whose point took part (checked per session). */
  communeCopy: ['admin', 'reception_board', 'inspectorate', 'approver', 'technician', 'auditor', 'commune_operator'],
  operate: ['admin', 'reception_board', 'technician'],
  /** Setting a legal hold or extending retention (releasing a hold: HOLD_RELEASE_ROLES, checked by the service). */
  govern: GOVERN_ROLES,
  holdRelease: HOLD_RELEASE_ROLES,
  delete: DELETE_ROLES,
} as const satisfies Record<string, readonly UserRole[]>;

/**
 * The access rule of a recording route (enforced by the root access hook, src/api/control/access.ts).
 * Evidence itself (segments, the playable copy, exports) is for a person logged in, never an API
 * key: an integration is nobody to hold to account for a viewing (security review M10).
 */
const access = (roles: readonly UserRole[], options: { evidence?: boolean } = {}) => ({ access: { roles, ...(options.evidence === true ? { apiKey: false } : {}) } });
const TAGS = ['recordings'];

const sessionParams = z.object({ sessionId: safeText(200).min(1) });
const stopBody = z.object({ reason: safeText(1000).default('') }).default({ reason: '' });
const exportSessionIds = z
  .array(safeText(200).min(1))
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
const exportPassphrase = safeText(1000).min(8, 'the passphrase must have at least 8 characters');
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(LIST_MAX_LIMIT).default(50).describe(`page size (1–${LIST_MAX_LIMIT})`),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/**
 * Recording routes under /api/v1/recordings. Every route declares its roles in `config.access`,
 * checked by the server's one access hook like every other route; registered inside the control
 * API's scope, so /openapi.json lists them.
 */
export const recordingsPlugin: FastifyPluginAsync<RecordingsPluginOptions> = async (app, { recordings, sessionBridgePoints, caseTypes }) => {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const actor = (r: FastifyRequest): Actor => actorOf(r);
  /** The denouncer rule: a tố cáo session's recording content is for DENOUNCER_IDENTITY_ROLES only. */
  const denouncerGate = async (req: FastifyRequest, sessionIds: readonly string[]): Promise<void> => {
    if (seesDenunciations(actor(req).role) || !caseTypes) return;
    for (const sessionId of sessionIds) if ((await caseTypes.of(sessionId)).includes(DENUNCIATION)) throw denouncerProtected(sessionId);
  };
  /** A commune operator only reaches sessions its own bridge point took part in. */
  const communeGate = async (req: FastifyRequest, sessionId: string): Promise<void> => {
    const a = actor(req);
    if (a.role !== 'commune_operator') return;
    const points = sessionBridgePoints ? await sessionBridgePoints(sessionId).catch(() => [] as string[]) : [];
    if (a.bridgePointId === null || !points.includes(a.bridgePointId)) {
      throw new TiepdanError('BRIDGE_POINT_FORBIDDEN', 'your bridge point did not take part in this session');
    }
  };
  /**
   * Every download of evidence leaves an audit row (security review M3): commune copies as before,
   * staff too. The range requests of one viewing share one row (viewingAudit.ts).
   */
  const viewings = new ViewingAudit();
  const auditDownload = async (req: FastifyRequest, sessionId: string, what: string, file?: string): Promise<void> => {
    const a = actor(req);
    if (!viewings.starts(JSON.stringify([a.kind, a.id, sessionId, what, file ?? '']))) return;
    if (a.role === 'commune_operator') await recordings.audit(a, 'recording.commune_copy_downloaded', sessionId, { what, bridgePointId: a.bridgePointId });
    else await recordings.audit(a, 'recording.downloaded', sessionId, { what, ...(file ? { file } : {}), role: a.role ?? a.kind, range: req.headers.range ?? null });
  };
  const manifestOf = (sessionId: string) =>
    readManifest(path.join(sessionDirFor(recordings.recordingsDir, sessionId), 'manifest.json')).catch(() => {
      throw new TiepdanError('RECORDING_NOT_FOUND', `no recording for session ${sessionId}`);
    });
  const api = app.withTypeProvider<ZodTypeProvider>();
  const base = '/api/v1/recordings';

  // Paged; recordings of tố cáo sessions are left out for roles that may not see a denouncer.
  api.get(base, { config: access(RECORDING_ROLES.read), schema: { tags: TAGS, summary: 'List recordings (paged; tố cáo sessions left out for roles that may not see a denouncer)', querystring: listQuery } }, async (req) => {
    const exclude = seesDenunciations(actor(req).role) || !caseTypes ? undefined : await caseTypes.denunciationSessions();
    return recordings.list(req.query, exclude ? { exclude } : {});
  });

  api.get(`${base}/due`, { config: access(RECORDING_ROLES.read), schema: { tags: TAGS, summary: 'Recordings due for archiving or disposal', querystring: z.object({ asOf: z.iso.date().optional() }) } }, async (req) =>
    recordings.dueForArchivingOrDisposal(req.query.asOf),
  );

  api.get(`${base}/jobs/:jobId`, { config: access(RECORDING_ROLES.read), schema: { tags: TAGS, summary: 'A background job (playable copy, verification, export)', params: z.object({ jobId: z.uuid() }) } }, async (req) => recordings.getJob(req.params.jobId));

  // The summary (status, size, retention, live disk state) shows no one's face or name: the live
  // console of a technician polls it during a tố cáo session too.
  api.get(`${base}/:sessionId`, { config: access(RECORDING_ROLES.read), schema: { tags: TAGS, summary: 'A recording: status, size, retention, live disk state (or its tombstone)', params: sessionParams } }, async (req) => recordings.get(req.params.sessionId));

  api.get(`${base}/:sessionId/manifest`, { config: access(RECORDING_ROLES.communeCopy), schema: { tags: TAGS, summary: 'The manifest: files, hashes and the chain (audited download)', params: sessionParams } }, async (req) => {
    // The point check first: a commune learns nothing about other sessions' cases.
    await communeGate(req, req.params.sessionId);
    await denouncerGate(req, [req.params.sessionId]);
    const manifest = await manifestOf(req.params.sessionId);
    await auditDownload(req, req.params.sessionId, 'manifest');
    return manifest;
  });

  api.get(
    `${base}/:sessionId/segments/*`,
    { config: access(RECORDING_ROLES.read, { evidence: true }), schema: { tags: TAGS, summary: 'A segment listed in the manifest (ranges; audited; no API key)', params: sessionParams.extend({ '*': safeText(500).min(1) }) } },
    async (req, reply) => {
      await denouncerGate(req, [req.params.sessionId]);
      const manifest = await manifestOf(req.params.sessionId);
      // Only files the manifest lists can be fetched: no path tricks reach anything else.
      const listed = manifest.entries.some((e) => e.type === 'segment' && e.file === req.params['*']);
      if (!listed) throw new TiepdanError('SEGMENT_NOT_FOUND', `no segment ${req.params['*']} in this recording`);
      const file = path.join(sessionDirFor(recordings.recordingsDir, req.params.sessionId), req.params['*']);
      const s = await fileStat(file);
      await auditDownload(req, req.params.sessionId, 'segment', req.params['*']);
      return sendFile(req, reply, file, s, 'video/x-matroska');
    },
  );

  api.get(`${base}/:sessionId/playable`, { config: access(RECORDING_ROLES.communeCopy, { evidence: true }), schema: { tags: TAGS, summary: 'The playable copy (MP4, ranges; audited; no API key)', params: sessionParams } }, async (req, reply) => {
    // The point check first: a commune learns nothing about other sessions' cases.
    await communeGate(req, req.params.sessionId);
    await denouncerGate(req, [req.params.sessionId]);
    const file = path.join(sessionDirFor(recordings.recordingsDir, req.params.sessionId), 'playable', 'playable.mp4');
    const s = await fileStat(file);
    await auditDownload(req, req.params.sessionId, 'playable copy');
    return sendFile(req, reply, file, s, 'video/mp4');
  });

  // Background jobs (one at a time, bounded: 503 JOBS_BUSY when full; a repeat joins the queued job).
  api.post(`${base}/:sessionId/playable`, { config: access(RECORDING_ROLES.operate), schema: { tags: TAGS, summary: 'Build the playable copy (a background job)', params: sessionParams } }, async (req, reply) => {
    await recordings.get(req.params.sessionId);
    return reply.code(202).send(recordings.startPlayable(req.params.sessionId));
  });

  // Integrity only (hashes and the chain, no picture or name): open to auditors on every session.
  api.post(`${base}/:sessionId/verify`, { config: access(RECORDING_ROLES.read), schema: { tags: TAGS, summary: 'Verify hashes and the chain (a background job)', params: sessionParams } }, async (req, reply) =>
    reply.code(202).send(await recordings.startVerify(req.params.sessionId, actor(req))),
  );

  // A stop needs its reason (N154 Art 24(1) makes recording mandatory): RECORDING_STOP_REASON_REQUIRED.
  api.post(`${base}/:sessionId/stop`, { config: access(RECORDING_ROLES.operate), schema: { tags: TAGS, summary: 'Stop a running recording (with its reason)', params: sessionParams, body: stopBody } }, async (req) => {
    await recordings.stopRecording(req.params.sessionId, actor(req), req.body.reason);
    return recordings.get(req.params.sessionId);
  });

  // Exports go only to a drive the server lists (security review H1): the console offers this list.
  api.get(`${base}/export-destinations`, { config: access(RECORDING_ROLES.operate), schema: { tags: TAGS, summary: 'Removable drives an export may go to' } }, async () => recordings.exportDestinations());

  api.post(
    `${base}/exports`,
    {
      config: access(RECORDING_ROLES.operate, { evidence: true }),
      schema: {
        tags: TAGS,
        summary: 'Export recordings, encrypted, to a listed drive (a background job; no API key)',
        body: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('directory'), sessionIds: exportSessionIds, destination: exportDestination, passphrase: exportPassphrase }).strict(),
          z.object({ kind: z.literal('iso'), sessionIds: exportSessionIds, destination: exportDestination, media: z.enum(['cd', 'dvd']).default('dvd'), passphrase: exportPassphrase }).strict(),
        ]),
      },
    },
    async (req, reply) => {
      // A copy on a drive shows the denouncer as much as the playable copy does.
      await denouncerGate(req, req.body.sessionIds);
      return reply.code(202).send(await recordings.startExport(req.body, actor(req)));
    },
  );

  // Governance (security review H2): retention only grows; a hold is released by another role
  // than the one that deletes; deletion leaves a tombstone (GET …/:sessionId shows it).
  api.put(
    `${base}/:sessionId/retention`,
    { config: access(RECORDING_ROLES.govern), schema: { tags: TAGS, summary: 'Extend the retention date (it only grows)', params: sessionParams, body: z.object({ until: z.iso.date() }) } },
    async (req) => recordings.setRetention(req.params.sessionId, req.body.until, actor(req)),
  );

  api.put(
    `${base}/:sessionId/legal-hold`,
    {
      config: access(RECORDING_ROLES.govern),
      schema: {
        tags: TAGS,
        summary: 'Set or release a legal hold (with a reason; released by another role than the one that deletes)',
        params: sessionParams,
        body: z.object({ hold: z.boolean(), reason: safeText(2000).default('') }).refine((b) => b.reason.trim().length > 0, { message: 'a legal hold, and its release, need a reason', path: ['reason'] }),
      },
    },
    async (req) => recordings.setLegalHold(req.params.sessionId, req.body.hold, req.body.reason.trim(), actor(req)),
  );

  api.delete(
    `${base}/:sessionId`,
    { config: access(RECORDING_ROLES.delete), schema: { tags: TAGS, summary: 'Delete a recording (second person, after retention; leaves a tombstone)', params: sessionParams, body: z.object({ reason: safeText(2000).trim().min(3) }) } },
    async (req, reply) => {
      await recordings.deleteRecording(req.params.sessionId, actor(req), req.body.reason);
      return reply.code(204).send();
    },
  );
};

async function fileStat(file: string): Promise<Stats> {
  const s = await stat(file).catch(() => undefined);
  if (!s?.isFile()) throw new TiepdanError('FILE_NOT_FOUND', 'no such file (is the playable copy built yet?)');
  return s;
}

/** Sends a file with HTTP range support (players seek in segments and the playable copy). */
function sendFile(req: FastifyRequest, reply: FastifyReply, file: string, s: Stats, type: string): FastifyReply {
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
