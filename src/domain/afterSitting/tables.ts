import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Db } from '../../db/database.ts';
import type { DatabaseSchema } from '../../db/schema.ts';

/** Table types of migration 0510 (issue 11, after the sitting). */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** A DATE column: pg returns a Date at local midnight; we write and compare YYYY-MM-DD strings. */
type DateColumn = ColumnType<Date | string, string, string>;

export interface SessionCaseOutcomesTable {
  session_id: string;
  case_id: string;
  outcome: string;
  conclusion: string;
  answer: string;
  answer_deadline: DateColumn | null;
  contact_person: string;
  transfer_target: string;
  document_number: string;
  document_date: DateColumn | null;
  updated_by: string;
  updated_at: Timestamp;
}

export interface RegisterEntriesTable {
  id: Generated<string>;
  session_id: string;
  case_id: string;
  case_type: string;
  reception_date: DateColumn;
  names_addresses: string;
  id_numbers: string;
  content: string;
  classification: string;
  group_size: number;
  agencies_handled: string;
  handling: string;
  handling_detail: string;
  result_tracking: string;
  note: string;
  edited_by: string | null;
  edited_at: Timestamp | null;
  created_at: CreatedTimestamp;
}

export interface FollowUpsTable {
  id: Generated<string>;
  session_id: string;
  case_id: string;
  kind: string;
  due_date: DateColumn;
  basis: string;
  status: Generated<string>;
  result: Generated<string>;
  done_at: Timestamp | null;
  done_by: string | null;
  created_at: CreatedTimestamp;
}

export interface ConclusionNoticesTable {
  id: Generated<string>;
  session_id: string;
  number: string;
  issued_date: DateColumn;
  signer_title: string;
  signer_name: string;
  recipients: string[];
  html: string;
  html_sha256: string;
  issued_by: string;
  issued_by_label: string;
  issued_at: CreatedTimestamp;
}

export interface MinutesVersionsTable {
  session_id: string;
  version: number;
  text: string;
  sha256: string;
  written_by: string | null;
  written_at: Timestamp;
}

export type AfterSittingTables = {
  minutes_versions: MinutesVersionsTable;
  session_case_outcomes: SessionCaseOutcomesTable;
  register_entries: RegisterEntriesTable;
  follow_ups: FollowUpsTable;
  conclusion_notices: ConclusionNoticesTable;
};

export type AfterSittingDb = Kysely<DatabaseSchema & AfterSittingTables>;

/** The shared pool, typed with this feature's tables too (the pool and its role are the same). */
export const withAfterSitting = (db: Db): AfterSittingDb => db.withTables<AfterSittingTables>();

/** A DATE value as YYYY-MM-DD (pg parses DATE into a Date at local midnight). */
export function dateString(v: Date | string | null): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v.slice(0, 10);
  return new Date(v.getTime() - v.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
}

/** The audit log appends inside a transaction of the base schema; ours is the same connection, with more tables. */
export const auditExecutor = (trx: Transaction<DatabaseSchema & AfterSittingTables>): Transaction<DatabaseSchema> => trx as unknown as Transaction<DatabaseSchema>;
