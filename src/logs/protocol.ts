// The awsJson1_1 protocol of CloudWatch Logs, driven by its generated model: which requests are
// ours, the operation named by `X-Amz-Target: Logs_20140328.<Operation>`, the JSON body checked
// against the input shape (wrong JSON types answer SerializationException, broken constraints
// InvalidParameterException with AWS's "N validation errors detected" text), and errors written as
// `{"__type": "...", "message": "..."}`.
import type http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { operations, shapes, targetPrefix, signingName, type LogsOperationName, type LogsOperationSpec } from './generated/model.js';
import type { ShapeSpec } from '../api/model-types.js';
import type { WireResponse } from '../api/codec.js';
import { parseSigV4Authorization } from '../api/identity.js';
import { renderValue, validationMessage, wireMemberName } from '../api/validate.js';

export const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** An error CloudWatch Logs answers with: its `__type`, status and message. */
export class LogsError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string | undefined, status = 400) {
    super(message ?? '');
    this.type = type;
    this.status = status;
    this.hasMessage = message !== undefined;
  }
  readonly hasMessage: boolean;
}

export const logsErrors = {
  invalidParameter: (message: string) => new LogsError('InvalidParameterException', message),
  notFound: (message: string) => new LogsError('ResourceNotFoundException', message),
  exists: (message: string) => new LogsError('ResourceAlreadyExistsException', message),
  groupNotFound: () => new LogsError('ResourceNotFoundException', 'The specified log group does not exist.'),
  streamNotFound: () => new LogsError('ResourceNotFoundException', 'The specified log stream does not exist.'),
} as const;

const byName = new Map<string, LogsOperationSpec>(operations.map((o) => [o.name, o]));

/**
 * A request for CloudWatch Logs rather than Lambda: it names a Logs operation in X-Amz-Target, or is
 * signed for the `logs` service. No Lambda operation uses X-Amz-Target.
 */
export function isLogsRequest(headers: IncomingHttpHeaders): boolean {
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith(`${targetPrefix}.`)) return true;
  return parseSigV4Authorization(headers.authorization)?.service === signingName;
}

/** The operation an X-Amz-Target names. */
export function operationOf(headers: IncomingHttpHeaders): LogsOperationSpec {
  const target = headers['x-amz-target'];
  const op = typeof target === 'string' && target.startsWith(`${targetPrefix}.`) ? byName.get(target.slice(targetPrefix.length + 1)) : undefined;
  // What AWS's JSON front end answers for a missing or unknown target.
  if (!op) throw new LogsError('UnknownOperationException', undefined);
  return op;
}

function shape(name: string): ShapeSpec {
  const s = shapes[name];
  if (!s) throw new Error(`logs model has no shape ${name}`);
  return s;
}

const serialization = () => new LogsError('SerializationException', undefined);

/** Checks JSON types against the model; unknown members are dropped, as AWS's binding ignores them. */
function bind(shapeName: string, value: unknown): unknown {
  if (value === null) return undefined;
  const s = shape(shapeName);
  switch (s.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) throw serialization();
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const m = s.members?.[k];
        if (!m) continue;
        const b = bind(m.shape, v);
        if (b !== undefined) out[k] = b;
      }
      return out;
    }
    case 'list':
      if (!Array.isArray(value)) throw serialization();
      return value.map((v) => bind(s.member!, v));
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) throw serialization();
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = bind(s.value!, v);
      return out;
    }
    case 'string':
      if (typeof value !== 'string') throw serialization();
      return value;
    case 'integer': case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization();
      return value;
    case 'double': case 'float':
      if (typeof value !== 'number') throw serialization();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw serialization();
      return value;
    case 'timestamp':
      if (typeof value !== 'number') throw serialization();
      return value;
    default:
      return value;
  }
}

const patterns = new Map<string, RegExp>();

function failures(shapeName: string, value: unknown, path: string, out: string[]): void {
  const s = shape(shapeName);
  const at = (msg: string) => `Value '${renderValue(value)}' at '${path}' failed to satisfy constraint: ${msg}`;
  if (s.type === 'structure') {
    const obj = value as Record<string, unknown>;
    for (const [name, m] of Object.entries(s.members ?? {})) {
      const memberPath = path ? `${path}.${wireMemberName(name)}` : wireMemberName(name);
      const v = obj[name];
      if (v === undefined) {
        if (s.required?.includes(name)) out.push(`Value null at '${memberPath}' failed to satisfy constraint: Member must not be null`);
        continue;
      }
      failures(m.shape, v, memberPath, out);
    }
    return;
  }
  if (s.type === 'list') {
    const list = value as unknown[];
    if (s.max !== undefined && list.length > s.max) out.push(at(`Member must have length less than or equal to ${s.max}`));
    if (s.min !== undefined && list.length < s.min) out.push(at(`Member must have length greater than or equal to ${s.min}`));
    list.forEach((item, i) => failures(s.member!, item, `${path}.${i + 1}.member`, out));
    return;
  }
  if (s.type === 'string' && typeof value === 'string') {
    if (s.enum && !s.enum.includes(value)) out.push(at(`Member must satisfy enum value set: [${s.enum.join(', ')}]`));
    if (s.pattern !== undefined) {
      let re = patterns.get(s.pattern);
      if (!re) patterns.set(s.pattern, (re = new RegExp(`^(?:${s.pattern})$`, 'su')));
      if (!re.test(value)) out.push(at(`Member must satisfy regular expression pattern: ${s.pattern}`));
    }
    if (s.max !== undefined && value.length > s.max) out.push(at(`Member must have length less than or equal to ${s.max}`));
    if (s.min !== undefined && value.length < s.min) out.push(at(`Member must have length greater than or equal to ${s.min}`));
    return;
  }
  if ((s.type === 'integer' || s.type === 'long') && typeof value === 'number') {
    if (s.max !== undefined && value > s.max) out.push(at(`Member must have value less than or equal to ${s.max}`));
    if (s.min !== undefined && value < s.min) out.push(at(`Member must have value greater than or equal to ${s.min}`));
  }
}

/** Parses and checks a request body for `op`. */
export function readInput(op: LogsOperationSpec, body: Buffer): Record<string, unknown> {
  if (!op.input) return {};
  let json: unknown = {};
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw serialization();
    }
  }
  const input = bind(op.input, json) as Record<string, unknown>;
  const out: string[] = [];
  failures(op.input, input, '', out);
  // CloudWatch Logs answers constraint failures as InvalidParameterException, in the framework's words.
  if (out.length) throw logsErrors.invalidParameter(validationMessage(out));
  return input;
}

export function jsonResponse(output: unknown): WireResponse {
  return { status: 200, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(output ?? {}) };
}

export function errorResponse(e: LogsError): WireResponse {
  const body: Record<string, string> = { __type: e.type };
  if (e.hasMessage) body['message'] = e.message;
  return { status: e.status, headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': e.type }, body: JSON.stringify(body) };
}

export type { LogsOperationName };

/** A response written by the service itself (StartLiveTail's event stream). */
export interface StreamingResponse extends WireResponse {
  readonly stream: (res: http.ServerResponse) => void;
}

export function isStreamingResponse(r: WireResponse): r is StreamingResponse {
  return typeof (r as Partial<StreamingResponse>).stream === 'function';
}

export function groupArn(scope: { readonly accountId: string; readonly region: string }, name: string): string {
  return `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${name}`;
}
