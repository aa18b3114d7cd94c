// Resolves what a caller names — function, optional qualifier ($LATEST, a version number or an alias) —
// to stored records, with AWS's errors. Every operation that takes a qualifier goes through here.
import { functionArn, resolveFunctionName, type Scope } from '../shared/arn.js';
import { errors, LambdaError } from '../shared/errors.js';
import type { FunctionKey, Store, StoredAlias, StoredFunction, StoredVersion } from '../store/types.js';

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
  return new LambdaError('AccessDeniedException', `User: arn:aws:iam::${caller}:root is not authorized to perform: ${action} on resource: ${arn} because no resource-based policy allows the ${action} action`, { status: 403 });
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
