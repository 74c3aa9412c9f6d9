import type { Db } from '../db/database.ts';
import type { Logger } from '../logging/logger.ts';
import type { TokenSigner } from '../tokens/tokenSigner.ts';
import { AuditLog } from './audit/auditLog.ts';
import { AuthService, type AuthOptions } from './auth/authService.ts';
import { BridgePointStore } from './bridgePoints/bridgePointStore.ts';
import { CalendarStore } from './calendar/calendarStore.ts';
import { CaseStore } from './cases/caseStore.ts';
import { systemClock, type Clock } from './common/clock.ts';
import { InvitationService } from './invitations/invitationService.ts';
import { PdfRenderer } from './invitations/pdfRenderer.ts';
import { PreflightService } from './preflight/preflightService.ts';
import { PgSessionDirectory } from './sessions/PgSessionDirectory.ts';
import { SessionService } from './sessions/sessionService.ts';
import { SettingsStore } from './settings/controlSettings.ts';
import type { LiveStore } from '../store/LiveStore.ts';
import { PgLiveStore } from '../store/PgLiveStore.ts';

export interface ControlServiceOptions {
  db: Db;
  signer: TokenSigner;
  logger: Logger;
  /** DATA_DIR: the audit chain's key and anchor live there, outside the database. */
  dataDir: string;
  clock?: Clock;
  auth?: Partial<AuthOptions>;
  /** Login and guess counters across restarts (default: PostgreSQL on `db`; the server passes its one store). */
  liveStore?: LiveStore;
}

/** The control plane's domain services, wired together (no HTTP here). */
export class ControlServices {
  readonly db: Db;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly auth: AuthService;
  readonly settings: SettingsStore;
  readonly bridgePoints: BridgePointStore;
  readonly calendar: CalendarStore;
  readonly cases: CaseStore;
  readonly sessions: SessionService;
  readonly preflight: PreflightService;
  readonly invitations: InvitationService;
  readonly directory: PgSessionDirectory;
  readonly pdf: PdfRenderer;
  /** What must outlive the process; here for the attempt counters of login, join codes and pre-flight results. */
  readonly liveStore: LiveStore;

  constructor(options: ControlServiceOptions) {
    const db = options.db;
    const clock = options.clock ?? systemClock;
    this.liveStore = options.liveStore ?? new PgLiveStore(db);
    this.db = db;
    this.clock = clock;
    this.audit = new AuditLog(db, clock, { dataDir: options.dataDir, logger: options.logger });
    this.auth = new AuthService({ db, signer: options.signer, audit: this.audit, clock, logger: options.logger, ...(options.auth ? { options: options.auth } : {}) });
    this.settings = new SettingsStore(db, this.audit);
    this.bridgePoints = new BridgePointStore(db, this.audit, clock);
    this.calendar = new CalendarStore(db, this.audit, clock);
    // A case change that touches an approved proposal goes to the sessions carrying it (M8).
    this.cases = new CaseStore(db, this.audit, clock, (trx, actor, change) => this.sessions.returnForApproval(trx, actor, change));
    this.preflight = new PreflightService({ db, audit: this.audit, calendar: this.calendar, settings: this.settings, clock });
    // Invitations need sessions and sessions revoke invitations on cancel: a late-bound reference.
    let invitations: InvitationService | undefined;
    this.sessions = new SessionService({
      db,
      audit: this.audit,
      calendar: this.calendar,
      settings: this.settings,
      clock,
      testedGaps: (id) => this.preflight.testedGaps(id),
      goLiveGaps: (id) => this.preflight.goLiveGaps(id),
      onApproved: (trx, id) => this.preflight.generateSlots(trx, id),
      onClosed: (trx, id, reason) => invitations!.revokeAll(trx, id, reason),
    });
    invitations = new InvitationService({ db, signer: options.signer, audit: this.audit, settings: this.settings, sessions: this.sessions, clock });
    this.invitations = invitations;
    this.directory = new PgSessionDirectory(db);
    this.pdf = new PdfRenderer();
  }
}
