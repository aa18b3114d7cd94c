// The contract between the event source mapping manager (src/events/manager.ts), which owns mappings'
// lifecycle and the shared plumbing, and the pollers, one file per source (sqs.ts, kinesis.ts,
// dynamodb-streams.ts). A poller reads its source and hands batches to `ctx.invoke`; everything it
// needs from the rest of lambdalite comes through PollerContext, so pollers never touch the store,
// the engine or the API directly.
import type { EventSourceMappingConfiguration } from '../api/generated/types.js';
import type { InvokeResult } from '../invoke/types.js';
import type { Clock } from '../shared/clock.js';
import type { AwsClientOptions } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';

/** A mapping as the API reports it, plus the scope it lives in. */
export interface MappingView {
  readonly uuid: string;
  readonly accountId: string;
  readonly region: string;
  /** The API's view (UUID, EventSourceArn, FunctionArn, BatchSize, StartingPosition, FilterCriteria, ...). */
  readonly config: EventSourceMappingConfiguration;
}

/** The outcome of one synchronous invocation of the mapped function with one batch. */
export type BatchOutcome =
  | { readonly kind: 'ok'; readonly result: InvokeResult; readonly executedVersion: string }
  /** The function failed (FunctionError set): retry, bisect or give up per the mapping's settings. */
  | { readonly kind: 'function-error'; readonly result: InvokeResult; readonly executedVersion: string }
  /** Throttled (TooManyRequestsException) or another retryable system error: the batch is retried, never lost. */
  | { readonly kind: 'throttled'; readonly reason: string }
  /** The function is gone or cannot be invoked (deleted, bad runtime): the manager disables the mapping. */
  | { readonly kind: 'fatal'; readonly message: string };

export interface PollerContext {
  readonly mapping: () => MappingView;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How the source's AWS service is reached (configuration: --aws-endpoint and per-service overrides). */
  readonly aws: AwsClientOptions;
  /** Invokes the mapped function synchronously with `payload` (a JSON event); counts against concurrency. */
  /** `traceHeader`: the records' AWSTraceHeader (SQS), whose lineage the invocation continues. */
  invoke(payload: Buffer, traceHeader?: string): Promise<BatchOutcome>;
  /** Durable checkpoints per shard (streams): survive restarts. */
  readonly checkpoints: {
    get(shardId: string): string | undefined;
    put(shardId: string, sequenceNumber: string): void;
  };
  /** Sends an OnFailure destination record (SQS/SNS/...) as AWS shapes it for this source. */
  sendOnFailure(record: Record<string, unknown>): Promise<void>;
  /** Reports what the last batch did, for LastProcessingResult ("OK", "No records processed", ...). */
  setLastProcessingResult(result: string): void;
  /** True once the manager wants this poller to stop (disable, delete, shutdown). */
  readonly stopped: () => boolean;
}

export interface Poller {
  /** Runs until ctx.stopped() turns true; resolves after in-flight batches finished. */
  run(): Promise<void>;
}

export type PollerFactory = (ctx: PollerContext) => Poller;
