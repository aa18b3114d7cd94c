// The durable queue behind InvocationType=Event and InvokeAsync: events are committed to the store before
// the 202, leased by this process's worker, invoked with AWS's retry and throttle backoff, discarded
// past their maximum age, and their records sent to destinations or dead-letter queues. See README.md.
import { randomUUID } from 'node:crypto';
import type { Store, QueuedEvent, QueuedEventUpdate, StoredEventInvokeConfig, StoredFunction, StoredVersion } from '../store/types.js';
import type { Clock, Timer } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { isLambdaError } from '../shared/errors.js';
import { functionArn as makeFunctionArn, parseArn } from '../shared/arn.js';
import type { FunctionRuntimeConfig, InvokeRequest, InvokeResult } from '../invoke/types.js';
import { Destinations, type Delivery, type DestinationServices } from './destinations.js';
import { invocationTraceHeader } from '../shared/recursion.js';

/** AWS's defaults for an event with no event invoke config. */
export const DEFAULT_MAX_EVENT_AGE_S = 21_600;
export const DEFAULT_MAX_RETRIES = 2;
/** AWS waits about 1 minute before the first retry after a function error and 2 minutes before the second. */
const RETRY_DELAYS_MS = [60_000, 120_000] as const;
/** Throttles and system errors: exponential from 1 s up to 5 minutes, as AWS documents. */
const THROTTLE_BASE_MS = 1_000;
const THROTTLE_MAX_MS = 300_000;
/** Longer than the longest function timeout (900 s): a live lease never expires under a running invoke. */
const LEASE_MS = 960_000;
/** A record that cannot be sent is retried this many times, then dropped with a log line. */
const MAX_DELIVERY_TRIES = 16;

// RecursiveInvocationException: the event was stopped by recursive loop detection. AWS documents that
// such events go to the on-failure destination or dead-letter queue but not the condition's name; we
// name it after the error a synchronous caller gets.
export type Condition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded' | 'ZeroReservedConcurrency' | 'RecursiveInvocationException';

/** What one invocation answered, kept between attempts for the failure record. */
interface Outcome {
  readonly statusCode: number;
  readonly executedVersion: string;
  readonly functionError?: string;
  readonly payload: string;
}

interface EventState {
  readonly last?: Outcome;
  readonly deliveries?: Delivery[];
  readonly deliveryTries?: number;
}

/** The slice of FunctionService the worker needs: the same resolution the sync path uses. */
export interface QueueFunctions {
  resolveForInvoke(name: string, qualifier: string | undefined, scope: { accountId: string; region: string }): { fn: StoredFunction; version: StoredVersion; invokedArn: string };
  runtimeConfig(fn: StoredFunction, version: StoredVersion): FunctionRuntimeConfig;
}

export interface AsyncQueueOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly functions: QueueFunctions;
  readonly engine: { invoke(config: FunctionRuntimeConfig, request: InvokeRequest): Promise<InvokeResult> };
  readonly aws: DestinationServices;
  /** Events run at once by this worker. */
  readonly maxInFlight?: number;
}

export interface EventToQueue {
  /** The caller's scope; the function is resolved with it again at delivery. */
  readonly accountId: string;
  readonly region: string;
  /** Unqualified ARN of the function. */
  readonly functionArn: string;
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  readonly clientContext?: string;
  /** AWS's request id of the event: the Invoke response's x-amzn-RequestId. A new one when omitted. */
  readonly requestId?: string;
  /** The caller's X-Amzn-Trace-Id, whose lineage the invocation continues (recursive loop detection). */
  readonly traceHeader?: string;
}

interface Pending {
  readonly event: EventToQueue & { requestId: string; enqueuedAt: number };
  resolve(requestId: string): void;
  reject(e: unknown): void;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorMessage(payload: string): string | undefined {
  const p = parseJson(payload);
  return p && typeof p === 'object' && typeof (p as Record<string, unknown>)['errorMessage'] === 'string' ? (p as Record<string, string>)['errorMessage'] : undefined;
}

export class AsyncQueue {
  readonly #o: AsyncQueueOptions;
  readonly #owner = randomUUID();
  readonly #destinations: Destinations;
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<number>();
  #pending: Pending[] = [];
  #flushScheduled = false;
  #pumpScheduled = false;
  #timer: Timer | undefined;
  #closed = false;
  #started = false;
  /** Counters for bench/ and tests. */
  readonly stats = { accepted: 0, completed: 0, attempts: 0, throttled: 0, dropped: 0 };

