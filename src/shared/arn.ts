// Function names as callers give them: a name, `name:qualifier`, a partial ARN (`123456789012:function:name`)
// or a full ARN, each optionally qualified. Parsing follows the model's FunctionName grammar.

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
