// DynamoDB Streams poller: DescribeStream, GetShardIterator and GetRecords against the mapping's table
// stream (AWS, or --aws-endpoint / the DynamoDB Streams override), each record shaped as AWS's
// `aws:dynamodb` event record. Batching, retries and checkpoints are the shared stream loop's.
import {
  DescribeStreamCommand, DynamoDBStreamsClient, ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand,
  type AttributeValue, type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { Poller, PollerContext, PollerFactory } from './types.js';
import { StreamPoller, type IteratorPosition, type RecordsPage, type ShardDescription, type StreamRecord, type StreamSource } from './streams.js';
import { parseArn } from '../shared/arn.js';


type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The SDK decodes attribute values (binary as bytes); the Lambda event carries DynamoDB's JSON (binary as base64). */
function attributeJson(v: AttributeValue): Json {
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.B !== undefined) return { B: Buffer.from(v.B).toString('base64') };
  if (v.SS !== undefined) return { SS: v.SS };
  if (v.NS !== undefined) return { NS: v.NS };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (v.M !== undefined) return { M: itemJson(v.M) };
  if (v.L !== undefined) return { L: v.L.map(attributeJson) };
  if (v.NULL !== undefined) return { NULL: v.NULL };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  return {};
}

function itemJson(item: Record<string, AttributeValue>): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(item)) out[k] = attributeJson(v);
  return out;
}

export function dynamoDbStreamsSource(ctx: PollerContext): StreamSource {
  const view = ctx.mapping();
  const streamArn = view.config.EventSourceArn ?? '';
  const region = parseArn(streamArn)?.region ?? view.region;
  const client = new DynamoDBStreamsClient({ region, ...ctx.aws });
  return {
    serviceName: 'DynamoDB Streams',
    batchInfoKey: 'DDBStreamBatchInfo',
    maxGetRecordsLimit: 1000,

    async listShards(): Promise<ShardDescription[]> {
      const out: ShardDescription[] = [];
      let start: string | undefined;
      do {
        const r = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }));
        const d = r.StreamDescription;
        if (d?.StreamStatus && d.StreamStatus !== 'ENABLED' && d.StreamStatus !== 'ENABLING') {
          throw Object.assign(new Error(`stream ${streamArn} is ${d.StreamStatus}`), { name: 'StreamNotEnabled' });
        }
        for (const s of d?.Shards ?? []) {
          if (!s.ShardId) continue;
          out.push({
            shardId: s.ShardId,
            parentShardIds: s.ParentShardId ? [s.ParentShardId] : [],
            endingSequenceNumber: s.SequenceNumberRange?.EndingSequenceNumber,
          });
        }
        start = d?.LastEvaluatedShardId;
      } while (start);
      return out;
    },

    async getIterator(shardId: string, position: IteratorPosition): Promise<string> {
      // DynamoDB Streams has no AT_TIMESTAMP (CreateEventSourceMapping refuses it for DynamoDB).
      const type = position.type === 'AT_TIMESTAMP' ? 'LATEST' : position.type;
      const r = await client.send(new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: type as ShardIteratorType,
        ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: position.sequenceNumber } : {}),
      }));
      if (!r.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
      return r.ShardIterator;
    },

    async getRecords(_shardId: string, iterator: string, limit: number): Promise<RecordsPage> {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      const records: StreamRecord[] = [];
      for (const rec of r.Records ?? []) {
        const d = rec.dynamodb ?? {};
        const seq = d.SequenceNumber ?? '';
        const arrivalMs = d.ApproximateCreationDateTime?.getTime() ?? ctx.clock.now();
        const keys = d.Keys ? itemJson(d.Keys) : {};
        const dynamodb: Record<string, unknown> = { ApproximateCreationDateTime: arrivalMs / 1000, Keys: keys };
        if (d.NewImage) dynamodb['NewImage'] = itemJson(d.NewImage);
        if (d.OldImage) dynamodb['OldImage'] = itemJson(d.OldImage);
        dynamodb['SequenceNumber'] = seq;
        dynamodb['SizeBytes'] = d.SizeBytes;
        dynamodb['StreamViewType'] = d.StreamViewType;
        const event: Record<string, unknown> = {
          eventID: rec.eventID,
          eventName: rec.eventName,
          eventVersion: '1.1',
          eventSource: 'aws:dynamodb',
          awsRegion: region,
          dynamodb,
          eventSourceARN: streamArn,
        };
        // TTL deletions carry the service identity (Records[].userIdentity).
        if (rec.userIdentity) event['userIdentity'] = { type: rec.userIdentity.Type, principalId: rec.userIdentity.PrincipalId };
        records.push({ sequenceNumber: seq, partitionKey: JSON.stringify(keys), arrivalMs, event, size: JSON.stringify(event).length });
      }
      return { records, nextIterator: r.NextShardIterator ?? undefined };
    },

    isExpiredIterator: (e) => e instanceof ExpiredIteratorException || (e as Error)?.name === 'ExpiredIteratorException',
    // AWS's DDBStreamBatchInfo has whole seconds: 2019-11-14T00:13:19Z
    formatArrival: (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    close: () => client.destroy(),
  };
}

export const createDynamoDbStreamsPoller: PollerFactory = (ctx: PollerContext): Poller => new StreamPoller(ctx, dynamoDbStreamsSource(ctx));
