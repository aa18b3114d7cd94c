// Credentials a function's execution environment gets for calling the Lambda API, as AWS hands every
// environment its execution role's temporary credentials. They are verifiable without any stored
// state: the session token carries who the environment is (account, region, function, environment,
// role, expiry) under an HMAC of a server secret, and the access key id and secret access key are
// derived from the token by HMAC, so nothing per environment is kept.
//
// What they may do is the operator's choice (--function-api-access):
//   invoke (default)  invoke functions and read function configuration (not code, not policies)
//   read              every Get/List operation, code downloads included
//   full              every operation
// Anything else answers AWS's AccessDeniedException for the environment's assumed role.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OperationName } from './generated/model.js';
import { functionArn, parseFunctionRef } from '../shared/arn.js';
import { LambdaError } from '../shared/errors.js';
import type { FunctionApiAccess } from '../shared/config.js';
import { authErrors } from './sigv4.js';

/** AWS's environment credentials last as long as the environment; ours are renewed at each start. */
export const FUNCTION_CREDENTIALS_TTL_MS = 12 * 60 * 60 * 1000;

/** The execution environment a set of minted credentials speaks for. */
export interface FunctionPrincipal {
  readonly accountId: string;
  readonly region: string;
  /** Unqualified ARN of the function the environment runs. */
  readonly functionArn: string;
  readonly environmentId: string;
  /** The execution role's name (the assumed-role ARN names it, as AWS's do). */
  readonly roleName: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export interface MintedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

const TOKEN_PREFIX = 'lambdalite1.';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class FunctionCredentials {
  readonly #key: Buffer;
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(serverSecret: Buffer, now: () => number, ttlMs = FUNCTION_CREDENTIALS_TTL_MS) {
    // A key of its own, so that nothing else signed with the server secret can pass for a token.
    this.#key = createHmac('sha256', serverSecret).update('lambdalite function credentials v1').digest();
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  mint(p: Omit<FunctionPrincipal, 'expiresAt'>): MintedCredentials {
    const claims = { a: p.accountId, r: p.region, f: p.functionArn, e: p.environmentId, n: p.roleName, x: this.#now() + this.#ttlMs };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const sessionToken = `${TOKEN_PREFIX}${payload}.${this.#mac('token', payload).toString('base64url')}`;
    return { sessionToken, ...this.#derive(sessionToken) };
  }

  /** Whether a session token is in this server's format (so it must verify, whatever the mode). */
  static isMinted(sessionToken: string | undefined): sessionToken is string {
    return sessionToken !== undefined && sessionToken.startsWith(TOKEN_PREFIX);
  }

  /**
   * The principal and secret key behind a minted token presented with `accessKeyId`; AWS's
   * UnrecognizedClientException for a forged token or a key that is not the token's, and
   * ExpiredTokenException once it has expired.
   */
  open(sessionToken: string, accessKeyId: string): { principal: FunctionPrincipal; secretAccessKey: string } {
    const rest = sessionToken.slice(TOKEN_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot < 0) throw authErrors.unrecognized();
    const payload = rest.slice(0, dot);
    const given = Buffer.from(rest.slice(dot + 1), 'base64url');
    const expected = this.#mac('token', payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw authErrors.unrecognized();
    const principal = parseClaims(payload);
    if (!principal) throw authErrors.unrecognized();
    const derived = this.#derive(sessionToken);
    const a = Buffer.from(accessKeyId);
    const b = Buffer.from(derived.accessKeyId);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw authErrors.unrecognized();
    if (principal.expiresAt <= this.#now()) throw authErrors.expiredToken();
    return { principal, secretAccessKey: derived.secretAccessKey };
  }

  #mac(purpose: string, data: string): Buffer {
    return createHmac('sha256', this.#key).update(`${purpose}\n${data}`).digest();
  }

  #derive(sessionToken: string): Omit<MintedCredentials, 'sessionToken'> {
    // ASIA marks temporary credentials, as AWS's do; 16 base32 characters follow.
    const id = this.#mac('access-key-id', sessionToken);
    let accessKeyId = 'ASIA';
    for (let i = 0; i < 16; i++) accessKeyId += BASE32[id[i]! & 31];
    const secretAccessKey = this.#mac('secret-access-key', sessionToken).toString('base64').slice(0, 40);
    return { accessKeyId, secretAccessKey };
  }
}

function parseClaims(payload: string): FunctionPrincipal | undefined {
  let c: unknown;
  try {
    c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof c !== 'object' || c === null) return undefined;
  const { a, r, f, e, n, x } = c as Record<string, unknown>;
  if (typeof a !== 'string' || typeof r !== 'string' || typeof f !== 'string' || typeof e !== 'string' || typeof n !== 'string' || typeof x !== 'number') return undefined;
  return { accountId: a, region: r, functionArn: f, environmentId: e, roleName: n, expiresAt: x };
}

/** Invoking, and what the SDKs read about a function around an invoke (its configuration, versions, aliases). */
const invokeModeOperations: ReadonlySet<OperationName> = new Set<OperationName>([
  'Invoke',
  'InvokeAsync',
  'InvokeWithResponseStream',
  'GetFunctionConfiguration',
  'ListFunctions',
  'ListVersionsByFunction',
  'GetAlias',
  'ListAliases',
  'GetFunctionConcurrency',
  'GetFunctionEventInvokeConfig',
  'ListFunctionEventInvokeConfigs',
  'GetProvisionedConcurrencyConfig',
  'ListProvisionedConcurrencyConfigs',
  'GetFunctionRecursionConfig',
  'GetRuntimeManagementConfig',
]);

export function functionMayCall(mode: FunctionApiAccess, op: OperationName): boolean {
  if (mode === 'full') return true;
  if (mode === 'read') return /^(Get|List)/.test(op) || invokeModeOperations.has(op);
  return invokeModeOperations.has(op);
}

/** The IAM action that authorises an operation, where it is not named after it. */
const iamActions: Partial<Record<OperationName, string>> = {
  Invoke: 'InvokeFunction',
  InvokeWithResponseStream: 'InvokeFunction',
  GetLayerVersionByArn: 'GetLayerVersion',
};

/** The resource AWS names in the denial: the function or layer the request is about, else `*`. */
function resourceOf(principal: FunctionPrincipal, input: Readonly<Record<string, unknown>>): string {
  const text = (k: string) => (typeof input[k] === 'string' ? (input[k] as string) : undefined);
  const fn = text('FunctionName');
  if (fn !== undefined) {
    const ref = parseFunctionRef(fn);
    if (ref) return functionArn(ref.region ?? principal.region, ref.accountId ?? principal.accountId, ref.name, ref.qualifier ?? text('Qualifier'));
    return fn;
  }
  const layer = text('LayerName') ?? text('Arn');
  if (layer !== undefined) {
    if (layer.startsWith('arn:')) return layer;
    const version = input['VersionNumber'];
    return `arn:aws:lambda:${principal.region}:${principal.accountId}:layer:${layer}${version !== undefined ? `:${String(version)}` : ''}`;
  }
  return '*';
}

/**
 * Throws AWS's AccessDeniedException when the environment's access mode does not allow `op`; `input`
 * is the request's bound input, which names the resource.
 */
export function authorizeFunctionCall(principal: FunctionPrincipal, mode: FunctionApiAccess, op: OperationName, input: Readonly<Record<string, unknown>>): void {
  if (functionMayCall(mode, op)) return;
  const action = `lambda:${iamActions[op] ?? op}`;
  const functionName = principal.functionArn.slice(principal.functionArn.lastIndexOf(':') + 1);
  const user = `arn:aws:sts::${principal.accountId}:assumed-role/${principal.roleName}/${functionName}`;
  throw new LambdaError(
    'AccessDeniedException',
    `User: ${user} is not authorized to perform: ${action} on resource: ${resourceOf(principal, input)} because no identity-based policy allows the ${action} action`,
    { status: 403, untyped: true },
  );
}
