// Configuration is parsed once, at the edge: CLI flags over environment variables over defaults, into one
// frozen options object passed down explicitly.
import path from 'node:path';

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Region used when a request carries no SigV4 credential scope. */
  readonly region: string;
  /** Account used for access keys that are not 12 digits. */
  readonly accountId: string;
  /** Every AWS service client of the server talks to this endpoint when set (moto_server, LocalStack). */
  readonly awsEndpoint: string | undefined;
  /** Per-service overrides of awsEndpoint. */
  readonly s3Endpoint: string | undefined;
  readonly sqsEndpoint: string | undefined;
  readonly snsEndpoint: string | undefined;
  readonly eventsEndpoint: string | undefined;
  /** Event source mapping sources: Kinesis, DynamoDB Streams, and DynamoDB (tables, for tests and tools). */
  readonly kinesisEndpoint: string | undefined;
  readonly dynamodbstreamsEndpoint: string | undefined;
  readonly dynamodbEndpoint: string | undefined;
  /** Multiplies the async queue's retry and throttle delays (AWS: about 1 and 2 minutes); tests use 0.001. */
  readonly asyncRetryScale: number;
  /** Copy function logs to the server's stdout. */
  readonly echoLogs: boolean;
  /** Idle execution environments are reclaimed after this long. */
  readonly idleTimeoutMs: number;
  /**
   * Delay before a created function becomes Active and an update Successful. AWS takes seconds; 0 makes
   * the transition happen right after the response.
   */
  readonly settleDelayMs: number;
  /** Account limits reported by GetAccountSettings and enforced. */
  readonly totalCodeSize: number;
  readonly concurrentExecutions: number;
  /** Concurrency that reservations must leave unreserved (AWS: 100). */
  readonly unreservedMinimum: number;
  /** Memory all execution environments together may use; 0 = 75% of the machine's memory. */
  readonly memoryBudgetMb: number;
  /** Environments starting at once; 0 = twice the CPUs. */
  readonly maxConcurrentStarts: number;
  /** Environment starts per second across the node. */
  readonly startsPerSecond: number;
  /** AWS shared credentials file of access keys; when set, every request must be SigV4-signed by one. */
  readonly credentialsFile: string | undefined;
  /** Lets the open developer mode (no credentialsFile) listen on a non-loopback address. */
  readonly allowUnauthenticated: boolean;
  /** What functions may do with their environment's credentials. */
  readonly functionApiAccess: FunctionApiAccess;
  /** Refuse to start when functions cannot be sandboxed (no usable bwrap), rather than run them unconfined. */
  readonly requireSandbox: boolean;
  /** Log events older than this are dropped from groups without a retention policy; 0 keeps them. */
  readonly logRetentionDays: number;
  /** The log store drops its oldest events beyond this many bytes; 0 means no bound. */
  readonly logMaxBytes: number;
  /** Where Node.js builds and the AWS SDKs for the runtimes are installed; default `<dataDir>/runtimes`. */
  readonly runtimeDir: string | undefined;
  /** `runtime=interpreter` pairs (python3.13=/usr/bin/python3.13). */
  readonly runtimePaths: readonly string[];
  /** Runtimes installed at start-up (nodejs22.x, ...). */
  readonly installRuntimes: readonly string[];
  /** `NAME=value` variables put into every function's environment (under the function's own). */
  readonly functionEnv: readonly string[];
  /**
   * A JSON file mapping AWS Signer signing profile version ARNs to PEM public keys: the publishers whose
   * signatures code signing configs can trust (README: code signing).
   */
  readonly signingProfiles: string | undefined;
  /** Functions' network: own namespace with outbound access (egress), only loopback (none), or the server's (host). */
  readonly functionNetwork: 'egress' | 'none' | 'host';
  /** Most processes (threads included) one execution environment may have. */
  readonly functionPidsLimit: number;
}

export const functionApiAccessModes = ['invoke', 'read', 'full'] as const;
export type FunctionApiAccess = (typeof functionApiAccessModes)[number];

interface OptionSpec {
  readonly key: keyof ServerOptions;
  readonly flag: string;
  readonly env: string;
  /** `list`: the flag may repeat; env values (and flag values unless `whole`) are comma-separated. */
  readonly kind: 'string' | 'port' | 'int' | 'bool' | 'number' | 'list';
  readonly whole?: boolean;
  readonly help: string;
}

