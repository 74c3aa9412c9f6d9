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
import { SessionService, type SessionView } from './sessions/sessionService.ts';
import { SessionListCache, type ListChangeSource } from './sessions/sessionListCache.ts';
import type { Paged } from './common/paging.ts';
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
  /**
   * Writes heard from every process (database.listen(SESSION_LIST_CHANNEL)): turns the session
   * list cache on and lets the settings and calendar caches hear other processes' writes.
   * Without it the list reads the database every time.
   */
  changes?: ListChangeSource;
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
  /** Session list answers (on with `changes`); the control API drops them after each write it serves. */
  readonly sessionListCache = new SessionListCache<Paged<SessionView>>();

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
    const changes = options.changes;
    if (changes !== undefined) {
      // Before the list cache's own listener: a list read after a change must see fresh settings and calendar.
      changes.on('change', (table) => {
        if (table === 'control_settings') this.settings.invalidate();
        if (table === 'calendar_days') this.calendar.invalidate();
      });
      changes.on('state', () => {
        this.settings.invalidate();
        this.calendar.invalidate();
      });
      this.sessionListCache.attach(changes);
    }
    this.sessions = new SessionService({
      db,
      listCache: this.sessionListCache,
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
