// Drives a stream poller directly: a PollerContext whose invoke runs a real function on the real server
// (through @aws-sdk/client-lambda), whose OnFailure records go to a real queue on moto_server through
// the async queue's Destinations, and whose checkpoints are a Map the test can keep across runs.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { EventSourceMappingConfiguration } from '../../src/api/generated/types.js';
import type { BatchOutcome, PollerContext, PollerFactory } from '../../src/events/types.js';
import { Destinations } from '../../src/queue/destinations.js';
import { systemClock, type Clock } from '../../src/shared/clock.js';
import { createLogger } from '../../src/shared/logger.js';
import { errorOutcome, resultOutcome } from '../../src/events/manager.js';
import { LambdaError } from '../../src/shared/errors.js';

/** The error an SDK call raised, as the LambdaError the server threw (code, status, Reason). */
function fromWire(e: unknown): unknown {
  const err = e as Error & { $metadata?: { httpStatusCode?: number }; Reason?: string };
  const status = err.$metadata?.httpStatusCode;
  if (status === undefined) return e;
  return new LambdaError(err.name, err.message, { status, fields: err.Reason !== undefined ? { Reason: err.Reason } : {} });
}

export interface Invocation {
  readonly event: { Records: Array<Record<string, any>>; [k: string]: any };
  readonly outcome: BatchOutcome['kind'];
  readonly response: any;
}

export interface HarnessRun {
  readonly invocations: Invocation[];
  readonly results: string[];
  /** Most batches in flight at once. */
  readonly maxInFlight: () => number;
  stop(): Promise<void>;
  /** Resolves once the poller's run() returned. */
  readonly done: Promise<void>;
}

export interface HarnessOptions {
  readonly factory: PollerFactory;
  readonly client: LambdaClient;
  readonly functionName: string;
  readonly functionArn: string;
  readonly endpoint: string;
  readonly config: EventSourceMappingConfiguration;
  readonly checkpoints: Map<string, string>;
  readonly clock?: Clock;
  /** Stop after this many invocations returned (the in-flight ones finish, no new ones start). */
  readonly stopAfter?: number;
}

export function runPoller(o: HarnessOptions): HarnessRun {
  let stopped = false;
  let inFlight = 0;
  let maxInFlight = 0;
  const invocations: Invocation[] = [];
  const results: string[] = [];
  const destinations = new Destinations({ sqs: o.endpoint, sns: o.endpoint, events: o.endpoint }, async () => {});
  const config: EventSourceMappingConfiguration = { UUID: 'test-mapping', FunctionArn: o.functionArn, ...o.config };
  const ctx: PollerContext = {
    mapping: () => ({ uuid: 'test-mapping', accountId: '000000000000', region: 'us-east-1', config }),
    clock: o.clock ?? systemClock,
    logger: createLogger(process.stderr, true),
    endpoint: o.endpoint,
    async invoke(payload) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let outcome: BatchOutcome;
      let response: any;
      try {
        // The invocation goes through the real API; its answer is classified by the manager's own rules.
        const r = await o.client.send(new InvokeCommand({ FunctionName: o.functionName, Payload: payload }));
        const result = { requestId: r.$metadata.requestId ?? '', executedVersion: r.ExecutedVersion ?? '$LATEST', payload: Buffer.from(r.Payload ?? []), ...(r.FunctionError ? { functionError: r.FunctionError as 'Unhandled' } : {}) };
        try { response = JSON.parse(result.payload.toString()); } catch { response = undefined; }
        outcome = resultOutcome(result);
      } catch (e) {
        outcome = errorOutcome(fromWire(e), 'invoke');
      } finally {
        inFlight--;
      }
      invocations.push({ event: JSON.parse(payload.toString()), outcome: outcome.kind, response });
      if (o.stopAfter !== undefined && invocations.length >= o.stopAfter) stopped = true;
      return outcome;
    },
    checkpoints: {
      get: (shardId) => o.checkpoints.get(shardId),
      put: (shardId, seq) => { o.checkpoints.set(shardId, seq); },
    },
    async sendOnFailure(record) {
      await destinations.send({ target: config.DestinationConfig!.OnFailure!.Destination!, body: JSON.stringify(record) });
    },
    setLastProcessingResult: (r) => { results.push(r); },
    stopped: () => stopped,
  };
  const done = o.factory(ctx).run().finally(() => destinations.close());
  return {
    invocations,
    results,
    maxInFlight: () => maxInFlight,
    async stop() {
      stopped = true;
      await done;
    },
    done,
  };
}

export async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A function that fails any batch holding a record whose data (or NewImage.v) says "poison". */
export const HANDLER = `
const body = (r) => r.kinesis ? Buffer.from(r.kinesis.data, 'base64').toString() : (r.dynamodb.NewImage?.v?.S ?? '');
const seq = (r) => r.kinesis ? r.kinesis.sequenceNumber : r.dynamodb.SequenceNumber;
exports.handler = async (event) => {
  if (event.window) {
    const state = event.state || {};
    return { state: { count: (state.count || 0) + event.Records.length } };
  }
  const bodies = event.Records.map(body);
  if (bodies.some((b) => b.includes('poison'))) throw new Error('poison record');
  const failed = event.Records.filter((r) => body(r).includes('bad')).map((r) => ({ itemIdentifier: seq(r) }));
  if (bodies.some((b) => b.includes('slow'))) await new Promise((r) => setTimeout(r, 150));
  return failed.length ? { batchItemFailures: failed } : { ok: bodies.length };
};`;
