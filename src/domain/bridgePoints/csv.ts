/**
 * A small RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF or LF, optional BOM. With
 * `maxRows` it stops once that many (non-blank) rows are read, so a caller can refuse
 * an oversized file without parsing all of it.
 *
 * It scans character codes and cuts fields out with slice(): a 2 MB file parses in a few
 * milliseconds. (Appending one character at a time took 200 ms to over a second of the event loop
 * for a file at the import's limit; found by test/guards/routeExtremes.test.ts.)
 */
export function parseCsv(text: string, options: { maxRows?: number } = {}): string[][] {
  const maxRows = options.maxRows ?? Infinity;
  const rows: string[][] = [];
  let row: string[] = [];
  // The current field is `field` followed by text[run, i) (the plain characters not yet copied).
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let run = i;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE && field === '' && run === i) {
      // A quoted field (or quoted part): up to the closing quote, "" standing for one quote.
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          field += text.slice(i);
          i = n;
          break;
        }
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === QUOTE) {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      run = i;
    } else if (c === COMMA || c === SEMICOLON) {
      row.push(field + text.slice(run, i));
      field = '';
      run = ++i;
    } else if (c === LF || c === CR) {
      row.push(field + text.slice(run, i));
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      if (!blank(row)) rows.push(row);
      row = [];
      field = '';
      run = i;
      if (rows.length >= maxRows) return rows;
    } else i++;
  }
  field += text.slice(run, n);
  if (field !== '' || row.length > 0) {
    row.push(field);
    if (!blank(row)) rows.push(row);
  }
  return rows;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const LF = 0x0a;
const CR = 0x0d;
const blank = (r: string[]): boolean => r.length === 1 && r[0]!.trim() === '';

/** Quotes a CSV field when needed (and neutralises spreadsheet formulas). */
export function csvField(value: string | number | boolean | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@]/.test(s) && typeof value === 'string') s = `'${s}`;
  return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: (string | number | boolean | null | undefined)[][]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
