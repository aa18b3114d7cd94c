// Who is calling and where. With --credentials, the access key's own account, and only once the SigV4
// signature is verified. In the open developer mode the account and region come from the SigV4
// credential scope of the request, unverified: an access key id of 12 digits names its own account (so
// tests can act as a second account); any other key acts as the default account.
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { OperationName } from './generated/model.js';
import { LambdaError } from '../shared/errors.js';
import { checkDate, parseClaim, verifySignature, authErrors, type ReceivedRequest, type SignedClaim } from './sigv4.js';
import { FunctionCredentials, authorizeFunctionCall, type FunctionPrincipal } from './function-credentials.js';
import { ConfigError, type FunctionApiAccess } from '../shared/config.js';
import { sandboxOriginOf } from '../shared/sandbox-origin.js';

export interface Identity {
  readonly accountId: string;
  readonly region: string;
  readonly accessKeyId: string | undefined;
  /** Set for credentials minted for an execution environment. */
  readonly function?: FunctionPrincipal;
}

export interface IdentityDefaults {
  readonly accountId: string;
  readonly region: string;
}

/** The parts of an `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...` header. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Parses the SigV4 Authorization header per the SigV4 spec's grammar (comma-separated key=value
 * components after the algorithm). Returns undefined for anything else.
 */
