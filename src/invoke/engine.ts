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
import { ExecutionEnvironment, type InitializationType } from '../sandbox/environment.js';
import { detectMemoryController, type MemoryController } from '../sandbox/memory.js';
import { RuntimeApiServer } from '../sandbox/runtime-api.js';
import { Launcher } from '../sandbox/launcher.js';
import { detectSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { RuntimeRegistry } from '../runtimes/registry.js';
import { ConcurrencyGovernor, StartLimiter, throttled, type Lease, type StartTicket } from './admission.js';
import { EngineMetrics, type EnvironmentStateLabel } from './metrics.js';
import { ProvisionedEnvironments, type Provisioned } from './provisioned.js';

export interface SandboxInvokeEngineOptions {
  /** Absolute path of the server's data dir; functions never see it. */
  readonly dataDir: string;
  /** Where log streams are kept; default `<dataDir>/logs`. */
  readonly logDir?: string;
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
  /** Placeholder credentials handed to functions. */
  readonly credentials?: Readonly<Record<'accessKeyId' | 'secretAccessKey' | 'sessionToken', string>>;
  /** Receives the engine's own one-line notices (sandbox and memory-limit choice); default stderr. */
  readonly log?: (line: string) => void;
  /** Receives warnings an operator must see (functions running unsandboxed); default `log`. */
  readonly warn?: (line: string) => void;
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
  readonly file: string;
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
  readonly #registry = new RuntimeRegistry();
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
  readonly #logDir: string;
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
  /** MemorySize of the latest cold start: spare launchers' cgroups get it ahead of time. */
  #likelyMemoryMb = 128;
  /** Disposals in progress; readLogs waits for them so a dead environment's last lines are in. */
  readonly #disposing = new Set<Promise<void>>();
  #closed = false;
  #seq = 0;

  constructor(o: SandboxInvokeEngineOptions) {
    if (!path.isAbsolute(o.dataDir)) throw new Error(`dataDir must be absolute: ${o.dataDir}`);
    this.#clock = o.clock ?? systemClock;
    this.#logDir = o.logDir ?? path.join(o.dataDir, 'logs');
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
      resolve: (runtime) => this.#registry.resolve(runtime),
      listener: () => this.#listener(),
      returnListener: (api) => this.#returnListener(api),
      reserveMemory: (mb) => this.#reserveMemory(mb),
      start: (config, plan, api, entry) => this.#start(config, plan, this.#pool(config), api, this.#launcher(), entry),
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
    this.#memory = detectMemoryController();
    log(this.#sandbox.description);
    if (this.#sandbox.kind !== 'bwrap') {
      (o.warn ?? log)(`WARNING: functions run WITHOUT a sandbox and can read and change everything this user can (${this.#sandbox.description}); start with --require-sandbox to refuse to run like this`);
    }
    log(this.#memory.description);
    this.#sweepMs = Math.min(30_000, Math.max(20, Math.floor(this.#idleTimeoutMs / 4)));
    this.#scheduleSweep();
    void this.#refill();
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
    const plan = this.#registry.resolve(config.runtime);
    this.#names.set(config.functionArn, config.functionName);
    let lease: Lease;
    try {
      lease = this.#governor.acquire(config.functionArn);
    } catch (e) {
      if (e instanceof LambdaError) this.#metrics.throttle(config.functionName, e.fields['Reason'] as ThrottleReason);
      throw e;
    }
    try {
      const pool = this.#pool(config);
      const env = this.#provisioned.take(config, request) ?? this.#takeIdle(pool, config.revision) ?? (await this.#obtain(config, plan, pool));
      const meta = this.#meta.get(env);
      try {
        const result = await env.invoke(request);
        this.#metrics.invocation(config.functionName, config.version, env.lastDurationMs, result.functionError !== undefined);
        return result;
      } finally {
        if (meta) this.#release(env, meta);
        // Replace used spares only now: attaching a launcher to its cgroup blocks every fork on the
        // host for an RCU grace period, which must not land in the middle of a cold start.
        if (this.#launchers.length < SPARES || this.#spares.length < SPARES) setImmediate(() => void this.#refill());
      }
    } finally {
      lease.release();
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
      const api = await this.#listener();
      if (!this.#reserveMemory(config.memorySize)) {
        this.#returnListener(api);
        // The node's memory budget is its capacity, as the account limit is AWS's: the same Reason
        // (rather than a made-up one) so SDK retry logic and the async queue treat it alike.
        throw this.#throttle(config, 'ConcurrentInvocationLimitExceeded');
      }
      env = this.#start(config, plan, pool, api, this.#launcher(), undefined);
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
    api: RuntimeApiServer,
    launcher: Launcher | undefined,
    provisioned: Provisioned | undefined,
  ): ExecutionEnvironment {
    this.#likelyMemoryMb = config.memorySize;
    const env = new ExecutionEnvironment({
      id: `${(++this.#seq).toString(36)}-${randomBytes(4).toString('hex')}`,
      config,
      plan,
      sandbox: this.#sandbox,
      memory: this.#memory,
      api,
      launcher,
      scriptDir: this.#scriptDir,
      clock: this.#clock,
      logDir: this.#logDir,
      echo: this.#echo,
      credentials: this.#credentials,
      onDead: (dead) => void this.#dispose(dead),
      initializationType: provisioned ? 'provisioned-concurrency' : 'on-demand',
    });
    const meta: Meta = { pool, provisioned, functionName: config.functionName, initialised: false };
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
    this.#disposing.add(done);
    void done.finally(() => this.#disposing.delete(done));
    return done;
  }

  async #listener(): Promise<RuntimeApiServer> {
    return this.#spares.pop() ?? RuntimeApiServer.listen();
  }

  #returnListener(api: RuntimeApiServer): void {
    if (!this.#closed && this.#spares.length < SPARES) this.#spares.push(api);
    else void api.close();
  }

  #launcher(): Launcher | undefined {
    return this.#launchers.shift();
  }

  /** Keeps Runtime API listeners bound and launchers attached to cgroups ahead of time. */
  async #refill(): Promise<void> {
    if (this.#refilling) return;
    this.#refilling = true;
    try {
      while (!this.#closed && this.#memory.kind !== 'none' && this.#launchers.length < SPARES) {
        const cgroup = this.#memory.create(`spare-${(++this.#seq).toString(36)}-${randomBytes(4).toString('hex')}`);
        // The environment sets its own limit before the runtime starts; this only saves that write
        // from the cold path when the sizes match.
        cgroup.setLimit(this.#likelyMemoryMb);
        this.#launchers.push(Launcher.start(cgroup, this.#scriptDir));
      }
      while (!this.#closed && this.#spares.length < SPARES) {
        const api = await RuntimeApiServer.listen();
        if (this.#closed) await api.close();
        else this.#spares.push(api);
      }
    } finally {
      this.#refilling = false;
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
    this.#starts.close();
    this.#provisioned.close();
    const waits: Promise<void>[] = [];
    for (const env of [...this.#meta.keys()]) waits.push(this.#dispose(env));
    this.#pools.clear();
    for (const api of this.#spares.splice(0)) waits.push(api.close());
    for (const launcher of this.#launchers.splice(0)) waits.push(launcher.dispose());
    await Promise.all(waits);
    await this.#memory.close();
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
    const root = path.join(this.#logDir, logGroup);
    const files: { file: string; mtime: number }[] = [];
    const walk = (dir: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.log')) files.push({ file: p, mtime: fs.statSync(p).mtimeMs });
      }
    };
    walk(root);
    files.sort((a, b) => a.mtime - b.mtime);
    return files.map(({ file }) => ({
      stream: path.relative(root, file).slice(0, -'.log'.length),
      file,
      text: fs.readFileSync(file, 'utf8'),
    }));
  }
}

function poolKey(functionArn: string, version: string): string {
  return `${functionArn}\0${version}`;
}
