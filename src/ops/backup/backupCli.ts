import type { Config } from '../../config/config.ts';
export const BACKUP_USAGE = '';
export async function backupCli(_a: string[], _c: Config): Promise<void> {}
export async function restoreCli(_a: string[], _c: Config): Promise<void> {}
