import type { Db } from '../../db/database.ts';
import { formatLocal, localDate } from '../common/clock.ts';
import { notFound } from '../common/errors.ts';
import { escapeHtml } from '../invitations/printableInvitation.ts';
import type { SettingsStore } from '../settings/controlSettings.ts';
import { CASE_TYPE_LABEL, dmy, OUTCOME_LABEL } from './labels.ts';
import type { OutcomeService } from './outcomeService.ts';
import { withAfterSitting, type AfterSittingDb } from './tables.ts';

export interface MinutesVersionView {
  version: number;
  sha256: string;
  length: number;
  writtenBy: string | null;
  writtenAt: string;
}

const PARTICIPANT_LABEL: Record<string, string> = { host: 'Người chủ trì', central: 'Điểm cầu trung tâm', endpoint: 'Điểm cầu thành phần', observer: 'Đại biểu dự (theo dõi)', technician: 'Kỹ thuật viên' };

/**
 * The biên bản in its official structure (issue 11 item 5): who attended at each point, the
 * content as written (one version of it, named by number and fingerprint), each case with the
 * chair's conclusion, and the signatures. Versions are append-only (migration 0520).
 */
export class MinutesPrint {
  readonly #db: AfterSittingDb;
  readonly #settings: SettingsStore;
  readonly #outcomes: OutcomeService;

  constructor(deps: { db: Db; settings: SettingsStore; outcomes: OutcomeService }) {
    this.#db = withAfterSitting(deps.db);
    this.#settings = deps.settings;
    this.#outcomes = deps.outcomes;
  }

  async versions(sessionId: string): Promise<MinutesVersionView[]> {
    const rows = await this.#db
      .selectFrom('minutes_versions')
      .select(['version', 'sha256', 'written_by', 'written_at', (eb) => eb.fn<number>('length', ['text']).as('length')])
      .where('session_id', '=', sessionId)
      .orderBy('version', 'desc')
      .limit(500)
      .execute();
    return rows.map((r) => ({ version: r.version, sha256: r.sha256, length: Number(r.length), writtenBy: r.written_by, writtenAt: r.written_at.toISOString() }));
  }

  async render(sessionId: string, version?: number): Promise<string> {
    const session = await this.#db.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
    if (session === undefined) throw notFound('session', sessionId);
    let q = this.#db.selectFrom('minutes_versions').selectAll().where('session_id', '=', sessionId);
    q = version === undefined ? q.orderBy('version', 'desc') : q.where('version', '=', version);
    const minutes = await q.limit(1).executeTakeFirst();
    if (version !== undefined && minutes === undefined) throw notFound('minutes version', String(version));
    const points = await this.#db
      .selectFrom('session_bridge_points')
      .innerJoin('bridge_points', 'bridge_points.id', 'session_bridge_points.bridge_point_id')
      .select(['bridge_points.id', 'bridge_points.code', 'bridge_points.name', 'bridge_points.kind'])
      .where('session_bridge_points.session_id', '=', sessionId)
      .orderBy('bridge_points.code')
      .limit(500)
      .execute();
    const people = await this.#db.selectFrom('session_participants').select(['role', 'label', 'bridge_point_id']).where('session_id', '=', sessionId).orderBy('label').limit(100).execute();
    const outcomes = await this.#outcomes.list(sessionId);
    const org = (await this.#settings.get()).organisation;
    const e = escapeHtml;
    const start = session.scheduled_start;
    const attendeesAt = (pointId: string | null) => people.filter((p) => p.bridge_point_id === pointId).map((p) => `${p.label} (${PARTICIPANT_LABEL[p.role] ?? p.role})`);
    const general = attendeesAt(null);
    const archived = session.status === 'archived';
    return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>Biên bản buổi tiếp công dân — ${e(session.title)}</title>
<style>
  @page { size: A4; margin: 20mm 15mm 20mm 30mm; }
  body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 13pt; line-height: 1.4; margin: 0; }
  .head { display: grid; grid-template-columns: 45% 55%; text-align: center; font-size: 10.5pt; }
  .head .issuer { font-weight: bold; }
  h1 { text-align: center; font-size: 14pt; margin: 16pt 0 0; }
  .sub { text-align: center; font-style: italic; margin: 0 0 10pt; }
  h2 { font-size: 13pt; margin: 10pt 0 4pt; }
  ul { margin: 0 0 4pt; }
  pre { white-space: pre-wrap; font-family: inherit; margin: 0; }
  .version { font-size: 10pt; font-style: italic; }
  .sign { display: grid; grid-template-columns: 1fr 1fr; text-align: center; font-weight: bold; margin-top: 16pt; page-break-inside: avoid; }
  .sign div { height: 32mm; }
</style>
</head>
<body>
<div class="head">
  <div>${e(org.authority)}<br><span class="issuer">${e(org.issuer)}</span></div>
  <div><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br><b>Độc lập - Tự do - Hạnh phúc</b></div>
</div>
<h1>BIÊN BẢN BUỔI TIẾP CÔNG DÂN TRỰC TUYẾN</h1>
<p class="sub">${e(session.title)}</p>
<p>Thời gian: ${e(formatLocal(start))}, ngày ${e(dmy(localDate(start)))}. Địa điểm: ${e(session.location || 'Trụ sở Tiếp công dân tỉnh')} (điểm cầu trung tâm).</p>
<p>Người chủ trì: ${e(session.chair_title || '—')}.</p>
<h2>I. Thành phần tham dự</h2>
${general.length > 0 ? `<ul>${general.map((a) => `<li>${e(a)}</li>`).join('')}</ul>` : ''}
${points.map((p) => `<p><b>${e(p.name)}</b> (${p.kind === 'central' ? 'điểm cầu trung tâm' : 'điểm cầu thành phần'})${attendeesAt(p.id).length > 0 ? ':' : '.'}</p>${attendeesAt(p.id).length > 0 ? `<ul>${attendeesAt(p.id).map((a) => `<li>${e(a)}</li>`).join('')}</ul>` : ''}`).join('\n')}
<h2>II. Nội dung</h2>
${minutes ? `<pre>${e(minutes.text)}</pre><p class="version">Bản ghi biên bản số ${minutes.version}, lưu lúc ${e(formatLocal(minutes.written_at))}; dấu vân tay SHA-256 ${e(minutes.sha256.slice(0, 16))}…${archived ? ' Buổi tiếp đã lưu trữ: biên bản không còn sửa được.' : ''}</p>` : '<p>Chưa có nội dung biên bản.</p>'}
<h2>III. Ý kiến kết luận của người chủ trì đối với từng vụ việc</h2>
${outcomes.map((o, i) => `<p><b>${i + 1}. ${e(o.reference)} (${e(CASE_TYPE_LABEL[o.type] ?? o.type)}): ${e(o.title)}</b></p><p>${e(o.conclusion || 'Chưa ghi kết luận.')}${o.outcome ? ` Hướng xử lý: ${e(OUTCOME_LABEL[o.outcome] ?? o.outcome)}.` : ''}${o.outcome === 'hen_tra_loi' ? ` Thời hạn trả lời: ${e(dmy(o.answerDeadline))}; người liên hệ: ${e(o.contactPerson)}.` : ''}${o.outcome === 'chuyen_don' ? ` Chuyển đến: ${e(o.transferTarget)}.` : ''}</p>`).join('\n')}
<div class="sign"><p>NGƯỜI GHI BIÊN BẢN</p><p>NGƯỜI CHỦ TRÌ</p></div>
</body>
</html>
`;
  }
}
