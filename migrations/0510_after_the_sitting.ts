import { sql, type Kysely } from 'kysely';

// After the sitting (issue 11): what the law asks for once a case has been heard.
// - session_case_outcomes: per case, the chair's conclusion, the answer given at once, or the
//   deadline and the contact person (N154 Art 25(3)), the transfer target and document number.
//   session_cases.outcome keeps the outcome code (reports read it); the details live here.
// - register_entries: the Sổ tiếp công dân (N154 Art 27; the 12 columns of Mẫu 03/TCD). Filled
//   from each case handled in a session, then the reception board's own record: once edited by
//   them it is not refilled. It copies the people's names and numbers, as the paper book does;
//   like case_people it never leaves through logs or audit snapshots (src/domain/afterSitting).
// - follow_ups: the timers that follow from an outcome (10-working-day reply, the chair's deadline,
//   the 45-day handling limit) and the result when done.
// - conclusion_notices: the issued Thông báo kết luận (N154 Art 25(2)). The page is frozen at
//   issue (html + its SHA-256) and the row cannot be changed or removed: it is a document sent out.
// Table types: src/domain/afterSitting/tables.ts. The application role gets the usual
// SELECT/INSERT/UPDATE/DELETE by default privileges (src/db/roles.ts); notices are append-only there.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('session_case_outcomes')
    .addColumn('session_id', 'uuid', (c) => c.notNull())
    .addColumn('case_id', 'uuid', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('conclusion', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('answer', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('answer_deadline', 'date')
    .addColumn('contact_person', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('transfer_target', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('document_number', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('document_date', 'date')
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('session_case_outcomes_pk', ['session_id', 'case_id'])
    .addForeignKeyConstraint('session_case_outcomes_agenda', ['session_id', 'case_id'], 'session_cases', ['session_id', 'case_id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('register_entries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id'))
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    // The case's type decides who may read the people's columns (confidentiality.ts).
    .addColumn('case_type', 'text', (c) => c.notNull())
    .addColumn('reception_date', 'date', (c) => c.notNull())
    .addColumn('names_addresses', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('id_numbers', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('content', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('classification', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('group_size', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('agencies_handled', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('handling', 'text', (c) => c.notNull().check(sql`handling in ('thu_ly', 'huong_dan', 'chuyen_don', 'khac')`))
    .addColumn('handling_detail', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('result_tracking', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('edited_by', 'text')
    .addColumn('edited_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('register_entries_case_once', ['session_id', 'case_id'])
    .execute();
  await db.schema.createIndex('register_entries_date').on('register_entries').columns(['reception_date', 'created_at']).execute();

  await db.schema
    .createTable('follow_ups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id'))
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('reply_to_citizen', 'chair_deadline', 'handling_limit')`))
    .addColumn('due_date', 'date', (c) => c.notNull())
    .addColumn('basis', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'done')`))
    .addColumn('result', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('done_at', 'timestamptz')
    .addColumn('done_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('follow_ups_one_per_kind', ['session_id', 'case_id', 'kind'])
    .execute();
  await db.schema.createIndex('follow_ups_open_due').on('follow_ups').columns(['status', 'due_date']).execute();

  await db.schema
    .createTable('conclusion_notices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('sessions.id'))
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('issued_date', 'date', (c) => c.notNull())
    .addColumn('signer_title', 'text', (c) => c.notNull())
    .addColumn('signer_name', 'text', (c) => c.notNull())
    .addColumn('recipients', sql`text[]`, (c) => c.notNull())
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('html_sha256', 'text', (c) => c.notNull())
    .addColumn('issued_by', 'text', (c) => c.notNull())
    .addColumn('issued_by_label', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    create function conclusion_notices_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'conclusion_notices is append-only: an issued notice is corrected by issuing another';
    end $$`.execute(db);
  await sql`create trigger conclusion_notices_no_update before update or delete on conclusion_notices for each row execute function conclusion_notices_append_only()`.execute(db);
  await sql`create trigger conclusion_notices_no_truncate before truncate on conclusion_notices for each statement execute function conclusion_notices_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('conclusion_notices').execute();
  await sql`drop function conclusion_notices_append_only()`.execute(db);
  await db.schema.dropTable('follow_ups').execute();
  await db.schema.dropTable('register_entries').execute();
  await db.schema.dropTable('session_case_outcomes').execute();
}
