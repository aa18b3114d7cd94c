// One execution environment: a runtime process tree in a sandbox, its Runtime API listener, its
// memory cgroup and its log stream. It serves one invocation at a time, from delivery to the
// REPORT line, and turns every way an invocation can end into AWS's result:
//
//   runtime posts a response           -> the payload
//   runtime posts an error             -> the payload, X-Amz-Function-Error: Unhandled
//   response over MAX_PAYLOAD_SIZE     -> Function.ResponseSizeTooLarge
//   runtime posts /init/error          -> that error payload; the environment is discarded
//   no answer before the deadline      -> Sandbox.Timedout; the environment is discarded
//   runtime exits                      -> Runtime.ExitError, or Runtime.OutOfMemory if the cgroup OOM-killed it
//
// Error texts follow AWS (RIE interop/fatalerror and what Lambda writes to CloudWatch).

import type { FunctionRuntimeConfig, InvokeRequest, InvokeResult } from '../invoke/types.js';
import type { RuntimePlan } from '../runtimes/registry.js';
import { externalExtensions, isEntrypointError, withExecWrapper, withExtensions } from '../runtimes/registry.js';
import type { Clock, Timer } from '../shared/clock.js';
import { LogStream, newLogStreamName, type LogSink } from './logs.js';
import { procTreePeakBytes, type MemoryCgroup, type MemoryController } from './memory.js';
import { RuntimeApiServer, MAX_PAYLOAD_SIZE, type RuntimeInvocation } from './runtime-api.js';
import { Launcher } from './launcher.js';
import type { ActiveTrace, XRayDaemon } from '../runtimes/xray.js';
import { SHUTDOWN_BUDGET_MS } from './extensions-api.js';
import type { ExitStatus, PreparedSandbox, Sandbox, SandboxProcess } from './sandbox.js';
import type { EnvironmentNetwork } from './network.js';
import type { ScratchDisk } from './scratch.js';
import type { SandboxApiConnector } from '../shared/sandbox-origin.js';

/** AWS's init phase limit. */
const INIT_TIMEOUT_MS = 10_000;
/** How long an idle environment stays thawed for Telemetry API deliveries of its last invocation. */
const TELEMETRY_DRAIN_MS = 2000;

export interface EnvironmentOptions {
  readonly id: string;
  readonly config: FunctionRuntimeConfig;
  readonly plan: RuntimePlan;
  readonly sandbox: Sandbox;
  readonly memory: MemoryController;
  readonly api: RuntimeApiServer;
  /** A pre-started launcher (with its cgroup); without one the environment makes its own. */
  readonly launcher: Launcher | undefined;
  /** Where launchers' scripts are written (private to the server). */
  readonly scriptDir: string;
  readonly clock: Clock;
  readonly logs: LogSink;
  readonly echo: ((chunk: string | Buffer) => void) | undefined;
  readonly credentials: EnvironmentCredentials;
  /** Operator-set variables (--function-env, the X-Ray daemon): over the defaults, under the function's own. */
  readonly platformEnv?: Readonly<Record<string, string>>;
  /** Where functions with TracingConfig Active send segments; their invocations are sampled. */
  readonly xray?: XRayDaemon;
  /** Called once when the environment can no longer serve requests. */
  readonly onDead: (env: ExecutionEnvironment) => void;
  /**
   * `provisioned-concurrency` for environments initialised ahead of any request (AWS sets
   * AWS_LAMBDA_INITIALIZATION_TYPE so; their REPORT lines carry no Init Duration). Default on-demand.
   */
  readonly initializationType?: InitializationType;
  /** The environment's own network namespace (network.ts); undefined when it shares the host's. */
  readonly network?: EnvironmentNetwork;
  /** The Lambda API as the function reaches it (AWS_ENDPOINT_URL_LAMBDA) and where its connections go. */
  readonly lambdaApi?: { readonly endpoint: string | undefined; readonly connect: SandboxApiConnector | undefined };
  /** A disk-backed /tmp of EphemeralStorage's size (scratch.ts); without it, /tmp is a tmpfs. */
  readonly tmp?: ScratchDisk;
}

