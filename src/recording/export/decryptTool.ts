/**
 * A stand-alone decryption script written onto every encrypted export medium. Exports to drives
 * and discs are always encrypted through the API, so whoever receives one (an inspectorate, a
 * court) needs a way to read it without installing tiepdan: Node.js (any platform, version 18 or
 * later) and this file are enough. It decrypts every `.enc` file and checks each plaintext against
 * the SHA-256 in `chain-of-custody.json`. It must stay in step with encryption.ts (file layout,
 * scrypt parameters).
 */
export const DECRYPT_TOOL_NAME = 'decrypt.mjs';

export const DECRYPT_TOOL = `#!/usr/bin/env node
// tiepdan export decryption. Usage (passphrase in an environment variable, not on the command line):
//   Linux/macOS:  TIEPDAN_PASSPHRASE='...' node decrypt.mjs <export folder or disc> <output folder>
//   Windows:      set TIEPDAN_PASSPHRASE=...  then  node decrypt.mjs E:\\ C:\\recordings
// File layout: "TDENC1" | salt(16) | iv(12) | AES-256-GCM ciphertext | tag(16); key = scrypt(N=2^15, r=8, p=1).
import { createDecipheriv, createHash, scryptSync } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const [src, out] = process.argv.slice(2);
const passphrase = process.env.TIEPDAN_PASSPHRASE;
if (!src || !out || !passphrase) {
  console.error('usage: TIEPDAN_PASSPHRASE=... node decrypt.mjs <export folder or disc> <output folder>');
  process.exit(64);
}
const custody = JSON.parse(readFileSync(path.join(src, 'chain-of-custody.json'), 'utf8'));
const expected = new Map(custody.files.map((f) => [f.path, f.sha256]));
const keys = new Map();
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
let ok = 0;
let failed = 0;
for (const file of walk(src).filter((f) => f.endsWith('.enc')).sort()) {
  const rel = path.relative(src, file).split(path.sep).join('/');
  const dest = path.join(out, ...rel.slice(0, -4).split('/'));
  try {
    const fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(34);
    const tag = Buffer.alloc(16);
    readSync(fd, head, 0, 34, 0);
    readSync(fd, tag, 0, 16, size - 16);
    closeSync(fd);
    if (size < 50 || head.subarray(0, 6).toString('latin1') !== 'TDENC1') throw new Error('not a tiepdan-encrypted file');
    const salt = head.subarray(6, 22);
    if (!keys.has(salt.toString('hex'))) keys.set(salt.toString('hex'), scryptSync(passphrase, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }));
    const decipher = createDecipheriv('aes-256-gcm', keys.get(salt.toString('hex')), head.subarray(22, 34));
    decipher.setAuthTag(tag);
    const hash = createHash('sha256');
    mkdirSync(path.dirname(dest), { recursive: true });
    // Written under a temporary name and renamed only once the tag has verified.
    await pipeline(
      createReadStream(file, { start: 34, end: size - 17 }),
      decipher,
      async function* (chunks) {
        for await (const c of chunks) {
          hash.update(c);
          yield c;
        }
      },
      createWriteStream(dest + '.part', { mode: 0o600 }),
    );
    const sha256 = hash.digest('hex');
    if (expected.has(rel) && expected.get(rel) !== sha256) throw new Error('SHA-256 differs from chain-of-custody.json');
    renameSync(dest + '.part', dest);
    ok++;
    console.log('OK      ' + rel.slice(0, -4) + '  ' + sha256);
  } catch (err) {
    rmSync(dest + '.part', { force: true });
    failed++;
    console.error('FAILED  ' + rel + ': ' + (err.code === 'ERR_CRYPTO_INVALID_AUTH_TAG' || /auth/i.test(err.message) ? 'wrong passphrase or altered file' : err.message));
  }
}
console.log(ok + ' file(s) decrypted and checked, ' + failed + ' failed');
process.exit(failed > 0 || ok === 0 ? 1 : 0);
`;

export const DECRYPT_README = `tiepdan: encrypted recordings / bản ghi đã mã hoá

The files ending in .enc are encrypted with AES-256-GCM. The passphrase was given separately by
whoever made this export; it is not on this medium. With Node.js 18 or later installed:

    TIEPDAN_PASSPHRASE='...' node decrypt.mjs <this folder or disc> <output folder>
    (Windows: set TIEPDAN_PASSPHRASE=...   then   node decrypt.mjs E:\\ C:\\recordings)

Every decrypted file is checked against chain-of-custody.json (SHA-256 of the original). Its
SHA-256 is recorded in the server's audit log, and so is the SHA-256 of decrypt.mjs (in the
record's "decryptTool"). The decrypted session folders also verify with tiepdan recordings verify.

Các tệp .enc được mã hoá AES-256-GCM. Mật khẩu được giao riêng, không có trên phương tiện này.
Cần Node.js 18 trở lên: TIEPDAN_PASSPHRASE='...' node decrypt.mjs <thư mục/đĩa này> <thư mục đích>.
Mỗi tệp giải mã được đối chiếu SHA-256 với chain-of-custody.json.
`;
