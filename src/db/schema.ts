import type { Generated } from 'kysely';

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

export interface DatabaseSchema {
  installation: InstallationTable;
}
