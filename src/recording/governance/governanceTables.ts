import type { Generated, Kysely, Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';

/**
 * Columns and the table of migration 0410 (retention and hold bookkeeping, deletion tombstones).
 * Kept next to the rules that use them; `governed()` adds them to the database's type.
 */
export type RecordingGovernanceColumns = {
  retention_set_by: string | null;
  retention_set_at: Date | null;
  legal_hold_set_by: string | null;
  legal_hold_set_at: Date | null;
  legal_hold_released_by: string | null;
  legal_hold_released_role: string | null;
  legal_hold_released_at: Date | null;
  legal_hold_release_reason: Generated<string>;
};

export type RecordingTombstonesTable = {
  session_id: string;
  deleted_at: Generated<Date>;
  deleted_by: string;
  deleted_by_label: string;
  deleted_by_role: string;
  reason: string;
  recording_status: string;
  started_at: string | null;
  ended_at: string | null;
  head_hash: string | null;
  manifest_sha256: string | null;
  entries: number;
  segments: number;
  bytes: string;
  /** A date column: selected as text (pg would make a local-midnight Date of it). */
  retention_until: string | null;
  retention_set_by: string | null;
  legal_hold_released_by: string | null;
  audit_seq: string | null;
};

// Type aliases, not interfaces: withTables() wants types with an implicit index signature.
export type GovernanceTables = {
  recordings: RecordingGovernanceColumns;
  recording_tombstones: RecordingTombstonesTable;
};

export type GovernedSchema = DatabaseSchema & GovernanceTables;
export type GovernedDb = Kysely<GovernedSchema>;

export function governed(db: Db): GovernedDb;
export function governed(db: Transaction<DatabaseSchema>): Transaction<GovernedSchema>;
export function governed(db: Db | Transaction<DatabaseSchema>): GovernedDb | Transaction<GovernedSchema> {
  return db.withTables<GovernanceTables>();
}
