// SigV4 as the Lambda front door checks it: the Authorization header or presigned query parameters are
// parsed, the date is held to AWS's 15-minute window, and the signature is recomputed with
// @smithy/signature-v4's canonicalisation over the request exactly as it arrived (method, the path as
// sent, the query, the signed headers only, the body's SHA-256). Every refusal is AWS's error type
// and text (what Lambda answers: 403 with x-amzn-ErrorType and a `message` body).
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4Base, getSigningKey, UNSIGNED_PAYLOAD } from '@smithy/signature-v4';
import type { HttpRequest, SourceData } from '@smithy/types';
import { LambdaError } from '../shared/errors.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The services this endpoint answers for: Lambda, and CloudWatch Logs on the same port. */
export type SigningService = 'lambda' | 'logs';
/** AWS accepts a request signed up to 15 minutes before or after its own clock. */
const SKEW_MS = 15 * 60 * 1000;
/** SigV4's limit on X-Amz-Expires. */
const MAX_EXPIRES_S = 7 * 24 * 60 * 60;

const untyped = { status: 403, untyped: true } as const;
export const authErrors = {
  missing: () => new LambdaError('MissingAuthenticationTokenException', 'Missing Authentication Token', untyped),
  unrecognized: () => new LambdaError('UnrecognizedClientException', 'The security token included in the request is invalid.', untyped),
  expiredToken: () => new LambdaError('ExpiredTokenException', 'The security token included in the request is expired', untyped),
  incomplete: (message: string) => new LambdaError('IncompleteSignatureException', message, untyped),
  invalid: (message = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.') =>
    new LambdaError('InvalidSignatureException', message, untyped),
} as const;

/** What a request claims: everything needed to check it once the secret for `accessKeyId` is known. */
export interface SignedClaim {
  readonly form: 'header' | 'query';
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  /** The credential scope, `DATE/REGION/SERVICE/aws4_request`. */
  readonly scope: string;
  /** X-Amz-Date, `YYYYMMDDTHHMMSSZ`. */
  readonly longDate: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly sessionToken: string | undefined;
}

/** The request as received, before its body is read. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target as sent (path and raw query), e.g. req.url. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  /** Alternating names and values, as node gives them (keeps repeated headers apart). */
  readonly rawHeaders: readonly string[];
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Query parameters decoded once each, in order; '+' stays '+' as SigV4 canonicalisation requires. */
export function rawQueryParams(target: string): [string, string][] {
  const q = target.indexOf('?');
  if (q < 0) return [];
  const out: [string, string][] = [];
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    try {
      out.push([decodeURIComponent(k), decodeURIComponent(v)]);
    } catch {
      // Undecodable escapes cannot have been signed by any SDK; the signature check fails on them.
      out.push([k, v]);
    }
  }
  return out;
}

const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseLongDate(value: string): number | undefined {
  const m = LONG_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(t) ? undefined : t;
}

function formatLongDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function checkScope(credential: string, signedHeaders: string, signature: string, longDate: string | undefined, form: SignedClaim['form'], sessionToken: string | undefined): SignedClaim {
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw authErrors.incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  const [accessKeyId, shortDate, region, service, terminator] = parts as [string, string, string, string, string];
  if (terminator !== 'aws4_request') throw authErrors.invalid(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `);
  if (!/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/.test(region)) throw authErrors.invalid('Credential should be scoped to a valid region. ');
  if (longDate === undefined || parseLongDate(longDate) === undefined) {
    throw authErrors.incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`);
  }
  if (longDate.slice(0, 8) !== shortDate) {
    throw authErrors.invalid(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${longDate.slice(0, 8)}', from '${form === 'header' ? 'x-amz-date' : 'X-Amz-Date'}'.`);
  }
  return {
    form,
    accessKeyId,
    region,
    service,
    scope: `${shortDate}/${region}/${service}/${terminator}`,
    longDate,
    signedHeaders: signedHeaders.split(';'),
    signature,
    sessionToken,
  };
}

/**
 * The request's SigV4 claim, undefined when it carries none (no Authorization header and no
 * X-Amz-Algorithm parameter); throws AWS's IncompleteSignatureException for a malformed one.
 */
export function parseClaim(req: ReceivedRequest): SignedClaim | undefined {
  const authorization = header(req.headers, 'authorization');
  if (authorization !== undefined) {
    // As AWS reads it: the first word is the algorithm, then comma-separated key=value components.
    const space = authorization.indexOf(' ');
    const algorithm = space < 0 ? authorization : authorization.slice(0, space);
    const components = new Map<string, string>();
    for (const raw of (space < 0 ? '' : authorization.slice(space + 1)).split(',')) {
      const c = raw.trim();
      if (c === '') continue;
      const eq = c.indexOf('=');
      if (eq < 0) throw authErrors.incomplete(`'${c}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`);
      components.set(c.slice(0, eq), c.slice(eq + 1));
    }
    // Every SDK sends X-Amz-Date; signing over the HTTP Date header instead is not supported (strict).
    const longDate = header(req.headers, 'x-amz-date');
    const missing = [
      components.has('Credential') ? '' : `Authorization header requires 'Credential' parameter. `,
      components.has('Signature') ? '' : `Authorization header requires 'Signature' parameter. `,
      components.has('SignedHeaders') ? '' : `Authorization header requires 'SignedHeaders' parameter. `,
      longDate !== undefined ? '' : `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. `,
    ].join('');
    if (missing) throw authErrors.incomplete(`${missing}Authorization=${authorization}`);
    // Lambda takes SigV4 only (not SigV4a, not SigV2): any other algorithm cannot match.
    if (algorithm !== ALGORITHM) throw authErrors.invalid();
    return checkScope(components.get('Credential')!, components.get('SignedHeaders')!, components.get('Signature')!, longDate, 'header', header(req.headers, 'x-amz-security-token'));
  }
  const query = new Map(rawQueryParams(req.target));
  if (!query.has('X-Amz-Algorithm')) return undefined;
  const required = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'];
  if (required.some((k) => !query.get(k))) {
    throw authErrors.incomplete(`AWS query-string parameters must include ${required.map((k) => `'${k}'`).join(', ')}. Re-examine the query-string parameters.`);
  }
  if (query.get('X-Amz-Algorithm') !== ALGORITHM) throw authErrors.invalid();
  return checkScope(query.get('X-Amz-Credential')!, query.get('X-Amz-SignedHeaders')!, query.get('X-Amz-Signature')!, query.get('X-Amz-Date'), 'query', query.get('X-Amz-Security-Token'));
}

