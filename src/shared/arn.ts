// Function names as callers give them: a name, `name:qualifier`, a partial ARN (`123456789012:function:name`)
// or a full ARN, each optionally qualified. Parsing follows the model's FunctionName pattern.
import { errors, LambdaError } from './errors.js';

export interface FunctionRef {
  readonly name: string;
  readonly qualifier: string | undefined;
  /** From the ARN, when one was given. */
  readonly region: string | undefined;
  readonly accountId: string | undefined;
}

const FULL = /^arn:(aws[a-zA-Z-]*)?:lambda:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const PARTIAL = /^(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const NAME = /^([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

export function parseFunctionRef(value: string): FunctionRef | undefined {
  let m = FULL.exec(value);
  if (m) return { region: m[2], accountId: m[3], name: m[4]!, qualifier: m[5] };
  m = PARTIAL.exec(value);
  if (m) return { region: undefined, accountId: m[1], name: m[2]!, qualifier: m[3] };
  m = NAME.exec(value);
  if (m) return { region: undefined, accountId: undefined, name: m[1]!, qualifier: m[2] };
  return undefined;
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
export function resolveFunctionName(value: string, scope: Scope, qualifierParam?: string, options: { crossAccount?: boolean } = {}): FunctionRef {
  const ref = parseFunctionRef(value);
  if (!ref) {
    throw errors.validation(`1 validation error detected: Value '${value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`);
  }
  if (ref.region && ref.region !== scope.region) {
    throw errors.notFound(`Functions from '${ref.region}' are not reachable in this region ('${scope.region}')`);
  }
  if (ref.accountId && ref.accountId !== scope.accountId && !options.crossAccount) {
    // AWS answers 403 with no message for a function of another account named by ARN (until resource
    // policies allow it; see the policy issue).
    throw new LambdaError('AccessDeniedException', { message: '' });
  }
  if (ref.name.length > 64) {
    throw errors.invalidParameter(`1 validation error detected: Value '${ref.name}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`);
  }
  if (qualifierParam !== undefined && ref.qualifier !== undefined && qualifierParam !== ref.qualifier) {
    throw errors.invalidParameter('The derived qualifier from the function name does not match the specified qualifier.');
  }
  // With crossAccount the ARN's account owns the function; the caller's permission is checked later.
  const accountId = options.crossAccount ? (ref.accountId ?? scope.accountId) : scope.accountId;
  return { ...ref, qualifier: qualifierParam ?? ref.qualifier, accountId, region: scope.region };
}

/** Parts of any ARN: arn:partition:service:region:account:resource. */
export interface ParsedArn {
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly resource: string;
}

/** Any ARN's parts, or undefined when it is not one. */
export function parseArn(arn: string): ParsedArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return { service: parts[2]!, region: parts[3]!, accountId: parts[4]!, resource: parts.slice(5).join(':') };
}
