// The DynamoDB Streams poller against a real moto_server table stream, invoking a real function on the
// real server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { awsOptions, createQueue, receive, startMoto, type Moto } from '../helpers/moto.js';
import { createDynamoDbStreamsPoller } from '../../src/events/dynamodb-streams.js';
import type { EventSourceMappingConfiguration } from '../../src/api/generated/types.js';
import { HANDLER, runPoller, type HarnessRun } from './stream-harness.js';
import { waitFor } from '../helpers/wait.js';

describe('DynamoDB Streams poller (moto_server table stream, real function)', () => {
  let moto: Moto;
  let t: TestServer;
  let ddb: DynamoDBClient;
  let sqs: SQSClient;
  let functionArn: string;
  let tableNo = 0;

  before(async () => {
    moto = await startMoto();
    ddb = new DynamoDBClient(awsOptions(moto.url));
    sqs = new SQSClient(awsOptions(moto.url));
    t = await startTestServer();
    const fn = await t.client.send(new CreateFunctionCommand({ FunctionName: 'ddb-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip(HANDLER) } }));
    functionArn = fn.FunctionArn!;
  });
  after(async () => {
    await t?.close();
    ddb?.destroy();
    sqs?.destroy();
    await moto?.stop();
  });

  const table = async () => {
    const name = `t${++tableNo}`;
    const r = await ddb.send(new CreateTableCommand({
      TableName: name, BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }));
    return { name, arn: r.TableDescription!.LatestStreamArn! };
  };
  const put = (name: string, pk: string, v: string) => ddb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: pk }, v: { S: v }, b: { B: Buffer.from('hi') } } }));
  const start = (arn: string, config: EventSourceMappingConfiguration, checkpoints = new Map<string, string>(), extra: { stopAfter?: number } = {}): HarnessRun =>
    runPoller({ factory: createDynamoDbStreamsPoller, client: t.client, functionName: 'ddb-fn', functionArn, endpoint: moto.url, checkpoints, config: { EventSourceArn: arn, StartingPosition: 'TRIM_HORIZON', ...config }, ...extra });
  const v = (r: Record<string, any>) => r['dynamodb'].NewImage?.v?.S ?? `-${r['dynamodb'].Keys.pk.S}`;
  const lastCheckpoint = (m: Map<string, string>) => [...m.values()][0];

  it('delivers INSERT, MODIFY and REMOVE records in batches of BatchSize with AWS\'s event shape', async () => {
    const tb = await table();
    for (let i = 0; i < 5; i++) await put(tb.name, `p${i}`, `v${i}`);
    await ddb.send(new UpdateItemCommand({ TableName: tb.name, Key: { pk: { S: 'p0' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { S: 'changed' } } }));
    await ddb.send(new DeleteItemCommand({ TableName: tb.name, Key: { pk: { S: 'p1' } } }));
    const checkpoints = new Map<string, string>();
    const run = start(tb.arn, { BatchSize: 3 }, checkpoints);
    await waitFor(() => run.invocations.flatMap((i) => i.event.Records).length >= 7, { message: 'all records' });
    await run.stop();
    assert.deepEqual(run.invocations.map((i) => i.event.Records.length), [3, 3, 1]);
    const records = run.invocations.flatMap((i) => i.event.Records);
    assert.deepEqual(records.map((r) => r['eventName']), ['INSERT', 'INSERT', 'INSERT', 'INSERT', 'INSERT', 'MODIFY', 'REMOVE']);
    assert.deepEqual(records.map(v), ['v0', 'v1', 'v2', 'v3', 'v4', 'changed', '-p1']);
    const r = records[5]!;
    assert.deepEqual(Object.keys(r), ['eventID', 'eventName', 'eventVersion', 'eventSource', 'awsRegion', 'dynamodb', 'eventSourceARN']);
    assert.equal(r['eventVersion'], '1.1');
    assert.equal(r['eventSource'], 'aws:dynamodb');
    assert.equal(r['awsRegion'], 'us-east-1');
    assert.equal(r['eventSourceARN'], tb.arn);
    assert.equal(typeof r['eventID'], 'string');
    const d = r['dynamodb'];
    assert.deepEqual(Object.keys(d), ['ApproximateCreationDateTime', 'Keys', 'NewImage', 'OldImage', 'SequenceNumber', 'SizeBytes', 'StreamViewType']);
    assert.equal(typeof d.ApproximateCreationDateTime, 'number');
    assert.ok(Math.abs(d.ApproximateCreationDateTime * 1000 - Date.now()) < 60_000);
    assert.deepEqual(d.Keys, { pk: { S: 'p0' } });
    assert.deepEqual(d.OldImage, { pk: { S: 'p0' }, v: { S: 'v0' }, b: { B: Buffer.from('hi').toString('base64') } });
    assert.equal(d.NewImage.v.S, 'changed');
    assert.equal(d.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.equal(typeof d.SizeBytes, 'number');
    assert.equal(records[6]!['dynamodb'].NewImage, undefined);
    assert.equal(lastCheckpoint(checkpoints), records[6]!['dynamodb'].SequenceNumber);
  });

  it('retries a poison record, bisects its batch and sends the OnFailure record with DDBStreamBatchInfo', async () => {
    const tb = await table();
    const q = await createQueue(sqs, 'ddb-on-failure');
    for (let i = 0; i < 4; i++) await put(tb.name, `p${i}`, i === 2 ? 'poison' : `v${i}`);
    const checkpoints = new Map<string, string>();
    const run = start(tb.arn, { BatchSize: 4, BisectBatchOnFunctionError: true, MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: q.arn } } }, checkpoints);
    const [msg] = await receive(sqs, q.url, 1);
    await waitFor(() => run.invocations.some((i) => i.event.Records.map(v).join() === 'v3'), { message: 'four records finished' });
    await run.stop();
    // [0..3] fails; [0,1] ok; [2,3] fails; [2] fails three times (2 retries); [3] ok.
    assert.deepEqual(run.invocations.map((i) => i.event.Records.map(v).join(',')), ['v0,v1,poison,v3', 'v0,v1', 'poison,v3', 'poison', 'poison', 'poison', 'v3']);
    const rec = JSON.parse(msg!.Body!);
    assert.deepEqual(Object.keys(rec), ['requestContext', 'responseContext', 'version', 'timestamp', 'DDBStreamBatchInfo']);
    assert.equal(rec.requestContext.condition, 'RetryAttemptsExhausted');
    assert.equal(rec.requestContext.approximateInvokeCount, 5);
    assert.equal(rec.responseContext.functionError, 'Unhandled');
    const poison = run.invocations[3]!.event.Records[0]!['dynamodb'].SequenceNumber;
    assert.equal(rec.DDBStreamBatchInfo.startSequenceNumber, poison);
    assert.equal(rec.DDBStreamBatchInfo.endSequenceNumber, poison);
    assert.equal(rec.DDBStreamBatchInfo.batchSize, 1);
    assert.equal(rec.DDBStreamBatchInfo.streamArn, tb.arn);
    assert.match(rec.DDBStreamBatchInfo.shardId, /^shardId-/);
    assert.match(rec.DDBStreamBatchInfo.approximateArrivalOfFirstRecord, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await waitFor(() => lastCheckpoint(checkpoints) === run.invocations[6]!.event.Records[0]!['dynamodb'].SequenceNumber, { message: 'the checkpoint at the last record' });
  });

  it('resumes after a restart right after the checkpoint: nothing processed twice, nothing skipped', async () => {
    const tb = await table();
    for (let i = 0; i < 12; i++) await put(tb.name, `p${i}`, `v${i}`);
    const checkpoints = new Map<string, string>();
    const first = start(tb.arn, { BatchSize: 4 }, checkpoints, { stopAfter: 2 });
    await first.done;
    for (let i = 12; i < 16; i++) await put(tb.name, `p${i}`, `v${i}`);
    const second = start(tb.arn, { BatchSize: 4, StartingPosition: 'LATEST' }, checkpoints);
    await waitFor(() => second.invocations.flatMap((i) => i.event.Records).length >= 8, { message: 'the rest' });
    await second.caughtUp();
    await second.stop();
    const seen = [...first.invocations, ...second.invocations].flatMap((i) => i.event.Records.map(v));
    assert.deepEqual(seen, Array.from({ length: 16 }, (_, i) => `v${i}`));
  });

  it('ReportBatchItemFailures retries from the lowest failed record', async () => {
    const tb = await table();
    for (const [i, s] of ['v0', 'bad1', 'v2'].entries()) await put(tb.name, `p${i}`, s);
    const run = start(tb.arn, { BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'], MaximumRetryAttempts: 1 });
    await waitFor(() => run.invocations.length >= 2, { message: 'the retry' });
    await run.caughtUp();
    await run.stop();
    assert.deepEqual(run.invocations.map((i) => i.event.Records.map(v).join(',')), ['v0,bad1,v2', 'bad1,v2']);
  });
});
