import { z } from 'zod';

/** The life-cycle statuses (the transitions between them are in src/domain/sessions/lifecycle.ts). */
export const SESSION_STATUSES = ['draft', 'submitted', 'approved', 'invitations_sent', 'tested', 'live', 'ended', 'archived', 'cancelled', 'rejected'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A reception session as the control API answers it (`GET /sessions`, `/sessions/:id`). */
export const sessionView = z
  .object({
    id: z.string(),
    title: z.string(),
    scheduledStart: z.string(),
    scheduledEnd: z.string(),
    location: z.string(),
    chairUserId: z.string().nullable(),
    chairTitle: z.string(),
    status: z.enum(SESSION_STATUSES),
    statusReason: z.string(),
    maxPeers: z.number().int(),
    lobbyEnabled: z.boolean(),
    endpointsSeeEachOther: z.boolean(),
    autoRecord: z.boolean(),
    participantRecordingAllowed: z.boolean(),
    notes: z.string(),
    goLiveOverrideReason: z.string().nullable(),
    /** Cases on the agenda: reference and type only (no personal data). */
    cases: z.array(z.object({ caseId: z.string(), reference: z.string(), type: z.string(), position: z.number().int(), outcome: z.string().nullable() })),
    bridgePointIds: z.array(z.string()),
    participants: z.array(z.object({ id: z.string(), role: z.string(), label: z.string(), bridgePointId: z.string().nullable() })),
    submissionDeadline: z.string().describe('last day to submit for approval: N working days before the session'),
    noticeDeadline: z.string().describe('last day to notify citizens and agencies: 5 working days before (N154 Art 23(1))'),
    createdAt: z.string(),
    updatedAt: z.string(),
    statusChangedAt: z.string(),
  })
  .describe('Session');

export type SessionView = z.infer<typeof sessionView>;
