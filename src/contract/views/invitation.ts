import { z } from 'zod';

export const INVITATION_STATUSES = ['active', 'revoked', 'expired'] as const;

/** An invitation (`GET /sessions/:id/invitations`): one link per bridge point or participant. */
export const invitationView = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    bridgePointId: z.string().nullable(),
    participantId: z.string().nullable(),
    subject: z.string(),
    role: z.string(),
    displayName: z.string(),
    jti: z.string(),
    token: z
      .string()
      .nullable()
      .describe('the credential the signaling layer admits; treat as a secret. Null when your role may not hold it (a technician is never given the chair’s)'),
    status: z.enum(INVITATION_STATUSES),
    issuedAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    revokedReason: z.string(),
  })
  .describe('Invitation');

export type InvitationView = z.infer<typeof invitationView>;
