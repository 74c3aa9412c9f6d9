import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { TiepdanError } from '../../errors.ts';
import { fsyncFile } from '../fsutil.ts';

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
  if (passphrase.length < 8) throw new TiepdanError('EXPORT_PASSPHRASE_WEAK', 'the passphrase must have at least 8 characters');
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

/**
 * Decrypts a file written by encryptFile; throws EXPORT_DECRYPT_FAILED on a wrong passphrase or
 * altered bytes. GCM checks its tag only after the last byte, so the plaintext goes to a temporary
 * file beside `dest` that is renamed to `dest` only once the tag has verified, and removed
 * otherwise: no partial or unauthenticated plaintext is ever left under the real name (security
 * review L14), and an existing `dest` is untouched by a failed attempt.
 */
export async function decryptFile(src: string, dest: string, passphrase: string): Promise<void> {
  const fh = await open(src, 'r');
  const { size } = await fh.stat();
  const head = Buffer.alloc(MAGIC.length + 28);
  await fh.read(head, 0, head.length, 0);
  const tag = Buffer.alloc(16);
  await fh.read(tag, 0, 16, size - 16);
  await fh.close();
  if (size < head.length + 16 || !head.subarray(0, MAGIC.length).equals(MAGIC)) throw new TiepdanError('EXPORT_DECRYPT_FAILED', `${src} is not a tiepdan-encrypted file`);
  const salt = head.subarray(MAGIC.length, MAGIC.length + 16);
  const iv = head.subarray(MAGIC.length + 16);
  const { key } = deriveKey(passphrase, salt);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${randomBytes(6).toString('hex')}.part`);
  try {
    await pipeline(createReadStream(src, { start: head.length, end: size - 17 }), decipher, createWriteStream(tmp, { mode: 0o600, flags: 'wx' }));
  } catch (err) {
    await rm(tmp, { force: true });
    throw new TiepdanError('EXPORT_DECRYPT_FAILED', `cannot decrypt ${src}: wrong passphrase or altered file`, { cause: err });
  }
  await fsyncFile(tmp);
  await rename(tmp, dest);
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
