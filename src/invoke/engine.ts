// The invoke engine (the InvokeEngine contract of types.ts), running functions in sandboxes. It keeps a
// pool of execution environments per (function ARN, version): a request takes an idle environment started for the current revision
// (warm) or starts a new one (cold); a finished environment goes back to the pool unless it failed,
// was retired, or belongs to an older revision. Idle environments are reclaimed after idleTimeoutMs.
// Everything about one environment's life lives in src/sandbox/environment.ts.
//
// Around that, issue 6's concurrency (see src/sandbox/README.md, "Concurrency and scaling"):
//   1. admission: the ConcurrencyGovernor (./admission.ts) throttles before anything is touched;
//   2. provisioned environments configured on the invoked qualifier first, then idle on-demand ones;
//   3. otherwise a start slot (StartLimiter: parallel starts and starts per second), waited for
//      with a bound, during which an environment of the same pool that becomes idle is taken instead;
//   4. the memory budget: a new environment's MemorySize must fit, least recently used idle
//      on-demand environments are retired to make room, else the invoke is throttled.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errors, LambdaError } from '../shared/errors.js';
import type { FunctionRuntimeConfig, InvokeEngine, InvokeRequest, InvokeResult, ProvisionedKey, ProvisionedStatus, ThrottleReason } from './types.js';
import { systemClock, type Clock, type Timer } from '../shared/clock.js';
import { ExecutionEnvironment, type EnvironmentCredentials, type InitializationType } from '../sandbox/environment.js';
import { detectMemoryController, type MemoryController } from '../sandbox/memory.js';
import { RuntimeApiServer } from '../sandbox/runtime-api.js';
import { Launcher } from '../sandbox/launcher.js';
import { detectSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { detectNetwork, watchHostPorts, type EnvironmentNetwork, type NetworkMode, type NetworkSupport } from '../sandbox/network.js';
import { detectScratchDisks, type ScratchDisk, type ScratchDisks } from '../sandbox/scratch.js';
import { DEFAULT_PIDS_LIMIT } from '../sandbox/memory.js';
import type { SandboxApiConnector } from '../shared/sandbox-origin.js';
import { RuntimeRegistry } from '../runtimes/registry.js';
import { XRayDaemon, type TraceSegment } from '../runtimes/xray.js';
import { isRecursiveLoop, recursiveInvocation } from '../shared/recursion.js';
import { ConcurrencyGovernor, StartLimiter, throttled, type Lease, type StartTicket } from './admission.js';
import { EngineMetrics, type EnvironmentStateLabel } from './metrics.js';
import { LogStore } from '../logs/store.js';
import { ProvisionedEnvironments, type Provisioned } from './provisioned.js';

export interface SandboxInvokeEngineOptions {
  /** Absolute path of the server's data dir; functions never see it. */
  readonly dataDir: string;
  /** The log store environments write to; default one of its own at `<dataDir>/logs.db`. */
  readonly logs?: LogStore;
  /** Idle environments are stopped after this long; default 10 minutes. */
  readonly idleTimeoutMs?: number;
  /** Also write function logs to the server's stdout. */
  readonly echoLogs?: boolean;
  readonly clock?: Clock;
  /** `auto` (default) uses bwrap when it works here. */
  readonly sandbox?: 'auto' | 'bwrap' | 'process';
  /** Upper bound on live environments across all functions; default 1000 (AWS's default account concurrency). */
  readonly maxEnvironments?: number;
  /** The account's ConcurrentExecutions limit; default 1000 (AWS's default). */
  readonly accountConcurrency?: number;
  /** UnreservedConcurrentExecutions minimum; default 100 (AWS). The control plane enforces it at Put time. */
  readonly unreservedMinimum?: number;
  /** Environments initialising at once, node-wide; default 2 per CPU (at least 2). */
  readonly maxConcurrentStarts?: number;
  /** New environments per second, node-wide (burst: one second's worth); default 100, AWS's 1000 per 10 s per function. */
  readonly startsPerSecond?: number;
  /** How long an invoke waits for a start slot before it is throttled; default 10 s. */
  readonly startWaitTimeoutMs?: number;
  /** Sum of MemorySize of all live environments on this node; default 75% of the machine's memory. */
  readonly memoryBudgetMb?: number;
  /** Credentials handed to functions: fixed placeholders, or minted for each environment as it starts. */
  readonly credentials?: EnvironmentCredentials | ((environmentId: string, config: FunctionRuntimeConfig) => EnvironmentCredentials);
  /** Receives the engine's own one-line notices (sandbox and memory-limit choice); default stderr. */
  readonly log?: (line: string) => void;
  /**
   * Marks the unpacked code an invocation or environment uses (code and layer dirs) as in use until
   * the returned function is called, so deleted code is removed from disk only once nothing runs it.
   */
  readonly holdCode?: (dirs: readonly string[]) => () => void;
  /** Receives warnings an operator must see (functions running unsandboxed); default `log`. */
  readonly warn?: (line: string) => void;
  /** Runtimes: install dir (default $LAMBDALITE_RUNTIME_DIR, else `<dataDir>/runtimes`), interpreters named by the operator, variables for every function. */
  readonly runtimeDir?: string;
  readonly runtimePaths?: Readonly<Record<string, string>>;
  readonly functionEnv?: Readonly<Record<string, string>>;
  /**
   * Environments' network (src/sandbox/network.ts). Default `host` for an engine on its own; the
   * server passes `--function-network`, whose default is `egress`.
   */
  readonly network?: NetworkMode;
  /** The Lambda API as functions reach it (AWS_ENDPOINT_URL_LAMBDA); see SandboxApi. */
  readonly lambdaApi?: SandboxApi;
  /** Most processes (threads included) per environment; default 1024, AWS's limit. */
  readonly pidsLimit?: number;
  /** Freeze environments between invocations; default true (as AWS). */
  readonly freeze?: boolean;
  /** /tmp on a loop-mounted image where possible (src/sandbox/scratch.ts); default true. */
  readonly diskTmp?: boolean;
}

/** How functions reach the Lambda API, wired by the server once its API listens. */
export interface SandboxApi {
  /** Takes connections accepted inside an environment's namespace. */
  readonly connect: SandboxApiConnector;
  /** The API's host port (never reachable from a namespace) and URL (for the `host` network mode). */
  readonly listening: Promise<{ readonly port: number; readonly url: string }>;
}

/** What a new environment needs that can be made ahead of time (#refill). */
/** What one environment runs with, prepared ahead where possible. */
export interface Slot {
  readonly api: RuntimeApiServer;
  readonly launcher: Launcher | undefined;
  readonly network: EnvironmentNetwork | undefined;
  readonly tmp: ScratchDisk | undefined;
}

export interface EnvironmentInfo {
  readonly id: string;
  readonly functionArn: string;
  readonly version: string;
  readonly revision: string;
  readonly state: string;
  readonly invocations: number;
  readonly maxConcurrent: number;
  readonly logStream: string;
  readonly initializationType: InitializationType;
  /** The provisioned qualifier it belongs to, for provisioned environments. */
  readonly provisionedQualifier?: string;
}

export interface LogStreamContents {
  readonly stream: string;
  readonly text: string;
}

/** Numbers for tests, diagnostics and the benchmark. */
export interface EngineStats {
  readonly memoryUsedMb: number;
  readonly memoryBudgetMb: number;
  /** Environments started (on-demand and provisioned) since the engine started. */
  readonly started: number;
  /** Most environments ever initialising at the same time. */
  readonly peakConcurrentStarts: number;
  readonly startsWaiting: number;
}

interface Waiter {
  readonly revision: string;
  /** Offers an idle environment; false when the waiter has already got something else. */
  readonly give: (env: ExecutionEnvironment) => boolean;
}

interface Pool {
  readonly idle: ExecutionEnvironment[];
  readonly all: Set<ExecutionEnvironment>;
  /** The newest revision seen; environments of any other revision are not reused. */
  revision: string;
  /** Invokes waiting for a start slot, first served when an environment of this pool frees up. */
  readonly waiters: Waiter[];
}

interface Meta {
  readonly pool: Pool;
  readonly provisioned: Provisioned | undefined;
  readonly functionName: string;
  /** Init finished successfully. */
  initialised: boolean;
  /** Lets go of the environment's code once it is gone. */
  readonly releaseCode: () => void;
  /** Its own network namespace, when it has one. */
  readonly network: EnvironmentNetwork | undefined;
}

/** Runtime API listeners and cgroup-attached launchers kept ready for cold starts. */
const SPARES = 2;

/** The engine was told to sandbox functions and cannot: the server must not start. */
export class SandboxRequiredError extends Error {}

/** The invoke engine that runs functions in sandboxed execution environments on this machine. */
export class SandboxInvokeEngine implements InvokeEngine {
  readonly #clock: Clock;
  readonly #sandbox: Sandbox;
  readonly #memory: MemoryController;
  readonly #registry: RuntimeRegistry;
  /** Variables every function's environment gets (--function-env, the X-Ray daemon), under the function's own. */
  #platformEnv: Readonly<Record<string, string>>;
  #xray: XRayDaemon | undefined;
  readonly #xrayReady: Promise<void>;
  readonly #pools = new Map<string, Pool>();
  readonly #meta = new Map<ExecutionEnvironment, Meta>();
  readonly #provisioned: ProvisionedEnvironments;
  readonly #governor: ConcurrencyGovernor;
  readonly #starts: StartLimiter;
  readonly #metrics = new EngineMetrics();
  /** Function ARN -> name, for metrics labels. */
  readonly #names = new Map<string, string>();
  readonly #spares: RuntimeApiServer[] = [];
  readonly #launchers: Launcher[] = [];
  readonly #logs: LogStore;
  readonly #ownsLogs: boolean;
  readonly #network: NetworkSupport;
  readonly #scratch: ScratchDisks;
  readonly #tmpSpares: ScratchDisk[] = [];
  readonly #lambdaApi: SandboxApi | undefined;
  #hostApi: { readonly port: number; readonly url: string } | undefined;
  /** EphemeralStorage of the latest cold start: spare /tmp images get it ahead of time. */
  #likelyTmpMb = 512;
  readonly #log: (line: string) => void;
  readonly #stopPortWatch: () => void;
  readonly #scriptDir: string;
  readonly #idleTimeoutMs: number;
  readonly #maxEnvironments: number;
  readonly #startWaitTimeoutMs: number;
  readonly #memoryBudgetMb: number;
  #memoryUsedMb = 0;
  readonly #echo: ((chunk: string | Buffer) => void) | undefined;
  readonly #credentials: NonNullable<SandboxInvokeEngineOptions['credentials']>;
  readonly #sweepMs: number;
  #sweeper: Timer | undefined;
  #refilling = false;
  /** Called once a refill in progress has finished: close() waits for spares still being made. */
  readonly #refillWaiters: (() => void)[] = [];
  /** MemorySize of the latest cold start: spare launchers' cgroups get it ahead of time. */
  #likelyMemoryMb = 128;
  /** Disposals in progress; readLogs waits for them so a dead environment's last lines are in. */
  readonly #disposing = new Set<Promise<void>>();
  #closed = false;
  #seq = 0;
  readonly #holdCode: (dirs: readonly string[]) => () => void;

  constructor(o: SandboxInvokeEngineOptions) {
    if (!path.isAbsolute(o.dataDir)) throw new Error(`dataDir must be absolute: ${o.dataDir}`);
    this.#clock = o.clock ?? systemClock;
    this.#holdCode = o.holdCode ?? (() => () => {});
    this.#ownsLogs = o.logs === undefined;
    this.#logs = o.logs ?? new LogStore(path.join(o.dataDir, 'logs.db'), { clock: this.#clock, retentionDays: 0, maxBytes: 0 });
    this.#scriptDir = path.join(o.dataDir, 'sandbox', 'launch');
    fs.mkdirSync(this.#scriptDir, { recursive: true, mode: 0o700 });
    this.#idleTimeoutMs = o.idleTimeoutMs ?? 10 * 60 * 1000;
    this.#maxEnvironments = o.maxEnvironments ?? 1000;
    this.#startWaitTimeoutMs = o.startWaitTimeoutMs ?? 10_000;
    this.#memoryBudgetMb = o.memoryBudgetMb ?? Math.floor((os.totalmem() * 0.75) / 1048576);
    this.#governor = new ConcurrencyGovernor({
      accountConcurrency: o.accountConcurrency ?? 1000,
      unreservedMinimum: o.unreservedMinimum ?? 100,
    });
    this.#starts = new StartLimiter(
      {
        maxConcurrentStarts: o.maxConcurrentStarts ?? Math.max(2, 2 * os.availableParallelism()),
        startsPerSecond: o.startsPerSecond ?? 100,
      },
      this.#clock,
    );
    this.#provisioned = new ProvisionedEnvironments({
      clock: this.#clock,
      memoryBudgetMb: this.#memoryBudgetMb,
      closed: () => this.#closed,
      setGovernorProvisioned: (functionArn, qualifier, count) => this.#governor.setProvisioned(functionArn, qualifier, count),
      nameFunction: (functionArn, functionName) => void this.#names.set(functionArn, functionName),
      requestStart: () => this.#starts.request(),
      prepare: async (runtime) => {
        const plan = await this.#registry.prepare(runtime);
        await this.#xrayReady;
        return plan;
      },
      slot: (config) => this.#slot(config),
      returnSlot: (slot) => this.#returnSlot(slot),
      reserveMemory: (mb) => this.#reserveMemory(mb),
      start: (config, plan, slot, entry) => this.#start(config, plan, this.#pool(config), slot, entry),
      dispose: (env) => this.#dispose(env),
      initialised: (env) => this.#meta.get(env)?.initialised ?? false,
    });
    this.#echo = o.echoLogs ? (chunk) => process.stdout.write(chunk) : undefined;
    this.#credentials = o.credentials ?? {
      accessKeyId: 'AKIALAMBDALITE000000',
      secretAccessKey: 'lambdalite/placeholder/secret/access/key0',
      sessionToken: 'lambdalite-placeholder-session-token',
    };
    const log = o.log ?? ((line: string) => process.stderr.write(`lambdalite: ${line}\n`));
    this.#sandbox = detectSandbox({
      prefer: o.sandbox === 'auto' ? undefined : o.sandbox,
      scratchDir: path.join(o.dataDir, 'sandbox'),
    });
    if (o.sandbox === 'bwrap' && this.#sandbox.kind !== 'bwrap') {
      throw new SandboxRequiredError(`a sandbox is required, and functions cannot be sandboxed here: ${this.#sandbox.description}`);
    }
    this.#memory = detectMemoryController({ pidsLimit: o.pidsLimit ?? DEFAULT_PIDS_LIMIT, freeze: o.freeze ?? true });
    this.#log = log;
    this.#network = detectNetwork(this.#sandbox.kind === 'bwrap' ? (o.network ?? 'host') : 'host');
    this.#scratch = detectScratchDisks(path.join(o.dataDir, 'sandbox', 'tmp'), this.#sandbox.kind === 'bwrap' ? (o.diskTmp ?? true) : 'no-sandbox');
    this.#lambdaApi = o.lambdaApi;
    void o.lambdaApi?.listening.then((l) => (this.#hostApi = l));
    this.#registry = new RuntimeRegistry({
      runtimeDir: o.runtimeDir ?? process.env['LAMBDALITE_RUNTIME_DIR'] ?? path.join(o.dataDir, 'runtimes'),
      ...(o.runtimePaths !== undefined ? { runtimePaths: o.runtimePaths } : {}),
      log,
    });
    this.#platformEnv = { ...o.functionEnv };
    this.#xrayReady = XRayDaemon.start().then(
      (d) => {
        if (this.#closed) return void d.close();
        this.#xray = d;
        this.#platformEnv = { ...d.env(), ...o.functionEnv };
      },
      (e: unknown) => log(`X-Ray daemon not started: ${(e as Error).message}`),
    );
    log(this.#sandbox.description);
    if (this.#sandbox.kind !== 'bwrap') {
      (o.warn ?? log)(`WARNING: functions run WITHOUT a sandbox and can read and change everything this user can (${this.#sandbox.description}); start with --require-sandbox to refuse to run like this`);
    }
    log(this.#memory.description);
    log(this.#network.description);
    this.#stopPortWatch = this.#network.mode === 'egress' ? watchHostPorts(1000) : () => {};
    log(this.#scratch.description);
    this.#sweepMs = Math.min(30_000, Math.max(20, Math.floor(this.#idleTimeoutMs / 4)));
    this.#scheduleSweep();
    void this.#refill();
  }

  traceSegments(functionArn: string): readonly TraceSegment[] {
    return this.#xray?.segments(functionArn) ?? [];
  }

  async installRuntime(runtime: string): Promise<string> {
    return (await this.#registry.install(runtime)).runtimeVersion;
  }

  get sandboxKind(): Sandbox['kind'] {
    return this.#sandbox.kind;
  }

  get memoryKind(): MemoryController['kind'] {
    return this.#memory.kind;
  }

  #pool(config: FunctionRuntimeConfig): Pool {
    const key = poolKey(config.functionArn, config.version);
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = { idle: [], all: new Set(), revision: config.revision, waiters: [] };
      this.#pools.set(key, pool);
    }
    if (pool.revision !== config.revision) {
      pool.revision = config.revision;
      for (const env of pool.all) if (env.revision !== config.revision) env.retire();
    }
    return pool;
  }

  #throttle(config: FunctionRuntimeConfig, reason: ThrottleReason): LambdaError {
    this.#metrics.throttle(config.functionName, reason);
    return throttled(reason);
  }

  async invoke(config: FunctionRuntimeConfig, request: InvokeRequest): Promise<InvokeResult> {
    if (this.#closed) throw errors.service('The invoke engine is shut down.');
    if (config.recursiveLoop !== 'Allow' && isRecursiveLoop(request.traceId, config.functionArn)) {
      this.#metrics.recursionDropped(config.functionName);
      throw recursiveInvocation();
    }
    const plan = await this.#registry.prepare(config.runtime);
    if (this.#xray === undefined) await this.#xrayReady;
    this.#names.set(config.functionArn, config.functionName);
    let lease: Lease;
    try {
      lease = this.#governor.acquire(config.functionArn, this.#provisioned.entries(config, request).length > 0);
    } catch (e) {
      if (e instanceof LambdaError) this.#metrics.throttle(config.functionName, e.fields['Reason'] as ThrottleReason);
      throw e;
    }
    const releaseCode = this.#holdCode([config.codeDir, ...config.layerDirs]);
    try {
      const pool = this.#pool(config);
      const env = this.#provisioned.take(config, request) ?? this.#takeIdle(pool, config.revision) ?? (await this.#obtain(config, plan, pool));
      const meta = this.#meta.get(env);
      try {
        // A service started on the host's loopback since the environment's egress was set up.
        const renewing = meta?.network?.upToDate(false);
        if (renewing) await renewing;
        const result = await env.invoke(request);
        this.#metrics.invocation(config.functionName, config.version, env.lastDurationMs, result.functionError !== undefined);
        return result;
      } finally {
        if (meta) this.#release(env, meta);
        // Replace used spares only now: attaching a launcher to its cgroup blocks every fork on the
        // host for an RCU grace period, which must not land in the middle of a cold start.
        if (this.#launchers.length < SPARES || this.#spares.length < SPARES || this.#tmpSpares.length < SPARES) setImmediate(() => void this.#refill());
      }
    } finally {
      lease.release();
      releaseCode();
    }
  }

  #takeIdle(pool: Pool, revision: string): ExecutionEnvironment | undefined {
    let env: ExecutionEnvironment | undefined;
    while ((env = pool.idle.pop()) !== undefined) {
      if (env.canServe(revision)) return env;
      void this.#dispose(env);
    }
    return undefined;
  }

  /** A new environment (cold start) once a start slot is free, or one of the pool that frees up first. */
  async #obtain(
    config: FunctionRuntimeConfig,
    plan: ReturnType<RuntimeRegistry['resolve']>,
    pool: Pool,
  ): Promise<ExecutionEnvironment> {
    const ticket = this.#starts.request();
    if (!ticket.isGranted) {
      let timer: Timer | undefined;
      let waiter: Waiter | undefined;
      const got = await new Promise<ExecutionEnvironment | 'slot' | 'timeout'>((resolve) => {
        let done = false;
        const settle = (v: ExecutionEnvironment | 'slot' | 'timeout') => {
          if (done) return false;
          done = true;
          resolve(v);
          return true;
        };
        waiter = { revision: config.revision, give: (env) => settle(env) };
        pool.waiters.push(waiter);
        void ticket.granted.then(() => settle('slot'));
        timer = this.#clock.setTimeout(() => settle('timeout'), this.#startWaitTimeoutMs);
      });
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      const i = waiter ? pool.waiters.indexOf(waiter) : -1;
      if (i >= 0) pool.waiters.splice(i, 1);
      if (got !== 'slot') {
        if (ticket.isGranted) ticket.release();
        else ticket.cancel();
        if (got === 'timeout') throw this.#throttle(config, 'FunctionInvocationRateLimitExceeded');
        return got;
      }
    }
    let env: ExecutionEnvironment;
    try {
      if (this.#closed) throw errors.service('The invoke engine is shut down.');
      // While this invoke waited for its slot, an environment of its pool may have become idle.
      const idle = this.#takeIdle(pool, config.revision);
      if (idle) {
        ticket.release();
        return idle;
      }
      if (this.#meta.size >= this.#maxEnvironments) throw this.#throttle(config, 'ConcurrentInvocationLimitExceeded');
      const slot = await this.#slot(config);
      if (!this.#reserveMemory(config.memorySize)) {
        this.#returnSlot(slot);
        // The node's memory budget is its capacity, as the account limit is AWS's: the same Reason
        // (rather than a made-up one) so SDK retry logic and the async queue treat it alike.
        throw this.#throttle(config, 'ConcurrentInvocationLimitExceeded');
      }
      env = this.#start(config, plan, pool, slot, undefined);
    } catch (e) {
      ticket.release();
      throw e;
    }
    this.#metrics.coldStart(config.functionName, config.version);
    void env.ready.then(() => ticket.release());
    return env;
  }

  /** Makes room for `mb` within the memory budget, retiring least recently used idle on-demand environments. */
  #reserveMemory(mb: number): boolean {
    if (mb > this.#memoryBudgetMb) return false;
    while (this.#memoryUsedMb + mb > this.#memoryBudgetMb) {
      let victim: ExecutionEnvironment | undefined;
      for (const pool of this.#pools.values()) {
        for (const env of pool.idle) if (victim === undefined || env.lastUsed < victim.lastUsed) victim = env;
      }
      if (victim === undefined) return false;
      void this.#dispose(victim);
    }
    this.#memoryUsedMb += mb;
    return true;
  }

  #start(
    config: FunctionRuntimeConfig,
    plan: ReturnType<RuntimeRegistry['resolve']>,
    pool: Pool,
    slot: Slot,
    provisioned: Provisioned | undefined,
  ): ExecutionEnvironment {
    this.#likelyMemoryMb = config.memorySize;
    const { api, launcher, network, tmp } = slot;
    const id = `${(++this.#seq).toString(36)}-${randomBytes(4).toString('hex')}`;
    const env = new ExecutionEnvironment({
      network,
      tmp,
      lambdaApi: {
        endpoint: network?.lambdaApiEndpoint ?? this.#hostApi?.url,
        connect: this.#lambdaApi?.connect,
      },
      id,
      config,
      plan,
      sandbox: this.#sandbox,
      memory: this.#memory,
      api,
      launcher,
      scriptDir: this.#scriptDir,
      clock: this.#clock,
      logs: this.#logs,
      echo: this.#echo,
      credentials: typeof this.#credentials === 'function' ? this.#credentials(id, config) : this.#credentials,
      platformEnv: this.#platformEnv,
      ...(this.#xray !== undefined ? { xray: this.#xray } : {}),
      onDead: (dead) => void this.#dispose(dead),
      initializationType: provisioned ? 'provisioned-concurrency' : 'on-demand',
    });
    const meta: Meta = { pool, provisioned, functionName: config.functionName, initialised: false, releaseCode: this.#holdCode([config.codeDir, ...config.layerDirs]), network };
    this.#meta.set(env, meta);
    pool.all.add(env);
    provisioned?.envs.add(env);
    void env.ready.then((outcome) => {
      if (outcome.ok) meta.initialised = true;
    });
    return env;
  }

  #release(env: ExecutionEnvironment, meta: Meta): void {
    const { pool, provisioned } = meta;
    if (env.state === 'idle' && !env.retired && !this.#closed) {
      if (provisioned) {
        if (this.#provisioned.isCurrent(provisioned) && env.revision === provisioned.config.revision) {
          provisioned.idle.push(env);
          return;
        }
      } else if (env.revision === pool.revision) {
        // Hand it straight to an invoke waiting for a start slot of the same pool.
        for (let i = 0; i < pool.waiters.length; i++) {
          const w = pool.waiters[i] as Waiter;
          if (w.revision !== env.revision) continue;
          pool.waiters.splice(i--, 1);
          if (w.give(env)) return;
        }
        pool.idle.push(env);
        return;
      }
    }
    if (env.state !== 'dead') void this.#dispose(env);
  }

  #dispose(env: ExecutionEnvironment): Promise<void> {
    const meta = this.#meta.get(env);
    if (meta) {
      this.#meta.delete(env);
      this.#memoryUsedMb -= env.memorySize;
      const { pool, provisioned } = meta;
      pool.all.delete(env);
      const i = pool.idle.indexOf(env);
      if (i >= 0) pool.idle.splice(i, 1);
      if (provisioned) {
        provisioned.envs.delete(env);
        const j = provisioned.idle.indexOf(env);
        if (j >= 0) provisioned.idle.splice(j, 1);
        // A provisioned environment that dies after its init (timeout, crash, OOM) is replaced, as
        // AWS keeps the configured number; init failures are handled where init is awaited.
        if (meta.initialised && !this.#closed) this.#provisioned.fill(provisioned);
      }
    }
    const done = env.dispose();
    if (meta) void done.then(meta.releaseCode, meta.releaseCode);
    this.#disposing.add(done);
    void done.finally(() => this.#disposing.delete(done));
    return done;
  }

  get #isolated(): boolean {
    return this.#network.mode !== 'host';
  }

  #newLauncher(): Launcher {
    const cgroup = this.#memory.create(`spare-${(++this.#seq).toString(36)}-${randomBytes(4).toString('hex')}`);
    // The environment sets its own limit before the runtime starts; this only saves that write
    // from the cold path when the sizes match.
    cgroup.setLimit(this.#likelyMemoryMb);
    const network = this.#isolated
      ? { support: this.#network, excludedPorts: async () => (this.#lambdaApi ? [(await this.#lambdaApi.listening).port] : []) }
      : undefined;
    return Launcher.start(cgroup, this.#scriptDir, network);
  }

  /**
   * A Runtime API listener, a launcher (in its own network namespace unless the mode is `host`) and a
   * disk-backed /tmp, from the spares when there are (the usual case), else made now.
   */
  async #slot(config: FunctionRuntimeConfig): Promise<Slot> {
    this.#likelyTmpMb = config.ephemeralStorage;
    const tmp = this.#tmp(config.ephemeralStorage);
    let launcher: Launcher | undefined;
    try {
      if (!this.#isolated) {
        const api = this.#spares.pop() ?? (await RuntimeApiServer.listen());
        return { api, launcher: this.#launchers.shift(), network: undefined, tmp: await tmp };
      }
      launcher = this.#launchers.shift() ?? this.#newLauncher();
      const network = await (launcher.network as Promise<EnvironmentNetwork>);
      // A spare's egress predates services started on the host since: renewed on the cold path.
      await network.upToDate(true);
      const api = RuntimeApiServer.fromHandle(network.runtimeApi, network.runtimeApiAddress);
      return { api, launcher, network, tmp: await tmp };
    } catch (e) {
      void launcher?.dispose();
      void tmp.then((t) => t?.dispose(), () => {});
      this.#log(`cannot prepare an execution environment: ${(e as Error).message}`);
      throw errors.service('The execution environment could not be prepared.');
    }
  }

  async #tmp(sizeMb: number): Promise<ScratchDisk | undefined> {
    if (this.#scratch.kind !== 'loop') return undefined;
    const i = this.#tmpSpares.findIndex((t) => t.sizeMb === sizeMb);
    if (i >= 0) return this.#tmpSpares.splice(i, 1)[0];
    return this.#scratch.create(`tmp-${(++this.#seq).toString(36)}-${randomBytes(4).toString('hex')}`, sizeMb);
  }

  /** A slot that was not used after all (memory budget, provisioned configuration gone). */
  #returnSlot(slot: Slot): void {
    if (slot.network === undefined && !this.#closed && this.#spares.length < SPARES) this.#spares.push(slot.api);
    else void slot.api.close();
    if (slot.launcher !== undefined) {
      if (slot.network === undefined && !this.#closed) this.#launchers.unshift(slot.launcher);
      else void slot.launcher.dispose();
    }
    if (slot.tmp !== undefined) {
      if (!this.#closed) this.#tmpSpares.push(slot.tmp);
      else void slot.tmp.dispose();
    }
  }

  /** Keeps Runtime API listeners bound, launchers attached to cgroups and /tmp images made ahead of time. */
  async #refill(): Promise<void> {
    if (this.#refilling) return;
    this.#refilling = true;
    try {
      while (!this.#closed && (this.#memory.kind !== 'none' || this.#isolated) && this.#launchers.length < SPARES) {
        this.#launchers.push(this.#newLauncher());
      }
      while (!this.#closed && !this.#isolated && this.#spares.length < SPARES) {
        const api = await RuntimeApiServer.listen();
        if (this.#closed) await api.close();
        else this.#spares.push(api);
      }
      // Images of another size than the latest cold start's make room for ones of that size.
      for (const t of [...this.#tmpSpares]) {
        if (this.#tmpSpares.length <= SPARES && t.sizeMb === this.#likelyTmpMb) continue;
        this.#tmpSpares.splice(this.#tmpSpares.indexOf(t), 1);
        void t.dispose();
      }
      while (!this.#closed && this.#scratch.kind === 'loop' && this.#tmpSpares.length < SPARES) {
        const t = await this.#scratch.create(`tmp-${(++this.#seq).toString(36)}-${randomBytes(4).toString('hex')}`, this.#likelyTmpMb);
        if (this.#closed) await t.dispose();
        else this.#tmpSpares.push(t);
      }
    } catch (e) {
      if (!this.#closed) this.#log(`cannot prepare spare execution environments: ${(e as Error).message}`);
    } finally {
      this.#refilling = false;
      for (const done of this.#refillWaiters.splice(0)) done();
    }
  }

  /** The idle sweep runs on the engine's clock, so tests move time instead of waiting for it. */
  #scheduleSweep(): void {
    this.#sweeper = this.#clock.setTimeout(() => {
      this.#sweep();
      if (!this.#closed) this.#scheduleSweep();
    }, this.#sweepMs);
    this.#sweeper.unref?.();
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const pool of this.#pools.values()) {
      // Only on-demand environments sit in pool.idle: provisioned ones are never reclaimed.
      for (const env of [...pool.idle]) {
        if (now - env.lastUsed >= this.#idleTimeoutMs) void this.#dispose(env);
      }
    }
  }

  setReservedConcurrency(functionArn: string, reserved: number | undefined): void {
    this.#governor.setReserved(functionArn, reserved);
  }

  // ---- provisioned concurrency (provisioned.ts) ------------------------------------------------

  setProvisionedConcurrency(key: ProvisionedKey, config: FunctionRuntimeConfig, count: number): void {
    this.#provisioned.set(key, config, count);
  }

  provisionedStatus(key: ProvisionedKey): ProvisionedStatus | undefined {
    return this.#provisioned.status(key);
  }

  /** Resolves when a provisioned configuration has left IN_PROGRESS (READY or FAILED), or is gone. */
  provisionedSettled(key: ProvisionedKey): Promise<ProvisionedStatus | undefined> {
    return this.#provisioned.settled(key);
  }

  // ---- metrics, retire, close ----------------------------------------------------------------

  metrics(): string {
    const concurrent = new Map<string, number>();
    for (const [arn, n] of this.#governor.entries()) {
      const name = this.#names.get(arn) ?? arn;
      concurrent.set(name, (concurrent.get(name) ?? 0) + n);
    }
    const counts = new Map<string, { functionName: string; version: string; state: EnvironmentStateLabel; count: number }>();
    for (const [env, meta] of this.#meta) {
      if (env.state === 'dead') continue;
      const state: EnvironmentStateLabel = meta.provisioned && env.state === 'idle' ? 'provisioned' : (env.state as EnvironmentStateLabel);
      const k = `${meta.functionName}\0${env.version}\0${state}`;
      const c = counts.get(k);
      if (c) c.count++;
      else counts.set(k, { functionName: meta.functionName, version: env.version, state, count: 1 });
    }
    return this.#metrics.render({
      concurrent,
      environments: [...counts.values()],
      memoryUsedMb: this.#memoryUsedMb,
      memoryBudgetMb: this.#memoryBudgetMb,
    });
  }

  stats(): EngineStats {
    return {
      memoryUsedMb: this.#memoryUsedMb,
      memoryBudgetMb: this.#memoryBudgetMb,
      started: this.#starts.started,
      peakConcurrentStarts: this.#starts.peakRunning,
      startsWaiting: this.#starts.waiting,
    };
  }

  async retire(functionArn: string, version?: string): Promise<void> {
    this.#provisioned.retire(functionArn, version);
    const waits: Promise<void>[] = [];
    for (const [key, pool] of this.#pools) {
      if (version === undefined ? !key.startsWith(`${functionArn}\0`) : key !== poolKey(functionArn, version)) continue;
      for (const env of [...pool.all]) {
        env.retire();
        // Busy environments finish their request and are discarded in #release.
        if (env.state === 'idle' || env.state === 'starting') waits.push(this.#dispose(env));
      }
      if (pool.all.size === 0 && pool.waiters.length === 0) this.#pools.delete(key);
    }
    await Promise.all(waits);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper !== undefined) this.#clock.clearTimeout(this.#sweeper);
    this.#stopPortWatch();
    this.#starts.close();
    this.#provisioned.close();
    const waits: Promise<void>[] = [];
    // A /tmp image or launcher still being made disposes of itself once made; wait for that too, so
    // nothing is left mounted in the data dir when close() resolves.
    if (this.#refilling) waits.push(new Promise<void>((resolve) => this.#refillWaiters.push(resolve)));
    for (const env of [...this.#meta.keys()]) waits.push(this.#dispose(env));
    this.#pools.clear();
    for (const api of this.#spares.splice(0)) waits.push(api.close());
    for (const launcher of this.#launchers.splice(0)) waits.push(launcher.dispose());
    if (this.#xray !== undefined) waits.push(this.#xray.close());
    for (const tmp of this.#tmpSpares.splice(0)) waits.push(tmp.dispose());
    await Promise.all(waits);
    await this.#memory.close();
    if (this.#ownsLogs) this.#logs.close();
  }

  environments(functionArn?: string): EnvironmentInfo[] {
    const out: EnvironmentInfo[] = [];
    for (const [env, meta] of this.#meta) {
      if (functionArn !== undefined && env.functionArn !== functionArn) continue;
      const info: EnvironmentInfo = {
        id: env.id,
        functionArn: env.functionArn,
        version: env.version,
        revision: env.revision,
        state: env.state,
        invocations: env.invocations,
        maxConcurrent: env.maxConcurrent,
        logStream: env.log.name,
        initializationType: env.initializationType,
      };
      out.push(meta.provisioned ? { ...info, provisionedQualifier: meta.provisioned.qualifier } : info);
    }
    return out;
  }

  async readLogs(logGroup: string): Promise<LogStreamContents[]> {
    await Promise.all([...this.#disposing]);
    await Promise.all([...this.#pools.values()].flatMap((p) => [...p.all].map((e) => e.log.flush())));
    return this.#logs.groupText(logGroup);
  }
}

function poolKey(functionArn: string, version: string): string {
  return `${functionArn}\0${version}`;
}