export const optionSpecs: readonly OptionSpec[] = [
  { key: 'host', flag: '--host', env: 'LAMBDALITE_HOST', kind: 'string', help: 'address to listen on (default 127.0.0.1)' },
  { key: 'port', flag: '--port', env: 'LAMBDALITE_PORT', kind: 'port', help: 'port to listen on; 0 picks a free one (default 9001)' },
  { key: 'dataDir', flag: '--data-dir', env: 'LAMBDALITE_DATA_DIR', kind: 'string', help: 'where state, code and logs live (default ./.lambdalite)' },
  { key: 'region', flag: '--region', env: 'LAMBDALITE_REGION', kind: 'string', help: 'region for unsigned requests (default us-east-1)' },
  { key: 'accountId', flag: '--account-id', env: 'LAMBDALITE_ACCOUNT_ID', kind: 'string', help: 'default account id (default 000000000000)' },
  { key: 'awsEndpoint', flag: '--aws-endpoint', env: 'LAMBDALITE_AWS_ENDPOINT', kind: 'string', help: 'endpoint for every AWS service the server calls' },
  { key: 's3Endpoint', flag: '--s3-endpoint', env: 'LAMBDALITE_S3_ENDPOINT', kind: 'string', help: 'endpoint for S3 (overrides --aws-endpoint)' },
  { key: 'sqsEndpoint', flag: '--sqs-endpoint', env: 'LAMBDALITE_SQS_ENDPOINT', kind: 'string', help: 'endpoint for SQS destinations (overrides --aws-endpoint)' },
  { key: 'snsEndpoint', flag: '--sns-endpoint', env: 'LAMBDALITE_SNS_ENDPOINT', kind: 'string', help: 'endpoint for SNS destinations (overrides --aws-endpoint)' },
  { key: 'eventsEndpoint', flag: '--events-endpoint', env: 'LAMBDALITE_EVENTS_ENDPOINT', kind: 'string', help: 'endpoint for EventBridge destinations (overrides --aws-endpoint)' },
  { key: 'kinesisEndpoint', flag: '--kinesis-endpoint', env: 'LAMBDALITE_KINESIS_ENDPOINT', kind: 'string', help: 'endpoint for Kinesis event sources (overrides --aws-endpoint)' },
  { key: 'dynamodbstreamsEndpoint', flag: '--dynamodbstreams-endpoint', env: 'LAMBDALITE_DYNAMODBSTREAMS_ENDPOINT', kind: 'string', help: 'endpoint for DynamoDB Streams event sources (overrides --aws-endpoint)' },
  { key: 'dynamodbEndpoint', flag: '--dynamodb-endpoint', env: 'LAMBDALITE_DYNAMODB_ENDPOINT', kind: 'string', help: 'endpoint for DynamoDB (overrides --aws-endpoint)' },
  { key: 'asyncRetryScale', flag: '--async-retry-scale', env: 'LAMBDALITE_ASYNC_RETRY_SCALE', kind: 'number', help: 'multiplies async retry delays (default 1)' },
  { key: 'echoLogs', flag: '--echo-logs', env: 'LAMBDALITE_ECHO_LOGS', kind: 'bool', help: 'copy function logs to stdout, prefixed with the function name' },
  { key: 'idleTimeoutMs', flag: '--idle-timeout-ms', env: 'LAMBDALITE_IDLE_TIMEOUT_MS', kind: 'int', help: 'reclaim idle environments after this long (default 600000)' },
  { key: 'totalCodeSize', flag: '--total-code-size', env: 'LAMBDALITE_TOTAL_CODE_SIZE', kind: 'int', help: 'bytes of code an account may store (default 80530636800)' },
  { key: 'concurrentExecutions', flag: '--concurrent-executions', env: 'LAMBDALITE_CONCURRENT_EXECUTIONS', kind: 'int', help: 'account concurrency limit (default 1000)' },
  { key: 'unreservedMinimum', flag: '--unreserved-minimum', env: 'LAMBDALITE_UNRESERVED_MINIMUM', kind: 'int', help: 'concurrency reservations must leave unreserved (default 100)' },
  { key: 'memoryBudgetMb', flag: '--memory-budget-mb', env: 'LAMBDALITE_MEMORY_BUDGET_MB', kind: 'int', help: 'memory for all environments (default 75% of the machine)' },
  { key: 'maxConcurrentStarts', flag: '--max-concurrent-starts', env: 'LAMBDALITE_MAX_CONCURRENT_STARTS', kind: 'int', help: 'environments starting at once (default 2 x CPUs)' },
  { key: 'startsPerSecond', flag: '--starts-per-second', env: 'LAMBDALITE_STARTS_PER_SECOND', kind: 'int', help: 'environment starts per second (default 100)' },
  { key: 'credentialsFile', flag: '--credentials', env: 'LAMBDALITE_CREDENTIALS', kind: 'string', help: 'access keys (AWS credentials file with aws_account_id); requests must be signed' },
  { key: 'allowUnauthenticated', flag: '--allow-unauthenticated', env: 'LAMBDALITE_ALLOW_UNAUTHENTICATED', kind: 'bool', help: 'without --credentials, listen on a non-loopback address anyway' },
  { key: 'functionApiAccess', flag: '--function-api-access', env: 'LAMBDALITE_FUNCTION_API_ACCESS', kind: 'string', help: 'what functions may call: invoke, read or full (default invoke)' },
  { key: 'requireSandbox', flag: '--require-sandbox', env: 'LAMBDALITE_REQUIRE_SANDBOX', kind: 'bool', help: 'refuse to start when functions cannot be sandboxed' },
  { key: 'logRetentionDays', flag: '--log-retention-days', env: 'LAMBDALITE_LOG_RETENTION_DAYS', kind: 'int', help: 'keep function logs this many days unless a group has a retention policy (default 7)' },
  { key: 'logMaxBytes', flag: '--log-max-bytes', env: 'LAMBDALITE_LOG_MAX_BYTES', kind: 'int', help: 'drop the oldest log events beyond this many bytes (default 1073741824)' },
  { key: 'runtimeDir', flag: '--runtime-dir', env: 'LAMBDALITE_RUNTIME_DIR', kind: 'string', help: 'where Node.js builds and runtime SDKs are installed (default DATA_DIR/runtimes)' },
  { key: 'runtimePaths', flag: '--runtime-path', env: 'LAMBDALITE_RUNTIME_PATHS', kind: 'list', help: 'RUNTIME=INTERPRETER, e.g. python3.13=/usr/bin/python3.13 (repeatable)' },
  { key: 'installRuntimes', flag: '--install-runtimes', env: 'LAMBDALITE_INSTALL_RUNTIMES', kind: 'list', help: 'install these runtimes at start-up, e.g. nodejs22.x,nodejs24.x' },
  { key: 'functionEnv', flag: '--function-env', env: 'LAMBDALITE_FUNCTION_ENV', kind: 'list', whole: true, help: 'NAME=VALUE in every function\'s environment (repeatable)' },
  { key: 'functionNetwork', flag: '--function-network', env: 'LAMBDALITE_FUNCTION_NETWORK', kind: 'string', help: 'egress | none | host: functions\' network (default egress)' },
  { key: 'functionPidsLimit', flag: '--function-pids-limit', env: 'LAMBDALITE_FUNCTION_PIDS_LIMIT', kind: 'int', help: 'processes per execution environment (default 1024)' },
  { key: 'settleDelayMs', flag: '--settle-delay-ms', env: 'LAMBDALITE_SETTLE_DELAY_MS', kind: 'int', help: 'Pending->Active and InProgress->Successful delay (default 0)' },
  { key: 'signingProfiles', flag: '--signing-profiles', env: 'LAMBDALITE_SIGNING_PROFILES', kind: 'string', help: 'JSON file: signing profile version ARN -> PEM public key' },
];

