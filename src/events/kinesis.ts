// Kinesis Data Streams poller: ListShards, GetShardIterator and GetRecords against the mapping's
// stream (AWS, or --aws-endpoint / the Kinesis override), each record shaped as AWS's `aws:kinesis`
// event record. Batching, retries and checkpoints are the shared stream loop's (streams.ts).
import {
  ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Poller, PollerContext, PollerFactory } from './types.js';
import { StreamPoller, type IteratorPosition, type RecordsPage, type ShardDescription, type StreamRecord, type StreamSource } from './streams.js';
import { parseArn } from '../shared/arn.js';


export function kinesisSource(ctx: PollerContext): StreamSource {
  const view = ctx.mapping();
  const streamArn = view.config.EventSourceArn ?? '';
  const region = parseArn(streamArn)?.region ?? view.region;
  // The Kinesis client defaults to HTTP/2 (for SubscribeToShard), which plain-HTTP endpoints such as
  // moto_server do not speak; polling needs only HTTP/1.1.
  const client = new KinesisClient({ region, requestHandler: new NodeHttpHandler(), ...ctx.aws });
  const common = {
    kinesisSchemaVersion: '1.0',
  };
  return {
    serviceName: 'Kinesis',
    batchInfoKey: 'KinesisBatchInfo',
    maxGetRecordsLimit: 10_000,

    async listShards(): Promise<ShardDescription[]> {
      const out: ShardDescription[] = [];
      let token: string | undefined;
      do {
        // ListShards refuses StreamARN together with NextToken.
        const r = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamARN: streamArn }));
        for (const s of r.Shards ?? []) {
          if (!s.ShardId) continue;
          out.push({
            shardId: s.ShardId,
            parentShardIds: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p),
            endingSequenceNumber: s.SequenceNumberRange?.EndingSequenceNumber,
          });
        }
        token = r.NextToken;
      } while (token);
      return out;
    },

    async getIterator(shardId: string, position: IteratorPosition): Promise<string> {
      const r = await client.send(new GetShardIteratorCommand({
        StreamARN: streamArn,
        ShardId: shardId,
        ShardIteratorType: position.type as ShardIteratorType,
        ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { StartingSequenceNumber: position.sequenceNumber } : {}),
        ...(position.type === 'AT_TIMESTAMP' ? { Timestamp: position.timestamp } : {}),
      }));
      if (!r.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
      return r.ShardIterator;
    },

    async getRecords(shardId: string, iterator: string, limit: number): Promise<RecordsPage> {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit, StreamARN: streamArn }));
      const records: StreamRecord[] = [];
      for (const rec of r.Records ?? []) {
        const seq = rec.SequenceNumber ?? '';
        const arrivalMs = rec.ApproximateArrivalTimestamp?.getTime() ?? ctx.clock.now();
        const event = {
          kinesis: {
            ...common,
            partitionKey: rec.PartitionKey ?? '',
            sequenceNumber: seq,
            data: Buffer.from(rec.Data ?? new Uint8Array()).toString('base64'),
            approximateArrivalTimestamp: arrivalMs / 1000,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${shardId}:${seq}`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: invokeIdentityArn(ctx),
          awsRegion: region,
          eventSourceARN: streamArn,
        };
        records.push({ sequenceNumber: seq, partitionKey: rec.PartitionKey ?? '', arrivalMs, event, size: JSON.stringify(event).length });
      }
      return { records, nextIterator: r.NextShardIterator ?? undefined };
    },

    isExpiredIterator: (e) => e instanceof ExpiredIteratorException || (e as Error)?.name === 'ExpiredIteratorException',
    // AWS's KinesisBatchInfo carries milliseconds: 2019-11-14T00:38:04.835Z
    formatArrival: (ms) => new Date(ms).toISOString(),
    close: () => client.destroy(),
  };

}

/**
 * AWS puts the function's execution role here. The PollerContext does not carry the role, so
 * lambdalite names a role in the mapping's account (see the report on the contract).
 */
function invokeIdentityArn(ctx: PollerContext): string {
  return `arn:aws:iam::${ctx.mapping().accountId}:role/lambdalite-event-source-mapping`;
}

export const createKinesisPoller: PollerFactory = (ctx: PollerContext): Poller => new StreamPoller(ctx, kinesisSource(ctx));
