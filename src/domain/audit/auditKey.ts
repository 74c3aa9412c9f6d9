import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TiepdanError } from '../../errors.ts';

/**
 * The audit chain's key: 32 random bytes, hex, in DATA_DIR/audit.key (mode 0600), created once
 * and never stored in the database. Whoever has only database rights (the application's role, the
 * owner, a DBA, a database backup) cannot produce a row that verifies. It must be backed up with
 * DATA_DIR: without it the keyed rows can no longer be checked.
 */
export const AUDIT_KEY_FILE = 'audit.key';

export class AuditKey {
  readonly #key: Buffer;
  /** A public fingerprint (not the key): the anchor names the key that signed the chain. */
  readonly id: string;

  constructor(key: Buffer) {
    if (key.length < 32) throw new TiepdanError('AUDIT_KEY_INVALID', 'the audit key must be at least 32 bytes');
    this.#key = key;
    this.id = createHash('sha256').update('tiepdan-audit-key-id\n').update(key).digest('hex').slice(0, 16);
  }

  mac(text: string): string {
    return createHmac('sha256', this.#key).update(text, 'utf8').digest('hex');
  }
}

/**
 * Loads DATA_DIR/audit.key. A missing key is created only while no row depends on one
 * (`mayCreate`): a new key silently replacing a lost one would make every keyed row look forged,
 * so instead start-up stops and says how to restore it.
 */
export async function loadAuditKey(dataDir: string, options: { mayCreate: boolean }): Promise<AuditKey> {
  const file = path.join(dataDir, AUDIT_KEY_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (!options.mayCreate) {
      throw new TiepdanError(
        'AUDIT_KEY_MISSING',
        `${file} is missing but the audit log has rows signed with it: restore it from the backup of DATA_DIR. ` +
          'If it is lost for good, create a new one by hand (openssl rand -hex 32 > audit.key; chmod 600): the rows signed with the old key will then be reported as not verifiable.',
      );
    }
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e; // another process made it first: use theirs
    });
    text = await readFile(file, 'utf8');
  }
  const hex = text.trim();
  if (!/^[0-9a-f]{64,}$/i.test(hex) || hex.length % 2 !== 0) throw new TiepdanError('AUDIT_KEY_INVALID', `${file} must hold at least 64 hexadecimal digits`);
  return new AuditKey(Buffer.from(hex, 'hex'));
}