  constructor(options: AsyncQueueOptions) {
    this.#o = options;
    this.#maxInFlight = options.maxInFlight ?? 64;
    this.#destinations = new Destinations(options.aws, async (arn, payload) => {
      // A Lambda destination is invoked asynchronously, as AWS does; its own queue entry makes it durable.
      const parsed = parseArn(arn)!;
      const [name, qualifier] = parsed.resource.replace(/^function:/, '').split(':') as [string, string | undefined];
      await this.enqueue({ accountId: parsed.accountId, region: parsed.region, functionArn: makeFunctionArn(parsed.region, parsed.accountId, name), qualifier, payload });
    });
  }

  /** Frees the leases a dead process left and starts delivering. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const released = this.#o.store.releaseForeignLeases(this.#owner);
    if (released) this.#o.logger.info(`async queue: ${released} events leased by a previous run will be delivered again`);
    const waiting = this.#o.store.countEvents();
    if (waiting) this.#o.logger.info(`async queue: ${waiting} events waiting`);
    this.#kick();
  }

  /**
   * Stores the event durably and resolves with its request id once the commit is on disk. Events that
   * arrive together share one commit (group commit), so one fsync covers many.
   */
  enqueue(event: EventToQueue): Promise<string> {
    if (this.#closed) return Promise.reject(new Error('the async queue is closed'));
    return new Promise<string>((resolve, reject) => {
      this.#pending.push({ event: { ...event, requestId: event.requestId ?? randomUUID(), enqueuedAt: this.#o.clock.now() }, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (!batch.length) return;
    try {
      this.#o.store.enqueueEvents(batch.map((p) => ({
        requestId: p.event.requestId, accountId: p.event.accountId, region: p.event.region, functionArn: p.event.functionArn,
        qualifier: p.event.qualifier, payload: p.event.payload, clientContext: p.event.clientContext, enqueuedAt: p.event.enqueuedAt, dueAt: p.event.enqueuedAt,
        ...(p.event.traceHeader !== undefined ? { traceHeader: p.event.traceHeader } : {}),
      })));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    this.stats.accepted += batch.length;
    for (const p of batch) p.resolve(p.event.requestId);
    this.#kick();
  }

  #kick(): void {
    if (this.#pumpScheduled || this.#closed || !this.#started) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#closed) return;
    if (this.#timer) {
      this.#o.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const now = this.#o.clock.now();
    const room = this.#maxInFlight - this.#inFlight.size;
    if (room > 0) {
      for (const e of this.#o.store.claimEvents(this.#owner, now, now + LEASE_MS, room)) {
        // A lease that expired under a still-running attempt of this process is not run a second time.
        if (this.#inFlight.has(e.id)) continue;
        this.#inFlight.add(e.id);
        void this.#handle(e).finally(() => {
          this.#inFlight.delete(e.id);
          this.#kick();
        });
      }
    }
    if (this.#inFlight.size >= this.#maxInFlight) return; // a completion kicks again
    const next = this.#o.store.nextEventDue();
    if (next === undefined) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, Math.max(0, next - this.#o.clock.now()));
    this.#timer.unref?.();
  }

  async #handle(e: QueuedEvent): Promise<void> {
    try {
      if (e.stage === 'deliver') await this.#deliver(e, this.#state(e));
      else await this.#attempt(e);
    } catch (err) {
      if (this.#closed) return;
      // Nothing is lost on our own failures: the event waits and is tried again.
      this.#o.logger.error(`async queue: event ${e.requestId} failed internally; retrying`, err);
      this.#reschedule(e, { dueAt: this.#o.clock.now() + this.#throttleDelay(e.throttles), throttles: e.throttles + 1 });
    }
  }

  #state(e: QueuedEvent): EventState {
    return e.state ? (JSON.parse(e.state) as EventState) : {};
  }

  #reschedule(e: QueuedEvent, next: Partial<QueuedEventUpdate>): void {
    if (this.#closed) return;
    this.#o.store.rescheduleEvent(e.id, this.#owner, {
      dueAt: next.dueAt ?? e.dueAt, attempts: next.attempts ?? e.attempts, throttles: next.throttles ?? e.throttles,
      stage: next.stage ?? e.stage, state: 'state' in next ? next.state : e.state,
    });
  }

  #done(e: QueuedEvent): void {
    if (this.#closed) return;
    this.#o.store.deleteEvent(e.id, this.#owner);
    this.stats.completed++;
  }

  #drop(e: QueuedEvent, why: string): void {
    this.#o.logger.info(`async queue: dropping event ${e.requestId} of ${e.functionArn}${e.qualifier ? ':' + e.qualifier : ''}: ${why}`);
    this.stats.dropped++;
    this.#done(e);
  }

  #throttleDelay(n: number): number {
    return Math.min(THROTTLE_BASE_MS * 2 ** Math.min(n, 20), THROTTLE_MAX_MS);
  }

  #retryDelay(attempts: number): number {
    return RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1] ?? RETRY_DELAYS_MS[1];
  }

  async #attempt(e: QueuedEvent): Promise<void> {
    const { store, functions, engine, clock } = this.#o;
    const scope = { accountId: e.accountId, region: e.region };
    let resolved: ReturnType<QueueFunctions['resolveForInvoke']>;
    try {
      resolved = functions.resolveForInvoke(e.functionArn, e.qualifier, scope);
    } catch (err) {
      if (isLambdaError(err) && (err.code === 'ResourceNotFoundException' || err.code === 'AccessDeniedException')) {
        return this.#drop(e, err.message);
      }
      // E.g. the function is Pending: wait as for a throttle.
      return this.#reschedule(e, { dueAt: clock.now() + this.#throttleDelay(e.throttles), throttles: e.throttles + 1 });
    }
    const { fn, version, invokedArn } = resolved;
    const key = { accountId: fn.accountId, region: fn.region, name: fn.name };
    const config = store.getEventInvokeConfig(key, e.qualifier ?? '$LATEST');
    const maxAgeMs = (config?.maximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_S) * 1000;
    const maxRetries = config?.maximumRetryAttempts ?? DEFAULT_MAX_RETRIES;
    const state = this.#state(e);
    const fail = (condition: Condition, last: Outcome | undefined, attempts: number) =>
      this.#fail(e, { condition, last, attempts, config, fn, version, deadLetter: version.config.DeadLetterConfig?.TargetArn });
    if (clock.now() - e.enqueuedAt > maxAgeMs) return fail('EventAgeExceeded', state.last, e.attempts);

    let outcome: Outcome;
    try {
      this.stats.attempts++;
      const result = await engine.invoke(functions.runtimeConfig(fn, version), {
        requestId: e.requestId,
        traceId: this.#traceOf(e, fn),
        payload: e.payload.length ? e.payload : Buffer.from('{}'),
        invokedFunctionArn: invokedArn,
        tailLog: false,
        ...(e.qualifier !== undefined ? { qualifier: e.qualifier } : {}),
        ...(e.clientContext !== undefined ? { clientContext: e.clientContext } : {}),
      });
      outcome = {
        statusCode: 200, executedVersion: result.executedVersion, payload: result.payload.toString('utf8'),
        ...(result.functionError ? { functionError: result.functionError } : {}),
      };
    } catch (err) {
      if (this.#closed) return;
      if (isLambdaError(err) && err.code === 'TooManyRequestsException') {
        this.stats.throttled++;
        // Reserved concurrency 0 disables the function: AWS fails the event at once with this condition.
        const current = store.getFunction(key);
        if (current?.reservedConcurrency === 0) return fail('ZeroReservedConcurrency', state.last, e.attempts);
        return this.#reschedule(e, { dueAt: clock.now() + this.#throttleDelay(e.throttles), throttles: e.throttles + 1 });
      }
      if (isLambdaError(err) && err.code === 'RecursiveInvocationException') return fail('RecursiveInvocationException', undefined, e.attempts);
      if (isLambdaError(err) && err.status < 500) {
        // The function cannot run (e.g. InvalidRuntimeException): an attempt that failed, with the error as payload.
        outcome = { statusCode: err.status, executedVersion: version.version, functionError: 'Unhandled', payload: JSON.stringify({ errorType: err.code, errorMessage: err.message }) };
      } else {
        // System errors are retried like throttles, without counting as an invocation.
        this.#o.logger.warn(`async queue: event ${e.requestId}: ${(err as Error).message}; retrying`);
        return this.#reschedule(e, { dueAt: clock.now() + this.#throttleDelay(e.throttles), throttles: e.throttles + 1 });
      }
    }
    if (this.#closed) return;
    const attempts = e.attempts + 1;
    if (!outcome.functionError) {
      if (config?.onSuccess) {
        return this.#deliver(e, { deliveries: [this.#recordDelivery(config.onSuccess, e, fn, 'Success', outcome, attempts)] });
      }
      return this.#done(e);
    }
    if (attempts > maxRetries) return fail('RetriesExhausted', outcome, attempts);
    this.#reschedule(e, { dueAt: clock.now() + this.#retryDelay(attempts), attempts, state: JSON.stringify({ last: outcome } satisfies EventState) });
  }

  #fail(e: QueuedEvent, f: { condition: Condition; last: Outcome | undefined; attempts: number; config: StoredEventInvokeConfig | undefined; fn: StoredFunction; version: StoredVersion; deadLetter: string | undefined }): Promise<void> | void {
    if (f.config?.onFailure) {
      return this.#deliver(e, { deliveries: [this.#recordDelivery(f.config.onFailure, e, f.fn, f.condition, f.last, f.attempts)] });
    }
    if (f.deadLetter) {
      // AWS's dead letter: the original event, with the status code, error message and request id as
      // message attributes (ErrorCode is a Number attribute carrying the invoke's status code).
      const message = (f.last && errorMessage(f.last.payload)) ?? (f.condition === 'EventAgeExceeded' ? 'Event age exceeded' : f.condition);
      return this.#deliver(e, {
        deliveries: [{
          target: f.deadLetter,
          body: e.payload.toString('utf8'),
          traceHeader: this.#traceOf(e, f.fn),
          attributes: {
            RequestID: { type: 'String', value: e.requestId },
            ErrorCode: { type: 'Number', value: String(f.last?.statusCode ?? (f.condition === 'RecursiveInvocationException' ? 400 : 429)) },
            ErrorMessage: { type: 'String', value: message },
          },
        }],
      });
    }
    this.#drop(e, `${f.condition} after ${f.attempts} invocations, and no OnFailure destination or dead-letter queue takes it`);
  }

  /** AWS's invocation record (version 1.0), addressed to one destination. */
  #recordDelivery(target: string, e: QueuedEvent, fn: StoredFunction, condition: Condition, last: Outcome | undefined, attempts: number): Delivery {
    const executed = last?.executedVersion ?? (e.qualifier && /^[0-9]+$/.test(e.qualifier) ? e.qualifier : '$LATEST');
    const fnArn = makeFunctionArn(fn.region, fn.accountId, fn.name, executed);
    const record = {
      version: '1.0',
      timestamp: new Date(this.#o.clock.now()).toISOString(),
      requestContext: { requestId: e.requestId, functionArn: fnArn, condition, approximateInvokeCount: attempts },
      requestPayload: parseJson(e.payload.toString('utf8') || '{}'),
      // An event that never ran (throttled until it aged out, or reserved concurrency 0) has no response.
      ...(last ? {
        responseContext: { statusCode: last.statusCode, executedVersion: last.executedVersion, ...(last.functionError ? { functionError: last.functionError } : {}) },
        responsePayload: parseJson(last.payload),
      } : {}),
    };
    return {
      target,
      body: JSON.stringify(record),
      detailType: `Lambda Function Invocation Result - ${condition === 'Success' ? 'Success' : 'Failure'}`,
      resources: [target, fnArn],
      traceHeader: this.#traceOf(e, fn),
    };
  }

  /** The invocation's trace header: the caller's lineage with this function counted once more. */
  #traceOf(e: QueuedEvent, fn: StoredFunction): string {
    return invocationTraceHeader(e.traceHeader, makeFunctionArn(fn.region, fn.accountId, fn.name), this.#o.clock.now());
  }

  /** Sends the pending deliveries; what cannot be sent yet is kept in the store and retried. */
  async #deliver(e: QueuedEvent, state: EventState): Promise<void> {
    const remaining: Delivery[] = [];
    let lastError: unknown;
    for (const d of state.deliveries ?? []) {
      try {
        await this.#destinations.send(d);
      } catch (err) {
        lastError = err;
        remaining.push(d);
      }
    }
    if (this.#closed) return;
    if (!remaining.length) return this.#done(e);
    const tries = (state.deliveryTries ?? 0) + 1;
    if (tries >= MAX_DELIVERY_TRIES) {
      return this.#drop(e, `could not send its record after ${tries} tries: ${(lastError as Error).message}`);
    }
    this.#o.logger.warn(`async queue: event ${e.requestId}: ${(lastError as Error).message}; will retry`);
    this.#reschedule(e, {
      stage: 'deliver',
      dueAt: this.#o.clock.now() + this.#throttleDelay(tries),
      state: JSON.stringify({ ...state, deliveries: remaining, deliveryTries: tries } satisfies EventState),
    });
  }

  /** Stops claiming; accepted-but-uncommitted events are committed first. Leases left are freed at next start. */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#destinations.close();
  }
}
