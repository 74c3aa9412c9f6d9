import { HANDLINGS, type RegisterEntryView } from '../../contract/views/afterSitting.ts';
import { createHash } from 'node:crypto';
import ExcelJS from 'exceljs';
import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import { TiepdanError } from '../../errors.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { canSeePersonalData } from '../cases/confidentiality.ts';
import { addDays } from '../calendar/workingDays.ts';
import type { Clock } from '../common/clock.ts';
import { forbidden, notFound } from '../common/errors.ts';
import type { Page, Paged } from '../common/paging.ts';
import type { Actor, UserRole } from '../common/roles.ts';
import { escapeHtml } from '../invitations/printableInvitation.ts';
import { dmy, HANDLING_LABEL } from './labels.ts';
import { auditExecutor, dateString, withAfterSitting, type AfterSittingDb, type RegisterEntriesTable } from './tables.ts';
import type { Selectable } from 'kysely';
import { safeText } from '../common/safeText.ts';

/** A period of the sổ: at most a year, and at most this many lines in one print or export. */
export const MAX_PERIOD_DAYS = 366;
// 200 lines is some years of online sittings (a few cases a month); it keeps an XLSX or a print well
// inside the event-loop budget (exceljs builds the workbook synchronously).
export const MAX_EXPORT_ROWS = 200;

export { HANDLINGS };

/** What the reception board may correct in a line (the STT and the links to the case are not theirs to change). */
export const registerPatch = z
  .object({
    receptionDate: z.iso.date(),
    namesAddresses: safeText(2000).trim(),
    idNumbers: safeText(500).trim(),
    content: safeText(10_000).trim(),
    classification: safeText(200).trim(),
    groupSize: z.number().int().min(1).max(10_000),
    agenciesHandled: safeText(2000).trim(),
    handling: z.enum(HANDLINGS),
    handlingDetail: safeText(2000).trim(),
    resultTracking: safeText(2000).trim(),
    note: safeText(2000).trim(),
  })
  .partial()
  .strict();
export type RegisterPatch = z.infer<typeof registerPatch>;

export type { RegisterEntryView };

type Row = Selectable<RegisterEntriesTable> & { reference: string };

/** The same confidentiality as the case itself (confidentiality.ts): `undefined` is the audit's view. */
function view(r: Row, role: UserRole | undefined): RegisterEntryView {
  const visible = canSeePersonalData(role, r.case_type);
  return {
    id: r.id,
    sessionId: r.session_id,
    caseId: r.case_id,
    caseReference: r.reference,
    caseType: r.case_type,
    receptionDate: dateString(r.reception_date)!,
    namesAddresses: visible ? r.names_addresses : null,
    idNumbers: visible ? r.id_numbers : null,
    content: visible ? r.content : null,
    classification: r.classification,
    groupSize: r.group_size,
    // Prior handling is hidden with the people, as on the case (caseView's priorHandling).
    agenciesHandled: visible ? r.agencies_handled : '',
    handling: r.handling,
    handlingDetail: r.handling_detail,
    resultTracking: r.result_tracking,
    note: visible ? r.note : null,
    personalDataHidden: !visible,
    editedAt: r.edited_at ? r.edited_at.toISOString() : null,
    createdAt: r.created_at.toISOString(),
  };
}

/** The audit's snapshot: codes, dates and counts; every free text only through the `changed` fingerprints. */
function auditView(r: Row): Record<string, unknown> {
  const v = view(r, undefined);
  return { ...v, agenciesHandled: null, handlingDetail: null, resultTracking: null };
}

export function checkPeriod(from: string, to: string): void {
  if (to < from || to > addDays(from, MAX_PERIOD_DAYS - 1)) {
    throw new TiepdanError('REGISTER_PERIOD_INVALID', `the period runs from "from" to "to", at most ${MAX_PERIOD_DAYS} days`, { details: [{ field: '/to', message: 'out of range' }] });
  }
}

