import type { Generated } from 'kysely';
import type { ControlTables } from '../domain/controlTables.ts';

/**
 * Table types for kysely. Each migration that adds a table adds its interface here; features
 * extend DatabaseSchema with their own tables.
 */
export interface InstallationTable {
  id: Generated<number>;
  installation_id: string;
  created_at: Generated<Date>;
  schema_note: string;
}

/** Recordings (migration 0300, src/recording): head hash anchor, retention, legal hold. */
export interface RecordingsTable {
  session_id: string;
  status: 'recording' | 'complete' | 'interrupted' | 'stopped' | 'disk-full' | 'deleted';
  started_at: Generated<Date>;
  closed_at: Date | null;
  head_hash: string | null;
  bytes: Generated<string>;
  retention_until: string | null;
  legal_hold: Generated<boolean>;
  legal_hold_reason: Generated<string>;
  archived_at: Date | null;
  deleted_at: Date | null;
  deleted_by: string | null;
}

/** The audit chain's switch point to keyed hashes (migration 0400, src/domain/audit). */
export interface AuditChainTable {
  id: Generated<number>;
  keyed_from_seq: string;
  algorithm: Generated<string>;
  created_at: Generated<Date>;
}

// ControlTables: the control API's tables (migrations 0100–0103, src/domain/controlTables.ts).
export interface DatabaseSchema extends ControlTables {
  installation: InstallationTable;
  recordings: RecordingsTable;
  audit_chain: AuditChainTable;
}
