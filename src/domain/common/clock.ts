/** Injectable time source: rules depend on "today", and tests must be able to fix it. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** The province's time zone (Asia/Ho_Chi_Minh, UTC+7 all year, no daylight saving). */
export const LOCAL_OFFSET_MINUTES = 7 * 60;

/** The local calendar date (YYYY-MM-DD) of an instant. */
export function localDate(at: Date): string {
  return new Date(at.getTime() + LOCAL_OFFSET_MINUTES * 60_000).toISOString().slice(0, 10);
}

/** The local time of day (HH:MM) of an instant. */
export function localTime(at: Date): string {
  return new Date(at.getTime() + LOCAL_OFFSET_MINUTES * 60_000).toISOString().slice(11, 16);
}

/** The instant of a local date and time ("2026-03-16", "08:00"). */
export function localInstant(date: string, time: string): Date {
  return new Date(`${date}T${time}:00+07:00`);
}

/** "16/03/2026 08:00" — how dates are written on Vietnamese documents. */
export function formatLocal(at: Date): string {
  const d = localDate(at);
  return `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)} ${localTime(at)}`;
}
