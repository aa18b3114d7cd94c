// The event source mapping manager: runs one poller per enabled mapping (the factory for its source
// kind from sources.ts), gives it a PollerContext (types.ts), and moves mappings from the transient
// states the API answers (Creating, Enabling, Disabling, Updating, Deleting) to the stable ones once
// their poller has started or stopped. Mappings are resumed at start-up. See README.md.
import { randomUUID } from 'node:crypto';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { EventSourceMappingConfiguration } from '../api/generated/types.js';
import { presentMapping, userReason, type MappingLifecycle, type StoredMappingConfig } from './mapping.js';
import type { FunctionRuntimeConfig, InvokeRequest, InvokeResult } from '../invoke/types.js';
import { Destinations } from '../queue/destinations.js';
import type { AwsClientOptions, AwsServices } from '../shared/config.js';
import { parseArn } from '../shared/arn.js';
import type { QueueFunctions } from '../queue/async-queue.js';
import type { Clock } from '../shared/clock.js';
import { errors, isLambdaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Store, StoredEventSourceMapping } from '../store/types.js';
import { pollerFactories as defaultFactories, sourceKind, type SourceKind } from './sources.js';
import type { BatchOutcome, MappingView, PollerContext, PollerFactory } from './types.js';
import { invocationTraceHeader } from '../shared/recursion.js';
import { functionArn } from '../shared/arn.js';

export interface ManagerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly functions: QueueFunctions;
  readonly engine: { invoke(config: FunctionRuntimeConfig, request: InvokeRequest): Promise<InvokeResult> };
  /** The sources' services and the OnFailure destinations'. */
  readonly aws: AwsServices;
  /** Pollers by source kind; tests pass fakes. */
  readonly factories?: Record<SourceKind, PollerFactory>;
}

interface Running {
  stopped: boolean;
  readonly done: Promise<void>;
  view: MappingView;
  /** The stored config the poller was started with: a change to it restarts the poller. */
  readonly startedWith: string;
}


/** Stable members of the stored config: a change of any other member (State, LastModified, ...) does not restart a poller. */
function pollerSettings(config: StoredEventSourceMapping['config']): string {
  const { State: _s, StateTransitionReason: _r, LastModified: _l, LastProcessingResult: _p, Enabled: _e, ...rest } = config as StoredMappingConfig & Record<string, unknown>;
  return JSON.stringify(rest);
}

/** A batch's invocation that returned: its function either succeeded or failed. */
export function resultOutcome(result: InvokeResult): BatchOutcome {
  if (result.functionError) return { kind: 'function-error', result, executedVersion: result.executedVersion };
  return { kind: 'ok', result, executedVersion: result.executedVersion };
}

/**
 * A batch's invocation that threw, while resolving the function or invoking it. A function that is gone
 * or denied, or an invoke the API refuses (4xx), is fatal: retrying cannot help. Throttles, a function
 * not ready yet (Pending) and our own failures are retried, so no batch is lost to them.
 */
export function errorOutcome(e: unknown, phase: 'resolve' | 'invoke'): BatchOutcome {
  if (phase === 'resolve') {
    if (isLambdaError(e) && (e.code === 'ResourceNotFoundException' || e.code === 'AccessDeniedException')) return { kind: 'fatal', message: e.message };
    return { kind: 'throttled', reason: (e as Error).message };
  }
  if (isLambdaError(e) && e.code === 'TooManyRequestsException') return { kind: 'throttled', reason: String(e.fields['Reason'] ?? e.message) };
  // A batch stopped by recursive loop detection failed without running: its messages stay in the queue
  // and reach the queue's dead-letter queue through its redrive policy, as failed batches do. (AWS says
  // the event is stopped, not how an SQS source settles it; this is the strict reading.)
  if (isLambdaError(e) && e.code === 'RecursiveInvocationException') {
    const payload = Buffer.from(JSON.stringify({ errorType: e.code, errorMessage: e.message }));
    return { kind: 'function-error', result: { requestId: '', executedVersion: '$LATEST', payload, functionError: 'Unhandled' }, executedVersion: '$LATEST' };
  }
  if (isLambdaError(e) && e.status < 500) return { kind: 'fatal', message: `${e.code}: ${e.message}` };
  return { kind: 'throttled', reason: (e as Error).message };
}

export class EventSourceMappingManager implements MappingLifecycle {
  readonly #o: ManagerOptions;
  readonly #factories: Record<SourceKind, PollerFactory>;
  readonly #running = new Map<string, Running>();
  /** Per-mapping chain, so reconciling one mapping never races itself. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #destinations: Destinations;
  /** No new work once closing; the store is left alone once closed. */
  #closing = false;
  #closed = false;
  #started = false;
  /** Counters for bench/ and tests. */
  readonly stats = { batches: 0, records: 0, throttled: 0 };

