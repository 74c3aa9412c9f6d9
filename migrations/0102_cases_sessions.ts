import { sql, type Kysely } from 'kysely';

// Control API, part 2: cases (vụ việc) and the people involved, reception sessions with their
// agenda, bridge points and participants, approvals, invitations, pre-flight tests and minutes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cases')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('khieu_nai', 'to_cao', 'kien_nghi', 'phan_anh')`))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull().defaultTo(''))
    // Quy chế Điều 4.1: criteria a–d that justify an online reception.
    .addColumn('criteria', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('criteria_note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('commune_bridge_point_id', 'uuid', (c) => c.references('bridge_points.id'))
    .addColumn('agencies', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('prior_handling', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('requests', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('group_size', 'integer', (c) => c.notNull().defaultTo(1))
    // Tố cáo: online only when the denouncer waived identity protection (recorded, with a note).
    .addColumn('identity_protection_waived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('waiver_note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Personal data lives only here; it is never copied into logs, audit snapshots or exports.
  await db.schema
    .createTable('case_people')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('full_name', 'text', (c) => c.notNull())
    .addColumn('id_number', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('address', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('phone', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('scheduled_start', 'timestamptz', (c) => c.notNull())
    .addColumn('scheduled_end', 'timestamptz', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('chair_user_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('chair_title', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('draft'))
    .addColumn('max_peers', 'integer', (c) => c.notNull().defaultTo(50))
    .addColumn('lobby_enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('endpoints_see_each_other', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('auto_record', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('participant_recording_allowed', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('go_live_override_reason', 'text')
    .addColumn('status_reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('status_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('sessions_start').on('sessions').column('scheduled_start').execute();

  await db.schema
    .createTable('session_cases')
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('outcome_note', 'text', (c) => c.notNull().defaultTo(''))
    .addPrimaryKeyConstraint('session_cases_pk', ['session_id', 'case_id'])
    .execute();

  await db.schema
    .createTable('session_bridge_points')
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('bridge_point_id', 'uuid', (c) => c.notNull().references('bridge_points.id'))
    .addPrimaryKeyConstraint('session_bridge_points_pk', ['session_id', 'bridge_point_id'])
    .execute();

  await db.schema
    .createTable('session_participants')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    // A role label ("Chủ trì", "Thanh tra tỉnh"), never a complainant's name.
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('bridge_point_id', 'uuid', (c) => c.references('bridge_points.id'))
    .execute();

  await db.schema
    .createTable('approvals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull()) // submitted | approved | rejected
    .addColumn('actor_id', 'uuid')
    .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('working_days_ahead', 'integer')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('bridge_point_id', 'uuid', (c) => c.references('bridge_points.id'))
    .addColumn('participant_id', 'uuid', (c) => c.references('session_participants.id').onDelete('set null'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull().unique())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('issued_by', 'uuid')
    .execute();
  await db.schema.createIndex('invitations_session').on('invitations').column('session_id').execute();

  await db.schema
    .createTable('preflight_slots')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull()) // day_before | hours_before | all_connected | rehearsal
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('preflight_results')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slot_id', 'uuid', (c) => c.notNull().references('preflight_slots.id').onDelete('cascade'))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('bridge_point_id', 'uuid', (c) => c.notNull().references('bridge_points.id'))
    .addColumn('connected', 'boolean', (c) => c.notNull())
    .addColumn('ice_path', 'text')
    .addColumn('rtt_ms', 'double precision')
    .addColumn('loss_pct', 'double precision')
    .addColumn('bitrate_kbps', 'double precision')
    .addColumn('camera_ok', 'boolean', (c) => c.notNull())
    .addColumn('microphone_ok', 'boolean', (c) => c.notNull())
    .addColumn('passed', 'boolean', (c) => c.notNull())
    .addColumn('problems', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('reported_by', 'text', (c) => c.notNull())
    .addColumn('reported_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('preflight_results_session').on('preflight_results').columns(['session_id', 'bridge_point_id']).execute();

  await db.schema
    .createTable('minutes')
    .addColumn('session_id', 'uuid', (c) => c.primaryKey().references('sessions.id').onDelete('cascade'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('written_by', 'uuid')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

/** Tables whose rows `down` destroys: `tiepdan migrate down` refuses while any holds a row (security review L12). */
export const downDestroys: readonly string[] = ['minutes', 'preflight_results', 'preflight_slots', 'invitations', 'approvals', 'session_participants', 'session_bridge_points', 'session_cases', 'sessions', 'case_people', 'cases'];

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['minutes', 'preflight_results', 'preflight_slots', 'invitations', 'approvals', 'session_participants', 'session_bridge_points', 'session_cases', 'sessions', 'case_people', 'cases']) {
    await db.schema.dropTable(t).execute();
  }
}
