import type { NoticeView } from '../../contract/views/afterSitting.ts';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { formatLocal, localDate, type Clock } from '../common/clock.ts';
import { conflict, isUniqueViolation, notFound } from '../common/errors.ts';
import type { Actor } from '../common/roles.ts';
import { escapeHtml } from '../invitations/printableInvitation.ts';
import type { SettingsStore } from '../settings/controlSettings.ts';
import type { OutcomeService, OutcomeView } from './outcomeService.ts';
import { CASE_TYPE_LABEL, dmy, documentDate, OUTCOME_LABEL } from './labels.ts';
import { auditExecutor, dateString, withAfterSitting, type AfterSittingDb } from './tables.ts';
import { safeText } from '../common/safeText.ts';

export const noticeInput = z.object({
  /** "05/TB-BTCD"; empty: the next number of the year. */
  number: safeText(60).trim().default(''),
  issuedDate: z.iso.date().nullable().default(null),
  signerTitle: safeText(200).trim().min(1),
  signerName: safeText(200).trim().min(1),
  /** Nơi nhận: one line each ("Chủ tịch UBND tỉnh (b/c)", "Sở Nông nghiệp và Môi trường"). */
  recipients: z.array(safeText(300).trim().min(1)).min(1).max(30),
});
export type NoticeInput = z.infer<typeof noticeInput>;

export type { NoticeView };

export interface NoticeData {
  organisation: { authority: string; issuer: string; place: string };
  number: string;
  issuedDate: string;
  signerTitle: string;
  signerName: string;
  recipients: string[];
  session: { title: string; scheduledStart: string; location: string; chairTitle: string };
  bridgePoints: string[];
  outcomes: OutcomeView[];
}

/** How the outcome reads in the notice: what was decided, with its deadline, contact and documents. */
function outcomeLines(o: OutcomeView): string[] {
  const lines = [`Hướng xử lý: ${OUTCOME_LABEL[o.outcome ?? ''] ?? o.outcome ?? ''}.`];
  if (o.outcome === 'tra_loi_truc_tiep' && o.answer) lines.push(`Nội dung trả lời: ${o.answer}`);
  if (o.outcome === 'hen_tra_loi') lines.push(`Thời hạn trả lời: trước ngày ${dmy(o.answerDeadline)}. Người liên hệ: ${o.contactPerson}.`);
  if (o.outcome === 'chuyen_don') lines.push(`Chuyển đơn đến: ${o.transferTarget}.`);
  if (o.documentNumber) lines.push(`Văn bản số ${o.documentNumber}${o.documentDate ? ` ngày ${dmy(o.documentDate)}` : ''}.`);
  return lines;
}

/**
 * Thông báo kết luận việc tiếp công dân (N154 Art 25(2)) in the layout of an administrative
 * document (NĐ 30/2020, from memory: confirm): parent body in regular type over the issuing body
 * in bold, number and symbol, place and date, title, content, Nơi nhận, signer's title and name.
 * The cases are named by reference and title only, as on the invitation: the notice goes to
 * agencies, and a tố cáo case's people are not theirs to read.
 */