  constructor(options: ManagerOptions) {
    this.#o = options;
    this.#factories = options.factories ?? defaultFactories;
    this.#destinations = new Destinations(options.aws, async (arn) => {
      throw new Error(`a Lambda function (${arn}) is not an OnFailure destination of an event source mapping`);
    });
  }

  awsFor(kind: SourceKind): AwsClientOptions {
    const a = this.#o.aws;
    return kind === 'sqs' ? a.sqs : kind === 'kinesis' ? a.kinesis : a.dynamodbstreams;
  }

  /** Resumes every mapping the store holds: enabled ones poll again, half-done changes are finished. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const m of this.#o.store.allEventSourceMappings()) {
      if (m.config['State'] === 'Deleting') this.deleted(m.uuid);
      else this.changed(m.uuid);
    }
  }

  async checkSource(kind: SourceKind, arn: string): Promise<void> {

    const parsed = parseArn(arn);
    if (!parsed) throw errors.invalidParameter('Unrecognized event source.');
    const common = { region: parsed.region, maxAttempts: 2, ...this.awsFor(kind) };
    try {
      if (kind === 'sqs') {
        const client = new SQSClient(common);
        try {
          await client.send(new GetQueueUrlCommand({ QueueName: parsed.resource, QueueOwnerAWSAccountId: parsed.accountId }));
        } finally {
          client.destroy();
        }
      } else if (kind === 'kinesis') {
        // The Kinesis client speaks HTTP/2 by default (for SubscribeToShard); emulators speak HTTP/1.1.
        const client = new KinesisClient({ ...common, requestHandler: new NodeHttpHandler() });
        try {
          await client.send(new DescribeStreamSummaryCommand({ StreamName: parsed.resource.replace(/^stream\//, '') }));
        } finally {
          client.destroy();
        }
      } else {
        const client = new DynamoDBStreamsClient(common);
        try {
          await client.send(new DescribeStreamCommand({ StreamArn: arn, Limit: 1 }));
        } finally {
          client.destroy();
        }
      }
    } catch (e) {
      const name = (e as Error).name;
      if (kind === 'sqs' && (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue')) {
        throw errors.invalidParameter(`Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: ${(e as Error).message}`);
      }
      if (kind !== 'sqs' && name === 'ResourceNotFoundException') throw errors.invalidParameter(`Stream not found: ${arn}`);
      // The source's service cannot be reached (no endpoint, no credentials, down): the mapping is
      // accepted and its poller reports the problem, rather than refusing offline work.
      this.#o.logger.warn(`event source mapping: could not check ${arn}: ${name}: ${(e as Error).message}`);
    }
  }

  changed(uuid: string): void {
    this.#enqueue(uuid, () => this.#reconcile(uuid));
  }

  deleted(uuid: string): void {
    this.#enqueue(uuid, async () => {
      await this.#stop(uuid);
      if (!this.#closed) this.#o.store.deleteEventSourceMapping(uuid);
    });
  }

  #enqueue(uuid: string, work: () => Promise<void>): void {
    const prev = this.#chains.get(uuid) ?? Promise.resolve();
    const next = prev.then(() => (this.#closing ? undefined : work())).catch((e) => this.#o.logger.error(`event source mapping ${uuid}`, e));
    this.#chains.set(uuid, next);
    void next.finally(() => {
      if (this.#chains.get(uuid) === next) this.#chains.delete(uuid);
    });
  }

  /** Brings the poller in line with the stored mapping, then records the stable state. */
  async #reconcile(uuid: string): Promise<void> {
    const m = this.#o.store.getEventSourceMapping(uuid);
    if (!m) return this.#stop(uuid);
    const config = m.config as StoredMappingConfig & Record<string, unknown>;
    const state = config['State'];
    if (state === 'Deleting') return;
    const want = config.Enabled && state !== 'Disabled';
    const running = this.#running.get(uuid);
    const settings = pollerSettings(m.config);
    if (running && (!want || running.startedWith !== settings)) await this.#stop(uuid);
    if (want && !this.#running.has(uuid)) this.#startPoller(m, settings);
    else if (want) this.#running.get(uuid)!.view = this.#view(m);
    const stable = want ? 'Enabled' : 'Disabled';
    if (state !== stable) this.#patch(uuid, { State: stable });
  }

  #view(m: StoredEventSourceMapping): MappingView {
    return { uuid: m.uuid, accountId: m.accountId, region: m.region, config: presentMapping(m) };
  }

  /** Changes members of the stored mapping (not a user change: LastModified stays). */
  #patch(uuid: string, changes: Record<string, unknown>): void {
    if (this.#closed) return;
    const m = this.#o.store.getEventSourceMapping(uuid);
    if (!m) return;
    const next = { ...m, config: { ...m.config, ...changes } };
    this.#o.store.putEventSourceMapping(next);
    const r = this.#running.get(uuid);
    if (r) r.view = this.#view(next);
  }

  #startPoller(m: StoredEventSourceMapping, settings: string): void {
    const kind = sourceKind(m.config.EventSourceArn);
    if (!kind) {
      this.#o.logger.warn(`event source mapping ${m.uuid}: no poller for ${m.config.EventSourceArn}`);
      return;
    }
    const uuid = m.uuid;
    let lastResult = typeof m.config['LastProcessingResult'] === 'string' ? m.config['LastProcessingResult'] : undefined;
    const entry: { running?: Running } = {};
    const ctx: PollerContext = {
      mapping: () => entry.running?.view ?? this.#view(m),
      clock: this.#o.clock,
      logger: this.#o.logger,
      aws: this.awsFor(kind),
      invoke: (payload, traceHeader) => this.#invoke(entry.running?.view ?? this.#view(m), payload, traceHeader),
      checkpoints: {
        get: (shardId) => this.#o.store.getStreamCheckpoint(uuid, shardId),
        put: (shardId, seq) => {
          if (!this.#closed) this.#o.store.putStreamCheckpoint(uuid, shardId, seq);
        },
      },
      sendOnFailure: async (record) => {
        const target = (entry.running?.view ?? this.#view(m)).config.DestinationConfig?.OnFailure?.Destination;
        if (!target) return;
        await this.#destinations.send({ target, body: JSON.stringify(record) });
      },
      setLastProcessingResult: (result) => {
        if (result === lastResult) return;
        lastResult = result;
        this.#patch(uuid, { LastProcessingResult: result });
      },
      stopped: () => this.#closing || (entry.running?.stopped ?? false),
    };
    const poller = this.#factories[kind](ctx);
    const done = Promise.resolve()
      .then(() => poller.run())
      .catch((e) => this.#o.logger.error(`event source mapping ${uuid}: poller failed`, e));
    entry.running = { stopped: false, done, view: this.#view(m), startedWith: settings };
    this.#running.set(uuid, entry.running);
  }

  async #stop(uuid: string): Promise<void> {
    const r = this.#running.get(uuid);
    if (!r) return;
    r.stopped = true;
    await r.done;
    this.#running.delete(uuid);
  }

  /** One synchronous invocation of the mapped function, its failures turned into data for the poller. */
  async #invoke(view: MappingView, payload: Buffer, traceHeader: string | undefined): Promise<BatchOutcome> {
    const { functions, engine } = this.#o;
    const config: EventSourceMappingConfiguration = view.config;
    let resolved: ReturnType<QueueFunctions['resolveForInvoke']>;
    try {
      resolved = functions.resolveForInvoke(config.FunctionArn!, undefined, { accountId: view.accountId, region: view.region });
    } catch (e) {
      return this.#settle(view, errorOutcome(e, 'resolve'));
    }
    const qualifier = config.FunctionArn!.split(':')[7];
    try {
      const result = await engine.invoke(functions.runtimeConfig(resolved.fn, resolved.version), {
        requestId: randomUUID(),
        traceId: invocationTraceHeader(traceHeader, functionArn(resolved.fn.region, resolved.fn.accountId, resolved.fn.name), this.#o.clock.now()),
        payload,
        invokedFunctionArn: resolved.invokedArn,
        tailLog: false,
        ...(qualifier !== undefined ? { qualifier } : {}),
      });
      this.stats.batches++;
      return resultOutcome(result);
    } catch (e) {
      if (isLambdaError(e) && e.code === 'TooManyRequestsException') this.stats.throttled++;
      return this.#settle(view, errorOutcome(e, 'invoke'));
    }
  }

  #settle(view: MappingView, outcome: BatchOutcome): BatchOutcome {
    return outcome.kind === 'fatal' ? this.#fatal(view, outcome.message) : outcome;
  }

  /**
   * The function cannot be invoked at all (deleted, bad runtime): the mapping is disabled with the
   * problem as its LastProcessingResult, and its records stay in the source.
   */
  #fatal(view: MappingView, message: string): BatchOutcome {
    const uuid = view.uuid;
    const kind = sourceKind(view.config.EventSourceArn ?? '');
    this.#o.logger.warn(`event source mapping ${uuid}: disabled: ${message}`);
    this.#patch(uuid, { LastProcessingResult: `PROBLEM: ${message}`, Enabled: false, State: 'Disabling', StateTransitionReason: kind ? userReason(kind) : 'User action' });
    const r = this.#running.get(uuid);
    if (r) r.stopped = true;
    this.changed(uuid);
    return { kind: 'fatal', message };
  }

  /** Stops every poller (they finish their in-flight batches). Mappings stay as stored, for the next start. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const all = [...this.#running.values()];
    for (const r of all) r.stopped = true;
    await Promise.all(all.map((r) => r.done));
    await Promise.all([...this.#chains.values()]);
    this.#closed = true;
    this.#running.clear();
    this.#destinations.close();
  }
}
