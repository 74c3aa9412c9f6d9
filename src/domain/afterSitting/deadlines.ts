import { FOLLOW_UP_KINDS, type FollowUpKind } from '../../contract/views/afterSitting.ts';
import { addDays, type WorkingDayCalendar } from '../calendar/workingDays.ts';

/**
 * The n-th working day after `date` (date itself not counted), by bisection over the calendar's
 * arithmetic count (workingDaysBetween: whole weeks plus each exception), never a day-by-day walk:
 * about a dozen counts for any n the API admits. The answer is the first day d with
 * workingDaysBetween(date, d) = n, which is a working day by construction.
 */
export function nthWorkingDayAfter(cal: WorkingDayCalendar, date: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 400) throw new RangeError(`n must be an integer in 1..400, not ${n}`);
  // n working days fit in n·7/5 days plus a generous allowance for long holiday runs (Tết).
  let lo = 1;
  let hi = Math.ceil((n * 7) / 5) + 30;
  while (cal.workingDaysBetween(date, addDays(date, hi)) < n) hi *= 2;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (cal.workingDaysBetween(date, addDays(date, mid)) >= n) hi = mid;
    else lo = mid + 1;
  }
  return addDays(date, lo);
}

/** The legal timers a case's outcome starts (issue 11 item 4). */
export { FOLLOW_UP_KINDS, type FollowUpKind };

/** Luật Tiếp công dân Art 28(1): the citizen is told the handling result within 10 working days. */
export const REPLY_WORKING_DAYS = 10;
/**
 * N154 Art 41(3)(b) speaks of not handling a petition "trong thời hạn 45 ngày": days, not working
 * days, so this timer is counted on the calendar (the review asks to confirm the reading).
 */
export const HANDLING_LIMIT_DAYS = 45;
/** "Due soon": this many working days ahead or fewer. */
export const DUE_SOON_WORKING_DAYS = 3;

export interface PlannedFollowUp {
  kind: FollowUpKind;
  dueDate: string;
  basis: string;
}

/** Which timers an outcome starts, counted from the reception date. */
export function plannedFollowUps(cal: WorkingDayCalendar, receptionDate: string, outcome: string, answerDeadline: string | null): PlannedFollowUp[] {
  const out: PlannedFollowUp[] = [];
  // Answered at the sitting or refused: nothing is left to tell the citizen in writing.
  if (outcome !== 'tra_loi_truc_tiep' && outcome !== 'tu_choi') {
    out.push({ kind: 'reply_to_citizen', dueDate: nthWorkingDayAfter(cal, receptionDate, REPLY_WORKING_DAYS), basis: 'Luật Tiếp công dân, Điều 28 khoản 1: thông báo kết quả xử lý cho công dân trong 10 ngày làm việc' });
  }
  if (outcome === 'hen_tra_loi' && answerDeadline !== null) {
    out.push({ kind: 'chair_deadline', dueDate: answerDeadline, basis: 'Nghị định 154/2026/NĐ-CP, Điều 25 khoản 3: thời hạn trả lời do người chủ trì nêu' });
  }
  if (outcome === 'thu_ly') {
    out.push({ kind: 'handling_limit', dueDate: addDays(receptionDate, HANDLING_LIMIT_DAYS), basis: 'Nghị định 154/2026/NĐ-CP, Điều 41 khoản 3 điểm b: thời hạn 45 ngày xử lý đơn' });
  }
  return out;
}
