// The pollers' progress on `node:diagnostics_channel` (as undici publishes its request lifecycle), so
// tests and tools follow a poller by its events instead of guessing with time: one message per read of
// the source, one per invocation of the mapped function with a batch. Publishing costs nothing while
// nobody subscribes.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { BatchOutcome } from './types.js';

export const POLL_CHANNEL = 'lambdalite:poller:poll';
export const BATCH_CHANNEL = 'lambdalite:poller:batch';

/** One read of the source (an SQS ReceiveMessage, a stream shard's GetRecords) has returned. */
export interface PollMessage {
  /** The mapping's UUID. */
  readonly uuid: string;
  readonly shardId?: string;
  /** Records this read returned. */
  readonly records: number;
  /**
   * Records read earlier whose batch is not finished yet (SQS: batches in flight; streams: records
   * not checkpointed). An empty read with nothing unfinished means the poller has caught up.
   */
  readonly unfinished: number;
}

/** An invocation of the mapped function with a batch returned (or the filters dropped a batch whole). */
export interface BatchMessage {
  readonly uuid: string;
  readonly shardId?: string;
  /** Records the poller received for this batch (before filtering). */
  readonly records: number;
  readonly outcome: BatchOutcome['kind'] | 'filtered';
}

const pollChannel = diagnosticsChannel.channel(POLL_CHANNEL);
const batchChannel = diagnosticsChannel.channel(BATCH_CHANNEL);

export function publishPoll(message: PollMessage): void {
  if (pollChannel.hasSubscribers) pollChannel.publish(message);
}

export function publishBatch(message: BatchMessage): void {
  if (batchChannel.hasSubscribers) batchChannel.publish(message);
}
