import QRCode from 'qrcode';
import { localDate, localTime } from '../common/clock.ts';
import { CASE_TYPE_LABEL, documentDate } from '../afterSitting/labels.ts';
import type { InvitationView } from './invitationService.ts';
import { formatJoinCode } from './joinCode.ts';

/**
 * The printable invitation (giấy mời): an A4 HTML page that prints cleanly from any browser
 * (no external fonts, scripts or images, so it works offline). It carries what Quy chế Điều
 * 6.1.c asks for (the session, the login information, the test and rehearsal times, the list of
 * participating bridge points) in the layout of an administrative document (NĐ 30/2020, law
 * review §3, from memory: confirm): parent body in regular type over the issuing body in bold,
 * "Số: …/GM-BTCD" left for the văn thư's register number, place and date, Kính gửi, the thành
 * phần and the nội dung (the cases by reference and type only: the giấy mời goes to every point,
 * and a case's people are not theirs to read), Nơi nhận and the signer.
 *
 * The login is a QR code and a short typed code (joinCode.ts): a 300-character token cannot be
 * typed from paper. Both lead to /m/<code>, which exchanges the code for the token; the full
 * links stay as the targets of the PDF's links, for the copy sent electronically.
 */
export interface PrintableData {
  invitation: InvitationView & { token: string };
  organisation: { authority: string; issuer: string; place: string; issuerName: string; documentSymbol: string; signerTitle: string; signerName: string };
  session: {
    title: string;
    scheduledStart: string;
    scheduledEnd: string;
    location: string;
    chairTitle: string;
    cases: { reference: string; type: string }[];
    participants: { role: string; label: string; bridgePointId: string | null }[];
  };
  slots: { label: string; startsAt: string }[];
  bridgePoints: { id?: string; code: string; name: string }[];
  joinUrl: string;
  /** The pre-flight test page for the same invitation. */
  testUrl: string;
  /** The invitation's short code and the page it is typed on (`<origin>/m`). */
  joinCode: string;
  codePageUrl: string;
  /** The QR code of `<codePageUrl>/<joinCode>`, as inline SVG (qrSvg). */
  qrSvg: string;
  issuedOn: Date;
}

const ROLE_LABELS: Record<string, string> = {
  host: 'Người chủ trì buổi tiếp',
  central: 'Điểm cầu trung tâm',
  endpoint: 'Điểm cầu thành phần',
  observer: 'Đại biểu dự (theo dõi)',
  technician: 'Kỹ thuật viên',
};

const ACRONYMS = new Set(['UBND', 'HĐND', 'TCD', 'MTTQ']);
const WEEKDAYS = ['Chủ nhật', 'thứ Hai', 'thứ Ba', 'thứ Tư', 'thứ Năm', 'thứ Sáu', 'thứ Bảy'];

/**
 * The issuer's name inside a sentence: the header prints it in capitals, the text as a proper name
 * ("Ban Tiếp công dân tỉnh", as the Quy chế writes it), not "Ban tiếp công dân tỉnh".
 */
export function properName(upper: string): string {
  const original = upper.split(/\s+/).filter((w) => w !== '');
  const words = original.map((w) => w.toLocaleLowerCase('vi'));
  // After a generic head ("Ban", "Sở", "Văn phòng", "Ủy ban nhân dân") the body's own name starts.
  const heads = [['ban'], ['sở'], ['văn', 'phòng'], ['ủy', 'ban', 'nhân', 'dân'], ['uỷ', 'ban', 'nhân', 'dân']];
  const head = heads.find((h) => h.every((w, i) => words[i] === w))?.length ?? 0;
  const cap = (w: string) => w.charAt(0).toLocaleUpperCase('vi') + w.slice(1);
  // Abbreviations (UBND, HĐND) stay in capitals.
  return words.map((w, i) => (ACRONYMS.has(original[i]!) ? original[i]! : i === 0 || (head > 0 && i === head) ? cap(w) : w)).join(' ');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** "08 giờ 00, thứ Tư, ngày 15/4/2026": the customary way of writing a meeting's time. */
export function meetingTime(at: Date): string {
  const date = localDate(at);
  const [hh, mm] = localTime(at).split(':');
  const month = Number(date.slice(5, 7));
  const weekday = WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]!;
  return `${hh} giờ ${mm}, ${weekday}, ngày ${date.slice(8, 10)}/${month < 3 ? String(month).padStart(2, '0') : month}/${date.slice(0, 4)}`;
}

