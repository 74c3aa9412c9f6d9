import type { Db } from '../db/database.ts';
import type { AuditLog } from '../domain/audit/auditLog.ts';
import type { LiveAudit } from './methods.ts';

/**
 * The live side's moderation actions (admit, mute, eject, end) in the control API's audit chain,
 * as `session` entries with the acting user or invitation (security review H3). Recording start
 * and stop are audited by the recording service itself, with the same actor.
 */
export function auditLiveActions(audit: Pick<AuditLog, 'append'>, db: Db): LiveAudit {
  return {
    async record(actor, action, sessionId, details) {
      await audit.append(db, actor, { action, entity: 'session', entityId: sessionId, after: details });
    },
  };
}