export const defaults: ServerOptions = Object.freeze({
  host: '127.0.0.1',
  port: 9001,
  dataDir: './.lambdalite',
  region: 'us-east-1',
  accountId: '000000000000',
  awsEndpoint: undefined,
  s3Endpoint: undefined,
  sqsEndpoint: undefined,
  snsEndpoint: undefined,
  eventsEndpoint: undefined,
  kinesisEndpoint: undefined,
  dynamodbstreamsEndpoint: undefined,
  dynamodbEndpoint: undefined,
  asyncRetryScale: 1,
  echoLogs: false,
  idleTimeoutMs: 600_000,
  settleDelayMs: 0,
  totalCodeSize: 80_530_636_800,
  concurrentExecutions: 1000,
  unreservedMinimum: 100,
  memoryBudgetMb: 0,
  maxConcurrentStarts: 0,
  startsPerSecond: 100,
  credentialsFile: undefined,
  allowUnauthenticated: false,
  functionApiAccess: 'invoke',
  requireSandbox: false,
  logRetentionDays: 7,
  logMaxBytes: 1_073_741_824,
  runtimeDir: undefined,
  runtimePaths: [],
  installRuntimes: [],
  functionEnv: [],
  signingProfiles: undefined,
  functionNetwork: 'egress',
  functionPidsLimit: 1024,
});

