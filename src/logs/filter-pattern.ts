// CloudWatch Logs filter patterns, compiled once into a predicate over an event's message:
//
//   ERROR                     the term appears (case-sensitive)
//   ERROR "bad request"       every term and quoted phrase appears
//   ?ERROR ?WARN              at least one of the `?` terms appears
//   ERROR -Exiting            ... and the `-` term does not
//   { $.level = "ERROR" }     JSON events: selectors, = != < > <= >=, * wildcards in strings,
//                             && || and parentheses, IS NULL / NOT EXISTS / IS TRUE / IS FALSE
//   [ip, user, ..., code=4*]  space-delimited events: named fields, `...` for any number of them
//   %regex%                   a regular expression anywhere in the message
//
// The syntax follows AWS's "Filter pattern syntax" documentation; where it is silent (a pattern that
// mixes `?` terms with plain ones) plain terms are required and one `?` term must appear.

export type Matcher = (message: string) => boolean;

export class FilterPatternError extends Error {}

export function compileFilterPattern(pattern: string | undefined): Matcher {
  const p = (pattern ?? '').trim();
  if (p === '' || p === '""') return () => true;
  if (p.startsWith('{')) return compileJson(p);
  if (p.startsWith('[')) return compileDelimited(p);
  if (p.length > 1 && p.startsWith('%') && p.endsWith('%')) {
    const re = safeRegex(p.slice(1, -1));
    return (m) => re.test(m);
  }
  return compileTerms(p);
}

// ---- terms ---------------------------------------------------------------------------------------

function compileTerms(p: string): Matcher {
  const required: string[] = [];
  const optional: string[] = [];
  const excluded: string[] = [];
  const re = /([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g;
  for (let m = re.exec(p); m; m = re.exec(p)) {
    const term = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] as string);
    if (term.includes('"')) throw new FilterPatternError(`Invalid character(s) in term '${term}'`);
    (m[1] === '?' ? optional : m[1] === '-' ? excluded : required).push(term);
  }
  return (msg) =>
    required.every((t) => msg.includes(t)) && (optional.length === 0 || optional.some((t) => msg.includes(t))) && !excluded.some((t) => msg.includes(t));
}

// ---- JSON ----------------------------------------------------------------------------------------

type Token = { kind: 'op' | 'paren' | 'logic' | 'selector' | 'string' | 'word'; text: string };

function tokenizeJson(body: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ kind: 'paren', text: c });
      i++;
    } else if (body.startsWith('&&', i) || body.startsWith('||', i)) {
      out.push({ kind: 'logic', text: body.slice(i, i + 2) });
      i += 2;
    } else if (/[=!<>]/.test(c)) {
      const two = body.slice(i, i + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : c;
      if (op === '!') throw new FilterPatternError('Invalid operator in filter pattern');
      out.push({ kind: 'op', text: op });
      i += op.length;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < body.length && body[j] !== '"') {
        if (body[j] === '\\' && j + 1 < body.length) j++;
        s += body[j];
        j++;
      }
      if (j >= body.length) throw new FilterPatternError('Unterminated string in filter pattern');
      out.push({ kind: 'string', text: s });
      i = j + 1;
    } else {
      let j = i;
      while (j < body.length && !/[\s()=!<>&|"]/.test(body[j] as string)) j++;
      const word = body.slice(i, j);
      out.push({ kind: word.startsWith('$') ? 'selector' : 'word', text: word });
      i = j;
    }
  }
  return out;
}

type Path = (string | number)[];

function parseSelector(sel: string): Path {
  if (!sel.startsWith('$')) throw new FilterPatternError(`Invalid selector '${sel}'`);
  const path: Path = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < sel.length) {
    const m = re.exec(sel);
    if (!m) throw new FilterPatternError(`Invalid selector '${sel}'`);
    path.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  return path;
}

function select(value: unknown, path: Path): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/**
 * A `*` glob matched without a regular expression: prefix, suffix, then each middle part at its
 * leftmost place, which is linear in the value however many stars a hostile pattern holds.
 */
function wildcard(text: string): (value: string) => boolean {
  const parts = text.split('*');
  if (parts.length === 1) return (v) => v === text;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  return (v) => {
    if (v.length < first.length + last.length || !v.startsWith(first) || !v.endsWith(last)) return false;
    let at = first.length;
    const end = v.length - last.length;
    for (const m of middle) {
      const i = v.indexOf(m, at);
      if (i < 0 || i + m.length > end) return false;
      at = i + m.length;
    }
    return true;
  };
}

/**
 * Regular expressions run against every event in the server's own thread, so only the features AWS
 * documents are taken, and none that backtrack without bound: no lookaround, no backreferences, no
 * quantified groups that contain quantifiers.
 */
function safeRegex(source: string): RegExp {
  if (source.length > 256 || /\(\?[=!<]|\\[1-9k]/.test(source) || /\([^)]*[+*?}][^)]*\)\s*[+*?{]/.test(source)) {
    throw new FilterPatternError('Invalid regex in filter pattern');
  }
  try {
    return new RegExp(source);
  } catch {
    throw new FilterPatternError('Invalid regex in filter pattern');
  }
}