export type EnvironmentCredentials = Readonly<Record<'accessKeyId' | 'secretAccessKey' | 'sessionToken', string>>;

export type InitializationType = 'on-demand' | 'provisioned-concurrency';

/** How the init phase ended: the runtime's first GET /invocation/next, or a failure before it. */
export type InitOutcome = { readonly ok: true } | { readonly ok: false; readonly errorType: string };

export type EnvironmentState = 'starting' | 'idle' | 'busy' | 'dead';

interface Active {
  readonly request: InvokeRequest;
  readonly resolve: (result: InvokeResult) => void;
  timer: Timer | undefined;
  /** Monotonic ms when the runtime received the event. */
  deliveredAt: number | undefined;
  done: boolean;
  /** The sampled trace of an Active function's invocation. */
  readonly trace: ActiveTrace | undefined;
}

interface Ending {
  readonly payload: Buffer;
  readonly functionError?: 'Unhandled';
  /** REPORT's Status field (plus Error Type when an error type is given). */
  readonly status?: 'timeout' | 'error';
  readonly errorType?: string;
  /** Whether the environment can take another request afterwards. */
  readonly reusable: boolean;
}

export class ExecutionEnvironment {
  readonly id: string;
  readonly functionArn: string;
  readonly version: string;
  readonly revision: string;
  readonly log: LogStream;
  state: EnvironmentState = 'starting';
  /** Wall-clock ms when it last finished a request (for idle reclaim). */
  lastUsed: number;
  /** Invocations completed; and the most ever in flight at once (must stay 1). */
  invocations = 0;
  maxConcurrent = 0;
  readonly initializationType: InitializationType;
  readonly memorySize: number;
  /** Settles once, when init has ended either way (start slots and provisioned status wait on it). */
  readonly ready: Promise<InitOutcome>;
  /** Duration (ms, as in REPORT) of the latest finished invocation. */
  lastDurationMs = 0;
  #settleReady!: (outcome: InitOutcome) => void;
  #readySettled = false;

  readonly #o: EnvironmentOptions;
  readonly #api: RuntimeApiServer;
  readonly #clock: Clock;
  readonly #cgroup: MemoryCgroup;
  readonly #launcher: Launcher | undefined;
  readonly #prepared: PreparedSandbox;
  #proc: SandboxProcess | undefined;
  #spawnedAt: number;
  #initDuration: number | undefined;
  #initReported = false;
  #initError: Ending | undefined;
  #active: Active | undefined;
  #inFlight = 0;
  #exit: Promise<ExitStatus> | undefined;
  #disposed: Promise<void> | undefined;
  #retired = false;
  /** Telemetry of the last invocation is being delivered before the environment is frozen. */
  #draining = false;
  /** How many external extensions (/opt/extensions/*) start with the runtime. */
  readonly #externalExtensions: number;