/** Holds the claim's date to AWS's window (header form) or to its X-Amz-Expires (query form). */
export function checkDate(claim: SignedClaim, req: ReceivedRequest, now: number): void {
  const signedAt = parseLongDate(claim.longDate)!;
  const nowText = formatLongDate(now);
  if (claim.form === 'query') {
    const expires = Number(new Map(rawQueryParams(req.target)).get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_S) {
      throw authErrors.invalid(`X-Amz-Expires must be an integer from 1 to ${MAX_EXPIRES_S} seconds.`);
    }
    // AWS's text for an elapsed presigned URL: the date it was valid until, against now.
    if (signedAt + expires * 1000 < now) {
      throw authErrors.invalid(`Signature expired: ${claim.longDate} is now earlier than ${formatLongDate(now - expires * 1000)} (${nowText} - ${expires} sec.)`);
    }
  } else if (signedAt < now - SKEW_MS) {
    throw authErrors.invalid(`Signature expired: ${claim.longDate} is now earlier than ${formatLongDate(now - SKEW_MS)} (${nowText} - 15 min.)`);
  }
  if (signedAt > now + SKEW_MS) {
    throw authErrors.invalid(`Signature not yet current: ${claim.longDate} is still later than ${formatLongDate(now + SKEW_MS)} (${nowText} + 15 min.)`);
  }
}

/** SHA-256 and HMAC-SHA256 on node:crypto in the shape the signer takes. */
export class NodeSha256 {
  readonly #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.#hash.digest());
  }
}

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The signer's canonical request and string to sign, reused as they are; only the inputs are ours. */
class Canonicaliser extends SignatureV4Base {
  constructor() {
    super({ service: 'lambda', region: 'us-east-1', credentials: { accessKeyId: '', secretAccessKey: '' }, sha256: NodeSha256 });
  }
  stringToSign(request: HttpRequest, headers: Record<string, string>, payloadHash: string, claim: SignedClaim): Promise<string> {
    return this.createStringToSign(claim.longDate, claim.scope, this.createCanonicalRequest(request, headers, payloadHash), ALGORITHM);
  }
}

const canonicaliser = new Canonicaliser();

/**
 * Recomputes the signature with `secretAccessKey` and compares it with the claim's, in constant time.
 * The payload hash is the body's own; a signed x-amz-content-sha256 must be that hash or
 * UNSIGNED-PAYLOAD. The claim must be scoped to `service`, the one the request is for.
 */
export async function verifySignature(claim: SignedClaim, secretAccessKey: string, req: ReceivedRequest, body: Buffer, service: SigningService = 'lambda'): Promise<void> {
  if (claim.service !== service) throw authErrors.invalid(`Credential should be scoped to correct service: '${service}'. `);
  const signed = new Set(claim.signedHeaders);
  // AWS requires host among the signed headers: without it a signature could be replayed elsewhere.
  if (!signed.has('host')) throw authErrors.invalid();
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (!signed.has(name)) continue;
    const list = values.get(name) ?? [];
    list.push(req.rawHeaders[i + 1]!.trim().replace(/\s+/g, ' '));
    values.set(name, list);
  }
  const canonicalHeaders: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const v = values.get(name);
    if (v === undefined) throw authErrors.invalid();
    canonicalHeaders[name] = v.join(',');
  }
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const declared = header(req.headers, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== bodyHash && declared !== UNSIGNED_PAYLOAD) throw authErrors.invalid();
  const payloadHash = declared ?? bodyHash;

  const q = req.target.indexOf('?');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of rawQueryParams(req.target)) {
    if (k === 'X-Amz-Signature') continue;
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const request = {
    method: req.method,
    protocol: 'http:',
    hostname: canonicalHeaders['host'] ?? '',
    path: q < 0 ? req.target : req.target.slice(0, q),
    query,
    headers: canonicalHeaders,
  } as HttpRequest;
  const stringToSign = await canonicaliser.stringToSign(request, canonicalHeaders, payloadHash, claim);
  const key = await getSigningKey(NodeSha256, { accessKeyId: claim.accessKeyId, secretAccessKey }, claim.scope.slice(0, 8), claim.region, service);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(claim.signature, 'hex');
  if (given.length !== expected.length || !/^[0-9a-f]{64}$/.test(claim.signature) || !timingSafeEqual(given, expected)) throw authErrors.invalid();
}
