// Concurrency as AWS Lambda holds it (docs: "Lambda function scaling", "Configuring reserved
// concurrency", "Configuring provisioned concurrency"):
//
//   - Every in-flight invocation counts, whatever its source (sync, async queue, event sources) and
//     whether it runs in a provisioned or an on-demand environment.
//   - A function with reserved concurrency R has at most R in flight (R = 0: nothing runs).
//   - Functions without a reservation share the rest: account limit − Σ reserved. Provisioned
//     concurrency of such a function is carved out of that shared pool for it alone (AWS subtracts it
//     from UnreservedConcurrentExecutions), so its first P in-flight invocations never compete with
//     other functions, and only what goes beyond P draws from the shared pool.
//   - Over a limit the invocation is throttled at once: never queued.
//
// The control plane validates the numbers at Put time (unreserved minimum, provisioned ≤ reserved);
// this module only does the arithmetic, so it also behaves sensibly with numbers it would refuse.
//
// StartLimiter bounds how many environments start at once and how many per second, so a burst is
// served by environments started in parallel without the machine being overwhelmed.

import { LambdaError } from '../shared/errors.js';
import type { Clock, Timer } from '../shared/clock.js';
import type { ThrottleReason } from './types.js';

/**
 * The one shape every throttle takes (TooManyRequestsException, 429, "Rate Exceeded."). AWS's model has a
 * `Retry-After` header member (retryAfterSeconds), but recorded concurrency throttles carry none.
 */
export function throttled(reason: ThrottleReason): LambdaError {
  return new LambdaError('TooManyRequestsException', 'Rate Exceeded.', {
    status: 429,
    fields: { Reason: reason },
  });
}

export interface ConcurrencyLimits {
  /** AWS's ConcurrentExecutions account limit; default 1000. */
  readonly accountConcurrency: number;
  /** What reservations must leave to unreserved functions; default 100 (enforced by the control plane). */
  readonly unreservedMinimum: number;
}

/** One admitted invocation; release it exactly once when the invocation has finished. */
export interface Lease {
  release(): void;
}

interface FunctionState {
  inFlight: number;
  /** In-flight invocations not served through a provisioned configuration. */
  onDemand: number;
  reserved: number | undefined;
  /** Provisioned concurrency per qualifier; only matters while the function has no reservation. */
  readonly provisioned: Map<string, number>;
}

export class ConcurrencyGovernor {
  readonly limits: ConcurrencyLimits;
  readonly #fns = new Map<string, FunctionState>();
  #reservedTotal = 0;
  /** Σ provisioned of functions without a reservation: carved out of the shared pool. */
  #carvedOut = 0;
  /** In-flight invocations of unreserved functions beyond their own provisioned slice. */
  #sharedInUse = 0;

  constructor(limits: ConcurrencyLimits) {
    this.limits = Object.freeze({ ...limits });
  }

