// Provisioned concurrency in the invoke engine: per configured (function, qualifier), a number of
// environments started ahead of any request, kept initialised, never reclaimed while configured, and
// replaced when one dies; their status as AWS reports it (IN_PROGRESS, READY, FAILED). The engine
// (engine.ts) owns environments, start slots and memory; this file decides which to start and when.
import type { Clock, Timer } from '../shared/clock.js';
import type { ExecutionEnvironment } from '../sandbox/environment.js';
import type { RuntimeRegistry } from '../runtimes/registry.js';
import type { StartTicket } from './admission.js';
import type { FunctionRuntimeConfig, InvokeRequest, ProvisionedKey, ProvisionedStatus } from './types.js';
import type { Slot } from './engine.js';

/** One provisioned concurrency configuration (function + qualifier) and its environments. */
export interface Provisioned {
  readonly key: string;
  readonly qualifier: string;
  readonly config: FunctionRuntimeConfig;
  requested: number;
  readonly envs: Set<ExecutionEnvironment>;
  /** Initialised and waiting for a request. */
  readonly idle: ExecutionEnvironment[];
  /** Starts requested but not yet turned into an environment. */
  pending: number;
  statusReason: string | undefined;
  readonly settled: (() => void)[];
}

type RuntimePlan = ReturnType<RuntimeRegistry['resolve']>;

/** What provisioned concurrency uses of the engine. */
export interface ProvisionedHost {
  readonly clock: Clock;
  readonly memoryBudgetMb: number;
  closed(): boolean;
  /** Tells admission control how much of the function's concurrency is provisioned on the qualifier. */
  setGovernorProvisioned(functionArn: string, qualifier: string, count: number): void;
  nameFunction(functionArn: string, functionName: string): void;
  requestStart(): StartTicket;
  /** The runtime ready to run (installed on first use), or AWS's error for it. */
  prepare(runtime: string | undefined): Promise<RuntimePlan>;
  /** A Runtime API listener, launcher, network and /tmp for one environment; throws when none can be made. */
  slot(config: FunctionRuntimeConfig): Promise<Slot>;
  returnSlot(slot: Slot): void;
  reserveMemory(mb: number): boolean;
  start(config: FunctionRuntimeConfig, plan: RuntimePlan, slot: Slot, provisioned: Provisioned): ExecutionEnvironment;
  dispose(env: ExecutionEnvironment): Promise<void>;
  /** Whether the environment's init finished successfully. */
  initialised(env: ExecutionEnvironment): boolean;
}

/** AWS: provisioned init may take max(130 s, the function's timeout); on-demand init gets 10 s. */
const PROVISIONED_INIT_MIN_MS = 130_000;

export function provisionedKey(functionArn: string, qualifier: string): string {
  return `${functionArn}\0${qualifier}`;
}

export class ProvisionedEnvironments {
  readonly #host: ProvisionedHost;
  readonly #provisioned = new Map<string, Provisioned>();

  constructor(host: ProvisionedHost) {
    this.#host = host;
  }

  /** Whether `entry` is still the configuration in force for its key. */
  isCurrent(entry: Provisioned): boolean {
    return this.#provisioned.get(entry.key) === entry;
  }

  /**
   * An idle provisioned environment for this invocation: configured on the qualifier it was
   * invoked through, or on the version an alias resolved to (AWS keeps provisioned environments
   * per version; an alias and its version cannot both carry a configuration).
   */
  take(config: FunctionRuntimeConfig, request: InvokeRequest): ExecutionEnvironment | undefined {
    for (const entry of this.entries(config, request)) {
      let env: ExecutionEnvironment | undefined;
      while ((env = entry.idle.pop()) !== undefined) {
        if (env.canServe(config.revision)) return env;
      }
    }
    return undefined;
  }

