// rest-json (de)serialisation driven by the model: binds uri labels, query strings, headers and the
// JSON body (or a raw payload member) into an input object, and writes an output object back as status,
// headers and body.
import { shapes } from './generated/model.js';
import type { OperationSpec, ShapeSpec } from './model-types.js';
import { LambdaError } from '../shared/errors.js';
import { jsonSyntaxError } from './json-syntax.js';

export interface WireRequest {
  readonly method: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string | undefined;
}

function shape(name: string): ShapeSpec {
  const s = shapes[name];
  if (!s) throw new Error(`model has no shape ${name}`);
  return s;
}

/**
 * A request body or parameter that cannot be read as the model's type. Lambda's model documents
 * InvalidRequestContentException for a body that cannot be parsed as JSON; AWS's exact wording for
 * control-plane bodies is not recorded, so the Invoke wording is used throughout.
 */
function serializationError(message: string): LambdaError {
  return new LambdaError('InvalidRequestContentException', message, { status: 400 });
}

function fromText(shapeName: string, text: string, where: string): unknown {
  const s = shape(shapeName);
  switch (s.type) {
    case 'integer': case 'long': {
      if (!/^-?\d+$/.test(text.trim())) throw serializationError(`Cannot convert '${text}' to ${s.type} for ${where}`);
      return Number(text);
    }
    case 'double': case 'float': {
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw serializationError(`Cannot convert '${text}' to ${s.type} for ${where}`);
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw serializationError(`Cannot convert '${text}' to boolean for ${where}`);
      return text === 'true';
    case 'timestamp': {
      const d = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
      if (Number.isNaN(d.getTime())) throw serializationError(`Cannot convert '${text}' to timestamp for ${where}`);
      return d;
    }
    default:
      return text;
  }
}

/** Checks and converts one JSON value to the model's type (blobs from base64, timestamps from epoch seconds). */
function fromJson(shapeName: string, value: unknown, where: string): unknown {
  if (value === null) return undefined;
  const s = shape(shapeName);
  const wrong = () => serializationError(`Could not parse request body into json: Unexpected value type for '${where}': expected ${s.type}`);
  switch (s.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) throw wrong();
      const out: Record<string, unknown> = {};
      const members = s.members ?? {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const m = members[k];
        // Unknown members are ignored, as AWS's JSON binding does for forward compatibility.
        if (!m || m.location) continue;
        const converted = fromJson(m.shape, v, where ? `${where}.${k}` : k);
        if (converted !== undefined) out[k] = converted;
      }
      return out;
    }
    case 'list':
      if (!Array.isArray(value)) throw wrong();
      return value.map((v, i) => fromJson(s.member!, v, `${where}[${i}]`));
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) throw wrong();
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = fromJson(s.value!, v, `${where}.${k}`);
      return out;
    }
    case 'string':
      if (typeof value !== 'string') throw wrong();
      return value;
    case 'integer': case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrong();
      return value;
    case 'double': case 'float':
      if (typeof value !== 'number') throw wrong();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong();
      return value;
    case 'blob':
      if (typeof value !== 'string') throw wrong();
      return Buffer.from(value, 'base64');
    case 'timestamp':
      if (typeof value === 'number') return new Date(value * 1000);
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value);
      throw wrong();
    default:
      return value;
  }
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  const problem = jsonSyntaxError(body);
  if (problem !== undefined) throw serializationError(`Could not parse request body into json: ${problem}`);
  return JSON.parse(body.toString('utf8'));
}

function header(headers: WireRequest['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Binds a request to its operation's input shape. Constraint validation is separate (validate.ts). */
export function deserializeInput(op: OperationSpec, labels: Readonly<Record<string, string>>, req: WireRequest): Record<string, unknown> {
  if (!op.input) return {};
  const s = shape(op.input);
  const members = s.members ?? {};
  let input: Record<string, unknown> = {};
  const payloadMember = s.payload;
  const hasBodyMembers = Object.entries(members).some(([k, m]) => !m.location && k !== payloadMember);
  if (payloadMember) {
    const m = members[payloadMember]!;
    const ps = shape(m.shape);
    if (ps.type === 'blob' || ps.type === 'string') {
      input[payloadMember] = ps.type === 'blob' ? req.body : req.body.toString('utf8');
    } else if (req.body.length) {
      input[payloadMember] = fromJson(m.shape, parseJsonBody(req.body), payloadMember);
    }
  } else if (hasBodyMembers) {
    const json = parseJsonBody(req.body);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw serializationError('Could not parse request body into json: Start of structure or map found where not expected');
    }
    input = fromJson(op.input, json, '') as Record<string, unknown>;
  }
  for (const [name, m] of Object.entries(members)) {
    const key = m.locationName ?? name;
    if (m.location === 'uri') {
      const v = labels[key];
      if (v !== undefined) input[name] = fromText(m.shape, v, name);
    } else if (m.location === 'querystring') {
      const ms = shape(m.shape);
      if (ms.type === 'list') {
        const all = req.query.getAll(key);
        if (all.length) input[name] = all.map((v) => fromText(ms.member!, v, name));
      } else {
        const v = req.query.get(key);
        if (v !== null) input[name] = fromText(m.shape, v, name);
      }
    } else if (m.location === 'header') {
      const v = header(req.headers, key);
      if (v !== undefined) input[name] = fromText(m.shape, v, name);
    }
  }
  return input;
}

function toJson(shapeName: string, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  const s = shape(shapeName);
  switch (s.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [k, m] of Object.entries(s.members ?? {})) {
        if (m.location) continue;
        const v = toJson(m.shape, (value as Record<string, unknown>)[k]);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case 'list':
      return (value as unknown[]).map((v) => toJson(s.member!, v));
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toJson(s.value!, v);
      return out;
    }
    case 'blob':
      return Buffer.isBuffer(value) ? value.toString('base64') : value;
    case 'timestamp':
      // rest-json's default timestamp format in bodies is epoch seconds.
      return value instanceof Date ? value.getTime() / 1000 : value;
    default:
      return value;
  }
}

/** Writes an operation's output object as AWS does: status, header-bound members, JSON or raw payload. */
export function serializeOutput(op: OperationSpec, output: Record<string, unknown> | undefined): WireResponse {
  const res: WireResponse = { status: op.responseCode, headers: {}, body: undefined };
  if (!op.output) {
    return res;
  }
  const s = shape(op.output);
  const data = output ?? {};
  for (const [name, m] of Object.entries(s.members ?? {})) {
    const v = data[name];
    if (v === undefined || v === null) continue;
    if (m.location === 'header') {
      res.headers[(m.locationName ?? name).toLowerCase()] = v instanceof Date ? v.toUTCString() : String(v);
    } else if (m.location === 'statusCode') {
      res.status = Number(v);
    }
  }
  if (s.payload) {
    const v = data[s.payload];
    const ps = shape(s.members![s.payload]!.shape);
    if (ps.type === 'blob') {
      res.body = Buffer.isBuffer(v) ? v : v === undefined ? Buffer.alloc(0) : Buffer.from(String(v));
      res.headers['content-type'] = 'application/json';
    } else if (v !== undefined) {
      res.body = JSON.stringify(toJson(s.members![s.payload]!.shape, v));
      res.headers['content-type'] = 'application/json';
    }
    return res;
  }
  if (res.status === 204) return res;
  res.body = JSON.stringify(toJson(op.output, data) ?? {});
  res.headers['content-type'] = 'application/json';
  return res;
}
