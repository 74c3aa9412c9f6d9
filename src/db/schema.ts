import type { ColumnType, Generated } from 'kysely';
import type { ControlTables } from './controlTables.ts';

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

/** JSON as pg returns it (parsed) and as it is written (text, so arrays are not taken for PG arrays). */
export type JsonColumn<T> = ColumnType<T, string, string>;
export type NullableJsonColumn<T> = ColumnType<T | null, string | null, string | null>;

/** The live store (migration 0550, src/store/PgLiveStore.ts): an invitation the host ejected. */
export interface LiveEjectionsTable {
  session_id: string;
  token_id: string;
  ejected_at: Generated<Date>;
}

/** The live store: a session the host ended from the room. */
export interface LiveEndedSessionsTable {
  session_id: string;
  ended_at: Generated<Date>;
}

/** The live store: a named lease (the recorder of a session), held until `expires_at` unless renewed. */
export interface LiveLeasesTable {
  name: string;
  holder: string;
  acquired_at: Generated<Date>;
  expires_at: Date;
}

/** The live store: a recording job (playable copy, verification, export) and its outcome. */
export interface RecordingJobsTable {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  session_ids: string[];
  progress: JsonColumn<unknown>;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  result: NullableJsonColumn<unknown>;
  error: NullableJsonColumn<unknown>;
}

/** The live store: a fixed-window counter of attempts (logins, join-code guesses) per scope and key. */
export interface LoginAttemptsTable {
  scope: string;
  key: string;
  count: number;
  window_start: Date;
  resets_at: Date;
}

// ControlTables: the control API's tables (migrations 0100–0103, src/db/controlTables.ts).
export interface DatabaseSchema extends ControlTables {
  installation: InstallationTable;
  recordings: RecordingsTable;
  audit_chain: AuditChainTable;
  live_ejections: LiveEjectionsTable;
  live_ended_sessions: LiveEndedSessionsTable;
  live_leases: LiveLeasesTable;
  recording_jobs: RecordingJobsTable;
  login_attempts: LoginAttemptsTable;
}