export function renderNoticeHtml(d: NoticeData): string {
  const e = escapeHtml;
  const start = new Date(d.session.scheduledStart);
  const cases = d.outcomes
    .map(
      (o, i) => `<div class="case"><p><b>${i + 1}. Vụ việc ${e(o.reference)} (${e(CASE_TYPE_LABEL[o.type] ?? o.type)}): ${e(o.title)}</b></p>
<p>Ý kiến kết luận của người chủ trì: ${e(o.conclusion)}</p>
${outcomeLines(o).map((l) => `<p>${e(l)}</p>`).join('\n')}</div>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>Thông báo kết luận ${e(d.number)}</title>
<style>
  @page { size: A4; margin: 20mm 15mm 20mm 30mm; }
  body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 13pt; line-height: 1.4; color: #000; margin: 0; }
  main { max-width: 165mm; margin: 0 auto; }
  .head { display: grid; grid-template-columns: 45% 55%; text-align: center; font-size: 10.5pt; }
  .head .authority { white-space: nowrap; }
  .head .issuer { font-weight: bold; }
  .head .motto { font-weight: bold; white-space: nowrap; }
  .line { width: 35%; margin: 1pt auto 4pt; border-top: 1px solid #000; }
  .number { font-size: 12.5pt; }
  .date { font-style: italic; }
  h1 { text-align: center; font-size: 14pt; margin: 16pt 0 0; }
  .sub { text-align: center; font-weight: bold; margin: 0 0 12pt; }
  p { margin: 0 0 5pt; text-align: justify; text-indent: 10mm; }
  .case p:first-child { text-indent: 10mm; }
  .sign { display: grid; grid-template-columns: 50% 50%; margin-top: 14pt; page-break-inside: avoid; }
  .sign .to { font-size: 11pt; }
  .sign .to p { text-indent: 0; margin: 0; }
  .sign .to b { font-style: italic; font-size: 12pt; }
  .sign .signer { text-align: center; font-weight: bold; }
  .sign .signer .space { height: 26mm; }
</style>
</head>
<body>
<main>
<div class="head">
  <div><span class="authority">${e(d.organisation.authority)}</span><br><span class="issuer">${e(d.organisation.issuer)}</span><div class="line"></div><span class="number">Số: ${e(d.number)}</span></div>
  <div><span class="motto">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</span><br><b>Độc lập - Tự do - Hạnh phúc</b><div class="line"></div><span class="date">${e(d.organisation.place)}, ${e(documentDate(d.issuedDate))}</span></div>
</div>
<h1>THÔNG BÁO</h1>
<p class="sub">Kết luận việc tiếp công dân trực tuyến ngày ${e(dmy(localDate(start)))}</p>
<p>Ngày ${e(dmy(localDate(start)))}, ${e(d.session.chairTitle || 'người chủ trì')} chủ trì buổi tiếp công dân trực tuyến “${e(d.session.title)}” tại ${e(d.session.location || 'Trụ sở Tiếp công dân tỉnh')}, bắt đầu lúc ${e(formatLocal(start).slice(11))}${d.bridgePoints.length > 0 ? `, kết nối với ${d.bridgePoints.length} điểm cầu: ${e(d.bridgePoints.join('; '))}` : ''}.</p>
<p>Sau khi nghe công dân trình bày và ý kiến của các cơ quan, đơn vị có liên quan, người chủ trì kết luận như sau:</p>
${cases}
<p>${e(d.organisation.issuer.charAt(0) + d.organisation.issuer.slice(1).toLowerCase()).replace(/tiếp công dân/i, 'Tiếp công dân')} thông báo để các cơ quan, đơn vị, cá nhân có liên quan biết, thực hiện.</p>
<div class="sign">
  <div class="to"><b>Nơi nhận:</b>${d.recipients.map((r) => `<p>- ${e(r)};</p>`).join('')}<p>- Lưu: VT.</p></div>
  <div class="signer">${e(d.signerTitle.toUpperCase())}<div class="space"></div>${e(d.signerName)}</div>
</div>
</main>
</body>
</html>
`;
}

/** Which session states a notice may be issued from: the sitting is over. */
const NOTICE_STATUSES = ['ended', 'archived'];

export class NoticeService {
  readonly #db: AfterSittingDb;
  readonly #audit: AuditLog;
  readonly #settings: SettingsStore;
  readonly #outcomes: OutcomeService;
  readonly #clock: Clock;

  constructor(deps: { db: Db; audit: AuditLog; settings: SettingsStore; outcomes: OutcomeService; clock: Clock }) {
    this.#db = withAfterSitting(deps.db);
    this.#audit = deps.audit;
    this.#settings = deps.settings;
    this.#outcomes = deps.outcomes;
    this.#clock = deps.clock;
  }

  /** The notice's page from the current outcomes (a preview before issuing, or the issued text). */
  async render(sessionId: string, input: NoticeInput, number: string, issuedDate: string): Promise<string> {
    const session = await this.#db.selectFrom('sessions').select(['id', 'title', 'scheduled_start', 'location', 'chair_title', 'status']).where('id', '=', sessionId).executeTakeFirst();
    if (session === undefined) throw notFound('session', sessionId);
    const outcomes = await this.#outcomes.list(sessionId);
    const points = await this.#db
      .selectFrom('session_bridge_points')
      .innerJoin('bridge_points', 'bridge_points.id', 'session_bridge_points.bridge_point_id')
      .select('bridge_points.name')
      .where('session_bridge_points.session_id', '=', sessionId)
      .orderBy('bridge_points.code')
      .limit(500)
      .execute();
    const settings = await this.#settings.get();
    return renderNoticeHtml({
      organisation: settings.organisation,
      number,
      issuedDate,
      signerTitle: input.signerTitle,
      signerName: input.signerName,
      recipients: input.recipients,
      session: { title: session.title, scheduledStart: session.scheduled_start.toISOString(), location: session.location, chairTitle: session.chair_title },
      bridgePoints: points.map((p) => p.name),
      outcomes,
    });
  }

  async #nextNumber(year: string): Promise<string> {
    const r = await this.#db.selectFrom('conclusion_notices').select((eb) => eb.fn.countAll<string>().as('n')).where('issued_date', '>=', `${year}-01-01`).where('issued_date', '<=', `${year}-12-31`).executeTakeFirstOrThrow();
    return `${String(Number(r.n) + 1).padStart(2, '0')}/TB-BTCD`;
  }

  async preview(sessionId: string, input: NoticeInput): Promise<string> {
    const issuedDate = input.issuedDate ?? localDate(this.#clock());
    return this.render(sessionId, input, input.number || (await this.#nextNumber(issuedDate.slice(0, 4))), issuedDate);
  }

  /** Issues the notice: every case concluded, the page frozen with its fingerprint, and audited. */
  async issue(actor: Actor, sessionId: string, input: NoticeInput): Promise<NoticeView> {
    const session = await this.#db.selectFrom('sessions').select(['status']).where('id', '=', sessionId).executeTakeFirst();
    if (session === undefined) throw notFound('session', sessionId);
    if (!NOTICE_STATUSES.includes(session.status)) throw conflict('NOTICE_NOT_ALLOWED', `the conclusion notice is issued after the sitting (session is ${session.status})`, { status: session.status });
    const outcomes = await this.#outcomes.list(sessionId);
    const open = outcomes.filter((o) => o.outcome === null || o.conclusion === '');
    if (open.length === 0 && outcomes.length === 0) throw conflict('NOTICE_OUTCOMES_MISSING', 'the session has no cases to conclude');
    if (open.length > 0) throw conflict('NOTICE_OUTCOMES_MISSING', `record the chair's conclusion for every case first; missing on ${open.map((o) => o.reference).join(', ')}`, { cases: open.map((o) => ({ caseId: o.caseId, reference: o.reference })) });
    const issuedDate = input.issuedDate ?? localDate(this.#clock());
    const number = input.number || (await this.#nextNumber(issuedDate.slice(0, 4)));
    const html = await this.render(sessionId, input, number, issuedDate);
    const htmlSha256 = createHash('sha256').update(html).digest('hex');
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('conclusion_notices')
          .values({
            session_id: sessionId,
            number,
            issued_date: issuedDate,
            signer_title: input.signerTitle,
            signer_name: input.signerName,
            recipients: input.recipients,
            html,
            html_sha256: htmlSha256,
            issued_by: actor.kind === 'user' ? actor.id : `${actor.kind}:${actor.id}`,
            issued_by_label: actor.label,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.#audit.append(auditExecutor(trx), actor, { action: 'session.conclusion_notice', entity: 'session', entityId: sessionId, after: { noticeId: row.id, number, issuedDate, htmlSha256, cases: outcomes.length } });
        return toView(row);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('NOTICE_NUMBER_TAKEN', `a notice numbered ${number} was already issued`);
      throw err;
    }
  }

  async list(sessionId: string): Promise<NoticeView[]> {
    const rows = await this.#db.selectFrom('conclusion_notices').selectAll().where('session_id', '=', sessionId).orderBy('issued_at').limit(100).execute();
    return rows.map(toView);
  }

  async html(id: string): Promise<{ notice: NoticeView; html: string }> {
    const row = await this.#db.selectFrom('conclusion_notices').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound('conclusion notice', id);
    return { notice: toView(row), html: row.html };
  }
}

function toView(r: { id: string; session_id: string; number: string; issued_date: Date | string; signer_title: string; signer_name: string; recipients: string[]; html_sha256: string; issued_by_label: string; issued_at: Date }): NoticeView {
  return {
    id: r.id,
    sessionId: r.session_id,
    number: r.number,
    issuedDate: dateString(r.issued_date)!,
    signerTitle: r.signer_title,
    signerName: r.signer_name,
    recipients: r.recipients,
    htmlSha256: r.html_sha256,
    issuedBy: r.issued_by_label,
    issuedAt: r.issued_at.toISOString(),
  };
}
