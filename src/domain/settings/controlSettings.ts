import { z } from 'zod';
import type { Db } from '../../db/database.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Actor } from '../common/roles.ts';
import { safeText } from '../common/safeText.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

/** Settings an administrator may change at run time (kept in control_settings). */
export const controlSettingsSchema = z.object({
  /** Quy chế Điều 6.1.a: submit to the chairman at least this many working days before the session. */
  approvalLeadWorkingDays: z.number().int().min(0).max(30).default(5),
  preflight: z
    .object({
      /** Điều 6.1.b: test the day before (in working days) … */
      dayBeforeWorkingDays: z.number().int().min(1).max(5).default(1),
      dayBeforeTime: hhmm.default('14:00'),
      /** … and this many hours before the session. */
      hoursBefore: z.number().min(0.5).max(12).default(2),
      /** NĐ 154/2026: every point connected this many hours before (0 disables the slot). */
      allConnectedHoursBefore: z.number().min(0).max(6).default(1),
      /** Điều 6.1.c: rehearsal (tổng duyệt) on the test day, all points together. */
      rehearsalTime: hhmm.default('15:30'),
    })
    .default({ dayBeforeWorkingDays: 1, dayBeforeTime: '14:00', hoursBefore: 2, allConnectedHoursBefore: 1, rehearsalTime: '15:30' }),
  /** A test passes when connected, camera and microphone work, and these limits hold. */
  passCriteria: z
    .object({
      maxRttMs: z.number().positive().default(400),
      maxLossPct: z.number().min(0).max(100).default(5),
      minBitrateKbps: z.number().min(0).default(250),
    })
    .default({ maxRttMs: 400, maxLossPct: 5, minBitrateKbps: 250 }),
  /** Printed at the head of invitations. */
  organisation: z
    .object({
      authority: safeText(200).min(1).default('ỦY BAN NHÂN DÂN TỈNH GIA LAI'),
      issuer: safeText(200).min(1).default('BAN TIẾP CÔNG DÂN TỈNH'),
      place: safeText(100).min(1).default('Gia Lai'),
      /** The issuing body inside a sentence, in its own case ("Ban Tiếp công dân tỉnh trân trọng kính mời"). */
      issuerName: safeText(200).min(1).default('Ban Tiếp công dân tỉnh'),
      /** The document symbol after the register number: "Số: …/GM-BTCD" (the văn thư writes the number). */
      documentSymbol: safeText(40).min(1).default('GM-BTCD'),
      /** The signer's title and name under the text (NĐ 30/2020 layout); an empty name leaves room to write it. */
      signerTitle: safeText(100).min(1).default('TRƯỞNG BAN'),
      signerName: safeText(100).default(''),
    })
    .default({ authority: 'ỦY BAN NHÂN DÂN TỈNH GIA LAI', issuer: 'BAN TIẾP CÔNG DÂN TỈNH', place: 'Gia Lai', issuerName: 'Ban Tiếp công dân tỉnh', documentSymbol: 'GM-BTCD', signerTitle: 'TRƯỞNG BAN', signerName: '' }),
  /** Invitations stay valid this long after the scheduled end. */
  invitationGraceHours: z.number().min(0).max(72).default(4),
});
export type ControlSettings = z.infer<typeof controlSettingsSchema>;

const KEY = 'control';

export class SettingsStore {
  readonly #db: Db;
  readonly #audit: AuditLog;
  // Kept as the read's promise, as CalendarStore keeps its table: requests that miss at once share
  // one read, and `invalidate` during a read drops it (the read may predate the other's write).
  #cache: Promise<ControlSettings> | undefined;

  constructor(db: Db, audit: AuditLog) {
    this.#db = db;
    this.#audit = audit;
  }

  get(): Promise<ControlSettings> {
    if (this.#cache !== undefined) return this.#cache;
    const read = (async () => {
      const row = await this.#db.selectFrom('control_settings').select('value').where('key', '=', KEY).executeTakeFirst();
      const parsed = controlSettingsSchema.safeParse(row?.value ?? {});
      return parsed.success ? parsed.data : controlSettingsSchema.parse({});
    })();
    this.#cache = read;
    read.catch(() => {
      if (this.#cache === read) this.#cache = undefined;
    });
    return read;
  }

  /** Another process changed the settings (heard on the change feed, see ControlServices): read them again. */
  invalidate(): void {
    this.#cache = undefined;
  }

  async put(actor: Actor, value: ControlSettings): Promise<ControlSettings> {
    const before = await this.get();
    const next = controlSettingsSchema.parse(value);
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto('control_settings')
        .values({ key: KEY, value: JSON.stringify(next) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(next), updated_at: new Date() }))
        .execute();
      await this.#audit.append(trx, actor, { action: 'settings.update', entity: 'settings', entityId: KEY, before, after: next });
    });
    this.#cache = Promise.resolve(next);
    return next;
  }
}
