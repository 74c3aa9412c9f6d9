import type { ColumnType, Generated } from 'kysely';

/**
 * Table types of the control API (migrations 0100–0103). src/db/schema.ts's DatabaseSchema
 * extends this interface, so every store works with the one `Db` type.
 */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface BridgePointsTable {
  id: Generated<string>;
  code: string;
  name: string;
  kind: string;
  address: Generated<string>;
  contact_name: Generated<string>;
  contact_phone: Generated<string>;
  contact_email: Generated<string>;
  network_notes: Generated<string>;
  is_sample: Generated<boolean>;
  active: Generated<boolean>;
  created_at: CreatedTimestamp;
  updated_at: CreatedTimestamp;
}

export interface UsersTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  role: string;
  bridge_point_id: string | null;
  password_hash: string;
  failed_logins: Generated<number>;
  locked_until: Timestamp | null;
  active: Generated<boolean>;
  last_login_at: Timestamp | null;
  /** Set by an administrator's reset: every route but changing the password refuses the user. */
  must_change_password: Generated<boolean>;
  created_at: CreatedTimestamp;
  updated_at: CreatedTimestamp;
}

export interface AuthTokensTable {
  jti: string;
  user_id: string;
  issued_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface ApiKeysTable {
  id: Generated<string>;
  name: string;
  role: string;
  key_prefix: string;
  key_hash: string;
  created_by: string | null;
  created_at: CreatedTimestamp;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface ControlSettingsTable {
  key: string;
  value: Json<unknown>;
  updated_at: CreatedTimestamp;
}

export interface AuditLogTable {
  seq: ColumnType<string, never, never>;
  at: Timestamp;
  actor_id: string;
  actor_label: string;
  action: string;
  entity: string;
  entity_id: string;
  before: Json<unknown> | null;
  after: Json<unknown> | null;
  prev_hash: string;
  hash: string;
}

export interface CalendarDaysTable {
  date: ColumnType<string, string, string>;
  kind: string;
  name: string;
  uncertain: Generated<boolean>;
  updated_at: CreatedTimestamp;
}

export interface CasesTable {
  id: Generated<string>;
  reference: string;
  type: string;
  title: string;
  summary: Generated<string>;
  criteria: ColumnType<string[], string[] | undefined, string[]>;
  criteria_note: Generated<string>;
  commune_bridge_point_id: string | null;
  agencies: ColumnType<string[], string[] | undefined, string[]>;
  prior_handling: Generated<string>;
  requests: Generated<string>;
  group_size: Generated<number>;
  identity_protection_waived: Generated<boolean>;
  waiver_note: Generated<string>;
  created_by: string | null;
  created_at: CreatedTimestamp;
  updated_at: CreatedTimestamp;
}

export interface CasePeopleTable {
  id: Generated<string>;
  case_id: string;
  position: number;
  role: string;
  full_name: string;
  id_number: Generated<string>;
  address: Generated<string>;
  phone: Generated<string>;
  note: Generated<string>;
}

export interface SessionsTable {
  id: Generated<string>;
  title: string;
  scheduled_start: Timestamp;
  scheduled_end: Timestamp;
  location: Generated<string>;
  chair_user_id: string | null;
  chair_title: Generated<string>;
  status: Generated<string>;
  max_peers: Generated<number>;
  lobby_enabled: Generated<boolean>;
  endpoints_see_each_other: Generated<boolean>;
  auto_record: Generated<boolean>;
  participant_recording_allowed: Generated<boolean>;
  notes: Generated<string>;
  go_live_override_reason: string | null;
  status_reason: Generated<string>;
  created_by: string | null;
  created_at: CreatedTimestamp;
  updated_at: CreatedTimestamp;
  status_changed_at: CreatedTimestamp;
}

export interface SessionCasesTable {
  session_id: string;
  case_id: string;
  position: number;
  outcome: string | null;
  outcome_note: Generated<string>;
}

export interface SessionBridgePointsTable {
  session_id: string;
  bridge_point_id: string;
}

export interface SessionParticipantsTable {
  id: Generated<string>;
  session_id: string;
  role: string;
  label: string;
  bridge_point_id: string | null;
}

export interface ApprovalsTable {
  id: Generated<string>;
  session_id: string;
  kind: string;
  actor_id: string | null;
  comment: Generated<string>;
  working_days_ahead: number | null;
  at: Timestamp;
}

export interface InvitationsTable {
  id: Generated<string>;
  session_id: string;
  bridge_point_id: string | null;
  participant_id: string | null;
  subject: string;
  role: string;
  display_name: string;
  jti: string;
  token: string;
  issued_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: Generated<string>;
  issued_by: string | null;
  /** The short code typed at /m (migration 0530); null on rows issued before it until first printed. */
  join_code: string | null;
}

export interface PreflightSlotsTable {
  id: Generated<string>;
  session_id: string;
  kind: string;
  starts_at: Timestamp;
  label: string;
}

export interface PreflightResultsTable {
  id: Generated<string>;
  slot_id: string;
  session_id: string;
  bridge_point_id: string;
  connected: boolean;
  ice_path: string | null;
  rtt_ms: number | null;
  loss_pct: number | null;
  bitrate_kbps: number | null;
  camera_ok: boolean;
  microphone_ok: boolean;
  passed: boolean;
  problems: ColumnType<string[], string[] | undefined, string[]>;
  notes: Generated<string>;
  reported_by: string;
  reported_at: Timestamp;
}

export interface MinutesTable {
  session_id: string;
  text: string;
  written_by: string | null;
  updated_at: Timestamp;
}

export interface ControlTables {
  bridge_points: BridgePointsTable;
  users: UsersTable;
  auth_tokens: AuthTokensTable;
  api_keys: ApiKeysTable;
  control_settings: ControlSettingsTable;
  audit_log: AuditLogTable;
  calendar_days: CalendarDaysTable;
  cases: CasesTable;
  case_people: CasePeopleTable;
  sessions: SessionsTable;
  session_cases: SessionCasesTable;
  session_bridge_points: SessionBridgePointsTable;
  session_participants: SessionParticipantsTable;
  approvals: ApprovalsTable;
  invitations: InvitationsTable;
  preflight_slots: PreflightSlotsTable;
  preflight_results: PreflightResultsTable;
  minutes: MinutesTable;
}
