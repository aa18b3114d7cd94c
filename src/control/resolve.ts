// Resolves what a caller names — function, optional qualifier ($LATEST, a version number or an alias) —
// to stored records, with AWS's errors. Every operation that takes a qualifier goes through here.
import { functionArn, resolveFunctionName, type Scope } from '../shared/arn.js';
import { errors, type LambdaError } from '../shared/errors.js';
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
  notFoundQualifier?: (q: string | undefined) => string | undefined, options: { crossAccount?: boolean } = {},
): Resolved {
  const ref = resolveFunctionName(name, scope, qualifierParam, options);
  const key: FunctionKey = { accountId: ref.accountId ?? scope.accountId, region: scope.region, name: ref.name };
  scope = key;
  const fn = store.getFunction(key);
  const q = ref.qualifier;
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
