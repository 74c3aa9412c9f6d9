/**
 * Extreme but schema-valid values, generated from the JSON Schemas the server publishes in
 * /openapi.json (itself generated from the routes' zod schemas): the longest strings, the largest
 * numbers, the fullest arrays, the widest date ranges. Generated from the server's own document
 * so that a route added tomorrow is driven the same way without anyone writing its inputs.
 */

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
  additionalProperties?: boolean | JsonSchema;
}

/** Real ids of the populated server, by what they name, so that references resolve. */
export interface KnownIds {
  cases: string[];
  bridgePoints: string[];
  sessions: string[];
  users: string[];
  slots: string[];
}

/** Unbounded numbers get the largest value JSON carries exactly. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
/** Arrays without maxItems: large, but within what one request should reasonably carry. */
const UNBOUNDED_ITEMS = 1000;
/** Strings without maxLength. */
const UNBOUNDED_LENGTH = 10_000;

// Vietnamese text with diacritics (one UTF-16 unit each, several UTF-8 bytes): the worst case for
// byte-length assumptions and for collation in searches.
const VIETNAMESE = 'Đơn khiếu nại tố cáo của công dân về việc bồi thường giải phóng mặt bằng ở xã Ýên Thượng; ';

function longText(length: number): string {
  if (length <= 0) return '';
  return VIETNAMESE.repeat(Math.ceil(length / VIETNAMESE.length)).slice(0, length);
}

function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** A date at the near or far end of what the schema's format admits (4-digit years). */
function extremeDate(early: boolean, format: 'date' | 'date-time'): string {
  const day = early ? '0000-01-01' : '9999-12-31';
  if (format === 'date') return day;
  return early ? `${day}T00:00:00Z` : `${day}T23:59:59Z`;
}

/** Names that mark the beginning of a range get the earliest date, the others the latest. */
const isRangeStart = (name: string) => /(^from$|from$|start|begin|since|^after)/i.test(name);

function idFor(name: string, ids: KnownIds, index = 0): string | undefined {
  const pick = (list: string[]) => (list.length === 0 ? undefined : list[index % list.length]);
  if (/case/i.test(name)) return pick(ids.cases);
  if (/point/i.test(name)) return pick(ids.bridgePoints);
  if (/slot/i.test(name)) return pick(ids.slots);
  if (/session/i.test(name)) return pick(ids.sessions);
  if (/user|chair/i.test(name)) return pick(ids.users);
  return undefined;
}

function stringFor(schema: JsonSchema, name: string, ids: KnownIds, index: number): string {
  const max = schema.maxLength ?? UNBOUNDED_LENGTH;
  const min = schema.minLength ?? 0;
  if (schema.format === 'uuid') return idFor(name, ids, index) ?? '00000000-0000-4000-8000-000000000000';
  if (schema.format === 'date' || schema.format === 'date-time') return extremeDate(isRangeStart(name), schema.format);
  if (schema.format === 'email') return `${repeatTo('a', Math.max(1, Math.min(64, max - 12)))}@example.vn`;
  if (schema.pattern !== undefined) {
    const re = new RegExp(schema.pattern, 'u');
    // The longest of a few shapes that fits the pattern (codes, digits, hex, time of day, …).
    const candidates = [longText(max), repeatTo('A', max), repeatTo('a', max), repeatTo('Z9', max), repeatTo('9', max), repeatTo('f', max), repeatTo('a-', max - 1) + 'a', '23:59', '0'.repeat(64), 'f'.repeat(64), 'A'.repeat(Math.max(min, 16))];
    for (let length = max; length >= Math.max(1, min); length = length > 64 ? 64 : length - 1) {
      const found = candidates.map((c) => c.slice(0, length)).find((c) => c.length >= min && re.test(c));
      if (found !== undefined) return found;
    }
    return candidates.find((c) => re.test(c)) ?? 'A';
  }
  return longText(Math.max(min, max));
}

function numberFor(schema: JsonSchema, integer: boolean): number {
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : UNBOUNDED);
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : 1e-9) : -UNBOUNDED);
  // The end farther from zero: a negative offset such as "days before" is its own extreme.
  return Math.abs(min) > Math.abs(max) ? min : max;
}

/** An extreme value for `schema`; `name` is the property or parameter it is for. */
export function extremeValue(schema: JsonSchema, name: string, ids: KnownIds, index = 0): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum !== undefined && schema.enum.length > 0) {
    // The longest choice (for strings), else the first.
    return [...schema.enum].sort((a, b) => String(b).length - String(a).length)[0];
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) {
    // The richest alternative that is not null.
    const choice = alternatives.find((s) => s.type !== 'null' && s.enum === undefined) ?? alternatives.find((s) => s.type !== 'null') ?? alternatives[0]!;
    return extremeValue(choice, name, ids, index);
  }
  if (schema.allOf !== undefined) return extremeValue(Object.assign({}, ...schema.allOf) as JsonSchema, name, ids, index);
  const type = Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema, name, ids, index);
    case 'integer':
      return numberFor(schema, true);
    case 'number':
      return numberFor(schema, false);
    case 'boolean':
      return true;
    case 'array': {
      const count = Math.max(schema.minItems ?? 0, schema.maxItems ?? UNBOUNDED_ITEMS);
      const singular = name.replace(/s$/, '');
      return Array.from({ length: count }, (_, i) => extremeValue(schema.items ?? {}, singular, ids, i));
    }
    case 'object':
    case undefined: {
      if (schema.properties === undefined) return {};
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties)) out[key] = extremeValue(child, key, ids, index);
      return out;
    }
    default:
      return null;
  }
}