  #fn(functionArn: string): FunctionState {
    let s = this.#fns.get(functionArn);
    if (!s) {
      s = { inFlight: 0, onDemand: 0, reserved: undefined, provisioned: new Map() };
      this.#fns.set(functionArn, s);
    }
    return s;
  }

  #provisionedOf(s: FunctionState): number {
    let n = 0;
    for (const v of s.provisioned.values()) n += v;
    return n;
  }

  setReserved(functionArn: string, reserved: number | undefined): void {
    const s = this.#fn(functionArn);
    const p = this.#provisionedOf(s);
    if (s.reserved !== undefined) this.#reservedTotal -= s.reserved;
    else this.#carvedOut -= p;
    s.reserved = reserved;
    if (reserved !== undefined) this.#reservedTotal += reserved;
    else this.#carvedOut += p;
  }

  reserved(functionArn: string): number | undefined {
    return this.#fns.get(functionArn)?.reserved;
  }

  setProvisioned(functionArn: string, qualifier: string, count: number): void {
    const s = this.#fn(functionArn);
    const before = this.#provisionedOf(s);
    if (count > 0) s.provisioned.set(qualifier, count);
    else s.provisioned.delete(qualifier);
    if (s.reserved === undefined) this.#carvedOut += this.#provisionedOf(s) - before;
  }

  /** The pool unreserved functions share beyond their provisioned slices. */
  sharedPool(): number {
    return Math.max(0, this.limits.accountConcurrency - this.#reservedTotal - this.#carvedOut);
  }

  inFlight(functionArn: string): number {
    return this.#fns.get(functionArn)?.inFlight ?? 0;
  }

  /** Every function's in-flight count (for metrics). */
  *entries(): IterableIterator<[string, number]> {
    for (const [arn, s] of this.#fns) yield [arn, s.inFlight];
  }

  /**
   * Admits one invocation or throws TooManyRequestsException with AWS's Reason. `viaProvisioned`: the
   * invocation targets a version with provisioned concurrency. Provisioned environments take their
   * share of a reservation (AWS: reserved 1 with provisioned 1 throttles every other invocation), so
   * other invocations get what the reservation leaves beyond the provisioned total.
   */
  acquire(functionArn: string, viaProvisioned = false): Lease {
    const s = this.#fn(functionArn);
    let shared = false;
    if (s.reserved !== undefined) {
      if (s.inFlight >= s.reserved) throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
      if (!viaProvisioned && s.onDemand >= s.reserved - this.#provisionedOf(s)) throw throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
    } else if (s.inFlight >= this.#provisionedOf(s)) {
      if (this.#sharedInUse >= this.sharedPool()) throw throttled('ConcurrentInvocationLimitExceeded');
      shared = true;
      this.#sharedInUse++;
    }
    s.inFlight++;
    if (!viaProvisioned) s.onDemand++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        s.inFlight--;
        if (!viaProvisioned) s.onDemand--;
        if (shared) this.#sharedInUse--;
      },
    };
  }
}

export interface StartLimits {
  /** Environments initialising at the same time; default 2 per CPU. */
  readonly maxConcurrentStarts: number;
  /** New environments per second (token bucket, burst of one second's worth); default 100. */
  readonly startsPerSecond: number;
}

/** Permission to start one environment; release it when its init has ended (ready or failed). */
export interface StartTicket {
  /** Resolves when the start may proceed. */
  readonly granted: Promise<void>;
  readonly isGranted: boolean;
  /** Gives up a ticket not granted yet (the waiter got an environment another way or timed out). */
  cancel(): void;
  /** Returns a granted slot. Safe to call more than once. */
  release(): void;
}

interface Waiting {
  readonly grant: () => void;
  cancelled: boolean;
}

/** FIFO start slots with a concurrency bound and a token-bucket rate bound. */
export class StartLimiter {
  readonly limits: StartLimits;
  readonly #clock: Clock;
  readonly #queue: Waiting[] = [];
  #running = 0;
  #tokens: number;
  #refilledAt: number;
  #timer: Timer | undefined;
  /** Peak of concurrently granted slots, for tests and the benchmark. */
  peakRunning = 0;
  started = 0;

  constructor(limits: StartLimits, clock: Clock) {
    if (!(limits.maxConcurrentStarts >= 1)) throw new Error(`maxConcurrentStarts must be >= 1: ${limits.maxConcurrentStarts}`);
    if (!(limits.startsPerSecond > 0)) throw new Error(`startsPerSecond must be > 0: ${limits.startsPerSecond}`);
    this.limits = Object.freeze({ ...limits });
    this.#clock = clock;
    this.#tokens = this.#capacity;
    this.#refilledAt = clock.elapsed();
  }

  get #capacity(): number {
    return Math.max(1, this.limits.startsPerSecond);
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#queue.reduce((n, w) => n + (w.cancelled ? 0 : 1), 0);
  }

  request(): StartTicket {
    let state: 'waiting' | 'granted' | 'released' | 'cancelled' = 'waiting';
    let resolve!: () => void;
    const granted = new Promise<void>((r) => (resolve = r));
    const w: Waiting = {
      grant: () => {
        state = 'granted';
        resolve();
      },
      cancelled: false,
    };
    this.#queue.push(w);
    this.#pump();
    return {
      granted,
      get isGranted() {
        return state === 'granted';
      },
      cancel: () => {
        if (state !== 'waiting') return;
        state = 'cancelled';
        w.cancelled = true;
      },
      release: () => {
        if (state !== 'granted') return;
        state = 'released';
        this.#running--;
        this.#pump();
      },
    };
  }

  #refill(): void {
    const now = this.#clock.elapsed();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#refilledAt) / 1000) * this.limits.startsPerSecond);
    this.#refilledAt = now;
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#queue[0]?.cancelled) this.#queue.shift();
    if (this.#queue.length === 0 || this.#running >= this.limits.maxConcurrentStarts) return;
    this.#refill();
    while (this.#queue.length > 0 && this.#running < this.limits.maxConcurrentStarts && this.#tokens >= 1) {
      const w = this.#queue.shift() as Waiting;
      if (w.cancelled) continue;
      this.#tokens -= 1;
      this.#running++;
      this.started++;
      if (this.#running > this.peakRunning) this.peakRunning = this.#running;
      w.grant();
    }
    while (this.#queue.length > 0 && this.#queue[0]?.cancelled) this.#queue.shift();
    if (this.#queue.length > 0 && this.#running < this.limits.maxConcurrentStarts && this.#timer === undefined) {
      // Out of tokens: wake up when the next one has accrued.
      const ms = Math.max(1, Math.ceil(((1 - this.#tokens) / this.limits.startsPerSecond) * 1000));
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, ms);
    }
  }

  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
