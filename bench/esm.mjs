#!/usr/bin/env node
// Event source mapping benchmark: records per second from a source through a mapping to a no-op
// Node.js function. One function per source; each prints its figures. The peer is moto_server (its
// own per-request cost is part of the figure: every receive and delete is a round trip to it, and
// moto's ReceiveMessage slows with the queue's length, so the SQS floor line drains a queue bare).
//
//   node bench/esm.mjs [--records N] [--batch B] [--concurrency C]
//                      [--kinesis-records N] [--kinesis-batch B] [--shards S] [--parallel P]
//
// Needs moto_server on PATH. Runs the built server (dist/) in this process on a temporary data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { makeZip } from '../dist/test/helpers/zip.js';
import { startServer } from '../dist/src/server.js';
import { parseOptions } from '../dist/src/shared/config.js';
import { createLogger } from '../dist/src/shared/logger.js';
import { awsOptions, startMoto } from '../dist/test/helpers/moto.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const N = arg('--records', 1000);
const B = arg('--batch', 10);
const C = arg('--concurrency', 5);
const KN = arg('--kinesis-records', 20000);
const KB = arg('--kinesis-batch', 100);
const KS = arg('--shards', 2);
const KP = arg('--parallel', 1);

const line = (k, v) => console.log(`${k.padEnd(48)} ${v}`);

/** A Node.js package whose index.js is `source`. */
const zip = (source) => makeZip([{ name: 'index.js', content: source }]);

/** N messages already in a queue, then a mapping: time until the queue is empty (every batch deleted). */
async function benchSqs({ moto, client }) {
  const sqs = new SQSClient(awsOptions(moto.url));
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-esm' }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
    let sent = 0;
    const s0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (sent < N) {
        const n = Math.min(10, N - sent);
        sent += n;
        await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: n }, (_, i) => ({ Id: String(i), MessageBody: '{"k":"v"}' })) }));
      }
    }));
    const sendMs = performance.now() - s0;
    // The peer's own floor: a bare receive + delete loop draining another queue of N messages.
    const floor = (await sqs.send(new CreateQueueCommand({ QueueName: 'bench-esm-floor' }))).QueueUrl;
    for (let i = 0; i < N; i += 10) {
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: floor, Entries: Array.from({ length: Math.min(10, N - i) }, (_, j) => ({ Id: String(j), MessageBody: '{"k":"v"}' })) }));
    }
    const f0 = performance.now();
    for (let got = 0; got < N;) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: floor, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const ms = r.Messages ?? [];
      got += ms.length;
      if (ms.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: floor, Entries: ms.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })) }));
    }
    const floorMs = performance.now() - f0;
    const remaining = async () => {
      const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes;
      return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
    };
    const t0 = performance.now();
    await client.send(new CreateEventSourceMappingCommand({
      FunctionName: 'noop', EventSourceArn: arn, BatchSize: B,
      ...(B > 10 ? { MaximumBatchingWindowInSeconds: 1 } : {}),
      ...(C !== 5 ? { ScalingConfig: { MaximumConcurrency: C } } : {}),
    }));
    for (let left = await remaining(); left > 0; left = await remaining()) {
      // Polled gently: moto serves these attribute calls on the same thread as the mapping's receives.
      await new Promise((r) => setTimeout(r, 200));
    }
    const ms = performance.now() - t0;
    line('SQS records', N);
    line('SQS batch size / batches in flight', `${B} / ${C}`);
    line('SQS floor: moto SendMessageBatch records/s', Math.round(N / (sendMs / 1000)));
    line('SQS floor: bare moto receive+delete records/s', Math.round(N / (floorMs / 1000)));
    line('SQS records/s through the mapping (moto peer)', Math.round(N / (ms / 1000)));
    line('SQS all deleted after ms', Math.round(ms));
  } finally {
    sqs.destroy();
  }
}

/**
 * KN records already in a stream of KS shards, then a TRIM_HORIZON mapping: time until every shard's
 * checkpoint (in the store) reached the last record put. moto's GetRecords scans a shard from its start
 * on every call, so the figure is bounded by moto, not by the poller.
 */
async function benchKinesis({ moto, client, server }) {
  // The Kinesis client defaults to HTTP/2, which moto_server does not speak.
  const kinesis = new KinesisClient({ ...awsOptions(moto.url), requestHandler: new NodeHttpHandler() });
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'bench-esm', ShardCount: KS }));
    const arn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'bench-esm' }))).StreamDescriptionSummary.StreamARN;
    const last = new Map(); // shardId -> last sequence number put
    const data = Buffer.from('{"k":"v"}');
    for (let i = 0; i < KN; i += 500) {
      const entries = Array.from({ length: Math.min(500, KN - i) }, (_, j) => ({ PartitionKey: `key-${(i + j) % 64}`, Data: data }));
      const r = await kinesis.send(new PutRecordsCommand({ StreamARN: arn, Records: entries }));
      for (const e of r.Records) if (e.SequenceNumber) last.set(e.ShardId, e.SequenceNumber);
    }
    const t0 = performance.now();
    const m = await client.send(new CreateEventSourceMappingCommand({
      FunctionName: 'noop', EventSourceArn: arn, StartingPosition: 'TRIM_HORIZON', BatchSize: KB, ParallelizationFactor: KP,
    }));
    const done = () => [...last].every(([shard, seq]) => server.store.getStreamCheckpoint(m.UUID, shard) === seq);
    while (!done()) {
      if (performance.now() - t0 > 600_000) throw new Error('Kinesis: timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
    const ms = performance.now() - t0;
    line('Kinesis records', KN);
    line('Kinesis shards / batch size / parallelization', `${KS} / ${KB} / ${KP}`);
    line('Kinesis records/s through mapping (moto peer)', Math.round(KN / (ms / 1000)));
    line('Kinesis all checkpointed after ms', Math.round(ms));
  } finally {
    kinesis.destroy();
  }
}

const moto = await startMoto();
const dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-bench-esm-'));
const server = await startServer(parseOptions([], {}, { port: 0, dataDir, awsEndpoint: moto.url }), { logger: createLogger(process.stderr, true) });
const client = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
try {
  await client.send(new CreateFunctionCommand({
    FunctionName: 'noop', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler',
    Code: { ZipFile: await zip('exports.handler = async () => null;') },
  }));
  await benchSqs({ moto, client });
  await benchKinesis({ moto, client, server });
} finally {
  client.destroy();
  await server.close();
  await moto.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
