// Errors inside lambdalite. One base class carries a wire code (the AWS exception name), whose fault it
// is, and the cause. src/api/errors.ts turns them into AWS's wire shapes; nothing else formats errors.

export const Fault = { User: 'User', Service: 'Service' } as const;
export type Fault = (typeof Fault)[keyof typeof Fault];

export interface LambdaErrorOptions {
  readonly status?: number;
  readonly fault?: Fault;
  readonly cause?: unknown;
  /** Extra top-level members of the error body, e.g. `Reason` on TooManyRequestsException. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body carries no `Type`, as AWS sends a few errors. */
  readonly untyped?: boolean;
}

export class LambdaError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: Fault;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly untyped: boolean;

  constructor(code: string, message: string, options: LambdaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.status = options.status ?? 400;
    this.fault = options.fault ?? (this.status >= 500 ? Fault.Service : Fault.User);
    this.fields = options.fields ?? {};
    this.headers = options.headers ?? {};
    this.untyped = options.untyped ?? false;
  }
}

// Constructors for the errors the control plane raises most; each spells AWS's status for that type.
export const errors = {
  validation: (message: string) => new LambdaError('ValidationException', message, { status: 400 }),
  invalidParameter: (message: string) => new LambdaError('InvalidParameterValueException', message, { status: 400 }),
  notFound: (message: string) => new LambdaError('ResourceNotFoundException', message, { status: 404 }),
  conflict: (message: string) => new LambdaError('ResourceConflictException', message, { status: 409 }),
  preconditionFailed: (message: string) => new LambdaError('PreconditionFailedException', message, { status: 412 }),
  service: (message: string, cause?: unknown) =>
    new LambdaError('ServiceException', message, { status: 500, fault: Fault.Service, cause }),
} as const;

export function isLambdaError(e: unknown): e is LambdaError {
  return e instanceof LambdaError;
}
