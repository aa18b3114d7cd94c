// The event source mapping API through @aws-sdk/client-lambda: shapes, defaults, state transitions,
// listing and AWS's errors, with moto_server as the SQS / Kinesis / DynamoDB Streams peer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateEventSourceMappingCommand, CreateFunctionCommand, DeleteEventSourceMappingCommand, GetEventSourceMappingCommand,
  ListEventSourceMappingsCommand, UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { awsOptions, createQueue, startMoto, type Moto } from '../helpers/moto.js';
import { waitState } from './esm.js';
import { waitFor } from '../helpers/wait.js';

describe('event source mapping API', () => {
  let moto: Moto;
  let t: TestServer;
  let sqs: SQSClient;
  let kinesis: KinesisClient;
  let queueArn: string;
  let streamArn: string;

  before(async () => {
    moto = await startMoto();
    sqs = new SQSClient(awsOptions(moto.url));
    kinesis = new KinesisClient({ ...awsOptions(moto.url), requestHandler: new NodeHttpHandler() });
    t = await startTestServer({ awsEndpoint: moto.url });
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip('exports.handler = async () => ({});') } }));
    queueArn = (await createQueue(sqs, 'api-queue')).arn;
    await kinesis.send(new CreateStreamCommand({ StreamName: 'api-stream', ShardCount: 1 }));
    streamArn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'api-stream' }))).StreamDescriptionSummary!.StreamARN!;
  });
  after(async () => {
    await t?.close();
    sqs?.destroy();
    kinesis?.destroy();
    await moto?.stop();
  });

  it('creates an SQS mapping with AWS\'s defaults and shape (202, Creating -> Enabled)', async () => {
    const r = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: queueArn, Enabled: false }));
    assert.equal(r.$metadata.httpStatusCode, 202);
    const { $metadata: _m, LastModified, ...body } = r;
    assert.ok(LastModified instanceof Date && Math.abs(LastModified.getTime() - Date.now()) < 60_000, 'LastModified as an epoch timestamp');
    assert.match(body.UUID!, /^[0-9a-f-]{36}$/);
    assert.deepEqual(body, {
      UUID: body.UUID,
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      EventSourceArn: queueArn,
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
      State: 'Creating',
      StateTransitionReason: 'USER_INITIATED',
      FunctionResponseTypes: [],
      EventSourceMappingArn: `arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${body.UUID}`,
    });
    await waitState(t, body.UUID!, 'Disabled');

    const u = await t.client.send(new UpdateEventSourceMappingCommand({ UUID: body.UUID!, Enabled: true, BatchSize: 5 }));
    assert.equal(u.$metadata.httpStatusCode, 202);
    assert.equal(u.State, 'Enabling');
    assert.equal(u.BatchSize, 5);
    await waitState(t, body.UUID!, 'Enabled');
    const d = await t.client.send(new UpdateEventSourceMappingCommand({ UUID: body.UUID!, Enabled: false }));
    assert.equal(d.State, 'Disabling');
    await waitState(t, body.UUID!, 'Disabled');
    const again = await t.client.send(new UpdateEventSourceMappingCommand({ UUID: body.UUID!, BatchSize: 7 }));
    assert.equal(again.State, 'Updating');
    assert.equal((await waitState(t, body.UUID!, 'Disabled')).BatchSize, 7);

    const del = await t.client.send(new DeleteEventSourceMappingCommand({ UUID: body.UUID! }));
    assert.equal(del.$metadata.httpStatusCode, 202);
    assert.equal(del.State, 'Deleting');
    await waitFor(() => t.client.send(new GetEventSourceMappingCommand({ UUID: body.UUID! })).then(() => false, (e: Error) => {
      assert.equal(e.name, 'ResourceNotFoundException');
      return true;
    }), { message: 'the mapping to go away' });
  });

  it('creates a Kinesis mapping with the stream defaults', async () => {
    const r = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: streamArn, StartingPosition: 'LATEST', Enabled: false }));
    const { $metadata: _m, LastModified: _l, ...body } = r;
    assert.deepEqual(body, {
      UUID: body.UUID,
      StartingPosition: 'LATEST',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 1,
      EventSourceArn: streamArn,
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
      LastProcessingResult: 'No records processed',
      State: 'Creating',
      StateTransitionReason: 'User action',
      DestinationConfig: { OnFailure: {} },
      MaximumRecordAgeInSeconds: -1,
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: -1,
      TumblingWindowInSeconds: 0,
      FunctionResponseTypes: [],
      EventSourceMappingArn: `arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${body.UUID}`,
    });
    await waitState(t, body.UUID!, 'Disabled');
    await t.client.send(new DeleteEventSourceMappingCommand({ UUID: body.UUID! }));
  });

  it('answers AWS\'s errors', async () => {
    const created = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: queueArn, Enabled: false }));
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: queueArn })), {
      name: 'ResourceConflictException', status: 409, type: 'User',
      message: `An event source mapping with SQS arn (" ${queueArn} ") and function (" fn ") already exists. Please update or delete the existing mapping with UUID ${created.UUID}`,
    });
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: streamArn })), {
      name: 'InvalidParameterValueException', status: 400,
      message: "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
    });
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({
      FunctionName: 'fn', EventSourceArn: queueArn, DestinationConfig: { OnFailure: { Destination: queueArn } },
    })), { name: 'InvalidParameterValueException', status: 400, message: 'Unsupported DestinationConfig parameter for given event source mapping type.' });
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: queueArn, BatchSize: 11 })), {
      name: 'InvalidParameterValueException', status: 400,
      message: 'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    });
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({
      FunctionName: 'fn', EventSourceArn: queueArn, FilterCriteria: { Filters: [{ Pattern: '{"body": "not-a-list"}' }] },
    })), { name: 'InvalidParameterValueException', status: 400, message: 'Invalid filter pattern definition.' });
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'nope', EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:api-queue-2' })), {
      name: 'InvalidParameterValueException', status: 400, message: 'Function does not exist',
    });
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:missing' })), {
      name: 'InvalidParameterValueException', status: 400,
      message: /^Error occurred while ReceiveMessage\. SQS Error Code: AWS\.SimpleQueueService\.NonExistentQueue\. SQS Error Message: /,
    });
    await expectAwsError(t.client.send(new CreateEventSourceMappingCommand({
      FunctionName: 'fn', EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/missing', StartingPosition: 'TRIM_HORIZON',
    })), { name: 'InvalidParameterValueException', status: 400, message: 'Stream not found: arn:aws:kinesis:us-east-1:000000000000:stream/missing' });
    for (const call of [
      () => t.client.send(new GetEventSourceMappingCommand({ UUID: '00000000-0000-0000-0000-000000000000' })),
      () => t.client.send(new UpdateEventSourceMappingCommand({ UUID: '00000000-0000-0000-0000-000000000000', BatchSize: 1 })),
      () => t.client.send(new DeleteEventSourceMappingCommand({ UUID: '00000000-0000-0000-0000-000000000000' })),
    ]) {
      await expectAwsError(call(), { name: 'ResourceNotFoundException', status: 404, message: 'The resource you requested does not exist.' });
    }
    await t.client.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID! }));
  });

  it('lists by source and function, in pages', async () => {
    const queues = await Promise.all(['l1', 'l2', 'l3'].map((n) => createQueue(sqs, n)));
    const uuids: string[] = [];
    for (const q of queues) uuids.push((await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'fn', EventSourceArn: q.arn, Enabled: false }))).UUID!);
    const bySource = await t.client.send(new ListEventSourceMappingsCommand({ EventSourceArn: queues[1]!.arn }));
    assert.deepEqual(bySource.EventSourceMappings!.map((m) => m.UUID), [uuids[1]]);
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await t.client.send(new ListEventSourceMappingsCommand({ FunctionName: 'fn', MaxItems: 2, ...(marker ? { Marker: marker } : {}) }));
      seen.push(...page.EventSourceMappings!.map((m) => m.UUID!));
      marker = page.NextMarker;
    } while (marker);
    assert.deepEqual(seen.filter((u) => uuids.includes(u)), uuids, 'every mapping once, in creation order');
    assert.deepEqual((await t.client.send(new ListEventSourceMappingsCommand({ FunctionName: 'other' }))).EventSourceMappings, []);
    for (const u of uuids) await t.client.send(new DeleteEventSourceMappingCommand({ UUID: u }));
  });
});
