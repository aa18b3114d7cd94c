// The Kinesis poller against a real moto_server stream, invoking a real function on the real server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateEventSourceMappingCommand, CreateFunctionCommand, GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { functionLogLines } from '../helpers/logs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { awsOptions, createQueue, receive, startMoto, type Moto } from '../helpers/moto.js';
import { createKinesisPoller } from '../../src/events/kinesis.js';
import type { EventSourceMappingConfiguration } from '../../src/api/generated/types.js';
import { caughtUp, HANDLER, runPoller, type HarnessRun } from './stream-harness.js';
import { waitFor } from '../helpers/wait.js';
import { gate, type Gate } from '../helpers/gate.js';
import { systemClock } from '../../src/shared/clock.js';

describe('Kinesis poller (moto_server stream, real function)', () => {
  let moto: Moto;
  let t: TestServer;
  let kinesis: KinesisClient;
  let sqs: SQSClient;
  let functionArn: string;
  let streamNo = 0;
  let held: Gate;

  before(async () => {
    moto = await startMoto();
    kinesis = new KinesisClient({ ...awsOptions(moto.url), requestHandler: new NodeHttpHandler() });
    sqs = new SQSClient(awsOptions(moto.url));
    // The gate listens before the server starts, so every environment's network sees its port from the start.
    held = await gate();
    t = await startTestServer();
    const fn = await t.client.send(new CreateFunctionCommand({
      FunctionName: 'stream-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Timeout: 60,
      Environment: { Variables: { GATE: held.url } }, Code: { ZipFile: await nodeHandlerZip(HANDLER) },
    }));
    functionArn = fn.FunctionArn!;
  });
  after(async () => {
    await t?.close();
    await held?.close();
    kinesis?.destroy();
    sqs?.destroy();
    await moto?.stop();
  });

  const stream = async (shards = 1) => {
    const name = `s${++streamNo}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    return { name, arn: d.StreamDescriptionSummary!.StreamARN! };
  };
  const put = async (name: string, data: string, key = 'k') =>
    (await kinesis.send(new PutRecordCommand({ StreamName: name, PartitionKey: key, Data: Buffer.from(data) }))).SequenceNumber!;
  const start = (arn: string, config: EventSourceMappingConfiguration, checkpoints = new Map<string, string>(), extra: { stopAfter?: number; clock?: any } = {}): HarnessRun =>
    runPoller({ factory: createKinesisPoller, client: t.client, functionName: 'stream-fn', functionArn, endpoint: moto.url, checkpoints, config: { EventSourceArn: arn, StartingPosition: 'TRIM_HORIZON', ...config }, ...extra });
  const data = (r: Record<string, any>) => Buffer.from(r['kinesis'].data, 'base64').toString();

  it('delivers records in order in batches of BatchSize with AWS\'s event shape, and checkpoints the last', async () => {
    const s = await stream();
    const seqs: string[] = [];
    for (let i = 0; i < 25; i++) seqs.push(await put(s.name, `r${i}`));
    const checkpoints = new Map<string, string>();
    const run = start(s.arn, { BatchSize: 10 }, checkpoints);
    await waitFor(() => run.invocations.flatMap((i) => i.event.Records).length >= 25, { message: 'all records' });
    await run.stop();
    assert.deepEqual(run.invocations.map((i) => i.event.Records.length), [10, 10, 5]);
    assert.deepEqual(run.invocations.flatMap((i) => i.event.Records.map(data)), seqs.map((_, i) => `r${i}`));
    const r = run.invocations[0]!.event.Records[0]!;
    assert.deepEqual(Object.keys(r), ['kinesis', 'eventSource', 'eventVersion', 'eventID', 'eventName', 'invokeIdentityArn', 'awsRegion', 'eventSourceARN']);
    assert.equal(r['kinesis'].kinesisSchemaVersion, '1.0');
    assert.equal(r['kinesis'].partitionKey, 'k');
    assert.equal(r['kinesis'].sequenceNumber, seqs[0]);
    assert.equal(typeof r['kinesis'].approximateArrivalTimestamp, 'number');
    assert.ok(Math.abs(r['kinesis'].approximateArrivalTimestamp * 1000 - Date.now()) < 60_000);
    assert.equal(r['eventSource'], 'aws:kinesis');
    assert.equal(r['eventVersion'], '1.0');
    assert.equal(r['eventName'], 'aws:kinesis:record');
    assert.equal(r['eventID'], `shardId-000000000000:${seqs[0]}`);
    assert.equal(r['awsRegion'], 'us-east-1');
    assert.equal(r['eventSourceARN'], s.arn);
    assert.equal(checkpoints.get('shardId-000000000000'), seqs[24]);
    assert.ok(run.results.includes('OK'));
  });

  it('retries a poison record, bisects its batch and sends the OnFailure record, then moves on', async () => {
    const s = await stream();
    const q = await createQueue(sqs, 'kinesis-on-failure');
    const seqs: string[] = [];
    for (let i = 0; i < 8; i++) seqs.push(await put(s.name, i === 5 ? 'poison' : `r${i}`));
    const checkpoints = new Map<string, string>();
    const run = start(s.arn, {
      BatchSize: 8, BisectBatchOnFunctionError: true, MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: q.arn } },
    }, checkpoints);
    const [msg] = await receive(sqs, q.url, 1);
    await waitFor(() => checkpoints.get('shardId-000000000000') === seqs[7], { message: 'the checkpoint past the batch' });
    await run.stop();
    // [0..7] fails; [0..3] ok; [4..7] fails; [4,5] fails; [4] ok; [5] fails twice (1 retry); [6,7] ok.
    assert.deepEqual(run.invocations.map((i) => i.event.Records.map(data).join(',')), [
      'r0,r1,r2,r3,r4,poison,r6,r7', 'r0,r1,r2,r3', 'r4,poison,r6,r7', 'r4,poison', 'r4', 'poison', 'poison', 'r6,r7',
    ]);
    assert.ok(msg, 'an OnFailure record arrived');
    const rec = JSON.parse(msg.Body!);
    assert.deepEqual(Object.keys(rec), ['requestContext', 'responseContext', 'version', 'timestamp', 'KinesisBatchInfo']);
    assert.equal(rec.requestContext.functionArn, functionArn);
    assert.equal(rec.requestContext.condition, 'RetryAttemptsExhausted');
    assert.equal(rec.requestContext.approximateInvokeCount, 5);
    assert.match(rec.requestContext.requestId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(rec.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(rec.version, '1.0');
    assert.match(rec.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(rec.KinesisBatchInfo.shardId, 'shardId-000000000000');
    assert.equal(rec.KinesisBatchInfo.startSequenceNumber, seqs[5]);
    assert.equal(rec.KinesisBatchInfo.endSequenceNumber, seqs[5]);
    assert.equal(rec.KinesisBatchInfo.batchSize, 1);
    assert.equal(rec.KinesisBatchInfo.streamArn, s.arn);
    assert.match(rec.KinesisBatchInfo.approximateArrivalOfFirstRecord, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('resumes after a restart right after the checkpoint: nothing processed twice, nothing skipped', async () => {
    const s = await stream();
    for (let i = 0; i < 30; i++) await put(s.name, `r${i}`);
    const checkpoints = new Map<string, string>();
    const first = start(s.arn, { BatchSize: 5 }, checkpoints, { stopAfter: 3 });
    await first.done;
    assert.equal(first.invocations.length, 3);
    for (let i = 30; i < 40; i++) await put(s.name, `r${i}`);
    // The restarted poller reads from the checkpoint, not from its StartingPosition.
    const second = start(s.arn, { BatchSize: 5, StartingPosition: 'LATEST' }, checkpoints);
    await waitFor(() => second.invocations.flatMap((i) => i.event.Records).length >= 25, { message: 'the rest' });
    await second.caughtUp();
    await second.stop();
    const seen = [...first.invocations, ...second.invocations].flatMap((i) => i.event.Records.map(data));
    assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => `r${i}`));
  });

  it('ReportBatchItemFailures checkpoints before the lowest failed sequence number and retries from it', async () => {
    const s = await stream();
    const q = await createQueue(sqs, 'kinesis-rbif');
    const seqs: string[] = [];
    for (const d of ['r0', 'r1', 'bad2', 'r3', 'bad4']) seqs.push(await put(s.name, d));
    const checkpoints = new Map<string, string>();
    const run = start(s.arn, {
      BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'], MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: q.arn } },
    }, checkpoints);
    const [msg] = await receive(sqs, q.url, 1);
    await waitFor(() => checkpoints.get('shardId-000000000000') === seqs[4], { message: 'the checkpoint' });
    await run.stop();
    assert.deepEqual(run.invocations.map((i) => i.event.Records.map(data).join(',')), ['r0,r1,bad2,r3,bad4', 'bad2,r3,bad4']);
    const info = JSON.parse(msg!.Body!).KinesisBatchInfo;
    assert.equal(info.startSequenceNumber, seqs[2]);
    assert.equal(info.endSequenceNumber, seqs[4]);
    assert.equal(info.batchSize, 3);
  });

  it('ParallelizationFactor runs batches of one shard concurrently and keeps each partition key in order', async () => {
    const s = await stream();
    for (let i = 0; i < 30; i++) await put(s.name, `slow-${i % 5}-${i}`, `key${i % 5}`);
    const run = start(s.arn, { BatchSize: 2, ParallelizationFactor: 5 });
    // Batches of different keys run at once: several are held at the gate together.
    await held.arrivals(3);
    held.release();
    await waitFor(() => run.invocations.flatMap((i) => i.event.Records).length >= 30, { message: 'all records' });
    await run.stop();
    assert.ok(run.maxInFlight() > 1, `max in flight ${run.maxInFlight()}`);
    const perKey = new Map<string, number[]>();
    for (const r of run.invocations.flatMap((i) => i.event.Records)) {
      const [, key, n] = data(r).split('-');
      perKey.set(key!, [...(perKey.get(key!) ?? []), Number(n)]);
    }
    for (const [, ns] of perKey) assert.deepEqual(ns, [...ns].sort((a, b) => a - b));
    assert.equal([...perKey.values()].flat().length, 30);
  });

  it('StartingPosition LATEST skips what was there; AT_TIMESTAMP starts at the timestamp', async () => {
    const s = await stream();
    for (let i = 0; i < 3; i++) await put(s.name, `old${i}`);
    // Arrival times are kept finer than the millisecond a timestamp carries: the next millisecond is after
    // every old record, and the new ones are written once the clock has passed it.
    const ts = new Date(Date.now() + 1);
    const latest = start(s.arn, { StartingPosition: 'LATEST' });
    // LATEST is where the stream ends when the poller takes its iterator: only then are new records written.
    await latest.polled();
    await waitFor(() => Date.now() > ts.getTime(), { message: 'the clock to pass the timestamp' });
    for (let i = 0; i < 3; i++) await put(s.name, `new${i}`);
    const atTs = start(s.arn, { StartingPosition: 'AT_TIMESTAMP', StartingPositionTimestamp: ts });
    await waitFor(() => latest.invocations.flatMap((i) => i.event.Records).length >= 3 && atTs.invocations.flatMap((i) => i.event.Records).length >= 3, { message: 'new records' });
    await Promise.all([latest.caughtUp(), atTs.caughtUp()]);
    await latest.stop();
    await atTs.stop();
    assert.deepEqual(latest.invocations.flatMap((i) => i.event.Records.map(data)), ['new0', 'new1', 'new2']);
    assert.deepEqual(atTs.invocations.flatMap((i) => i.event.Records.map(data)), ['new0', 'new1', 'new2']);
  });

  it('MaximumRecordAgeInSeconds sends records older than the limit to OnFailure without invoking', async () => {
    const s = await stream();
    const q = await createQueue(sqs, 'kinesis-age');
    const seqs = [await put(s.name, 'a'), await put(s.name, 'b')];
    // An hour from now, every record is past its maximum age.
    const later = { ...systemClock, now: () => Date.now() + 3_600_000 };
    const checkpoints = new Map<string, string>();
    const run = start(s.arn, { MaximumRecordAgeInSeconds: 60, DestinationConfig: { OnFailure: { Destination: q.arn } } }, checkpoints, { clock: later });
    const [msg] = await receive(sqs, q.url, 1);
    await waitFor(() => checkpoints.get('shardId-000000000000') === seqs[1], { message: 'the checkpoint' });
    await run.stop();
    assert.equal(run.invocations.length, 0);
    const rec = JSON.parse(msg!.Body!);
    assert.equal(rec.requestContext.condition, 'RecordAgeExceeded');
    assert.equal(rec.requestContext.approximateInvokeCount, 0);
    assert.equal(rec.KinesisBatchInfo.batchSize, 2);
  });

  it('TumblingWindowInSeconds passes state between invocations and ends the window with a final invoke', async () => {
    const s = await stream();
    const run = start(s.arn, { TumblingWindowInSeconds: 1, BatchSize: 2 });
    for (let i = 0; i < 4; i++) await put(s.name, `w${i}`);
    const final = await waitFor(() => run.invocations.find((i) => i.event['isFinalInvokeForWindow']), { message: 'a final invoke', timeoutMs: 10_000 });
    await run.stop();
    const windowed = run.invocations.filter((i) => i.event['window']?.start === final.event['window'].start);
    assert.equal(final.event['state'].count, windowed.reduce((n, i) => n + i.event.Records.length, 0));
    assert.equal(final.event['shardId'], 'shardId-000000000000');
    assert.equal(final.event['eventSourceARN'], s.arn);
    assert.equal(final.event['isWindowTerminatedEarly'], false);
    assert.deepEqual(Object.keys(final.event['window']), ['start', 'end']);
    assert.equal(Date.parse(final.event['window'].end) - Date.parse(final.event['window'].start), 1000);
    assert.deepEqual(run.invocations[0]!.event['state'], {});
  });
});

describe('Kinesis event source mapping end to end (CreateEventSourceMapping, server restart)', () => {
  let moto: Moto;
  let t: TestServer;
  let kinesis: KinesisClient;
  let sqs: SQSClient;

  /** Every `SEEN <data>` line the function logged, in log order. */
  const seen = (fn: string): string[] => {
    const out = functionLogLines(t.dataDir, fn).flatMap((l) => {
      const m = /SEEN (\d+) (\S+)/.exec(l);
      return m ? [[m[1]!, m[2]!] as [string, string]] : [];
    });
    return out.sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : BigInt(a[0]) > BigInt(b[0]) ? 1 : 0)).map((x) => x[1]);
  };

  before(async () => {
    moto = await startMoto();
    kinesis = new KinesisClient({ ...awsOptions(moto.url), requestHandler: new NodeHttpHandler() });
    sqs = new SQSClient(awsOptions(moto.url));
    t = await startTestServer({ awsEndpoint: moto.url });
  });
  after(async () => {
    await t?.close();
    kinesis?.destroy();
    sqs?.destroy();
    await moto?.stop();
  });

  it('delivers batches, sends a poison record to OnFailure, and resumes after a restart without reprocessing or skipping', async () => {
    const source = `
exports.handler = async (event) => {
  for (const r of event.Records) console.log('SEEN ' + r.kinesis.sequenceNumber + ' ' + Buffer.from(r.kinesis.data, 'base64').toString());
  if (event.Records.some((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'poison')) throw new Error('poison');
  return {};
};`;
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'esm-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip(source) } }));
    await kinesis.send(new CreateStreamCommand({ StreamName: 'e2e', ShardCount: 1 }));
    const arn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'e2e' }))).StreamDescriptionSummary!.StreamARN!;
    const q = await createQueue(sqs, 'e2e-on-failure');
    const put = (d: string) => kinesis.send(new PutRecordCommand({ StreamName: 'e2e', PartitionKey: 'k', Data: Buffer.from(d) }));
    for (let i = 0; i < 10; i++) await put(i === 7 ? 'poison' : `r${i}`);
    const m = await t.client.send(new CreateEventSourceMappingCommand({
      FunctionName: 'esm-fn', EventSourceArn: arn, StartingPosition: 'TRIM_HORIZON', BatchSize: 5,
      BisectBatchOnFunctionError: true, MaximumRetryAttempts: 0, DestinationConfig: { OnFailure: { Destination: q.arn } },
    }));
    const [msg] = await receive(sqs, q.url, 1);
    const info = JSON.parse(msg!.Body!).KinesisBatchInfo;
    assert.equal(info.batchSize, 1);
    assert.equal(info.streamArn, arn);
    await waitFor(() => new Set(seen('esm-fn')).size >= 10 && seen('esm-fn').includes('r9'), { message: 'the first ten records' });
    await caughtUp(m.UUID!);
    const before = seen('esm-fn');
    await t.restart();
    for (let i = 10; i < 15; i++) await put(`r${i}`);
    await waitFor(() => seen('esm-fn').includes('r14'), { message: 'the records after the restart' });
    await caughtUp(m.UUID!);
    const after = seen('esm-fn');
    // Nothing seen before the restart is seen again; everything after it is seen once.
    assert.deepEqual(after.slice(0, before.length), before);
    assert.deepEqual(after.slice(before.length), ['r10', 'r11', 'r12', 'r13', 'r14']);
    const got = await t.client.send(new GetEventSourceMappingCommand({ UUID: m.UUID! }));
    assert.equal(got.State, 'Enabled');
    assert.equal(got.LastProcessingResult, 'OK');
  });
});
