// Errors inside lambdalite. Every error the API can answer is one code of the registry below, which fixes
// how AWS sends it: the status, whose fault it is, the x-amzn-ErrorType, whether the body carries `Type`,
// how the message key is spelled, and the message itself where AWS's is fixed. Throw sites name a code and
// fill in the template; src/api/errors.ts writes the wire shape from the same entry. A test checks the
// table against the AWS model's exception shapes (test/shared/errors.test.ts).

export const Fault = { User: 'User', Service: 'Service' } as const;
export type Fault = (typeof Fault)[keyof typeof Fault];

interface ErrorSpec {
  /** x-amzn-ErrorType; the code itself when omitted. */
  readonly type?: string;
  readonly status: number;
  readonly fault: Fault;
  /** The body carries `Type` (the fault), as AWS sends its modelled errors. */
  readonly typed: boolean;
  /** The body's message member, spelled as AWS spells it for this error. */
  readonly messageKey: 'Message' | 'message';
  /** The message, with `{name}` placeholders filled in at the throw site. */
  readonly template: string;
  /** Why this entry differs from the model's shape of the same type, when it does. */
  readonly deviation?: string;
}

export const errorRegistry = {
  // AWS's request validation layer (not the Lambda model): no `Type`.
  ValidationException: { status: 400, fault: Fault.User, typed: false, messageKey: 'message', template: '{message}' },
  InvalidParameterValueException: { status: 400, fault: Fault.User, typed: true, messageKey: 'message', template: '{message}' },
  /** An InvalidParameterValueException from AWS's front end, which sends it without `Type`. */
  InvalidParameterValueUntyped: {
    type: 'InvalidParameterValueException', status: 400, fault: Fault.User, typed: false, messageKey: 'message', template: '{message}',
    deviation: 'AWS answers some routing-config checks and the account-limit refusals of reserved and provisioned concurrency from its front end, without Type (recorded from AWS)',
  },
  InvalidRequestContentException: { status: 400, fault: Fault.User, typed: true, messageKey: 'message', template: '{message}' },
  CodeStorageExceededException: { status: 400, fault: Fault.User, typed: true, messageKey: 'message', template: 'Code storage limit exceeded.' },
  ResourceNotFoundException: { status: 404, fault: Fault.User, typed: true, messageKey: 'Message', template: '{message}' },
  /** A code signing config missing on its own operations: AWS's front end answers without `Type`. */
  CodeSigningConfigMissing: {
    type: 'ResourceNotFoundException', status: 404, fault: Fault.User, typed: false, messageKey: 'Message',
    template: 'The Lambda code signing configuration {arn} can not be found.',
    deviation: 'AWS answers a missing code signing config on its own operations without Type (recorded from AWS)',
  },
  /** ... and with the modelled error where a function refers to it. */
  CodeSigningConfigNotFoundException: {
    status: 404, fault: Fault.User, typed: true, messageKey: 'Message',
    template: 'The code signing configuration cannot be found. Check that the provided configuration is not deleted: {arn}.',
  },
  CodeVerificationFailedException: {
    status: 400, fault: Fault.User, typed: true, messageKey: 'Message',
    template: 'Lambda cannot deploy the function. The function or layer might be signed using a signature that the client is not configured to accept. Check the provided signature for {functionName}.',
  },
  InvalidCodeSignatureException: {
    status: 400, fault: Fault.User, typed: true, messageKey: 'Message',
    template: 'The code signature failed the integrity check. Lambda blocks deployment of code that fails the integrity check, even if the code signing policy is set to WARN.',
  },
  ProvisionedConcurrencyConfigNotFoundException: {
    status: 404, fault: Fault.User, typed: true, messageKey: 'message', template: 'No Provisioned Concurrency Config found for this function',
  },
  ResourceConflictException: { status: 409, fault: Fault.User, typed: true, messageKey: 'message', template: '{message}' },
  PreconditionFailedException: { status: 412, fault: Fault.User, typed: true, messageKey: 'message', template: '{message}' },
  /** The model's description of the error: AWS's own message is not recorded. */
  RecursiveInvocationException: {
    status: 400, fault: Fault.User, typed: true, messageKey: 'Message',
    template: "Lambda has detected your function being invoked in a recursive loop with other AWS resources and stopped your function's invocation.",
  },
  TooManyRequestsException: { status: 429, fault: Fault.User, typed: true, messageKey: 'message', template: 'Rate Exceeded.' },
  // Not in the Lambda model: AWS's front end answers these with `Message` and no `Type`.
  AccessDeniedException: { status: 403, fault: Fault.User, typed: false, messageKey: 'Message', template: '{message}' },
  /** A function's credentials calling a CloudWatch Logs action its access mode does not allow. */
  LogsAccessDenied: {
    type: 'AccessDeniedException', status: 400, fault: Fault.User, typed: false, messageKey: 'Message',
    template: 'User is not authorized to perform: logs:{operation}',
  },
  // SigV4 refusals, from AWS's front end: 403, `message`, no `Type`.
  MissingAuthenticationTokenException: { status: 403, fault: Fault.User, typed: false, messageKey: 'message', template: 'Missing Authentication Token' },
  UnrecognizedClientException: {
    status: 403, fault: Fault.User, typed: false, messageKey: 'message', template: 'The security token included in the request is invalid.',
  },
  ExpiredTokenException: { status: 403, fault: Fault.User, typed: false, messageKey: 'message', template: 'The security token included in the request is expired' },
  IncompleteSignatureException: { status: 403, fault: Fault.User, typed: false, messageKey: 'message', template: '{message}' },
  InvalidSignatureException: { status: 403, fault: Fault.User, typed: false, messageKey: 'message', template: '{message}' },
  UnknownOperationException: {
    status: 404, fault: Fault.User, typed: false, messageKey: 'message', template: 'Unable to determine service/operation name to be authorized',
  },
  RequestTooLarge: {
    type: 'RequestEntityTooLargeException', status: 413, fault: Fault.User, typed: false, messageKey: 'Message',
    template: 'Request must be smaller than {limit} bytes for the {operation} operation',
  },
  EventPayloadTooLarge: {
    type: 'RequestEntityTooLargeException', status: 413, fault: Fault.User, typed: false, messageKey: 'Message',
    template: '{size} byte payload is too large for the Event invocation type (limit {limit} bytes)',
  },
  ZipTooLarge: {
    type: 'RequestEntityTooLargeException', status: 413, fault: Fault.User, typed: false, messageKey: 'Message',
    template: 'Zipped size must be smaller than {limit} bytes',
  },
  // The model's fault errors.
  ServiceException: { status: 500, fault: Fault.Service, typed: true, messageKey: 'Message', template: '{message}' },
  NotImplemented: {
    type: 'ServiceException', status: 501, fault: Fault.Service, typed: true, messageKey: 'Message',
    template: 'lambdalite does not implement the {operation} operation yet.',
    deviation: 'lambdalite only: 501 says the operation exists in the model but has no handler here',
  },
  /** Runtimes the host has no interpreter for: the model's error for an unsupported runtime. */
  InvalidRuntimeException: {
    status: 502, fault: Fault.Service, typed: true, messageKey: 'Message',
    template: 'The runtime parameter of {runtime} is not supported by this lambdalite host: {reason}.',
  },
} as const satisfies Readonly<Record<string, ErrorSpec>>;

