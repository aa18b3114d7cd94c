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
import { errorRegistry, LambdaError, type ErrorCode } from '../../src/shared/errors.js';
import { POLL_CHANNEL, type PollMessage } from '../../src/events/diagnostics.js';
import { nextMessage } from '../helpers/wait.js';
import { WAIT_ON_GATE } from '../helpers/gate.js';

/** The error an SDK call raised, as the LambdaError the server threw (its code, status and Reason). */
function fromWire(e: unknown): unknown {
  const err = e as Error & { $metadata?: { httpStatusCode?: number }; Reason?: string };
  const status = err.$metadata?.httpStatusCode;
  const code = (Object.keys(errorRegistry) as ErrorCode[]).find((c) => {
    const spec: { type?: string; status: number } = errorRegistry[c];
    return (spec.type ?? c) === err.name && spec.status === status;
  });
  if (code === undefined) return e;
  return new LambdaError(code, { message: err.message } as never, { fields: err.Reason !== undefined ? { Reason: err.Reason } : {} });
}

export interface Invocation {
  readonly event: { Records: Array<Record<string, any>>; [k: string]: any };
  readonly outcome: BatchOutcome['kind'];
  readonly response: any;
}

export interface HarnessRun {
  /** The mapping UUID the poller's diagnostics messages carry; unique per run. */
  readonly uuid: string;
  readonly invocations: Invocation[];
  readonly results: string[];
  /** Most batches in flight at once. */
  readonly maxInFlight: () => number;
  stop(): Promise<void>;
  /** Resolves once the poller's run() returned. */
  readonly done: Promise<void>;
  /** Resolves at the poller's next read of the source. */
  polled(): Promise<PollMessage>;
  /** Resolves at the next read that finds nothing new while every batch read before is finished. */
  caughtUp(): Promise<PollMessage>;
}

let runs = 0;

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
  const aws = { endpoint: o.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const destinations = new Destinations({ sqs: aws, sns: aws, events: aws }, async () => {});
  const uuid = `test-mapping-${process.pid}-${++runs}`;
  const config: EventSourceMappingConfiguration = { UUID: uuid, FunctionArn: o.functionArn, ...o.config };
  const ctx: PollerContext = {
    mapping: () => ({ uuid, accountId: '000000000000', region: 'us-east-1', config }),
    clock: o.clock ?? systemClock,
    logger: createLogger(process.stderr, true),
    aws,
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
    uuid,
    invocations,
    results,
    maxInFlight: () => maxInFlight,
    async stop() {
      stopped = true;
      await done;
    },
    done,
    polled: () => nextMessage<PollMessage>(POLL_CHANNEL, (m) => m.uuid === uuid, { message: `a read by poller ${uuid}` }),
    caughtUp: () => caughtUp(uuid),
  };
}

/** Resolves at mapping `uuid`'s next read that finds nothing new while every batch read before is finished. */
export function caughtUp(uuid: string): Promise<PollMessage> {
  return nextMessage<PollMessage>(POLL_CHANNEL, (m) => m.uuid === uuid && m.records === 0 && m.unfinished === 0, { message: `poller ${uuid} to catch up` });
}

/**
 * A function that fails any batch holding a record whose data (or NewImage.v) says "poison", reports
 * records saying "bad" as failed items, and holds batches with "slow" records at the gate named by its
 * GATE variable.
 */
export const HANDLER = `
${WAIT_ON_GATE}
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
  if (bodies.some((b) => b.includes('slow'))) await waitOnGate(process.env.GATE);
  return failed.length ? { batchItemFailures: failed } : { ok: bodies.length };
};`;