  /**
   * The provisioned configurations that may serve this invocation: the one on the invoked qualifier
   * first, then any other on the same version (a version invoked directly uses the environments of an
   * alias that points to it, as on AWS).
   */
  entries(config: FunctionRuntimeConfig, request: InvokeRequest): Provisioned[] {
    if (this.#provisioned.size === 0) return [];
    const fits = (e: Provisioned | undefined): e is Provisioned =>
      e !== undefined && e.config.functionArn === config.functionArn && e.config.version === config.version && e.config.revision === config.revision;
    const first = request.qualifier !== undefined ? this.#provisioned.get(provisionedKey(config.functionArn, request.qualifier)) : undefined;
    const out = fits(first) ? [first] : [];
    for (const e of this.#provisioned.values()) if (e !== first && fits(e)) out.push(e);
    return out;
  }

  set(key: ProvisionedKey, config: FunctionRuntimeConfig, count: number): void {
    const k = provisionedKey(key.functionArn, key.qualifier);
    let entry = this.#provisioned.get(k);
    if (entry && (count === 0 || entry.config.version !== config.version || entry.config.revision !== config.revision)) {
      this.#drop(entry);
      entry = undefined;
    }
    this.#host.setGovernorProvisioned(key.functionArn, key.qualifier, count);
    if (count === 0 || this.#host.closed()) return;
    this.#host.nameFunction(config.functionArn, config.functionName);
    if (!entry) {
      entry = { key: k, qualifier: key.qualifier, config, requested: count, envs: new Set(), idle: [], pending: 0, statusReason: undefined, settled: [] };
      this.#provisioned.set(k, entry);
    }
    entry.requested = count;
    // Every Put is a new attempt, also after FAILED.
    entry.statusReason = undefined;
    // Fewer than before: idle ones go now, busy ones after their request.
    let extra = entry.envs.size - count;
    for (const env of [...entry.idle]) {
      if (extra <= 0) break;
      void this.#host.dispose(env);
      extra--;
    }
    for (const env of entry.envs) {
      if (extra <= 0) break;
      if (env.state === 'busy' || env.state === 'starting') {
        env.retire();
        entry.envs.delete(env);
        extra--;
      }
    }
    this.fill(entry);
    this.#notifySettled(entry);
  }

  #drop(entry: Provisioned): void {
    this.#provisioned.delete(entry.key);
    for (const env of [...entry.envs]) {
      env.retire();
      if (env.state !== 'busy') void this.#host.dispose(env);
    }
    this.#notifySettled(entry);
  }

  /** Starts environments until the configuration has as many as requested (also after one died). */
  fill(entry: Provisioned): void {
    while (this.#provisioned.get(entry.key) === entry && entry.statusReason === undefined && entry.envs.size + entry.pending < entry.requested) {
      entry.pending++;
      void this.#start(entry);
    }
  }

  async #start(entry: Provisioned): Promise<void> {
    const host = this.#host;
    const ticket: StartTicket = host.requestStart();
    await ticket.granted;
    let env: ExecutionEnvironment | undefined;
    try {
      const current = () => !host.closed() && this.#provisioned.get(entry.key) === entry && entry.statusReason === undefined;
      if (!current() || entry.envs.size >= entry.requested) return;
      const { config } = entry;
      let plan: RuntimePlan;
      try {
        plan = await host.prepare(config.runtime);
      } catch (e) {
        return this.#fail(entry, `FUNCTION_ERROR_INIT_FAILURE`, e);
      }
      let slot: Slot;
      try {
        slot = await host.slot(config);
      } catch (e) {
        return this.#fail(entry, 'lambdalite: the execution environment could not be prepared', e);
      }
      if (!current()) return host.returnSlot(slot);
      if (!host.reserveMemory(config.memorySize)) {
        host.returnSlot(slot);
        // lambdalite only: AWS has no node to run out of. The text says what to change.
        return this.#fail(entry, `lambdalite: the memory budget (${host.memoryBudgetMb} MB) has no room for another ${config.memorySize} MB environment`);
      }
      env = host.start(config, plan, slot, entry);
    } finally {
      entry.pending--;
      if (env === undefined) ticket.release();
    }
    const started = env;
    const limitMs = Math.max(PROVISIONED_INIT_MIN_MS, entry.config.timeout * 1000);
    const timer: Timer = host.clock.setTimeout(() => void host.dispose(started), limitMs);
    const outcome = await started.ready;
    host.clock.clearTimeout(timer);
    ticket.release();
    if (!outcome.ok) {
      if (this.#provisioned.get(entry.key) === entry) this.#fail(entry, 'FUNCTION_ERROR_INIT_FAILURE');
      void host.dispose(started);
      return;
    }
    if (started.retired || started.state !== 'idle' || this.#provisioned.get(entry.key) !== entry || !entry.envs.has(started)) {
      if (started.state !== 'busy') void host.dispose(started);
      return;
    }
    entry.idle.push(started);
    this.#notifySettled(entry);
  }

  /**
   * AWS's Status FAILED with StatusReason exactly `FUNCTION_ERROR_INIT_FAILURE` (what CloudFormation
   * and Terraform print back: "Reason: FUNCTION_ERROR_INIT_FAILURE"); the init error itself is in
   * the environment's log stream (INIT_REPORT ... Status: error), as on AWS. Environments already
   * initialised keep serving.
   */
  #fail(entry: Provisioned, reason: string, _cause?: unknown): void {
    entry.statusReason ??= reason;
    this.#notifySettled(entry);
  }

  #status(entry: Provisioned): ProvisionedStatus {
    let allocated = 0;
    for (const env of entry.envs) {
      if (this.#host.initialised(env) && env.state !== 'dead' && !env.retired) allocated++;
    }
    allocated = Math.min(allocated, entry.requested);
    const status: ProvisionedStatus['status'] = entry.statusReason !== undefined ? 'FAILED' : allocated >= entry.requested ? 'READY' : 'IN_PROGRESS';
    // Available equals Allocated: AWS reports the configured capacity there (it differs only while a
    // weighted alias shifts), not capacity minus requests in flight.
    return entry.statusReason !== undefined
      ? { status, requested: entry.requested, allocated, available: allocated, statusReason: entry.statusReason }
      : { status, requested: entry.requested, allocated, available: allocated };
  }

  status(key: ProvisionedKey): ProvisionedStatus | undefined {
    const entry = this.#provisioned.get(provisionedKey(key.functionArn, key.qualifier));
    return entry ? this.#status(entry) : undefined;
  }

  settled(key: ProvisionedKey): Promise<ProvisionedStatus | undefined> {
    const k = provisionedKey(key.functionArn, key.qualifier);
    return new Promise((resolve) => {
      const check = (): boolean => {
        const entry = this.#provisioned.get(k);
        if (!entry) return resolve(undefined), true;
        const s = this.#status(entry);
        if (s.status === 'IN_PROGRESS') {
          entry.settled.push(() => void check());
          return false;
        }
        resolve(s);
        return true;
      };
      check();
    });
  }

  #notifySettled(entry: Provisioned): void {
    for (const f of entry.settled.splice(0)) f();
  }

  /** A deleted function or version takes its provisioned configurations with it. */
  retire(functionArn: string, version: string | undefined): void {
    for (const entry of [...this.#provisioned.values()]) {
      if (entry.config.functionArn === functionArn && (version === undefined || entry.config.version === version)) {
        this.#host.setGovernorProvisioned(functionArn, entry.qualifier, 0);
        this.#drop(entry);
      }
    }
  }

  close(): void {
    for (const entry of this.#provisioned.values()) this.#notifySettled(entry);
    this.#provisioned.clear();
  }
}
