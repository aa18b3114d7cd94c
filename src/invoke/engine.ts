// The invoke engine: the Invoker the control plane calls. It keeps a pool of execution environments
// per (function ARN, version): a request takes an idle environment started for the current revision
// (warm) or starts a new one (cold); a finished environment goes back to the pool unless it failed,
// was retired, or belongs to an older revision. Idle environments are reclaimed after idleTimeoutMs.
// Everything about one environment's life lives in src/sandbox/environment.ts.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LambdaError } from '../shared/errors.js';
import type { FunctionRuntimeConfig, InvokeRequest, InvokeResult, Invoker, ProvisionedKey, ProvisionedStatus } from './types.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { ExecutionEnvironment } from '../sandbox/environment.js';
import { detectMemoryController, type MemoryController } from '../sandbox/memory.js';
import { RuntimeApiServer } from '../sandbox/runtime-api.js';
import { Launcher } from '../sandbox/launcher.js';
import { detectSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { RuntimeRegistry } from '../runtimes/registry.js';

export interface InvokerOptions {
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
  /** Placeholder credentials handed to functions. */
  readonly credentials?: Readonly<Record<'accessKeyId' | 'secretAccessKey' | 'sessionToken', string>>;
  /** Receives the engine's own one-line notices (sandbox and memory-limit choice); default stderr. */
  readonly log?: (line: string) => void;
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
}

export interface LogStreamContents {
  readonly stream: string;
  readonly file: string;
  readonly text: string;
}

export interface InvokeEngine extends Invoker {
  readonly sandboxKind: Sandbox['kind'];
  readonly memoryKind: MemoryController['kind'];
  /** Live environments (for tests and diagnostics). */
  environments(functionArn?: string): EnvironmentInfo[];
  /** Every log stream of a log group, oldest first, with everything written so far. */
  readLogs(logGroup: string): Promise<LogStreamContents[]>;
}

interface Pool {
  readonly idle: ExecutionEnvironment[];
  readonly all: Set<ExecutionEnvironment>;
  /** The newest revision seen; environments of any other revision are not reused. */
  revision: string;
}

/** Runtime API listeners and cgroup-attached launchers kept ready for cold starts. */
const SPARES = 2;

export function createInvoker(options: InvokerOptions): InvokeEngine {
  return new Engine(options);
}

class Engine implements InvokeEngine {
  readonly #clock: Clock;
  readonly #sandbox: Sandbox;
  readonly #memory: MemoryController;
  readonly #registry = new RuntimeRegistry();
  readonly #pools = new Map<string, Pool>();
  readonly #spares: RuntimeApiServer[] = [];
  readonly #launchers: Launcher[] = [];
  readonly #logDir: string;
  readonly #scriptDir: string;
  readonly #idleTimeoutMs: number;
  readonly #maxEnvironments: number;
  readonly #echo: ((chunk: string | Buffer) => void) | undefined;
  readonly #credentials: NonNullable<InvokerOptions['credentials']>;
  readonly #sweeper: NodeJS.Timeout;
  #refilling = false;
  /** MemorySize of the latest cold start: spare launchers' cgroups get it ahead of time. */
  #likelyMemoryMb = 128;
  /** Disposals in progress; readLogs waits for them so a dead environment's last lines are in. */
  readonly #disposing = new Set<Promise<void>>();
  #closed = false;
  #seq = 0;

  constructor(o: InvokerOptions) {
    if (!path.isAbsolute(o.dataDir)) throw new Error(`dataDir must be absolute: ${o.dataDir}`);
    this.#clock = o.clock ?? systemClock;
    this.#logDir = o.logDir ?? path.join(o.dataDir, 'logs');
    this.#scriptDir = path.join(o.dataDir, 'sandbox', 'launch');
    fs.mkdirSync(this.#scriptDir, { recursive: true, mode: 0o700 });
    this.#idleTimeoutMs = o.idleTimeoutMs ?? 10 * 60 * 1000;
    this.#maxEnvironments = o.maxEnvironments ?? 1000;
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
    if (o.sandbox === 'bwrap' && this.#sandbox.kind !== 'bwrap') throw new Error(this.#sandbox.description);
    this.#memory = detectMemoryController();
    log(this.#sandbox.description);
    log(this.#memory.description);
    const sweepMs = Math.min(30_000, Math.max(20, Math.floor(this.#idleTimeoutMs / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), sweepMs);
    this.#sweeper.unref();
    void this.#refill();
  }

  get sandboxKind(): Sandbox['kind'] {
    return this.#sandbox.kind;
  }

  get memoryKind(): MemoryController['kind'] {
    return this.#memory.kind;
  }

  async invoke(config: FunctionRuntimeConfig, request: InvokeRequest): Promise<InvokeResult> {
    if (this.#closed) throw new LambdaError('ServiceException', 'The invoke engine is shut down.', { status: 500 });
    const plan = this.#registry.resolve(config.runtime);
    const key = poolKey(config.functionArn, config.version);
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = { idle: [], all: new Set(), revision: config.revision };
      this.#pools.set(key, pool);
    }
    if (pool.revision !== config.revision) {
      pool.revision = config.revision;
      for (const env of pool.all) if (env.revision !== config.revision) env.retire();
    }
    let env: ExecutionEnvironment | undefined;
    while ((env = pool.idle.pop()) !== undefined) {
      if (env.canServe(config.revision)) break;
      void this.#dispose(env, pool);
    }
    if (env === undefined) {
      let live = 0;
      for (const p of this.#pools.values()) live += p.all.size;
      if (live >= this.#maxEnvironments) {
        throw new LambdaError('TooManyRequestsException', 'Rate Exceeded.', {
          status: 429,
          fields: { Reason: 'ConcurrentInvocationLimitExceeded' },
        });
      }
      env = this.#start(config, plan, pool, await this.#listener(), this.#launcher());
    }
    try {
      return await env.invoke(request);
    } finally {
      this.#release(env, pool);
      // Replace used spares only now: attaching a launcher to its cgroup blocks every fork on the
      // host for an RCU grace period, which must not land in the middle of a cold start.
      if (this.#launchers.length < SPARES || this.#spares.length < SPARES) setImmediate(() => void this.#refill());
    }
  }

  #start(
    config: FunctionRuntimeConfig,
    plan: ReturnType<RuntimeRegistry['resolve']>,
    pool: Pool,
    api: RuntimeApiServer,
    launcher: Launcher | undefined,
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
      onDead: (dead) => void this.#dispose(dead, pool),
    });
    pool.all.add(env);
    return env;
  }

  #release(env: ExecutionEnvironment, pool: Pool): void {
    if (env.state === 'idle' && !env.retired && env.revision === pool.revision && !this.#closed) {
      pool.idle.push(env);
      return;
    }
    if (env.state !== 'dead') void this.#dispose(env, pool);
  }

  #dispose(env: ExecutionEnvironment, pool: Pool): Promise<void> {
    pool.all.delete(env);
    const i = pool.idle.indexOf(env);
    if (i >= 0) pool.idle.splice(i, 1);
    const done = env.dispose();
    this.#disposing.add(done);
    void done.finally(() => this.#disposing.delete(done));
    return done;
  }

  async #listener(): Promise<RuntimeApiServer> {
    return this.#spares.pop() ?? RuntimeApiServer.listen();
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

  #sweep(): void {
    const now = this.#clock.now();
    for (const pool of this.#pools.values()) {
      for (const env of [...pool.idle]) {
        if (now - env.lastUsed >= this.#idleTimeoutMs) void this.#dispose(env, pool);
      }
    }
  }

  // Concurrency arrives with its own work; until then nothing is reserved, provisioned or measured.
  setReservedConcurrency(_functionArn: string, _reserved: number | undefined): void {}

  setProvisionedConcurrency(_key: ProvisionedKey, _config: FunctionRuntimeConfig, _count: number): void {}

  provisionedStatus(_key: ProvisionedKey): ProvisionedStatus | undefined {
    return undefined;
  }

  metrics(): string {
    return '';
  }

  async retire(functionArn: string, version?: string): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [key, pool] of this.#pools) {
      if (version === undefined ? !key.startsWith(`${functionArn}\0`) : key !== poolKey(functionArn, version)) continue;
      for (const env of [...pool.all]) {
        env.retire();
        // Busy environments finish their request and are discarded in #release.
        if (env.state === 'idle' || env.state === 'starting') waits.push(this.#dispose(env, pool));
      }
      if (pool.all.size === 0) this.#pools.delete(key);
    }
    await Promise.all(waits);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    const waits: Promise<void>[] = [];
    for (const pool of this.#pools.values()) for (const env of [...pool.all]) waits.push(this.#dispose(env, pool));
    this.#pools.clear();
    for (const api of this.#spares.splice(0)) waits.push(api.close());
    for (const launcher of this.#launchers.splice(0)) waits.push(launcher.dispose());
    await Promise.all(waits);
    await this.#memory.close();
  }

  environments(functionArn?: string): EnvironmentInfo[] {
    const out: EnvironmentInfo[] = [];
    for (const pool of this.#pools.values()) {
      for (const env of pool.all) {
        if (functionArn !== undefined && env.functionArn !== functionArn) continue;
        out.push({
          id: env.id,
          functionArn: env.functionArn,
          version: env.version,
          revision: env.revision,
          state: env.state,
          invocations: env.invocations,
          maxConcurrent: env.maxConcurrent,
          logStream: env.log.name,
        });
      }
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
