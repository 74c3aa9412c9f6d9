import { formatLocal, localDate } from '../common/clock.ts';
import type { InvitationView } from './invitationService.ts';

/**
 * The printable invitation (giấy mời): an A4 HTML page that prints cleanly from any browser
 * (no external fonts, scripts or images, so it works offline). It carries what Quy chế Điều
 * 6.1.c asks for: the session, the login information, the test and rehearsal times, the session
 * time and the list of participating bridge points.
 */
export interface PrintableData {
  invitation: InvitationView & { token: string };
  organisation: { authority: string; issuer: string; place: string };
  session: { title: string; scheduledStart: string; scheduledEnd: string; location: string; chairTitle: string };
  slots: { label: string; startsAt: string }[];
  bridgePoints: { code: string; name: string }[];
  joinUrl: string;
  /** The pre-flight test page for the same invitation. */
  testUrl: string;
  issuedOn: Date;
}

const ROLE_LABELS: Record<string, string> = {
  host: 'Chủ trì buổi tiếp',
  central: 'Điểm cầu trung tâm',
  endpoint: 'Điểm cầu thành phần',
  observer: 'Đại biểu dự (theo dõi)',
  technician: 'Kỹ thuật viên',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderInvitationHtml(d: PrintableData): string {
  const e = escapeHtml;
  const date = localDate(d.issuedOn);
  const token = d.invitation.token;
  const tokenChunks = token.match(/.{1,64}/g) ?? [token];
  const start = new Date(d.session.scheduledStart);
  const end = new Date(d.session.scheduledEnd);
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>Giấy mời — ${e(d.session.title)} — ${e(d.invitation.displayName)}</title>
<style>
  @page { size: A4; margin: 20mm 20mm 20mm 30mm; }
  * { box-sizing: border-box; }
  body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 13pt; line-height: 1.45; color: #000; margin: 0; }
  main { max-width: 170mm; margin: 0 auto; padding: 10mm 0; }
  .head { display: grid; grid-template-columns: 42% 58%; text-align: center; font-size: 11.5pt; }
  .head .motto { white-space: nowrap; }
  .head b { display: block; }
  .head .motto { font-weight: bold; }
  .head .line { width: 40%; margin: 2pt auto 0; border-top: 1px solid #000; }
  .date { text-align: right; font-style: italic; margin: 8pt 0 14pt; }
  h1 { text-align: center; font-size: 15pt; margin: 10pt 0 2pt; letter-spacing: .5pt; }
  .sub { text-align: center; font-weight: bold; margin-bottom: 14pt; }
  table { width: 100%; border-collapse: collapse; margin: 6pt 0 10pt; page-break-inside: avoid; }
  th, td { border: 1px solid #000; padding: 3pt 6pt; text-align: left; vertical-align: top; font-size: 12pt; }
  .login { border: 2px solid #000; padding: 8pt 10pt; margin: 10pt 0; page-break-inside: avoid; }
  .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 9.5pt; word-break: break-all; }
  .note { font-size: 11.5pt; }
  .sign { margin-top: 24pt; display: grid; grid-template-columns: 1fr 1fr; }
  .sign div:last-child { text-align: center; font-weight: bold; }
  .noprint { background: #eef; padding: 6pt; margin-bottom: 8pt; font-family: sans-serif; font-size: 10pt; }
  @media print { .noprint { display: none; } main { padding: 0; } }
</style>
</head>
<body>
<main>
<p class="noprint">Trang này in được trên khổ A4 (Ctrl+P). Thông tin đăng nhập là bí mật: chỉ giao cho điểm cầu được mời.</p>
<div class="head">
  <div><b>${e(d.organisation.authority)}</b><b>${e(d.organisation.issuer)}</b><div class="line"></div></div>
  <div><span class="motto">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</span><br><b>Độc lập - Tự do - Hạnh phúc</b><div class="line"></div></div>
</div>
<p class="date">${e(d.organisation.place)}, ngày ${date.slice(8, 10)} tháng ${date.slice(5, 7)} năm ${date.slice(0, 4)}</p>
<h1>GIẤY MỜI</h1>
<p class="sub">Tham dự buổi tiếp công dân trực tuyến</p>
<p>Kính gửi: <b>${e(d.invitation.displayName)}</b> (${e(ROLE_LABELS[d.invitation.role] ?? d.invitation.role)}).</p>
<p>${e(d.organisation.issuer.charAt(0) + d.organisation.issuer.slice(1).toLowerCase())} trân trọng kính mời tham dự buổi tiếp công dân trực tuyến: <b>${e(d.session.title)}</b>${d.session.chairTitle ? `, do ${e(d.session.chairTitle)} chủ trì` : ''}.</p>
<table>
  <tr><th style="width:35%">Thời gian buổi tiếp</th><td>${e(formatLocal(start))} – ${e(formatLocal(end).slice(11))}</td></tr>
  <tr><th>Điểm cầu trung tâm</th><td>${e(d.session.location || 'Trụ sở Tiếp công dân tỉnh')}</td></tr>
</table>
<p><b>Lịch kiểm thử và tổng duyệt</b> (các điểm cầu kết nối đúng giờ, bật camera và micro):</p>
<table>
  <tr><th>Nội dung</th><th style="width:35%">Thời gian</th></tr>
  ${d.slots.map((s) => `<tr><td>${e(s.label)}</td><td>${e(formatLocal(new Date(s.startsAt)))}</td></tr>`).join('\n  ')}
</table>
<div class="login">
  <b>Thông tin đăng nhập hệ thống</b><br>
  Kiểm thử kết nối: <span class="mono">${e(d.testUrl)}</span><br>
  Vào buổi tiếp: <span class="mono">${e(d.joinUrl)}</span><br>
  Mã truy cập (nếu được hỏi):<br>
  <span class="mono">${tokenChunks.map(e).join('<br>')}</span><br>
  <span class="note">Mã chỉ dùng cho buổi tiếp này, hết hạn lúc ${e(formatLocal(new Date(d.invitation.expiresAt)))}.</span>
</div>
<p><b>Các điểm cầu tham gia</b> (${d.bridgePoints.length} điểm cầu):</p>
<table>
  <tr><th style="width:8%">TT</th><th>Điểm cầu</th></tr>
  ${d.bridgePoints.map((b, i) => `<tr><td>${i + 1}</td><td>${e(b.name)}</td></tr>`).join('\n  ')}
</table>
<p class="note">Đề nghị các điểm cầu phối hợp thiết lập phòng họp trực tuyến và tham gia kiểm thử theo lịch trên (Quy chế tiếp công dân trực tuyến, Điều 6 và Điều 9). Không ghi âm, ghi hình, phát trực tiếp buổi tiếp khi chưa được người chủ trì cho phép.</p>
<div class="sign"><div></div><div>${e(d.organisation.issuer)}</div></div>
</main>
</body>
</html>
`;
}
