// AWS event filtering for event source mappings (FilterCriteria): the EventBridge pattern syntax that
// Lambda documents in "Control which events Lambda sends to your function"
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
//
// A pattern is a JSON object whose keys name fields of the record; a leaf is an array of matchers, any
// of which may match (OR); all keys must match (AND); the filters of one FilterCriteria are ORed. When a
// record field is an array, the matcher matches if any element does. Matchers:
//   "text" | 12.5 | true | null      exact value (numbers compare numerically)
//   {"prefix": "a"} {"suffix": "z"} {"equals-ignore-case": "Ab"} {"wildcard": "a*z"}
//   {"anything-but": v | [v...] | {"prefix": ...} | {"suffix": ...} | {"equals-ignore-case": ...}}
//   {"numeric": [">", 0, "<=", 5]}   {"exists": true | false}   {"cidr": "10.0.0.0/24"}
// Which view of a record a pattern sees is the poller's business: SQS parses `body` as JSON when it is
// JSON, Kinesis decodes `data`, DynamoDB Streams filters on the record as Lambda delivers it.
import type { FilterCriteria } from '../api/generated/types.js';

export type RecordFilter = (record: unknown) => boolean;

/** AWS's message for any pattern it cannot parse. */
export const INVALID_PATTERN = 'Invalid filter pattern definition.';

export class FilterPatternError extends Error {}

type Matcher = (value: unknown, present: boolean) => boolean;
type Compiled = (value: unknown, present: boolean) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(why: string): never {
  throw new FilterPatternError(why);
}

/** For each element of an array field, or the value itself. */
function anyOf(value: unknown, test: (v: unknown) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

function stringTest(kind: string, operand: unknown): (v: unknown) => boolean {
  if (typeof operand !== 'string') fail(`${kind} needs a string`);
  switch (kind) {
    case 'prefix':
      return (v) => typeof v === 'string' && v.startsWith(operand);
    case 'suffix':
      return (v) => typeof v === 'string' && v.endsWith(operand);
    case 'equals-ignore-case':
      return (v) => typeof v === 'string' && v.toLowerCase() === operand.toLowerCase();
    case 'wildcard': {
      if (/\*\*/.test(operand)) fail('consecutive wildcards');
      const re = new RegExp('^' + operand.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's');
      return (v) => typeof v === 'string' && re.test(v);
    }
    default:
      return fail(`unknown matcher ${kind}`);
  }
}

function exactTest(literal: unknown): (v: unknown) => boolean {
  if (typeof literal === 'number') return (v) => typeof v === 'number' && v === literal;
  if (typeof literal === 'string' || typeof literal === 'boolean' || literal === null) return (v) => v === literal;
  return fail('a literal must be a string, number, boolean or null');
}

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b, '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
};

function numericTest(operand: unknown): (v: unknown) => boolean {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) fail('numeric needs operator/number pairs');
  const checks: Array<(n: number) => boolean> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const n = operand[i + 1];
    const f = typeof op === 'string' ? NUMERIC_OPS[op] : undefined;
    if (!f || typeof n !== 'number') fail('numeric operator or operand');
    checks.push((x) => f(x, n));
  }
  return (v) => typeof v === 'number' && checks.every((c) => c(v));
}

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

function cidrTest(operand: unknown): (v: unknown) => boolean {
  if (typeof operand !== 'string') fail('cidr needs a string');
  const [addr, bitsText] = operand.split('/');
  const base = ipv4(addr ?? '');
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) fail('cidr (IPv4 only)');
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (v) => {
    const ip = typeof v === 'string' ? ipv4(v) : undefined;
    return ip !== undefined && ((ip & mask) >>> 0) === ((base & mask) >>> 0);
  };
}

function compileMatcher(m: unknown): Matcher {
  if (!isObject(m)) {
    const t = exactTest(m);
    return (value, present) => present && anyOf(value, t);
  }
  const keys = Object.keys(m);
  if (keys.length !== 1) fail('a matcher object has exactly one key');
  const kind = keys[0]!;
  const operand = m[kind];
  switch (kind) {
    case 'exists':
      if (typeof operand !== 'boolean') fail('exists needs true or false');
      // exists:true matches a present leaf (not an object); exists:false matches an absent field.
      return (value, present) => (operand ? present && !isObject(value) : !present);
    case 'numeric': {
      const t = numericTest(operand);
      return (value, present) => present && anyOf(value, t);
    }
    case 'cidr': {
      const t = cidrTest(operand);
      return (value, present) => present && anyOf(value, t);
    }
    case 'anything-but': {
      let t: (v: unknown) => boolean;
      if (Array.isArray(operand)) {
        if (!operand.length) fail('anything-but list is empty');
        const tests = operand.map(exactTest);
        t = (v) => tests.some((x) => x(v));
      } else if (isObject(operand)) {
        const inner = Object.keys(operand);
        if (inner.length !== 1 || !['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(inner[0]!)) fail('anything-but takes prefix, suffix, equals-ignore-case or wildcard');
        t = stringTest(inner[0]!, operand[inner[0]!]);
      } else {
        t = exactTest(operand);
      }
      // Matches when no element is excluded; a missing field does not match.
      return (value, present) => present && (Array.isArray(value) ? !value.some(t) : !t(value));
    }
    default: {
      const t = stringTest(kind, operand);
      return (value, present) => present && anyOf(value, t);
    }
  }
}

function compileObject(pattern: Record<string, unknown>): Compiled {
  const keys = Object.keys(pattern);
  if (!keys.length) fail('an empty pattern object');
  const parts = keys.map((key): Compiled => {
    const p = pattern[key];
    let sub: Compiled;
    if (Array.isArray(p)) {
      if (!p.length) fail(`empty matcher list at ${key}`);
      const matchers = p.map(compileMatcher);
      sub = (value, present) => matchers.some((m) => m(value, present));
    } else if (isObject(p)) {
      const nested = compileObject(p);
      // A nested pattern descends into an object; matchers like exists:false still see a missing field.
      sub = (value, present) => (present && isObject(value) ? nested(value, true) : nested(undefined, false));
    } else {
      return fail(`the value at ${key} must be an array or an object`);
    }
    return (value, present) => {
      const obj = present && isObject(value) ? value : undefined;
      const has = obj !== undefined && Object.prototype.hasOwnProperty.call(obj, key);
      return sub(has ? obj[key] : undefined, has);
    };
  });
  return (value, present) => parts.every((part) => part(value, present));
}

/** Compiles one Filter.Pattern (a JSON string); throws FilterPatternError when AWS would refuse it. */
export function compilePattern(pattern: string): RecordFilter {
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch {
    return fail('not JSON');
  }
  if (!isObject(parsed)) fail('a pattern is a JSON object');
  const f = compileObject(parsed);
  return (record) => f(record, true);
}

/** Throws FilterPatternError for a FilterCriteria AWS would refuse. */
export function validateFilterCriteria(criteria: FilterCriteria | undefined): void {
  for (const f of criteria?.Filters ?? []) {
    if (typeof f.Pattern !== 'string' || !f.Pattern) fail('empty pattern');
    compilePattern(f.Pattern);
  }
}

/**
 * A record passes when any filter matches; undefined when there are no filters (every record passes).
 * Callers pass the record as the patterns see it (e.g. an SQS record with its JSON body parsed).
 */
export function compileFilterCriteria(criteria: FilterCriteria | undefined): RecordFilter | undefined {
  const filters = (criteria?.Filters ?? []).filter((f) => f.Pattern).map((f) => compilePattern(f.Pattern!));
  if (!filters.length) return undefined;
  return (record) => filters.some((f) => f(record));
}
