import type { ControlServices } from '../controlServices.ts';
import { NoticeService } from './conclusionNotice.ts';
import { FollowUpStore } from './followUpStore.ts';
import { MinutesPrint } from './minutesPrint.ts';
import { OutcomeService } from './outcomeService.ts';
import { RegisterStore } from './registerStore.ts';

/** What follows a sitting (issue 11): outcomes, the sổ, follow-ups and the conclusion notice, over the control services. */
export class AfterSittingServices {
  readonly outcomes: OutcomeService;
  readonly register: RegisterStore;
  readonly followUps: FollowUpStore;
  readonly notices: NoticeService;
  readonly minutes: MinutesPrint;

  constructor(control: ControlServices) {
    const base = { db: control.db, audit: control.audit, clock: control.clock };
    this.outcomes = new OutcomeService({ ...base, calendar: control.calendar });
    this.register = new RegisterStore(base);
    this.followUps = new FollowUpStore({ ...base, calendar: control.calendar });
    this.notices = new NoticeService({ ...base, settings: control.settings, outcomes: this.outcomes });
    this.minutes = new MinutesPrint({ db: control.db, settings: control.settings, outcomes: this.outcomes });
  }
}