/** Mẫu 03/TCD's columns, in order: the header of every print and export. */
export const REGISTER_COLUMNS = [
  'STT',
  'Ngày tiếp',
  'Họ tên – Địa chỉ',
  'Số căn cước / số định danh cá nhân / hộ chiếu',
  'Nội dung vụ việc',
  'Phân loại đơn / Số người',
  'Cơ quan đã giải quyết',
  'Hướng xử lý: Thụ lý để giải quyết',
  'Hướng xử lý: Trả lại đơn và hướng dẫn',
  'Hướng xử lý: Chuyển đơn',
  'Theo dõi kết quả giải quyết',
  'Ghi chú',
] as const;

const HIDDEN = '(giữ bí mật)';

/** One line as the 12 cells of the form; the handling detail goes in its box (or in Ghi chú for "khác"). */
export function registerCells(e: RegisterEntryView, stt: number): string[] {
  const box = (h: string) => (e.handling === h ? e.handlingDetail || 'x' : '');
  const note = [e.handling === 'khac' ? `${HANDLING_LABEL.khac}: ${e.handlingDetail}` : '', e.note ?? (e.personalDataHidden ? HIDDEN : '')].filter((s) => s !== '').join('. ');
  return [
    String(stt),
    dmy(e.receptionDate),
    e.namesAddresses ?? HIDDEN,
    e.idNumbers ?? HIDDEN,
    e.content ?? `${e.caseReference} ${HIDDEN}`,
    `${e.classification} / ${e.groupSize} người`,
    e.agenciesHandled,
    box('thu_ly'),
    box('huong_dan'),
    box('chuyen_don'),
    e.resultTracking,
    note,
  ];
}

