/**
 * `npm run bench`: runs every benchmark in bench/ (or those named on the command line) one after
 * another, each in its own Node.js process, and lets each print its numbers. Everything from the
 * first `--option` on is passed to each benchmark (`npm run bench join-vs-raw -- --rounds 20`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('--'));
const wanted = firstOption === -1 ? args : args.slice(0, firstOption);
const options = firstOption === -1 ? [] : args.slice(firstOption);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts') && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n### ${file}\n`);
  const r = spawnSync(process.execPath, [path.join(dir, file), ...options], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(${file} exited with ${r.status ?? r.signal})\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
