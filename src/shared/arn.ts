// Function names as callers give them: a name, `name:qualifier`, a partial ARN (`123456789012:function:name`)
// or a full ARN, each optionally qualified. Parsing follows the model's FunctionName pattern.
import { errors, LambdaError } from './errors.js';
import { shapes } from '../api/generated/model.js';

export interface FunctionRef {
  readonly name: string;
  readonly qualifier: string | undefined;
  /** From the ARN, when one was given. */
  readonly region: string | undefined;
  readonly accountId: string | undefined;
}

const REGION = String.raw`(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d`;
/**
 * The model's NamespacedFunctionName grammar: a full ARN prefix, or an optional region and account,
 * then an optional `function:`, the name and an optional qualifier. `arn:...:123456789012:function`
 * is therefore the function named "function", as AWS reads it.
 */
const REF = new RegExp(
  String.raw`^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:(${REGION}):(\d{12}):|(?:(${REGION}):)?(?:(\d{12}):)?)(?:function:)?([a-zA-Z0-9-_.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$`,
);

export function parseFunctionRef(value: string): FunctionRef | undefined {
  const m = REF.exec(value);
  if (!m) return undefined;
  return { region: m[1] ?? m[3], accountId: m[2] ?? m[4], name: m[5]!, qualifier: m[6] };
}

export function functionArn(region: string, accountId: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

export interface Scope {
  readonly accountId: string;
  readonly region: string;
}

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
    throw new LambdaError('AccessDeniedException', '', { status: 403 });
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
