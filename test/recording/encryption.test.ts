/**
 * Export decryption (security review L14): AES-GCM verifies its tag only at the end, so a flipped
 * byte must leave no plaintext behind — not under the real name, not as a partial temp file — and
 * must not clobber a file already at the destination.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { decryptFile, deriveKey, encryptFile } from '../../src/recording/export/encryption.ts';
import { tempDataDir } from '../helpers/env.ts';

t.test('decryption renames into place only after the GCM tag verifies', async (t) => {
  const tmp = await tempDataDir();
  t.teardown(() => tmp.remove());
  const plain = randomBytes(3 * 1024 * 1024 + 17); // several stream chunks: most of it is deciphered before the tag check
  await writeFile(path.join(tmp.dir, 'seg.mkv'), plain);
  const enc = path.join(tmp.dir, 'seg.mkv.enc');
  await encryptFile(path.join(tmp.dir, 'seg.mkv'), enc, deriveKey('correct horse battery'));
  const outDir = path.join(tmp.dir, 'out');
  await mkdir(outDir);

  await decryptFile(enc, path.join(outDir, 'good.mkv'), 'correct horse battery');
  t.ok((await readFile(path.join(outDir, 'good.mkv'))).equals(plain), 'the right passphrase gives the original bytes');

  const bytes = await readFile(enc);
  const middle = Math.floor(bytes.length / 2);
  bytes.writeUInt8(bytes.readUInt8(middle) ^ 0x01, middle); // one bit in the middle of the ciphertext
  const flipped = path.join(tmp.dir, 'flipped.enc');
  await writeFile(flipped, bytes);
  await t.rejects(decryptFile(flipped, path.join(outDir, 'bad.mkv'), 'correct horse battery'), { code: 'EXPORT_DECRYPT_FAILED' }, 'a flipped byte is refused');
  t.same((await readdir(outDir)).sort(), ['good.mkv'], 'and leaves no plaintext, partial or temporary');

  await t.rejects(decryptFile(flipped, path.join(outDir, 'good.mkv'), 'correct horse battery'), { code: 'EXPORT_DECRYPT_FAILED' });
  t.ok((await readFile(path.join(outDir, 'good.mkv'))).equals(plain), 'a failed attempt does not overwrite a file already there');

  await t.rejects(decryptFile(enc, path.join(outDir, 'wrong.mkv'), 'wrong passphrase!'), { code: 'EXPORT_DECRYPT_FAILED' }, 'a wrong passphrase is refused');
  t.same((await readdir(outDir)).sort(), ['good.mkv'], 'again nothing left');
});
