// The contract between the control plane (which knows functions) and the invoke engine (which runs
// them). The control plane resolves everything an environment needs ahead of time into a
// FunctionRuntimeConfig, so the hot path does no store reads or path work.

export interface FunctionRuntimeConfig {
  /** Unqualified function ARN, e.g. arn:aws:lambda:us-east-1:000000000000:function:my-fn */
  readonly functionArn: string;
  readonly functionName: string;
  /** `$LATEST` or a published version number. Environments are kept per (functionArn, version). */
  readonly version: string;
  /** Runtime identifier (nodejs20.x, python3.12, provided.al2023, ...); undefined for Image packages. */
  readonly runtime: string | undefined;
  readonly handler: string | undefined;
  readonly memorySize: number;
  /** Seconds. */
  readonly timeout: number;
  /** MB of /tmp. */
  readonly ephemeralStorage: number;
  readonly architectures: readonly string[];
  /** Absolute host path of the unpacked code; mounted read-only at /var/task. */
  readonly codeDir: string;
  /** Absolute host paths of unpacked layers in order; merged into /opt, later ones win. */
  readonly layerDirs: readonly string[];
  /** The function's own environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  readonly region: string;
  readonly accountId: string;
  /** e.g. /aws/lambda/my-fn */
  readonly logGroup: string;
  /** LoggingConfig: Text (default) or JSON; the levels apply to JSON only, as on AWS. */
  readonly logFormat?: 'Text' | 'JSON';
  readonly applicationLogLevel?: string;
  readonly systemLogLevel?: string;
  /**
   * Changes whenever code or configuration of this version changes (the RevisionId). Environments
   * started for an older revision are never handed a new request.
   */
  readonly revision: string;
  /** TracingConfig.Mode; Active samples every invocation and writes REPORT's XRAY line. */
  readonly tracingMode?: 'Active' | 'PassThrough';
  /** Put/GetFunctionRecursionConfig; anything but Allow stops a chain's 17th invocation of the function. */
  readonly recursiveLoop?: 'Allow' | 'Terminate';
}

export interface InvokeRequest {
  readonly requestId: string;
  readonly payload: Buffer;
  /** The ARN as invoked: qualified when the caller used a qualifier or alias. */
  readonly invokedFunctionArn: string;
  /** Base64 JSON from X-Amz-Client-Context, passed to the runtime as Lambda-Runtime-Client-Context (decoded). */
  readonly clientContext?: string;
  readonly cognitoIdentity?: string;
  readonly traceId?: string;
  /** X-Amz-Log-Type: Tail */
  readonly tailLog: boolean;
  /** The version or alias the caller named, when any; provisioned environments are kept per qualifier. */
  readonly qualifier?: string;
}

export interface InvokeResult {
  readonly requestId: string;
  readonly executedVersion: string;
  readonly payload: Buffer;
  /** Set when the function failed: AWS sends X-Amz-Function-Error with this value. */
  readonly functionError?: 'Unhandled' | 'Handled';
  /** Base64 of the last 4 KB of this invocation's log, when tailLog was asked for. */
  readonly logResult?: string;
}

/** Why an invocation was throttled, as AWS names it in TooManyRequestsException's `Reason`. */
export type ThrottleReason =
  | 'ReservedFunctionConcurrentInvocationLimitExceeded'
  | 'ConcurrentInvocationLimitExceeded'
  | 'FunctionInvocationRateLimitExceeded';

/** Where provisioned environments live: a function and the version or alias they were configured on. */
export interface ProvisionedKey {
  readonly functionArn: string;
  /** A version number or an alias name. */
  readonly qualifier: string;
}

export interface ProvisionedStatus {
  readonly status: 'IN_PROGRESS' | 'READY' | 'FAILED';
  readonly requested: number;
  readonly allocated: number;
  readonly available: number;
  /** For FAILED: e.g. "FUNCTION_ERROR_INIT_FAILURE" with the init error. */
  readonly statusReason?: string;
}

/** The invoke engine as the control plane, the async queue and the pollers use it. */
export interface InvokeEngine {
  /**
   * Runs one invocation to completion. Throws LambdaError for AWS API errors (e.g. missing runtime);
   * a throttled invocation throws TooManyRequestsException (429, message "Rate Exceeded.", `Reason`
   * field a ThrottleReason) before any environment is touched, so callers (the
   * async queue, event source pollers) can retry it. `request.qualifier` selects provisioned
   * environments configured on that qualifier.
   */
  invoke(config: FunctionRuntimeConfig, request: InvokeRequest): Promise<InvokeResult>;
  /** Sets, or with undefined clears, the reserved concurrency of an unqualified function ARN. */
  setReservedConcurrency(functionArn: string, reserved: number | undefined): void;
  /**
   * Keeps `count` initialised environments of `config` (the qualifier's resolved version) for
   * invocations through that qualifier; 0 removes them. Returns at once; progress is read with
   * provisionedStatus.
   */
  setProvisionedConcurrency(key: ProvisionedKey, config: FunctionRuntimeConfig, count: number): void;
  provisionedStatus(key: ProvisionedKey): ProvisionedStatus | undefined;
  /** Prometheus text exposition of the engine's metrics (see src/invoke/metrics.ts). */
  metrics(): string;
  /** Retires every environment of this function (all versions when version is omitted). */
  retire(functionArn: string, version?: string): Promise<void>;
  /** Stops every environment; used on server shutdown. */
  close(): Promise<void>;
}