const csvCell = (s: string) => (/[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** Formula-looking cells are defused for spreadsheets (CSV injection). */
const safe = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

export function registerCsv(entries: RegisterEntryView[]): string {
  const lines = [REGISTER_COLUMNS.map(csvCell).join(','), ...entries.map((e, i) => registerCells(e, i + 1).map((c) => csvCell(safe(c))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

export async function registerXlsx(entries: RegisterEntryView[], title: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'tiepdan';
  const ws = wb.addWorksheet('So tiep cong dan', { pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 } });
  ws.addRow([title]).font = { bold: true, size: 13 };
  const head = ws.addRow([...REGISTER_COLUMNS]);
  head.font = { bold: true };
  head.alignment = { wrapText: true, vertical: 'middle', horizontal: 'center' };
  for (const [i, e] of entries.entries()) ws.addRow(registerCells(e, i + 1).map(safe)).alignment = { wrapText: true, vertical: 'top' };
  [6, 12, 30, 20, 40, 16, 24, 20, 20, 24, 24, 20].forEach((w, i) => (ws.getColumn(i + 1).width = w));
  ws.views = [{ state: 'frozen', ySplit: 2 }];
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export interface RegisterPrintData {
  organisation: { authority: string; issuer: string; place: string };
  from: string;
  to: string;
  entries: RegisterEntryView[];
  printedOn: string;
}

/** The sổ for a period as an A4 landscape page (prints from any browser, and to PDF on the server). */
export function renderRegisterHtml(d: RegisterPrintData): string {
  const e = escapeHtml;
  const rows = d.entries.map((x, i) => `<tr>${registerCells(x, i + 1).map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('\n');
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>Sổ tiếp công dân ${e(dmy(d.from))} – ${e(dmy(d.to))}</title>
<style>
  @page { size: A4 landscape; margin: 12mm 10mm 12mm 15mm; }
  body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 10.5pt; color: #000; margin: 0; }
  .head { display: grid; grid-template-columns: 40% 60%; text-align: center; font-size: 11pt; }
  .head .issuer { font-weight: bold; text-decoration: underline; }
  .head .motto { font-weight: bold; }
  h1 { text-align: center; font-size: 15pt; margin: 12pt 0 2pt; }
  .sub { text-align: center; margin: 0 0 8pt; font-style: italic; }
  table { width: 100%; border-collapse: collapse; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
  th, td { border: 1px solid #000; padding: 2pt 3pt; vertical-align: top; text-align: left; overflow-wrap: anywhere; font-size: 9.5pt; }
  th { text-align: center; vertical-align: middle; font-size: 9.5pt; }
  .num th { font-weight: normal; font-style: italic; font-size: 9pt; }
  .foot { margin-top: 8pt; font-size: 9.5pt; font-style: italic; }
  .noprint { background: #eef; padding: 6pt; margin-bottom: 8pt; font-family: sans-serif; font-size: 10pt; }
  @media print { .noprint { display: none; } }
</style>
</head>
<body>
<p class="noprint">Khổ A4 ngang (Ctrl+P). Sổ có thông tin cá nhân của công dân: chỉ in khi cần, bảo quản như hồ sơ vụ việc.</p>
<div class="head">
  <div>${e(d.organisation.authority)}<br><span class="issuer">${e(d.organisation.issuer)}</span></div>
  <div><span class="motto">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</span><br><b>Độc lập - Tự do - Hạnh phúc</b></div>
</div>
<h1>SỔ TIẾP CÔNG DÂN</h1>
<p class="sub">(Mẫu số 03/TCD) — từ ngày ${e(dmy(d.from))} đến ngày ${e(dmy(d.to))} — ${d.entries.length} lượt tiếp</p>
<table>
<colgroup><col style="width:4%"><col style="width:7%"><col style="width:11%"><col style="width:9%"><col style="width:14%"><col style="width:7%"><col style="width:9%"><col style="width:7%"><col style="width:7%"><col style="width:7%"><col style="width:8%"><col style="width:10%"></colgroup>
<thead>
<tr><th rowspan="2">STT</th><th rowspan="2">Ngày tiếp</th><th rowspan="2">Họ tên – Địa chỉ</th><th rowspan="2">Số căn cước / hộ chiếu</th><th rowspan="2">Nội dung vụ việc</th><th rowspan="2">Phân loại đơn / Số người</th><th rowspan="2">Cơ quan đã giải quyết</th><th colspan="3">Hướng xử lý</th><th rowspan="2">Theo dõi kết quả giải quyết</th><th rowspan="2">Ghi chú</th></tr>
<tr><th>Thụ lý để giải quyết</th><th>Trả lại đơn và hướng dẫn</th><th>Chuyển đơn</th></tr>
<tr class="num">${Array.from({ length: 12 }, (_, i) => `<th>(${i + 1})</th>`).join('')}</tr>
</thead>
<tbody>
${rows || '<tr><td colspan="12" style="text-align:center">Không có lượt tiếp nào trong kỳ.</td></tr>'}
</tbody>
</table>
<p class="foot">In ngày ${e(dmy(d.printedOn))} từ hệ thống tiếp công dân trực tuyến.</p>
</body>
</html>
`;
}

export class RegisterStore {
  readonly #db: AfterSittingDb;
  /** The base pool: the audit log opens its own transaction only when handed this one. */
  readonly #baseDb: Db;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(deps: { db: Db; audit: AuditLog; clock: Clock }) {
    this.#db = withAfterSitting(deps.db);
    this.#baseDb = deps.db;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
  }

  #query(executor: AfterSittingDb = this.#db) {
    // Lines of one sitting follow its agenda order.
    return executor
      .selectFrom('register_entries')
      .innerJoin('cases', 'cases.id', 'register_entries.case_id')
      .leftJoin('session_cases', (j) => j.onRef('session_cases.session_id', '=', 'register_entries.session_id').onRef('session_cases.case_id', '=', 'register_entries.case_id'))
      .selectAll('register_entries')
      .select('cases.reference');
  }

  async list(filter: { from: string; to: string; sessionId?: string }, page: Page, role: UserRole | undefined): Promise<Paged<RegisterEntryView>> {
    checkPeriod(filter.from, filter.to);
    let q = this.#db.selectFrom('register_entries').where('reception_date', '>=', filter.from).where('reception_date', '<=', filter.to);
    if (filter.sessionId !== undefined) q = q.where('session_id', '=', filter.sessionId);
    const total = Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    let rows = this.#query().where('register_entries.reception_date', '>=', filter.from).where('register_entries.reception_date', '<=', filter.to);
    if (filter.sessionId !== undefined) rows = rows.where('register_entries.session_id', '=', filter.sessionId);
    const items = await rows.orderBy('register_entries.reception_date').orderBy('register_entries.created_at').orderBy('session_cases.position').orderBy('register_entries.id').limit(page.limit).offset(page.offset).execute();
    return { items: items.map((r) => view(r, role)), total, ...page };
  }

  /** Every line of a period, for a print or an export (REGISTER_TOO_LARGE beyond MAX_EXPORT_ROWS). */
  async period(actor: Actor, from: string, to: string, format: string): Promise<RegisterEntryView[]> {
    checkPeriod(from, to);
    const rows = await this.#query()
      .where('register_entries.reception_date', '>=', from)
      .where('register_entries.reception_date', '<=', to)
      .orderBy('register_entries.reception_date')
      .orderBy('register_entries.created_at')
      .orderBy('session_cases.position')
      .orderBy('register_entries.id')
      .limit(MAX_EXPORT_ROWS + 1)
      .execute();
    if (rows.length > MAX_EXPORT_ROWS) throw new TiepdanError('REGISTER_TOO_LARGE', `more than ${MAX_EXPORT_ROWS} lines in this period: print or export a shorter one`, { details: [{ field: '/to', message: 'period too long' }] });
    const entries = rows.map((r) => view(r, actor.role));
    // The sổ leaves the system with people's data in it: who took which period, in which form.
    await this.#audit.append(this.#baseDb, actor, {
      action: 'register.export',
      entity: 'register',
      entityId: `${from}..${to}`,
      after: { format, from, to, lines: entries.length, withPersonalData: entries.filter((e) => !e.personalDataHidden).length },
    });
    return entries;
  }

  async get(id: string, role: UserRole | undefined): Promise<RegisterEntryView> {
    const r = await this.#query().where('register_entries.id', '=', id).executeTakeFirst();
    if (r === undefined) throw notFound('register entry', id);
    return view(r, role);
  }

  /** The reception board corrects a line; from then on the fill from outcomes leaves it alone (but its "hướng xử lý"). */
  async update(actor: Actor, id: string, patch: RegisterPatch): Promise<RegisterEntryView> {
    return this.#db.transaction().execute(async (trx) => {
      const before = await this.#query(trx).where('register_entries.id', '=', id).forUpdate('register_entries').executeTakeFirst();
      if (before === undefined) throw notFound('register entry', id);
      // Same rule as reading: a line whose people this role may not see is not theirs to write.
      if (!canSeePersonalData(actor.role, before.case_type)) throw forbidden('REGISTER_ENTRY_CONFIDENTIAL', 'this line belongs to a case whose people your role may not see');
      const set = {
        ...(patch.receptionDate !== undefined ? { reception_date: patch.receptionDate } : {}),
        ...(patch.namesAddresses !== undefined ? { names_addresses: patch.namesAddresses } : {}),
        ...(patch.idNumbers !== undefined ? { id_numbers: patch.idNumbers } : {}),
        ...(patch.content !== undefined ? { content: patch.content } : {}),
        ...(patch.classification !== undefined ? { classification: patch.classification } : {}),
        ...(patch.groupSize !== undefined ? { group_size: patch.groupSize } : {}),
        ...(patch.agenciesHandled !== undefined ? { agencies_handled: patch.agenciesHandled } : {}),
        ...(patch.handling !== undefined ? { handling: patch.handling } : {}),
        ...(patch.handlingDetail !== undefined ? { handling_detail: patch.handlingDetail } : {}),
        ...(patch.resultTracking !== undefined ? { result_tracking: patch.resultTracking } : {}),
        ...(patch.note !== undefined ? { note: patch.note } : {}),
      };
      await trx
        .updateTable('register_entries')
        .set({ ...set, edited_by: actor.kind === 'user' ? actor.id : `${actor.kind}:${actor.id}`, edited_at: this.#clock() })
        .where('id', '=', id)
        .execute();
      const after = await this.#query(trx).where('register_entries.id', '=', id).executeTakeFirstOrThrow();
      // Snapshots without the people's columns (the audit's view), plus which fields changed and their fingerprints.
      const fingerprints = Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, createHash('sha256').update(String(v)).digest('hex').slice(0, 16)]));
      await this.#audit.append(auditExecutor(trx), actor, { action: 'register.update', entity: 'register_entry', entityId: id, before: auditView(before), after: { ...auditView(after), changed: fingerprints } });
      return view(after, actor.role);
    });
  }
}
