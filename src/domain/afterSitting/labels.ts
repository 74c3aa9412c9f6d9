/**
 * The law's words for the codes, as printed on the sổ, the notice and the exports (server-side
 * documents are Vietnamese only: they are the province's official papers). Terms: law review §3.
 */
export const CASE_TYPE_LABEL: Record<string, string> = { khieu_nai: 'Khiếu nại', to_cao: 'Tố cáo', kien_nghi: 'Kiến nghị', phan_anh: 'Phản ánh' };

export const OUTCOME_LABEL: Record<string, string> = {
  thu_ly: 'Thụ lý để giải quyết',
  chuyen_don: 'Chuyển đơn đến cơ quan có thẩm quyền',
  huong_dan: 'Trả lại đơn và hướng dẫn',
  tra_loi_truc_tiep: 'Trả lời trực tiếp tại buổi tiếp',
  hen_tra_loi: 'Hẹn thời hạn trả lời',
  tu_choi: 'Từ chối tiếp công dân',
  khac: 'Khác',
};

/** Mẫu 03/TCD's "Hướng xử lý" column has three boxes; anything else is written out in "khác". */
export const HANDLING_LABEL: Record<string, string> = { thu_ly: 'Thụ lý để giải quyết', huong_dan: 'Trả lại đơn và hướng dẫn', chuyen_don: 'Chuyển đơn', khac: 'Khác' };

export const FOLLOW_UP_LABEL: Record<string, string> = {
  reply_to_citizen: 'Thông báo kết quả xử lý cho công dân (10 ngày làm việc)',
  chair_deadline: 'Trả lời theo thời hạn người chủ trì hẹn',
  handling_limit: 'Thời hạn xử lý 45 ngày',
};

/** dd/mm/yyyy, as dates are written in Vietnamese tables. */
export const dmy = (date: string | null): string => (date ? `${date.slice(8, 10)}/${date.slice(5, 7)}/${date.slice(0, 4)}` : '');

/**
 * "ngày 05 tháng 4 năm 2026": NĐ 30/2020 pads the day below 10 and the months 1 and 2 only
 * (law review §3, from memory: confirm against the decree).
 */
export function documentDate(date: string): string {
  const day = date.slice(8, 10);
  const month = Number(date.slice(5, 7));
  return `ngày ${day} tháng ${month < 3 ? String(month).padStart(2, '0') : String(month)} năm ${date.slice(0, 4)}`;
}
