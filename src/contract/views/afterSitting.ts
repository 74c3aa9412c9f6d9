import { z } from 'zod';

/** What the sitting decided for a case (the console's outcome choices). */
export const CASE_OUTCOMES = ['thu_ly', 'chuyen_don', 'huong_dan', 'tra_loi_truc_tiep', 'hen_tra_loi', 'tu_choi', 'khac'] as const;
/** How the register records a case's handling. */
export const HANDLINGS = ['thu_ly', 'huong_dan', 'chuyen_don', 'khac'] as const;
export const FOLLOW_UP_KINDS = ['reply_to_citizen', 'chair_deadline', 'handling_limit'] as const;
export type FollowUpKind = (typeof FOLLOW_UP_KINDS)[number];

/** A case's outcome after the sitting (N154 Art 25(3)): `GET /sessions/:id/outcomes`. */
export const outcomeView = z
  .object({
    caseId: z.string(),
    reference: z.string(),
    title: z.string(),
    type: z.string(),
    position: z.number().int(),
    outcome: z.string().nullable().describe(CASE_OUTCOMES.join(' | ')),
    conclusion: z.string(),
    answer: z.string(),
    answerDeadline: z.string().nullable(),
    contactPerson: z.string(),
    transferTarget: z.string(),
    documentNumber: z.string(),
    documentDate: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .describe('CaseOutcome');

/**
 * A line of the Sổ tiếp công dân (N154 Art 27, Mẫu 03/TCD): `GET /register`. For a role, the people's
 * columns are null where the case's rules hide them.
 */
export const registerEntryView = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    caseId: z.string(),
    caseReference: z.string(),
    caseType: z.string(),
    receptionDate: z.string(),
    namesAddresses: z.string().nullable(),
    idNumbers: z.string().nullable(),
    content: z.string().nullable(),
    classification: z.string(),
    groupSize: z.number().int(),
    agenciesHandled: z.string(),
    handling: z.string().describe(HANDLINGS.join(' | ')),
    handlingDetail: z.string(),
    resultTracking: z.string(),
    note: z.string().nullable(),
    personalDataHidden: z.boolean(),
    editedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .describe('RegisterEntry');

/** A follow-up timer (reply to the citizen, the chair's deadline, the handling limit): `GET /follow-ups`. */
export const followUpView = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    caseId: z.string(),
    /** The case's reference and its non-identifying title (no personal data on the home page). */
    caseReference: z.string(),
    caseTitle: z.string(),
    kind: z.string().describe(FOLLOW_UP_KINDS.join(' | ')),
    dueDate: z.string(),
    basis: z.string(),
    status: z.enum(['open', 'done']).describe('open | done'),
    state: z.enum(['overdue', 'due_soon', 'open', 'done']).describe('overdue | due_soon | open | done'),
    /** Working days from today to the due date (negative once overdue). */
    workingDaysLeft: z.number().int(),
    result: z.string(),
    doneAt: z.string().nullable(),
  })
  .describe('FollowUp');

/** A Thông báo kết luận (N154 Art 25(2)) as issued. */
export const noticeView = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    number: z.string(),
    issuedDate: z.string(),
    signerTitle: z.string(),
    signerName: z.string(),
    recipients: z.array(z.string()),
    htmlSha256: z.string(),
    issuedBy: z.string(),
    issuedAt: z.string(),
  })
  .describe('ConclusionNotice');

export type OutcomeView = z.infer<typeof outcomeView>;
export type RegisterEntryView = z.infer<typeof registerEntryView>;
export type FollowUpView = z.infer<typeof followUpView>;
export type NoticeView = z.infer<typeof noticeView>;
