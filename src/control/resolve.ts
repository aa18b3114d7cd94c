// Resolves what a caller names — function, optional qualifier ($LATEST, a version number or an alias) —
// to stored records, with AWS's errors. Every operation that takes a qualifier goes through here.
import { functionArn, parseFunctionRef, type FunctionRef, type Scope } from '../shared/arn.js';
import { errors, LambdaError } from '../shared/errors.js';
import { shapes } from '../api/generated/model.js';
import type { FunctionKey, Store, StoredAlias, StoredFunction, StoredVersion } from '../store/types.js';

/**
 * Resolves a FunctionName member against the caller's scope with AWS's errors: an ARN of another region
 * is not reachable, one of another account is denied, and a name beyond 64 characters is refused.
 * `qualifier` is the separate Qualifier parameter, which must agree with one in the name.
 */
export function resolveFunctionName(value: string, scope: Scope, qualifierParam?: string, options: { crossAccount?: boolean; forCreate?: boolean } = {}): FunctionRef {
  const ref = parseFunctionRef(value);
  if (!ref) {
    throw errors.validation(`1 validation error detected: Value '${value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shapes['FunctionName']?.pattern ?? ''}`);
  }
  if (ref.region && ref.region !== scope.region) {
    throw errors.notFound(`Functions from '${ref.region}' are not reachable in this region ('${scope.region}')`);
  }
  if (ref.accountId && ref.accountId !== scope.accountId && !options.crossAccount) {
    // AWS answers 403 with no message for a function of another account named by ARN (until resource
    // policies allow it; see the policy issue).
    throw new LambdaError('AccessDeniedException', { message: '' });
  }
  // Only CreateFunction refuses a long name; elsewhere AWS looks it up and finds nothing.
  if (options.forCreate && ref.name.length > 64) {
    throw errors.invalidParameter(`1 validation error detected: Value '${ref.name}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`);
  }
  if (qualifierParam !== undefined && ref.qualifier !== undefined && qualifierParam !== ref.qualifier) {
    throw errors.invalidParameter('The derived qualifier from the function name does not match the specified qualifier.');
  }
  // With crossAccount the ARN's account owns the function; the caller's permission is checked later.
  const accountId = options.crossAccount ? (ref.accountId ?? scope.accountId) : scope.accountId;
  return { ...ref, qualifier: qualifierParam ?? ref.qualifier, accountId, region: scope.region };
}

export interface Resolved {
  readonly key: FunctionKey;
  readonly fn: StoredFunction;
  /** The qualifier as given (undefined when unqualified). */
  readonly qualifier: string | undefined;
  /** The version the qualifier resolves to ($LATEST when unqualified). */
  readonly version: StoredVersion;
  /** Set when the qualifier named an alias. */
  readonly alias: StoredAlias | undefined;
}

export function functionNotFound(scope: Scope, name: string, qualifier?: string): LambdaError {
  return errors.notFound(`Function not found: ${functionArn(scope.region, scope.accountId, name, qualifier)}`);
}

export function isVersionNumber(q: string): boolean {
  return /^[0-9]+$/.test(q);
}

/** The model's Alias pattern: not all digits, letters, digits, `-` and `_` only. */
export function isAliasName(q: string): boolean {
  return /^[a-zA-Z0-9-_]+$/.test(q) && !isVersionNumber(q);
}

/** Loads the function and the version its qualifier names; unknown versions and aliases are not found. */
export function resolveQualified(
  store: Store, scope: Scope, name: string, qualifierParam: string | undefined,
  notFoundQualifier?: (q: string | undefined) => string | undefined, options: { crossAccount?: boolean; action?: string } = {},
): Resolved {
  const caller = scope.accountId;
  const ref = resolveFunctionName(name, scope, qualifierParam, { crossAccount: options.crossAccount || options.action !== undefined });
  const key: FunctionKey = { accountId: ref.accountId ?? scope.accountId, region: scope.region, name: ref.name };
  scope = key;
  const r = resolveIn(store, key, ref.name, ref.qualifier, notFoundQualifier);
  // A function of another account is reachable only where its resource policy allows the action.
  if (options.action !== undefined && key.accountId !== caller && !policyAllows(store, key, r.qualifier, caller, options.action)) {
    throw accessDenied(caller, options.action, functionArn(key.region, key.accountId, key.name, r.qualifier));
  }
  return r;
}

export function accessDenied(caller: string, action: string, arn: string): LambdaError {
  return new LambdaError('AccessDeniedException', { message: `User: arn:aws:iam::${caller}:root is not authorized to perform: ${action} on resource: ${arn} because no resource-based policy allows the ${action} action` });
}

/** IAM's action matching: case-insensitive, `*` and `?` wildcards (`lambda:*`, `lambda:Get*`, `*`). */
function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(action);
}

/** Whether a statement's principal covers the given account. */
export function principalCovers(principal: unknown, accountId: string): boolean {
  if (principal === '*') return true;
  const aws = (principal as { AWS?: string | string[] } | undefined)?.AWS;
  const list = Array.isArray(aws) ? aws : aws === undefined ? [] : [aws];
  return list.some((p) => p === '*' || p === accountId || p.startsWith(`arn:aws:iam::${accountId}:`));
}

/**
 * Whether the resource policy of `qualifier` (undefined or $LATEST: the unqualified function) lets
 * `callerAccount` perform `action` (e.g. lambda:GetFunction).
 */
export function policyAllows(store: Store, key: FunctionKey, qualifier: string | undefined, callerAccount: string, action: string): boolean {
  const policy = store.getPolicy(key, qualifier === undefined || qualifier === '$LATEST' ? '' : qualifier);
  return (policy?.statements ?? []).some((s) => {
    const given = s['Action'];
    const actions = Array.isArray(given) ? given as string[] : [given as string];
    return s['Effect'] === 'Allow' && actions.some((a) => typeof a === 'string' && actionMatches(a, action)) && principalCovers(s['Principal'], callerAccount);
  });
}

function resolveIn(
  store: Store, key: FunctionKey, name: string, q: string | undefined, notFoundQualifier?: (q: string | undefined) => string | undefined,
): Resolved {
  const scope = key;
  const ref = { name };
  const fn = store.getFunction(key);
  const missing = () => functionNotFound(scope, ref.name, notFoundQualifier ? notFoundQualifier(q) : q);
  if (!fn) throw missing();
  if (q === undefined || q === '$LATEST') return { key, fn, qualifier: q, version: fn.latest, alias: undefined };
  if (isVersionNumber(q)) {
    const version = store.getVersion(key, q);
    if (!version) throw missing();
    return { key, fn, qualifier: q, version, alias: undefined };
  }
  const alias = store.getAlias(key, q);
  if (!alias) throw missing();
  const version = alias.functionVersion === '$LATEST' ? fn.latest : store.getVersion(key, alias.functionVersion);
  if (!version) throw missing();
  return { key, fn, qualifier: q, version, alias };
}