  constructor(o: EnvironmentOptions) {
    this.#o = o;
    this.id = o.id;
    this.functionArn = o.config.functionArn;
    this.version = o.config.version;
    this.revision = o.config.revision;
    this.initializationType = o.initializationType ?? 'on-demand';
    this.memorySize = o.config.memorySize;
    this.ready = new Promise<InitOutcome>((resolve) => (this.#settleReady = resolve));
    this.#api = o.api;
    this.#clock = o.clock;
    this.lastUsed = o.clock.now();
    this.#spawnedAt = o.clock.elapsed();
    const { config, plan } = o;
    this.log = new LogStream({ sink: o.logs, config, name: newLogStreamName(config.version, o.clock.now()), clock: o.clock, echo: o.echo, initializationType: this.initializationType });
    if (o.launcher !== undefined) {
      this.#launcher = o.launcher;
      this.#cgroup = o.launcher.cgroup;
    } else {
      this.#cgroup = o.memory.create(o.id);
      this.#launcher = this.#cgroup.procsFiles.length > 0 ? Launcher.start(this.#cgroup, o.scriptDir) : undefined;
    }
    this.#cgroup.setLimit(config.memorySize);
    this.#prepared = o.sandbox.prepare(o.id, {
      codeDir: config.codeDir,
      layerDirs: config.layerDirs,
      runtimeDir: plan.clientDir,
      tmpSizeMb: config.ephemeralStorage,
      tmpDir: o.tmp?.dir,
      readOnly: plan.readOnly,
      hidden: plan.hidden,
      binds: plan.binds,
    });
    this.#externalExtensions = externalExtensions(config.layerDirs).length;
    this.#api.attachExtensions(
      { functionName: config.functionName, functionVersion: config.version, handler: config.handler, accountId: config.accountId },
      this.#externalExtensions,
      { onInitError: (type, body) => this.#onInitError(type, body), onLog: (line) => this.log.platform(line) },
    );
    this.#api.attach({
      onNext: () => this.#onNext(),
      onDeliver: (inv) => this.#onDeliver(inv),
      onResponse: (id, body) => this.#onResponse(id, body),
      onError: (id, type, body) => this.#onError(id, type, body),
      onResponseTooLarge: (id, size) => this.#onTooLarge(id, size),
      onInitError: (type, body) => this.#onInitError(type, body),
      onExtensionsReady: () => this.#freezeIfIdle(),
    });
    this.#serveLambdaApi();
    this.#crossNamespace();
    // Its egress may be renewed (network.ts, watchHostPorts) only while no request is in flight.
    if (o.network) o.network.idle = () => this.state === 'idle';
    this.#start();
  }

  /** True when it is idle, alive and started for this revision. */
  canServe(revision: string): boolean {
    return this.state === 'idle' && !this.#retired && this.revision === revision;
  }

  /** Marks it so it is discarded after its current request (code or configuration changed). */
  retire(): void {
    this.#retired = true;
  }

  get retired(): boolean {
    return this.#retired;
  }

  #initEnded(outcome: InitOutcome): void {
    if (this.#readySettled) return;
    this.#readySettled = true;
    this.#settleReady(outcome);
  }

  #start(): void {
    const { config, plan } = this.#o;
    const view = this.#prepared.view;
    this.log.platform(
      `INIT_START Runtime Version: ${plan.runtimeVersion}\tRuntime Version ARN: ${plan.runtimeVersionArn(config.region)}`,
    );
    const command = withExtensions(
      withExecWrapper(plan, plan.command(view, config.codeDir, config.layerDirs, this.#o.memory.kind === 'none' ? config.memorySize : undefined), config.environment),
      view.optDir,
      this.#externalExtensions,
    );
    if (isEntrypointError(command)) {
      // AWS fails these at exec time; the invocation gets the error once it arrives.
      this.#initError = this.#runtimeFailure(command.errorType, command.errorMessage, false);
      this.#initEnded({ ok: false, errorType: command.errorType });
      return;
    }
    const binDir = plan.binDir(view);
    const binPath = binDir && !binDir.startsWith('/usr/') ? `${binDir}:` : '';
    const env: Record<string, string> = {
      PATH: `${binPath}/usr/local/bin:/usr/bin/:/bin:${view.optDir}/bin`,
      LD_LIBRARY_PATH: [
        '/lib64',
        '/usr/lib64',
        view.runtimeDir,
        `${view.runtimeDir}/lib`,
        view.taskRoot,
        `${view.taskRoot}/lib`,
        `${view.optDir}/lib`,
      ].join(':'),
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      // X-Ray settings every AWS runtime sees (the daemon address is AWS's link-local one; nothing
      // listens there locally, and the SDKs only send UDP to it).
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
      _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
      _AWS_XRAY_DAEMON_PORT: '2000',
      ...plan.env(view),
      ...this.#o.platformEnv,
      // In its own namespace the host's daemon is out of reach: the namespace's own socket instead.
      ...this.#o.network?.xrayEnv,
      // The function's own variables may replace the defaults above but none of the reserved ones
      // below (the control plane rejects reserved keys at create time; this is the backstop).
      ...config.environment,
      AWS_LAMBDA_FUNCTION_NAME: config.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: config.version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: config.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: this.log.name,
      // Advanced logging controls: the runtime clients format and filter by these, as AWS's do.
      AWS_LAMBDA_LOG_FORMAT: config.logFormat ?? 'Text',
      ...(config.logFormat === 'JSON' ? { AWS_LAMBDA_LOG_LEVEL: config.applicationLogLevel ?? 'INFO' } : {}),
      AWS_LAMBDA_RUNTIME_API: this.#api.address,
      AWS_LAMBDA_INITIALIZATION_TYPE: this.initializationType,
      LAMBDA_TASK_ROOT: view.taskRoot,
      LAMBDA_RUNTIME_DIR: view.runtimeDir,
      AWS_REGION: config.region,
      AWS_DEFAULT_REGION: config.region,
      AWS_ACCESS_KEY_ID: this.#o.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.#o.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: this.#o.credentials.sessionToken,
    };
    const lambdaEndpoint = this.#o.lambdaApi?.endpoint;
    if (lambdaEndpoint !== undefined && env['AWS_ENDPOINT_URL_LAMBDA'] === undefined) env['AWS_ENDPOINT_URL_LAMBDA'] = lambdaEndpoint;
    if (config.handler !== undefined) env['_HANDLER'] = config.handler;
    else delete env['_HANDLER'];
    if (plan.executionEnv !== undefined) env['AWS_EXECUTION_ENV'] = plan.executionEnv;
    else delete env['AWS_EXECUTION_ENV'];

    const proc = this.#prepared.spawn({ argv: command, env, launcher: this.#launcher });
    this.#proc = proc;
    const telemetry = this.#api.telemetry;
    proc.stdout.on('data', (chunk: Buffer) => {
      this.log.write(chunk);
      telemetry.output(chunk);
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      this.log.write(chunk);
      telemetry.output(chunk);
    });
    this.#exit = proc.exit;
    void proc.exit.then((status) => this.#onExit(status));
  }

  /** Runs one request to completion. The caller guarantees the environment is idle or starting. */
  invoke(request: InvokeRequest): Promise<InvokeResult> {
    this.#inFlight++;
    if (this.#inFlight > this.maxConcurrent) this.maxConcurrent = this.#inFlight;
    const wasStarting = this.state === 'starting';
    this.state = 'busy';
    return new Promise<InvokeResult>((resolve) => {
      const active: Active = { request, resolve, timer: undefined, deliveredAt: undefined, done: false, trace: this.#beginTrace(request) };
      this.#active = active;
      if (request.tailLog) this.log.beginCapture();
      if (this.#initError !== undefined) {
        const ending = this.#initError;
        this.log.platform(`START RequestId: ${request.requestId} Version: ${this.version}`);
        active.deliveredAt = this.#clock.elapsed();
        return this.#finish(active, ending);
      }
      // Re-armed with the function's timeout once the runtime takes the event; until then, allow
      // the init phase (cold) or a runtime slow to poll again (warm) the same bound.
      this.#arm(active, (wasStarting ? INIT_TIMEOUT_MS : 0) + this.#o.config.timeout * 1000);
      this.#cgroup.thaw();
      this.#api.telemetry.release();
      this.#api.deliver({ requestId: request.requestId, payload: request.payload.length ? request.payload : EMPTY_EVENT });
    });
  }

  #beginTrace(request: InvokeRequest): ActiveTrace | undefined {
    const { config, xray } = this.#o;
    if (config.tracingMode !== 'Active' || xray === undefined) return undefined;
    return xray.begin(config.functionArn, config.functionName, request.traceId, this.#clock.now());
  }

  #arm(active: Active, ms: number): void {
    if (active.timer !== undefined) this.#clock.clearTimeout(active.timer);
    active.timer = this.#clock.setTimeout(() => this.#onTimeout(active), ms);
  }

  #onNext(): void {
    if (this.#initDuration === undefined) {
      this.#initDuration = this.#clock.elapsed() - this.#spawnedAt;
      if (this.state === 'starting') {
        this.state = 'idle';
        this.lastUsed = this.#clock.now();
      }
      this.#initEnded({ ok: true });
    }
    this.#freezeIfIdle();
  }

  /**
   * As AWS, nothing of an idle environment runs (timers, background processes): it is frozen once
   * its request is answered and the runtime waits in GET /invocation/next, and thawed right before
   * the next event is handed over (or before it is killed).
   */
  #freezeIfIdle(): void {
    if (this.state !== 'idle' || !this.#api.parked || this.#disposed !== undefined) return;
    const telemetry = this.#api.telemetry;
    if (!telemetry.active) return this.#cgroup.freeze();
    // Subscribers get what the invocation produced first (a frozen listener cannot take it), within
    // a bound; what comes after waits for the next thaw, as AWS delivers it during the next event.
    if (this.#draining) return;
    this.#draining = true;
    void telemetry.flushAll(TELEMETRY_DRAIN_MS).then(() => {
      this.#draining = false;
      if (this.state !== 'idle' || !this.#api.parked || this.#disposed !== undefined) return;
      telemetry.hold();
      this.#cgroup.freeze();
    });
  }

  /** X-Ray segments and Telemetry deliveries cross the environment's namespace through its own sockets. */
  #crossNamespace(): void {
    const network = this.#o.network;
    if (network === undefined) return;
    const { xray, config } = this.#o;
    if (xray !== undefined) network.xray.on('message', (msg: Buffer) => xray.receive(msg, config.functionArn));
    this.#api.telemetry.connect = (port) => network.connect(port);
  }

  /** Connections to the Lambda API address inside the namespace go to the API server, marked. */
  #serveLambdaApi(): void {
    const connect = this.#o.lambdaApi?.connect;
    const network = this.#o.network;
    if (connect === undefined || network === undefined) return;
    const { config } = this.#o;
    const origin = { environmentId: this.id, functionArn: config.functionArn, accountId: config.accountId, region: config.region };
    network.serveLambdaApi((socket) => connect(socket, origin));
  }

  #onDeliver(inv: RuntimeInvocation): Record<string, string> {
    const active = this.#active as Active;
    const { request } = active;
    const timeoutMs = this.#o.config.timeout * 1000;
    const deadline = this.#clock.now() + timeoutMs;
    active.deliveredAt = this.#clock.elapsed();
    this.#arm(active, timeoutMs);
    this.log.platform(`START RequestId: ${inv.requestId} Version: ${this.version}`);
    this.#api.telemetry.emit('platform', 'platform.start', { requestId: inv.requestId, version: this.version });
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': inv.requestId,
      'Lambda-Runtime-Deadline-Ms': String(deadline),
      'Lambda-Runtime-Invoked-Function-Arn': request.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': active.trace?.header ?? request.traceId ?? newTraceId(this.#clock.now()),
    };
    if (request.clientContext !== undefined && request.clientContext !== '') {
      // X-Amz-Client-Context arrives base64; the runtime gets the decoded JSON.
      headers['Lambda-Runtime-Client-Context'] = Buffer.from(request.clientContext, 'base64').toString('utf8');
    }
    if (request.cognitoIdentity !== undefined && request.cognitoIdentity !== '') {
      headers['Lambda-Runtime-Cognito-Identity'] = request.cognitoIdentity;
    }
    return headers;
  }

  #current(id: string): Active | undefined {
    const active = this.#active;
    return active !== undefined && !active.done && active.request.requestId === id ? active : undefined;
  }

  #onResponse(id: string, body: Buffer): void {
    const active = this.#current(id);
    if (!active) return;
    // Output the runtime wrote before posting is already in our stdout pipe; one turn of the event
    // loop lets it land in the log ahead of END.
    setImmediate(() => this.#finish(active, { payload: body, reusable: true }));
  }

  #onError(id: string, errorType: string | undefined, body: Buffer): void {
    const active = this.#current(id);
    if (!active) return;
    let payload = body;
    if (payload.length === 0) {
      // RAPID's default when a runtime reports an error without a body.
      payload = Buffer.from(
        JSON.stringify(
          errorType
            ? { errorMessage: 'Unknown application error occurred', errorType }
            : { errorMessage: 'Unknown application error occurred' },
        ),
      );
    }
    setImmediate(() => this.#finish(active, { payload, functionError: 'Unhandled', reusable: true }));
  }

  #onTooLarge(id: string, _size: number): void {
    const active = this.#current(id);
    if (!active) return;
    // The text AWS answers callers with (RIE's own variant includes the size; the service does not).
    const payload = Buffer.from(
      JSON.stringify({
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_SIZE} bytes).`,
        errorType: 'Function.ResponseSizeTooLarge',
      }),
    );
    setImmediate(() =>
      this.#finish(active, {
        payload,
        functionError: 'Unhandled',
        status: 'error',
        errorType: 'Function.ResponseSizeTooLarge',
        reusable: true,
      }),
    );
  }

  #onInitError(errorType: string | undefined, body: Buffer): void {
    const type = errorType ?? 'Runtime.Unknown';
    const duration = this.#clock.elapsed() - this.#spawnedAt;
    this.#initReported = true;
    // An extension's init/error can come while the runtime still polls: it must not get the event.
    this.#api.cancelQueued();
    this.#initEnded({ ok: false, errorType: type });
    setImmediate(() => {
      this.log.platform(`INIT_REPORT Init Duration: ${duration.toFixed(2)} ms\tPhase: init\tStatus: error\tError Type: ${type}`);
      const ending: Ending = {
        payload: body.length ? body : Buffer.from(JSON.stringify({ errorMessage: 'Unknown application error occurred', errorType: type })),
        functionError: 'Unhandled',
        status: 'error',
        errorType: type,
        reusable: false,
      };
      const active = this.#active;
      if (active && !active.done) {
        if (active.deliveredAt === undefined) {
          active.deliveredAt = this.#clock.elapsed();
          this.log.platform(`START RequestId: ${active.request.requestId} Version: ${this.version}`);
        }
        this.#finish(active, ending);
      } else {
        this.#initError = ending;
      }
      this.#kill();
    });
  }

  #onTimeout(active: Active): void {
    if (active.done) return;
    const seconds = this.#o.config.timeout.toFixed(2);
    const id = active.request.requestId;
    if (active.deliveredAt === undefined) {
      active.deliveredAt = this.#clock.elapsed();
      this.log.platform(`START RequestId: ${id} Version: ${this.version}`);
    }
    this.log.platform(`${new Date(this.#clock.now()).toISOString()} ${id} Task timed out after ${seconds} seconds`);
    this.#kill();
    this.#finish(active, {
      payload: Buffer.from(
        JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${id} Error: Task timed out after ${seconds} seconds` }),
      ),
      functionError: 'Unhandled',
      status: 'timeout',
      reusable: false,
    });
  }

  #onExit(status: ExitStatus): void {
    const wasDead = this.state === 'dead';
    this.state = 'dead';
    this.#initEnded({ ok: false, errorType: this.#cgroup.oomKilled() ? 'Runtime.OutOfMemory' : 'Runtime.ExitError' });
    const active = this.#active;
    if (active && !active.done) {
      const id = active.request.requestId;
      const oom = this.#cgroup.oomKilled();
      const reason =
        status.code === 0 && status.signal === null ? 'Runtime exited without providing a reason' : `Runtime exited with error: ${describeExit(status)}`;
      const errorType = oom ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
      if (active.deliveredAt === undefined) {
        active.deliveredAt = this.#clock.elapsed();
        this.log.platform(`START RequestId: ${id} Version: ${this.version}`);
      }
      this.log.platform(`RequestId: ${id} Error: ${reason}\n${errorType}`);
      this.#finish(active, this.#runtimeFailure(errorType, `RequestId: ${id} Error: ${reason}`, false));
    }
    if (!wasDead) this.#o.onDead(this);
  }

  #runtimeFailure(errorType: string, errorMessage: string, reusable: boolean): Ending {
    return {
      // Key order as AWS's platform errors (recorded: {"errorType":"Runtime.ExitError","errorMessage":...}).
      payload: Buffer.from(JSON.stringify({ errorType, errorMessage })),
      functionError: 'Unhandled',
      status: 'error',
      errorType,
      reusable,
    };
  }

  #finish(active: Active, ending: Ending): void {
    if (active.done) return;
    active.done = true;
    if (active.timer !== undefined) this.#clock.clearTimeout(active.timer);
    const { request } = active;
    const id = request.requestId;
    const { config } = this.#o;
    const duration = this.#clock.elapsed() - (active.deliveredAt ?? this.#clock.elapsed());
    // Provisioned environments ran their init before any request: AWS reports no Init Duration.
    const initDuration =
      this.invocations === 0 && !this.#initReported && this.initializationType === 'on-demand' ? this.#initDuration : undefined;
    // Custom runtimes are billed for their init phase, managed runtimes are not.
    const billed = Math.max(1, Math.ceil(duration + (this.#o.plan.family === 'provided' ? (initDuration ?? 0) : 0)));
    const peak = maxMemoryUsedBytes(this.#cgroup, this.#proc);
    let report =
      `REPORT RequestId: ${id}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${billed} ms\t` +
      `Memory Size: ${config.memorySize} MB\tMax Memory Used: ${Math.max(1, Math.round(peak / 1048576))} MB\t`;
    if (initDuration !== undefined) report += `Init Duration: ${initDuration.toFixed(2)} ms\t`;
    if (ending.status === 'timeout') report += 'Status: timeout';
    else if (ending.status === 'error') report += `Status: error${ending.errorType ? `\tError Type: ${ending.errorType}` : ''}`;
    if (active.trace !== undefined) {
      // AWS's second line of the REPORT event for traced invocations.
      report += `\nXRAY TraceId: ${active.trace.root}\tSegmentId: ${active.trace.segmentId}\tSampled: true\t`;
      active.trace.finish(this.#clock.now(), ending.functionError !== undefined);
    }
    this.log.platform(`END RequestId: ${id}`);
    this.log.platform(report);
    if (this.#api.telemetry.active) this.#reportTelemetry(id, ending, duration, billed, peak, initDuration);
    const logResult = request.tailLog ? this.log.endCapture() : undefined;

    this.lastDurationMs = duration;
    this.invocations++;
    this.#inFlight--;
    this.#active = undefined;
    this.lastUsed = this.#clock.now();
    if (ending.reusable && this.state === 'busy') this.state = 'idle';
    else if (!ending.reusable) this.#kill();

    const result: { -readonly [K in keyof InvokeResult]: InvokeResult[K] } = {
      requestId: id,
      executedVersion: this.version,
      payload: ending.payload,
    };
    if (ending.functionError !== undefined) result.functionError = ending.functionError;
    if (logResult !== undefined) result.logResult = logResult;
    active.resolve(result);
    // After the caller's response is on its way; a request arriving meanwhile finds it busy.
    if (this.state === 'idle') setImmediate(() => this.#freezeIfIdle());
  }

  /** platform.runtimeDone and platform.report for Telemetry API subscribers (AWS's record schemas). */
  #reportTelemetry(requestId: string, ending: Ending, durationMs: number, billedDurationMs: number, peakBytes: number, initDurationMs: number | undefined): void {
    const status = ending.status === 'timeout' ? 'timeout' : ending.functionError !== undefined ? (ending.status === 'error' ? 'failure' : 'error') : 'success';
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    const t = this.#api.telemetry;
    t.emit('platform', 'platform.runtimeDone', { requestId, status, metrics: { durationMs: round(durationMs), producedBytes: ending.payload.length } });
    t.emit('platform', 'platform.report', {
      requestId,
      status,
      metrics: {
        durationMs: round(durationMs),
        billedDurationMs,
        memorySizeMB: this.memorySize,
        maxMemoryUsedMB: Math.max(1, Math.round(peakBytes / 1048576)),
        ...(initDurationMs !== undefined ? { initDurationMs: round(initDurationMs) } : {}),
      },
    });
  }

  #kill(): void {
    this.#initEnded({ ok: false, errorType: 'Runtime.ExitError' });
    if (this.state !== 'dead') {
      this.state = 'dead';
      this.#o.onDead(this);
    }
    this.#proc?.kill();
    // A frozen process acts on SIGKILL only once thawed (cgroup v1).
    this.#cgroup.thaw();
  }

  /** Stops the runtime and releases everything. Safe to call more than once. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      // Extensions registered for SHUTDOWN get it, with AWS's budget, before the environment stops.
      if (this.#api.extensions.count > 0 && this.#proc !== undefined && this.state !== 'dead') {
        // A frozen environment could not answer; it stays thawed until it is killed.
        this.#cgroup.thaw();
        this.#api.telemetry.release();
        await this.#api.telemetry.flushAll(SHUTDOWN_BUDGET_MS);
        await this.#api.extensions.shutdown('spindown', this.#clock.now());
      }
      this.#kill();
      if (this.#proc === undefined) await this.#launcher?.dispose();
      if (this.#exit) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.#exit, new Promise((r) => (timer = setTimeout(r, 2000)))]);
        clearTimeout(timer);
      }
      await this.#cgroup.dispose();
      this.#prepared.cleanup();
      this.#o.network?.close();
      await this.#o.tmp?.dispose();
      await this.#api.close();
      await this.log.close();
    })();
    return this.#disposed;
  }
}

const EMPTY_EVENT = Buffer.from('{}');

/**
 * REPORT's Max Memory Used: the environment's peak as AWS's microVM sees it. The cgroup's peak
 * leaves out file pages another cgroup brought into the page cache first (the interpreter's own
 * binary, shared by every environment here, private to each microVM on AWS), so the peak resident
 * set of the process tree counts too: whichever is larger, never less than what the runtime itself
 * reports as its RSS.
 */
function maxMemoryUsedBytes(cgroup: MemoryCgroup, proc: SandboxProcess | undefined): number {
  return Math.max(cgroup.peakBytes() ?? 0, (proc ? procTreePeakBytes(proc.pid) : undefined) ?? 0);
}

/** Go's os.ProcessState.String(), which AWS puts in "Runtime exited with error: ...". */
function describeExit(status: ExitStatus): string {
  if (status.signal !== null) {
    const names: Record<string, string> = {
      SIGKILL: 'killed',
      SIGSEGV: 'segmentation fault',
      SIGABRT: 'aborted',
      SIGTERM: 'terminated',
      SIGBUS: 'bus error',
      SIGILL: 'illegal instruction',
      SIGFPE: 'floating point exception',
      SIGINT: 'interrupt',
      SIGHUP: 'hangup',
      SIGPIPE: 'broken pipe',
    };
    return `signal: ${names[status.signal] ?? status.signal.toLowerCase()}`;
  }
  return `exit status ${status.code ?? 0}`;
}

/** An X-Ray trace header like the one AWS always sends: Root=1-<epoch hex>-<96 bit hex>;... */
function newTraceId(nowMs: number): string {
  const epoch = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
  const rand = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += ((Math.random() * 16) | 0).toString(16);
    return s;
  };
  return `Root=1-${epoch}-${rand(24)};Parent=${rand(16)};Sampled=0;Lineage=1:${rand(8)}:0`;
}
