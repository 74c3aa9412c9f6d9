import { z } from 'zod';

/** Khiếu nại (complaint), tố cáo (denunciation), kiến nghị, phản ánh (petition, report). */
export const CASE_TYPES = ['khieu_nai', 'to_cao', 'kien_nghi', 'phan_anh'] as const;
export type CaseType = (typeof CASE_TYPES)[number];

export const personView = z.object({
  id: z.string(),
  role: z.string(),
  fullName: z.string().nullable(),
  idNumber: z.string().nullable(),
  address: z.string().nullable(),
  phone: z.string().nullable(),
  note: z.string().nullable(),
});
export type PersonView = z.infer<typeof personView>;

/** A case (`GET /cases/:id`); personal fields are null when the reader's role may not see them. */
export const caseView = z
  .object({
    id: z.string(),
    reference: z.string(),
    type: z.enum(CASE_TYPES),
    title: z.string(),
    summary: z.string().nullable(),
    criteria: z.array(z.string()),
    /** Free text that often names the person (who signed what, why a criterion holds): personal data (M7). */
    criteriaNote: z.string().nullable(),
    communeBridgePointId: z.string().nullable(),
    agencies: z.array(z.string()),
    priorHandling: z.string().nullable(),
    requests: z.string().nullable(),
    groupSize: z.number().int(),
    identityProtectionWaived: z.boolean(),
    /** "Ông Nguyễn Văn A ký cam kết ngày …": the denouncer's consent names them, so it is personal data (M7). */
    waiverNote: z.string().nullable(),
    personalDataHidden: z.boolean().describe('true: this role sees people and summary blanked (confidentiality)'),
    people: z.array(personView),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .describe('Case');

export type CaseView = z.infer<typeof caseView>;
