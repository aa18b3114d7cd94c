// Which poller reads which kind of event source. The manager (manager.ts) looks a mapping's source kind
// up here; each source's file exports one PollerFactory (see types.ts for the contract).
import type { PollerFactory } from './types.js';
import { createSqsPoller } from './sqs.js';
import { createKinesisPoller } from './kinesis.js';
import { createDynamoDbStreamsPoller } from './dynamodb-streams.js';

export const sourceKinds = ['sqs', 'kinesis', 'dynamodb'] as const;
export type SourceKind = (typeof sourceKinds)[number];

export const pollerFactories: Record<SourceKind, PollerFactory> = {
  sqs: createSqsPoller,
  kinesis: createKinesisPoller,
  dynamodb: createDynamoDbStreamsPoller,
};

/**
 * The kind of source an EventSourceArn names, or undefined for sources lambdalite does not poll.
 * DynamoDB Streams ARNs are DynamoDB table ARNs with a `/stream/<label>` suffix.
 */
export function sourceKind(arn: string): SourceKind | undefined {
  const service = arn.split(':')[2];
  if (service === 'sqs') return 'sqs';
  if (service === 'kinesis') return 'kinesis';
  if (service === 'dynamodb' && /:table\/[^/]+\/stream\/.+$/.test(arn)) return 'dynamodb';
  return undefined;
}
