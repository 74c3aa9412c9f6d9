import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { TiepdanError } from '../../errors.ts';

/**
 * Passphrase encryption of exported files: AES-256-GCM, key from scrypt (N=2^15, r=8, p=1) with a
 * random 16-byte salt per export, a random 12-byte IV per file. File layout:
 * "TDENC1" | salt(16) | iv(12) | ciphertext | tag(16). Anyone with the passphrase and Node.js or
 * OpenSSL 3 can decrypt; the GCM tag proves the file was not altered.
 */
const MAGIC = Buffer.from('TDENC1');
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface ExportKey {
  key: Buffer;
  salt: Buffer;
}

export function deriveKey(passphrase: string, salt: Buffer = randomBytes(16)): ExportKey {
  if (passphrase.length < 8) throw new TiepdanError('EXPORT_PASSPHRASE_WEAK', 'the passphrase must have at least 8 characters', { status: 400 });
  return { key: scryptSync(passphrase, salt, 32, SCRYPT), salt };
}

export async function encryptFile(src: string, dest: string, k: ExportKey): Promise<void> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  const out = createWriteStream(dest, { mode: 0o600 });
  out.write(Buffer.concat([MAGIC, k.salt, iv]));
  await pipeline(createReadStream(src), cipher, out, { end: false });
  await new Promise<void>((resolve, reject) => out.end(cipher.getAuthTag(), (err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Decrypts a file written by encryptFile; throws EXPORT_DECRYPT_FAILED on a wrong passphrase or altered bytes. */
export async function decryptFile(src: string, dest: string, passphrase: string): Promise<void> {
  const fh = await open(src, 'r');
  const { size } = await fh.stat();
  const head = Buffer.alloc(MAGIC.length + 28);
  await fh.read(head, 0, head.length, 0);
  const tag = Buffer.alloc(16);
  await fh.read(tag, 0, 16, size - 16);
  await fh.close();
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new TiepdanError('EXPORT_DECRYPT_FAILED', `${src} is not a tiepdan-encrypted file`, { status: 400 });
  const salt = head.subarray(MAGIC.length, MAGIC.length + 16);
  const iv = head.subarray(MAGIC.length + 16);
  const { key } = deriveKey(passphrase, salt);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  try {
    await pipeline(createReadStream(src, { start: head.length, end: size - 17 }), decipher, createWriteStream(dest, { mode: 0o600 }));
  } catch (err) {
    throw new TiepdanError('EXPORT_DECRYPT_FAILED', `cannot decrypt ${src}: wrong passphrase or altered file`, { status: 400, cause: err });
  }
}

/** A pass-through that counts bytes (progress while copying). */
export function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}