export class ConfigError extends Error {}

function convert(spec: OptionSpec, raw: string, source: string): string | number | boolean | string[] {
  switch (spec.kind) {
    case 'list': {
      const items = (spec.whole && source.startsWith('--') ? [raw] : raw.split(',')).map((x) => x.trim()).filter((x) => x !== '');
      if (spec.key !== 'installRuntimes' && items.some((x) => !/^[^=]+=/.test(x))) throw new ConfigError(`${source} takes NAME=VALUE, not '${raw}'`);
      return items;
    }
    case 'string':
      if (raw === '') throw new ConfigError(`${source} needs a value`);
      return raw;
    case 'port': {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n > 65535) throw new ConfigError(`${source} must be a port number from 0 to 65535, not '${raw}'`);
      return n;
    }
    case 'int': {
      const n = Number(raw);
      if (!/^\d+$/.test(raw)) throw new ConfigError(`${source} must be a whole number, not '${raw}'`);
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError(`${source} must be a number of at least 0, not '${raw}'`);
      return n;
    }
    case 'bool':
      if (['1', 'true', 'yes', ''].includes(raw)) return true;
      if (['0', 'false', 'no'].includes(raw)) return false;
      throw new ConfigError(`${source} must be true or false, not '${raw}'`);
  }
}

/** Flags win over environment variables, which win over defaults. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, overrides: Partial<ServerOptions> = {}): ServerOptions {
  const out: Record<string, unknown> = { ...defaults };
  for (const spec of optionSpecs) {
    const v = env[spec.env];
    if (v !== undefined && v !== '') out[spec.key] = convert(spec, v, spec.env);
  }
  const seenLists = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const spec = optionSpecs.find((s) => s.flag === flag);
    if (!spec) throw new ConfigError(`unknown option ${arg}`);
    let raw = inline;
    if (raw === undefined) {
      if (spec.kind === 'bool') raw = '';
      else {
        raw = argv[++i];
        if (raw === undefined) throw new ConfigError(`${flag} needs a value`);
      }
    }
    const value = convert(spec, raw, flag);
    // A repeated list flag adds to the flags before it (and replaces the environment variable's list).
    if (Array.isArray(value) && seenLists.has(spec.key)) out[spec.key] = [...(out[spec.key] as string[]), ...value];
    else out[spec.key] = value;
    if (Array.isArray(value)) seenLists.add(spec.key);
  }
  Object.assign(out, overrides);
  if (!/^\d{12}$/.test(String(out['accountId']))) throw new ConfigError(`account id must be 12 digits, not '${String(out['accountId'])}'`);
  if (!/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/.test(String(out['region']))) throw new ConfigError(`'${String(out['region'])}' is not a region name`);
  if (!(functionApiAccessModes as readonly unknown[]).includes(out['functionApiAccess'])) {
    throw new ConfigError(`--function-api-access must be one of ${functionApiAccessModes.join(', ')}, not '${String(out['functionApiAccess'])}'`);
  }
  if (out['credentialsFile'] !== undefined) out['credentialsFile'] = path.resolve(String(out['credentialsFile']));
  if (!['egress', 'none', 'host'].includes(String(out['functionNetwork']))) {
    throw new ConfigError(`function network must be egress, none or host, not '${String(out['functionNetwork'])}'`);
  }
  if (Number(out['functionPidsLimit']) < 16) throw new ConfigError(`the function pids limit must be at least 16, not ${String(out['functionPidsLimit'])}`);
  out['dataDir'] = path.resolve(String(out['dataDir']));
  if (typeof out['runtimeDir'] === 'string') out['runtimeDir'] = path.resolve(out['runtimeDir']);
  return Object.freeze(out) as unknown as ServerOptions;
}
