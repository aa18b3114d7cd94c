// Why a request body or Invoke payload is not JSON, worded as AWS words it: AWS parses with Jackson's
// UTF-8 stream parser, so its InvalidRequestContentException quotes Jackson's messages and locations
// ("Invalid UTF-8 start byte 0x87\n at [Source: REDACTED (...); line: 1, column: 3]"). Valid input is
// recognised with the native parser; this scanner only runs to explain a failure, and follows Jackson's
// order of checks, texts and line/column counting (columns count bytes, from 1).
import { isUtf8 } from 'node:buffer';

const SOURCE = '[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)';
const VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
const MAX_DEPTH = 1000;
const MAX_TOKEN_LENGTH = 256;

class JacksonError extends Error {}

/** Jackson's rendering of a character in its messages. */
function describe(code: number): string {
  const ch = String.fromCharCode(code);
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `(CTRL-CHAR, code ${code})`;
  if (code > 255) return `'${ch}' (code ${code} / 0x${code.toString(16)})`;
  return `'${ch}' (code ${code})`;
}

// Java's Character.isJavaIdentifierStart / isJavaIdentifierPart, close enough for error texts.
const identifierStart = (ch: string) => /[\p{L}\p{Nl}\p{Sc}\p{Pc}]/u.test(ch);
const identifierPart = (ch: string) => /[\p{L}\p{Nl}\p{Sc}\p{Pc}\p{Nd}\p{Mn}\p{Mc}]/u.test(ch) || /[\u0000-\u0008\u000e-\u001b\u007f-\u009f]/.test(ch);

class Scanner {
  #pos = 0;
  #row = 1;
  #rowStart = 0;
  #depth = 0;
  readonly #b: Buffer;

  constructor(buf: Buffer) {
    this.#b = buf;
  }

