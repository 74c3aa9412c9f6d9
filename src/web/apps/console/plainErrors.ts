import { errorMessage } from '../../ui/dom.ts';
import { t, type MessageKey } from '../../i18n/index.ts';

/** The label of an API body field, for naming it in a validation error (the form's own wording). */
const FIELD_LABELS: Record<string, MessageKey> = {
  reference: 'cases.reference',
  type: 'cases.type',
  title: 'cases.titleField',
  summary: 'cases.summary',
  criteria: 'cases.criteria',
  criteriaNote: 'cases.criteriaNote',
  communeBridgePointId: 'cases.commune',
  agencies: 'cases.agencies',
  priorHandling: 'cases.priorHandling',
  requests: 'cases.requests',
  groupSize: 'cases.groupSize',
  waiverNote: 'cases.waiverNote',
  identityProtectionWaived: 'cases.waiver',
  role: 'cases.person.role',
  fullName: 'cases.person.fullName',
  idNumber: 'cases.person.idNumber',
  address: 'cases.person.address',
  phone: 'cases.person.phone',
  note: 'cases.person.note',
  conclusion: 'after.conclusion',
  answer: 'after.answer',
  answerDeadline: 'after.answerDeadline',
  contactPerson: 'after.contactPerson',
  transferTarget: 'after.transferTarget',
  documentNumber: 'after.documentNumber',
  documentDate: 'after.documentDate',
  recipients: 'after.notice.recipients',
  signerTitle: 'after.notice.signerTitle',
  signerName: 'after.notice.signerName',
  result: 'followUp.result',
};

interface FieldProblem {
  field?: string;
  message?: string;
}

/** "/people/0/fullName" → "Người thứ 1, Họ và tên"; unknown fields keep their API name. */
export function fieldLabel(pointer: string): string {
  const parts = pointer.split('/').filter((p) => p !== '');
  const label = (name: string) => {
    const key = FIELD_LABELS[name];
    return key ? t(key) : name;
  };
  if (parts[0] === 'people' && parts[1] !== undefined && /^\d+$/.test(parts[1])) {
    const person = t('cases.person', { n: Number(parts[1]) + 1 });
    return parts[2] ? t('error.field.person', { person, field: label(parts[2]) }) : person;
  }
  const named = [...parts].reverse().find((p) => !/^\d+$/.test(p));
  return named ? label(named) : pointer;
}

/** zod's English wording reduced to what an official needs to know. */
function problemWords(message: string): string {
  if (/too small|>=|at least|required|expected string, received undefined/i.test(message)) return t('error.field.tooSmall');
  if (/too big|<=|at most/i.test(message)) return t('error.field.tooBig');
  return t('error.field.invalid');
}

/** The references of the cases a rule's refusal names (`details.cases`). */
function caseReferences(details: unknown): string {
  const cases = (details as { cases?: { reference?: string }[] } | null)?.cases;
  return Array.isArray(cases) ? cases.map((c) => c.reference ?? '?').join(', ') : '';
}

/**
 * An API error in plain words: a validation failure names each field by its label on the form, a
 * rule's refusal (409) says what to do; anything not known here keeps the server's message.
 */
export function plainError(err: unknown): { text: string; fields: string[] } {
  const e = err as { code?: string; details?: unknown };
  const code = e.code;
  if (code === 'VALIDATION_FAILED' && Array.isArray(e.details)) {
    const problems = (e.details as FieldProblem[]).map((d) => `${fieldLabel(d.field ?? '')}: ${problemWords(d.message ?? '')}`);
    return { text: `${t('error.validation')} ${problems.join('; ')}.`, fields: (e.details as FieldProblem[]).map((d) => d.field ?? '') };
  }
  const key = `error.${code ?? ''}` as MessageKey;
  if (code && t(key) !== key) return { text: t(key, { cases: caseReferences(e.details) }), fields: [] };
  return { text: `${code ? `${code}: ` : ''}${errorMessage(err)}`, fields: [] };
}