export function parseSigV4Authorization(value: string | undefined): SigV4Authorization | undefined {
  if (!value || !value.startsWith(`${ALGORITHM} `)) return undefined;
  const parts = new Map<string, string>();
  for (const component of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = component.indexOf('=');
    if (eq < 0) return undefined;
    parts.set(component.slice(0, eq).trim(), component.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential')?.split('/');
  if (!credential || credential.length !== 5 || credential[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: (parts.get('SignedHeaders') ?? '').split(';').filter(Boolean),
    signature: parts.get('Signature') ?? '',
  };
}

export function identify(headers: IncomingHttpHeaders, query: URLSearchParams, defaults: IdentityDefaults): Identity {
  let auth = parseSigV4Authorization(headers.authorization);
  if (!auth) {
    // Presigned URLs carry the same credential scope in the query string.
    const credential = query.get('X-Amz-Credential');
    if (credential) auth = parseSigV4Authorization(`${ALGORITHM} Credential=${credential}, SignedHeaders=host, Signature=`);
  }
  const accessKeyId = auth?.accessKeyId;
  return {
    accessKeyId,
    accountId: accessKeyId && /^\d{12}$/.test(accessKeyId) ? accessKeyId : defaults.accountId,
    region: auth?.region || defaults.region,
  };
}

/** One access key from the --credentials file. */
export interface AccessKey {
  /** The file's `[section]` name. */
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly accountId: string;
}

/**
 * Reads access keys in the AWS shared credentials file format, each section naming one key and the
 * account it acts in (`aws_account_id`). Every mistake is reported with its line.
 */
export function parseCredentialsFile(text: string, file: string): Map<string, AccessKey> {
  const keys = new Map<string, AccessKey>();
  const fail = (line: number, what: string) => new ConfigError(`${file} line ${line}: ${what}`);
  type Section = { name: string; line: number; values: Map<string, { value: string; line: number }> };
  const sections: Section[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      sections.push({ name: header[1]!, line: i + 1, values: new Map() });
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw fail(i + 1, `expected '[name]' or 'key = value'`);
    const section = sections.at(-1);
    if (!section) throw fail(i + 1, `'${line.slice(0, eq).trim()}' is outside any [name] section`);
    section.values.set(line.slice(0, eq).trim().toLowerCase(), { value: line.slice(eq + 1).trim(), line: i + 1 });
  });
  for (const s of sections) {
    const get = (k: string) => {
      const v = s.values.get(k);
      if (!v || v.value === '') throw fail(s.line, `section [${s.name}] has no ${k}`);
      return v;
    };
    const id = get('aws_access_key_id');
    const secret = get('aws_secret_access_key');
    const account = get('aws_account_id');
    if (!/^[A-Za-z0-9]{1,128}$/.test(id.value)) throw fail(id.line, 'aws_access_key_id must be letters and digits');
    if (!/^\d{12}$/.test(account.value)) throw fail(account.line, `aws_account_id must be 12 digits, not '${account.value}'`);
    if (keys.has(id.value)) throw fail(id.line, `access key ${id.value} is already defined in section [${keys.get(id.value)!.name}]`);
    keys.set(id.value, { name: s.name, accessKeyId: id.value, secretAccessKey: secret.value, accountId: account.value });
  }
  if (keys.size === 0) throw new ConfigError(`${file} defines no access keys`);
  return keys;
}

export function loadCredentialsFile(file: string): Map<string, AccessKey> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the credentials file ${file}: ${(e as Error).message}`);
  }
  return parseCredentialsFile(text, file);
}

export interface AuthenticatorOptions {
  readonly defaults: IdentityDefaults;
  /** Access keys from --credentials; undefined keeps the open developer mode. */
  readonly keys: ReadonlyMap<string, AccessKey> | undefined;
  readonly functionCredentials: FunctionCredentials;
  readonly functionApiAccess: FunctionApiAccess;
  readonly now: () => number;
}

/**
 * The caller, known before the body is read; `verify` finishes the check once it is, and `authorize`
 * holds function credentials to their access mode once the input is bound.
 */
export interface Authentication {
  readonly identity: Identity;
  verify(body: Buffer): Promise<void>;
  authorize(op: OperationName, input: Readonly<Record<string, unknown>>): void;
  /** The same check for a CloudWatch Logs request (served on the same port), and what functions may do there. */
  verifyLogs(body: Buffer, operation: string): Promise<void>;
}

/**
 * What an environment's credentials may do in CloudWatch Logs short of full access: write its own logs,
 * as AWS's basic execution role (AWSLambdaBasicExecutionRole) allows, and nothing else.
 */
const functionLogsActions: ReadonlySet<string> = new Set(['CreateLogGroup', 'CreateLogStream', 'PutLogEvents']);

const unchecked = async () => {};
const anything = () => {};

/**
 * Who is calling. With access keys configured every request must be signed by one of them; in the
 * open developer mode anything goes, as before. In both, credentials minted for an execution
 * environment are verified and held to the function access mode, and connections from inside an
 * environment must present them.
 */
export function createAuthenticator(o: AuthenticatorOptions): (req: IncomingMessage) => Authentication {
  return (req) => {
    const received: ReceivedRequest = { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers, rawHeaders: req.rawHeaders };
    const origin = sandboxOriginOf(req.socket);
    const fromSandbox = origin !== undefined;
    let claim: SignedClaim | undefined;
    try {
      claim = parseClaim(received);
    } catch (e) {
      if (o.keys || fromSandbox) throw e;
    }
    if (claim && FunctionCredentials.isMinted(claim.sessionToken)) {
      const { principal, secretAccessKey } = o.functionCredentials.open(claim.sessionToken, claim.accessKeyId);
      // From inside an environment, only that environment's own credentials: another's, leaked to it, are not.
      if (origin && origin.environmentId !== principal.environmentId) throw authErrors.unrecognized();
      checkDate(claim, received, o.now());
      const signed = claim;
      return {
        identity: { accountId: principal.accountId, region: signed.region, accessKeyId: signed.accessKeyId, function: principal },
        verify: (body) => verifySignature(signed, secretAccessKey, received, body),
        authorize: (op, input) => authorizeFunctionCall(principal, o.functionApiAccess, op, input),
        async verifyLogs(body, operation) {
          await verifySignature(signed, secretAccessKey, received, body, 'logs');
          if (o.functionApiAccess !== 'full' && !functionLogsActions.has(operation)) {
            throw new LambdaError('AccessDeniedException', `User is not authorized to perform: logs:${operation}`, { status: 400 });
          }
        },
      };
    }
    // Only an environment's own credentials are good from inside one, whatever the mode.
    if (fromSandbox) throw authErrors.unrecognized();
    if (!o.keys) {
      const url = new URL(received.target, 'http://localhost');
      return { identity: identify(req.headers, url.searchParams, o.defaults), verify: unchecked, authorize: anything, verifyLogs: unchecked };
    }
    if (!claim) throw authErrors.missing();
    const key = o.keys.get(claim.accessKeyId);
    // A long-term key carries no session token; a token with one is not one AWS issued for it.
    if (!key || claim.sessionToken !== undefined) throw authErrors.unrecognized();
    checkDate(claim, received, o.now());
    const signed = claim;
    return {
      identity: { accountId: key.accountId, region: signed.region, accessKeyId: signed.accessKeyId },
      verify: (body) => verifySignature(signed, key.secretAccessKey, received, body),
      authorize: anything,
      verifyLogs: (body) => verifySignature(signed, key.secretAccessKey, received, body, 'logs'),
    };
  };
}