/** The QR code of a URL as inline SVG: no image file, so the page still prints offline. */
export function qrSvg(url: string): Promise<string> {
  return QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export function renderInvitationHtml(d: PrintableData): string {
  const e = escapeHtml;
  const start = new Date(d.session.scheduledStart);
  const end = new Date(d.session.scheduledEnd);
  const inv = d.invitation;
  const roleLabel = ROLE_LABELS[inv.role] ?? inv.role;
  const pointName = new Map(d.bridgePoints.filter((b) => b.id !== undefined).map((b) => [b.id!, b.name]));
  // A point's invitation is addressed to the point; a person's names the role only when the label does not already say it.
  const recipient = inv.participantId === null || inv.displayName === roleLabel || inv.displayName.startsWith(roleLabel) ? inv.displayName : `${inv.displayName} (${roleLabel})`;
  const code = formatJoinCode(d.joinCode);
  const codeUrl = `${d.codePageUrl}/${d.joinCode}`;
  const endTime = localTime(end).replace(':', ' giờ ');
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>Giấy mời — ${e(d.session.title)} — ${e(inv.displayName)}</title>
<style>
  @page { size: A4; margin: 20mm 15mm 20mm 30mm; }
  * { box-sizing: border-box; }
  body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 13pt; line-height: 1.4; color: #000; margin: 0; }
  main { max-width: 165mm; margin: 0 auto; padding: 6mm 0; }
  .head { display: grid; grid-template-columns: 42% 58%; text-align: center; font-size: 10.5pt; }
  .head .authority, .head .motto { white-space: nowrap; }
  .head .issuer, .head .motto { font-weight: bold; }
  .line { width: 35%; margin: 1pt auto 4pt; border-top: 1px solid #000; }
  .number { font-size: 12.5pt; }
  .date { font-style: italic; font-size: 12.5pt; }
  h1 { text-align: center; font-size: 14pt; margin: 14pt 0 0; }
  .sub { text-align: center; font-weight: bold; margin: 0 0 10pt; }
  .to { text-align: center; margin: 0 0 8pt; }
  p { margin: 0 0 5pt; text-align: justify; }
  table { width: 100%; border-collapse: collapse; margin: 3pt 0 8pt; page-break-inside: avoid; }
  th, td { border: 1px solid #000; padding: 2pt 5pt; text-align: left; vertical-align: top; font-size: 12pt; }
  .login { display: grid; grid-template-columns: 38mm 1fr; gap: 5mm; border: 2px solid #000; padding: 4mm; margin: 8pt 0; page-break-inside: avoid; }
  .login svg { width: 38mm; height: 38mm; display: block; }
  .code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 17pt; font-weight: bold; }
  .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 11pt; }
  a { color: #000; text-decoration: none; }
  .note { font-size: 11.5pt; }
  .sign { display: grid; grid-template-columns: 50% 50%; margin-top: 12pt; page-break-inside: avoid; }
  .sign .recipients { font-size: 11pt; }
  .sign .recipients p { margin: 0; }
  .sign .recipients b { font-style: italic; font-size: 12pt; }
  .sign .signer { text-align: center; font-weight: bold; }
  .sign .signer .space { height: 24mm; }
  .noprint { background: #eef; padding: 6pt; margin-bottom: 8pt; font-family: sans-serif; font-size: 10pt; }
  @media print { .noprint { display: none; } main { padding: 0; } }
</style>
</head>
<body>
<main>
<p class="noprint">Trang này in được trên khổ A4 (Ctrl+P). Mã QR và mã vào buổi tiếp là thông tin đăng nhập: chỉ giao cho nơi được mời.</p>
<div class="head">
  <div><span class="authority">${e(d.organisation.authority)}</span><br><span class="issuer">${e(d.organisation.issuer)}</span><div class="line"></div><span class="number">Số: &hellip;&hellip;/${e(d.organisation.documentSymbol)}</span></div>
  <div><span class="motto">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</span><br><b>Độc lập - Tự do - Hạnh phúc</b><div class="line"></div><span class="date">${e(d.organisation.place)}, ${e(documentDate(localDate(d.issuedOn)))}</span></div>
</div>
<h1>GIẤY MỜI</h1>
<p class="sub">Tham dự buổi tiếp công dân trực tuyến</p>
<p class="to">Kính gửi: <b>${e(recipient)}</b></p>
<p>${e(d.organisation.issuerName)} trân trọng kính mời tham dự buổi tiếp công dân trực tuyến <b>${e(d.session.title)}</b>${d.session.chairTitle ? `, do ${e(d.session.chairTitle)} chủ trì` : ''}, như sau:</p>
<p><b>1. Thời gian:</b> từ ${e(meetingTime(start))} đến ${e(endTime)}.</p>
<p><b>2. Địa điểm:</b> điểm cầu trung tâm tại ${e(d.session.location || 'Trụ sở Tiếp công dân tỉnh')}, kết nối trực tuyến với ${d.bridgePoints.length} điểm cầu (danh sách dưới đây).</p>
<p><b>3. Nội dung:</b> tiếp công dân đối với ${d.session.cases.length} vụ việc${d.session.cases.length > 0 ? ':' : '.'}</p>
${
  d.session.cases.length > 0
    ? `<table>
  <tr><th style="width:8%">TT</th><th style="width:40%">Số hồ sơ</th><th>Loại vụ việc</th></tr>
  ${d.session.cases.map((c, i) => `<tr><td>${i + 1}</td><td>${e(c.reference)}</td><td>${e(CASE_TYPE_LABEL[c.type] ?? c.type)}</td></tr>`).join('\n  ')}
</table>`
    : ''
}
<p><b>4. Thành phần:</b></p>
<table>
  <tr><th style="width:8%">TT</th><th>Điểm cầu</th><th style="width:45%">Người tham dự</th></tr>
  ${d.bridgePoints
    .map((b, i) => {
      const here = d.session.participants.filter((p) => b.id !== undefined && p.bridgePointId === b.id).map((p) => `${p.label} (${ROLE_LABELS[p.role] ?? p.role})`);
      return `<tr><td>${i + 1}</td><td>${e(b.name)}</td><td>${e(here.join('; '))}</td></tr>`;
    })
    .join('\n  ')}
  ${d.session.participants
    .filter((p) => p.bridgePointId === null || !pointName.has(p.bridgePointId))
    .map((p) => `<tr><td></td><td>${e(p.label)}</td><td>${e(ROLE_LABELS[p.role] ?? p.role)}</td></tr>`)
    .join('\n  ')}
</table>
<p><b>5. Lịch kiểm thử và tổng duyệt</b> (các điểm cầu kết nối đúng giờ, bật camera và micrô):</p>
<table>
  <tr><th>Nội dung</th><th style="width:45%">Thời gian</th></tr>
  ${d.slots.map((s) => `<tr><td>${e(s.label)}</td><td>${e(meetingTime(new Date(s.startsAt)))}</td></tr>`).join('\n  ')}
</table>
<div class="login">
  <a href="${e(d.joinUrl)}" aria-label="Mã QR vào buổi tiếp">${d.qrSvg}</a>
  <div>
    <b>Thông tin đăng nhập hệ thống</b><br>
    Quét mã QR bằng điện thoại hoặc máy tính bảng, hoặc mở trên máy tính:<br>
    <a class="mono" href="${e(d.joinUrl)}">${e(d.codePageUrl)}</a><br>
    và nhập mã vào buổi tiếp: <span class="code" id="join-code">${e(code)}</span><br>
    Kiểm thử kết nối: <a class="mono" href="${e(d.testUrl)}">${e(codeUrl)}/kiem-thu</a><br>
    <span class="note">Mã chỉ dùng cho ${e(inv.displayName)} trong buổi tiếp này, hết hạn lúc ${e(meetingTime(new Date(inv.expiresAt)))}.</span>
  </div>
</div>
<p class="note">Đề nghị các điểm cầu phối hợp thiết lập phòng họp trực tuyến và tham gia kiểm thử theo lịch trên (Quy chế tiếp công dân trực tuyến, Điều 6 và Điều 9). Không ghi âm, ghi hình, phát trực tiếp buổi tiếp khi chưa được người chủ trì cho phép.</p>
<div class="sign">
  <div class="recipients"><b>Nơi nhận:</b><p>- Như trên;</p><p>- Các điểm cầu tham gia;</p><p>- Lưu: VT.</p></div>
  <div class="signer">${e(d.organisation.signerTitle.toUpperCase())}<div class="space"></div>${e(d.organisation.signerName)}</div>
</div>
</main>
</body>
</html>
`;
}
