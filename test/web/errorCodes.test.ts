import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ERROR_CODES, OPERATOR_ERROR_CODES } from '../../src/contract/errors.ts';
import { en } from '../../src/web/i18n/en.ts';
import { vi } from '../../src/web/i18n/vi.ts';

/**
 * Issue 11 item 9: every refusal the server can send to the console or the room pages has a plain
 * Vietnamese sentence. The codes come from the contract (src/contract/errors.ts, which TiepdanError's
 * type enforces), so a new code without words in errors.vi.ts fails here rather than showing English
 * to an official. The old scrape of src/ stays as a second check that the contract lists what the
 * code throws.
 */
const ROOT = path.resolve(import.meta.dirname, '../../src');
// What the pages talk to: the control API and its domain, live signaling and the SFU, recordings, tokens.
const REACHABLE = ['api', 'domain', 'signaling', 'sfu', 'recording', 'tokens'];
// Command-line only: never an HTTP or signaling reply.
const CLI_ONLY = new Set(['recording/recordingsCli.ts']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') && !CLI_ONLY.has(path.relative(ROOT, p)) ? [p] : [];
  });
}

function serverCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of REACHABLE.flatMap((d) => sources(path.join(ROOT, d)))) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:new TiepdanError|conflict|forbidden|badRequest)\(\s*['`]([A-Z][A-Z0-9_]+)['`]/g)) codes.set(m[1]!, path.relative(ROOT, file));
    // notFound('preflight slot', id) → PREFLIGHT_SLOT_NOT_FOUND (src/domain/common/errors.ts).
    for (const m of src.matchAll(/notFound\(\s*'([a-z -]+)'/g)) codes.set(`${m[1]!.toUpperCase().replace(/[ -]/g, '_')}_NOT_FOUND`, path.relative(ROOT, file));
  }
  return codes;
}

t.test('the contract lists every code the source throws', async (t) => {
  const codes = serverCodes();
  t.ok(codes.size > 100, `found ${codes.size} codes in the source (the scan works)`);
  for (const known of ['SUBMISSION_TOO_LATE', 'GO_LIVE_TESTS_NOT_PASSED', 'TOKEN_EXPIRED', 'RECORDING_DISK_LOW', 'PREFLIGHT_SLOT_NOT_FOUND']) t.ok(codes.has(known), `the scan sees ${known}`);
  const listed = new Set<string>(ERROR_CODES);
  t.same([...codes].filter(([code]) => !listed.has(code)).map(([code, file]) => `${code} (${file})`), [], 'no code thrown in a reachable file is missing from ERROR_CODES');
  const operator = new Set<string>(OPERATOR_ERROR_CODES);
  t.same(ERROR_CODES.filter((c) => operator.has(c)), [], 'no code is both sent and operator-only');
});

t.test('every code the server can return has a plain Vietnamese message', async (t) => {
  const codes: readonly string[] = ERROR_CODES;
  const catalogue = vi as Record<string, string>;
  const english = en as Record<string, string>;
  t.same(codes.filter((code) => catalogue[`error.${code}`] === undefined), [], 'no code without a Vietnamese message in src/web/i18n/errors.vi.ts');
  t.same(codes.filter((code) => english[`error.${code}`] === undefined), [], 'nor without an English one in src/web/i18n/errors.en.ts');
  const vietnamese = /[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]/i;
  const notVietnamese = codes.filter((c) => catalogue[`error.${c}`] !== undefined && !vietnamese.test(catalogue[`error.${c}`]!));
  t.same(notVietnamese, [], 'each message is a Vietnamese sentence');
  const sameAsEnglish = codes.filter((c) => catalogue[`error.${c}`] !== undefined && catalogue[`error.${c}`] === english[`error.${c}`]);
  t.same(sameAsEnglish, [], 'not the English copied over');
  const raw = codes.filter((c) => catalogue[`error.${c}`]?.includes(c));
  t.same(raw, [], 'no message shows its raw code');
});