export type ErrorCode = keyof typeof errorRegistry;

/** The `{name}` placeholders of a template, as an object of their values. */
type Placeholders<T extends string> = T extends `${string}{${infer P}}${infer Rest}` ? P | Placeholders<Rest> : never;
export type ErrorParams<C extends ErrorCode> = { readonly [K in Placeholders<(typeof errorRegistry)[C]['template']>]: string | number };

export interface LambdaErrorOptions {
  readonly cause?: unknown;
  /** Extra top-level members of the error body, e.g. `Reason` on TooManyRequestsException. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
}

function render(template: string, params: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => String(params[name]));
}

export class LambdaError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  /** x-amzn-ErrorType. */
  readonly type: string;
  readonly status: number;
  readonly fault: Fault;
  readonly typed: boolean;
  readonly messageKey: 'Message' | 'message';
  readonly fields: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: C, params: ErrorParams<C>, options: LambdaErrorOptions = {}) {
    const spec: ErrorSpec = errorRegistry[code];
    super(render(spec.template, params), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.type = spec.type ?? code;
    this.name = this.type;
    this.status = spec.status;
    this.fault = spec.fault;
    this.typed = spec.typed;
    this.messageKey = spec.messageKey;
    this.fields = options.fields ?? {};
    this.headers = options.headers ?? {};
  }
}

// The free-text errors the control plane raises most.
export const errors = {
  validation: (message: string) => new LambdaError('ValidationException', { message }),
  invalidParameter: (message: string) => new LambdaError('InvalidParameterValueException', { message }),
  notFound: (message: string) => new LambdaError('ResourceNotFoundException', { message }),
  conflict: (message: string) => new LambdaError('ResourceConflictException', { message }),
  preconditionFailed: (message: string) => new LambdaError('PreconditionFailedException', { message }),
  service: (message: string, cause?: unknown) => new LambdaError('ServiceException', { message }, { cause }),
} as const;

export function isLambdaError(e: unknown): e is LambdaError {
  return e instanceof LambdaError;
}