type JsonPredicate = (doc: unknown) => boolean;

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function compareValue(op: string, rawValue: Token): (v: unknown) => boolean {
  const numeric = rawValue.kind === 'word' && NUMBER.test(rawValue.text);
  if (numeric) {
    const n = Number(rawValue.text);
    const test = { '=': (a: number) => a === n, '!=': (a: number) => a !== n, '<': (a: number) => a < n, '>': (a: number) => a > n, '<=': (a: number) => a <= n, '>=': (a: number) => a >= n }[op];
    if (!test) throw new FilterPatternError(`Invalid operator '${op}'`);
    return (v) => typeof v === 'number' && test(v);
  }
  if (op !== '=' && op !== '!=') throw new FilterPatternError(`Operator '${op}' needs a number`);
  const glob = wildcard(rawValue.text);
  return op === '=' ? (v) => typeof v === 'string' && glob(v) : (v) => typeof v !== 'string' || !glob(v);
}

function compileJson(p: string): Matcher {
  if (!p.endsWith('}')) throw new FilterPatternError('Invalid JSON filter pattern');
  const tokens = tokenizeJson(p.slice(1, -1));
  let pos = 0;
  const peek = () => tokens[pos];
  const take = () => {
    const t = tokens[pos++];
    if (!t) throw new FilterPatternError('Unexpected end of filter pattern');
    return t;
  };
  const orExpr = (): JsonPredicate => {
    const parts = [andExpr()];
    while (peek()?.text === '||') {
      pos++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? (parts[0] as JsonPredicate) : (d) => parts.some((f) => f(d));
  };
  const andExpr = (): JsonPredicate => {
    const parts = [unary()];
    while (peek()?.text === '&&') {
      pos++;
      parts.push(unary());
    }
    return parts.length === 1 ? (parts[0] as JsonPredicate) : (d) => parts.every((f) => f(d));
  };
  const unary = (): JsonPredicate => {
    const t = take();
    if (t.text === '(') {
      const inner = orExpr();
      if (take().text !== ')') throw new FilterPatternError('Unbalanced parentheses in filter pattern');
      return inner;
    }
    if (t.kind !== 'selector') throw new FilterPatternError(`Expected a selector, found '${t.text}'`);
    const path = parseSelector(t.text);
    const next = take();
    if (next.kind === 'word') {
      const words = [next.text.toUpperCase(), (take().text ?? '').toUpperCase()].join(' ');
      if (words === 'IS NULL') return (d) => select(d, path) === null;
      if (words === 'NOT EXISTS') return (d) => select(d, path) === undefined;
      if (words === 'IS TRUE') return (d) => select(d, path) === true;
      if (words === 'IS FALSE') return (d) => select(d, path) === false;
      throw new FilterPatternError(`Invalid condition '${words}'`);
    }
    if (next.kind !== 'op') throw new FilterPatternError(`Expected an operator, found '${next.text}'`);
    const value = take();
    if (value.kind !== 'string' && value.kind !== 'word') throw new FilterPatternError(`Expected a value, found '${value.text}'`);
    const test = compareValue(next.text, value);
    return (d) => test(select(d, path));
  };
  const predicate = orExpr();
  if (pos !== tokens.length) throw new FilterPatternError(`Unexpected '${tokens[pos]?.text}' in filter pattern`);
  return (msg) => {
    const start = msg.trimStart()[0];
    if (start !== '{' && start !== '[') return false;
    let doc: unknown;
    try {
      doc = JSON.parse(msg);
    } catch {
      return false;
    }
    return predicate(doc);
  };
}

// ---- space-delimited -----------------------------------------------------------------------------

interface FieldSpec {
  readonly ellipsis: boolean;
  readonly test: ((field: string) => boolean) | undefined;
}

/** Splits a message into fields at spaces; "quoted" and [bracketed] runs are one field each. */
function delimitedFields(msg: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|\[([^\]]*)\]|(\S+)/g;
  for (let m = re.exec(msg); m; m = re.exec(msg)) out.push(m[1] ?? m[2] ?? (m[3] as string));
  return out;
}

function compileDelimited(p: string): Matcher {
  if (!p.endsWith(']')) throw new FilterPatternError('Invalid space-delimited filter pattern');
  const specs: FieldSpec[] = p
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      if (s === '...') return { ellipsis: true, test: undefined };
      const m = /^([\w.-]+)\s*(!=|<=|>=|=|<|>)\s*(.+)$/.exec(s);
      if (!m) {
        if (!/^[\w.-]+$/.test(s)) throw new FilterPatternError(`Invalid field '${s}' in filter pattern`);
        return { ellipsis: false, test: undefined };
      }
      const raw = (m[3] as string).trim();
      const quoted = raw.startsWith('"') && raw.endsWith('"') && raw.length > 1;
      const cmp = compareValue(m[2] as string, { kind: quoted ? 'string' : 'word', text: quoted ? raw.slice(1, -1) : raw });
      const numeric = !quoted && NUMBER.test(raw);
      return { ellipsis: false, test: (f: string) => cmp(numeric ? Number(f) : f) };
    });
  const matchFrom = (fields: string[], fi: number, si: number): boolean => {
    if (si === specs.length) return fi === fields.length;
    const spec = specs[si] as FieldSpec;
    if (spec.ellipsis) {
      for (let k = fi; k <= fields.length; k++) if (matchFrom(fields, k, si + 1)) return true;
      return false;
    }
    if (fi >= fields.length) return false;
    if (spec.test && !spec.test(fields[fi] as string)) return false;
    return matchFrom(fields, fi + 1, si + 1);
  };
  return (msg) => matchFrom(delimitedFields(msg), 0, 0);
}