  #location(minusOne: boolean, pos = this.#pos, row = this.#row, rowStart = this.#rowStart): string {
    return `${SOURCE}; line: ${row}, column: ${pos - rowStart + (minusOne ? 0 : 1)}]`;
  }

  /** "Unexpected character" errors point at the character; the others at the position after it. */
  #fail(message: string, minusOne = false): never {
    throw new JacksonError(`${message}\n at ${this.#location(minusOne)}`);
  }

  #unexpected(code: number, comment: string): never {
    this.#fail(`Unexpected character (${describe(code)}): ${comment}`, true);
  }

  #eof(what: string): never {
    this.#fail(`Unexpected end-of-input${what}`);
  }

  #skipWs(): number | undefined {
    const b = this.#b;
    while (this.#pos < b.length) {
      const c = b[this.#pos]!;
      if (c === 0x20 || c === 0x09) this.#pos++;
      else if (c === 0x0a) { this.#pos++; this.#row++; this.#rowStart = this.#pos; }
      else if (c === 0x0d) {
        this.#pos++;
        if (b[this.#pos] === 0x0a) this.#pos++;
        this.#row++;
        this.#rowStart = this.#pos;
      } else if (c < 0x20) {
        this.#pos++;
        this.#fail(`Illegal character (${describe(c)}): only regular white space (\\r, \\n, \\t) is allowed between tokens`);
      } else return c;
    }
    return undefined;
  }

  /** Decodes one UTF-8 character whose first byte was just read, as Jackson does when quoting a token. */
  #decode(first: number): number {
    if (first < 0x80) return first;
    let needed: number;
    let c: number;
    if ((first & 0xe0) === 0xc0) { needed = 1; c = first & 0x1f; }
    else if ((first & 0xf0) === 0xe0) { needed = 2; c = first & 0x0f; }
    else if ((first & 0xf8) === 0xf0) { needed = 3; c = first & 0x07; }
    else this.#fail(`Invalid UTF-8 start byte 0x${first.toString(16)}`);
    for (let i = 0; i < needed; i++) {
      if (this.#pos >= this.#b.length) this.#eof(' in character escape sequence');
      const d = this.#b[this.#pos++]!;
      if ((d & 0xc0) !== 0x80) this.#fail(`Invalid UTF-8 middle byte 0x${d.toString(16)}`);
      c = (c << 6) | (d & 0x3f);
    }
    return c;
  }

  #invalidToken(prefix: string): never {
    let token = prefix;
    while (this.#pos < this.#b.length) {
      const ch = String.fromCodePoint(this.#decode(this.#b[this.#pos++]!));
      if (!identifierPart(ch)) break;
      token += ch;
      if (token.length >= MAX_TOKEN_LENGTH) { token += '...'; break; }
    }
    this.#fail(`Unrecognized token '${token}': was expecting ${VALUE_LIST}`);
  }

  #word(word: string): void {
    for (let i = 1; i < word.length; i++) {
      if (this.#pos >= this.#b.length || this.#b[this.#pos] !== word.charCodeAt(i)) this.#invalidToken(word.slice(0, i));
      this.#pos++;
    }
    const next = this.#b[this.#pos];
    if (next !== undefined && (next >= 0x80 || identifierPart(String.fromCharCode(next)))) this.#invalidToken(word);
  }

  #string(): void {
    const b = this.#b;
    for (;;) {
      if (this.#pos >= b.length) this.#eof(': was expecting closing quote for a string value');
      const c = b[this.#pos++]!;
      if (c === 0x22) return;
      if (c === 0x5c) {
        if (this.#pos >= b.length) this.#eof(' in character escape sequence');
        const e = b[this.#pos++]!;
        if (e === 0x75) {
          for (let i = 0; i < 4; i++) {
            if (this.#pos >= b.length) this.#eof(' in character escape sequence');
            const h = b[this.#pos++]!;
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(h))) this.#unexpected(h, 'expected a hex-digit for character escape sequence');
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) {
          this.#fail(`Unrecognized character escape ${describe(e)}`);
        }
      } else if (c < 0x20) {
        this.#fail(`Illegal unquoted character (${describe(c)}): has to be escaped using backslash to be included in string value`);
      } else if (c >= 0x80) {
        this.#decode(c);
      }
    }
  }

  #digits(): number {
    let n = 0;
    while (this.#pos < this.#b.length && this.#b[this.#pos]! >= 0x30 && this.#b[this.#pos]! <= 0x39) { this.#pos++; n++; }
    return n;
  }

  #number(first: number, root: boolean): void {
    const b = this.#b;
    if (first === 0x2d) {
      const c = b[this.#pos];
      if (c === undefined) this.#eof(' in a Number value');
      if (c < 0x30 || c > 0x39) { this.#pos++; this.#fail(`Unexpected character (${describe(c)}) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value`, true); }
      first = b[this.#pos++]!;
    }
    if (first === 0x30 && b[this.#pos] !== undefined && b[this.#pos]! >= 0x30 && b[this.#pos]! <= 0x39) {
      this.#pos++;
      this.#fail('Invalid numeric value: Leading zeroes not allowed', true);
    }
    this.#digits();
    if (b[this.#pos] === 0x2e) {
      this.#pos++;
      if (this.#digits() === 0) {
        const c = b[this.#pos];
        if (c === undefined) this.#eof(' in a Number value');
        this.#pos++;
        this.#fail(`Unexpected character (${describe(c)}) in numeric value: Decimal point not followed by a digit`, true);
      }
    }
    if (b[this.#pos] === 0x65 || b[this.#pos] === 0x45) {
      this.#pos++;
      if (b[this.#pos] === 0x2b || b[this.#pos] === 0x2d) this.#pos++;
      if (this.#digits() === 0) {
        const c = b[this.#pos];
        if (c === undefined) this.#eof(' in a Number value');
        this.#pos++;
        this.#fail(`Unexpected character (${describe(c)}) in numeric value: Exponent indicator not followed by a digit`, true);
      }
    }
    // A number at the root must be followed by white space or the end.
    const next = b[this.#pos];
    if (root && next !== undefined && next !== 0x20 && next !== 0x09 && next !== 0x0a && next !== 0x0d) {
      this.#pos++;
      this.#unexpected(next, 'Expected space separating root-level values');
    }
  }

  #value(c: number, root: boolean): void {
    switch (c) {
      case 0x7b: return this.#container('Object');
      case 0x5b: return this.#container('Array');
      case 0x22: return this.#string();
      case 0x74: return this.#word('true');
      case 0x66: return this.#word('false');
      case 0x6e: return this.#word('null');
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.#number(c, root);
        if (identifierStart(String.fromCharCode(c))) this.#invalidToken(String.fromCharCode(c));
        this.#unexpected(c, `expected a valid value ${VALUE_LIST}`);
    }
  }

  #container(kind: 'Object' | 'Array'): void {
    const start = { pos: this.#pos - 1, row: this.#row, rowStart: this.#rowStart };
    if (++this.#depth > MAX_DEPTH) {
      this.#fail(`Document nesting depth (${this.#depth}) exceeds the maximum allowed (${MAX_DEPTH}, from \`StreamReadConstraints.getMaxNestingDepth()\`)`);
    }
    const close = kind === 'Object' ? 0x7d : 0x5d;
    const next = (): number => {
      const c = this.#skipWs();
      if (c === undefined) this.#eof(`: expected close marker for ${kind} (start marker at ${this.#location(false, start.pos, start.row, start.rowStart)})`);
      this.#pos++;
      return c;
    };
    let c = next();
    if (c === close) { this.#depth--; return; }
    for (;;) {
      if (kind === 'Object') {
        if (c !== 0x22) this.#unexpected(c, 'was expecting double-quote to start field name');
        this.#string();
        c = next();
        if (c !== 0x3a) this.#unexpected(c, 'was expecting a colon to separate field name and value');
        c = next();
      }
      this.#value(c, false);
      c = next();
      if (c === close) { this.#depth--; return; }
      if (c !== 0x2c) this.#unexpected(c, `was expecting comma to separate ${kind} entries`);
      c = next();
    }
  }

  /** The Jackson message for the first problem, or undefined when Jackson would read one value. */
  scan(): string | undefined {
    try {
      const c = this.#skipWs();
      if (c === undefined) return undefined;
      this.#pos++;
      this.#value(c, true);
      // Jackson's tree reader stops after the first root value; lambdalite is strict about what follows
      // (AWS's behaviour for trailing content is not recorded), with Jackson's trailing-token wording.
      const after = this.#skipWs();
      if (after !== undefined) {
        return 'Trailing token found after value: not allowed as per `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`'
          + `\n at ${this.#location(true, this.#pos + 1)}`;
      }
      return undefined;
    } catch (e) {
      if (e instanceof JacksonError) return e.message;
      throw e;
    }
  }
}

/** undefined when `body` is one JSON value in UTF-8 (white space around it allowed), else Jackson's message. */
export function jsonSyntaxError(body: Buffer): string | undefined {
  if (isUtf8(body)) {
    try {
      JSON.parse(body.toString('utf8'));
      return undefined;
    } catch {
      // Explained below.
    }
  }
  return new Scanner(body).scan() ?? `Unexpected character: not valid JSON\n at ${SOURCE}; line: 1, column: 1]`;
}
