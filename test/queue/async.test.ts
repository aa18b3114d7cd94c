// Asynchronous invocation end to end: the real server, a real moto_server as SQS/SNS/EventBridge, driven by
// @aws-sdk/client-lambda. Retry delays are scaled by 0.001 so AWS's 1 and 2 minutes take milliseconds.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateFunctionCommand, InvokeCommand, PutFunctionEventInvokeConfigCommand, InvokeAsyncCommand, PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { functionLogLines } from '../helpers/logs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { awsOptions, createQueue, receive, startMoto, type Moto } from '../helpers/moto.js';

const FAIL = 'exports.handler = async (e) => { throw new Error("boom " + e.id); };';
const OK = 'exports.handler = async (e) => ({ ok: true, id: e.id });';

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('asynchronous invocation (moto_server destinations)', () => {
  let moto: Moto;
  let t: TestServer;
  let sqs: SQSClient;

  const create = async (name: string, source: string, extra: Record<string, unknown> = {}) => {
    await t.client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip(source) }, ...extra }));
  };

  before(async () => {
    moto = await startMoto();
    sqs = new SQSClient(awsOptions(moto.url));
    t = await startTestServer({ awsEndpoint: moto.url, asyncRetryScale: 0.001 });
  });
  after(async () => {
    await t?.close();
    sqs?.destroy();
    await moto?.stop();
  });

  it('answers 202 with an empty body and the request id that the attempts log', async () => {
    await create('ok-fn', OK);
    const r = await t.client.send(new InvokeCommand({ FunctionName: 'ok-fn', InvocationType: 'Event', Payload: Buffer.from('{"id":1}') }));
    assert.equal(r.StatusCode, 202);
    assert.equal(r.ExecutedVersion, undefined);
    assert.equal(Buffer.from(r.Payload ?? []).length, 0);
    const rid = r.$metadata.requestId!;
    await until('the START line', () => functionLogLines(t.dataDir, 'ok-fn').find((l) => l.startsWith(`START RequestId: ${rid}`)));
  });

  it('refuses an Event payload over 1 MiB with AWS\'s text', async () => {
    const big = Buffer.from(JSON.stringify({ x: 'a'.repeat(1_048_576) }));
    await expectAwsError(t.client.send(new InvokeCommand({ FunctionName: 'ok-fn', InvocationType: 'Event', Payload: big })), {
      name: 'RequestEntityTooLargeException', status: 413, message: `${big.length} byte payload is too large for the Event invocation type (limit 1048576 bytes)`,
    });
  });

  it('InvokeAsync answers 202 {"Status": 202} and runs the function', async () => {
    const r = await t.client.send(new InvokeAsyncCommand({ FunctionName: 'ok-fn', InvokeArgs: Buffer.from('{"id":"legacy"}') }));
    assert.equal(r.Status, 202);
    const rid = r.$metadata.requestId!;
    await until('the legacy START line', () => functionLogLines(t.dataDir, 'ok-fn').find((l) => l.startsWith(`START RequestId: ${rid}`)));
  });

  it('retries a failing function exactly MaximumRetryAttempts times and sends RetriesExhausted to OnFailure SQS', async () => {
    const q = await createQueue(sqs, 'on-failure');
    await create('fail-fn', FAIL);
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'fail-fn', DestinationConfig: { OnFailure: { Destination: q.arn } } }));
    const r = await t.client.send(new InvokeCommand({ FunctionName: 'fail-fn', InvocationType: 'Event', Payload: Buffer.from('{"id":"f1"}') }));
    const rid = r.$metadata.requestId!;
    const [msg] = await receive(sqs, q.url, 1);
    assert.ok(msg, 'a record arrived');
    const record = JSON.parse(msg.Body!);
    assert.equal(record.version, '1.0');
    assert.match(record.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(record.requestContext, {
      requestId: rid, functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fail-fn:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3,
    });
    assert.deepEqual(record.requestPayload, { id: 'f1' });
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(record.responsePayload.errorMessage, 'boom f1');
    // Default MaximumRetryAttempts is 2: 1 + 2 attempts, each logged with the same request id.
    const starts = functionLogLines(t.dataDir, 'fail-fn').filter((l) => l.startsWith(`START RequestId: ${rid}`));
    assert.equal(starts.length, 3);
  });

  it('honours MaximumRetryAttempts 0 and 1', async () => {
    const q = await createQueue(sqs, 'on-failure-n');
    await create('fail-n', FAIL);
    for (const retries of [0, 1]) {
      await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'fail-n', MaximumRetryAttempts: retries, DestinationConfig: { OnFailure: { Destination: q.arn } } }));
      const r = await t.client.send(new InvokeCommand({ FunctionName: 'fail-n', InvocationType: 'Event', Payload: Buffer.from(`{"id":"n${retries}"}`) }));
      const [msg] = await receive(sqs, q.url, 1);
      const record = JSON.parse(msg!.Body!);
      assert.equal(record.requestContext.approximateInvokeCount, retries + 1);
      assert.equal(functionLogLines(t.dataDir, 'fail-n').filter((l) => l.startsWith(`START RequestId: ${r.$metadata.requestId}`)).length, retries + 1);
    }
  });

  it('sends Success records to SQS, SNS (observed through an SQS subscription) and EventBridge (through a rule targeting SQS)', async () => {
    const direct = await createQueue(sqs, 'on-success');
    const viaSns = await createQueue(sqs, 'from-sns');
    const viaEvents = await createQueue(sqs, 'from-events');
    const sns = new SNSClient(awsOptions(moto.url));
    const events = new EventBridgeClient(awsOptions(moto.url));
    try {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'on-success-topic' }));
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: viaSns.arn, Attributes: { RawMessageDelivery: 'true' } }));
      await events.send(new PutRuleCommand({ Name: 'lambda-results', EventPattern: JSON.stringify({ source: ['lambda'] }) }));
      await events.send(new PutTargetsCommand({ Rule: 'lambda-results', Targets: [{ Id: 'q', Arn: viaEvents.arn }] }));
      const bus = 'arn:aws:events:us-east-1:123456789012:event-bus/default';
      await create('ok-sqs', OK);
      await create('ok-sns', OK);
      await create('ok-events', OK);
      await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'ok-sqs', DestinationConfig: { OnSuccess: { Destination: direct.arn } } }));
      await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'ok-sns', DestinationConfig: { OnSuccess: { Destination: TopicArn } } }));
      await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'ok-events', DestinationConfig: { OnSuccess: { Destination: bus } } }));
      for (const fn of ['ok-sqs', 'ok-sns', 'ok-events']) {
        await t.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: Buffer.from(`{"id":"${fn}"}`) }));
      }
      const check = (record: Record<string, any>, fn: string) => {
        assert.equal(record['requestContext'].condition, 'Success');
        assert.equal(record['requestContext'].functionArn, `arn:aws:lambda:us-east-1:000000000000:function:${fn}:$LATEST`);
        assert.equal(record['requestContext'].approximateInvokeCount, 1);
        assert.deepEqual(record['responseContext'], { statusCode: 200, executedVersion: '$LATEST' });
        assert.deepEqual(record['responsePayload'], { ok: true, id: fn });
      };
      check(JSON.parse((await receive(sqs, direct.url, 1))[0]!.Body!), 'ok-sqs');
      check(JSON.parse((await receive(sqs, viaSns.url, 1))[0]!.Body!), 'ok-sns');
      const ev = JSON.parse((await receive(sqs, viaEvents.url, 1))[0]!.Body!);
      assert.equal(ev.source, 'lambda');
      assert.equal(ev['detail-type'], 'Lambda Function Invocation Result - Success');
      check(ev.detail, 'ok-events');
    } finally {
      sns.destroy();
      events.destroy();
    }
  });

  it('puts the original event with RequestID, ErrorCode and ErrorMessage on the dead-letter queue', async () => {
    const dlq = await createQueue(sqs, 'dlq');
    await create('fail-dlq', FAIL, { DeadLetterConfig: { TargetArn: dlq.arn } });
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'fail-dlq', MaximumRetryAttempts: 1 }));
    const r = await t.client.send(new InvokeCommand({ FunctionName: 'fail-dlq', InvocationType: 'Event', Payload: Buffer.from('{"id":"d1"}') }));
    const [msg] = await receive(sqs, dlq.url, 1);
    assert.ok(msg);
    assert.deepEqual(JSON.parse(msg.Body!), { id: 'd1' });
    assert.deepEqual(msg.MessageAttributes?.['RequestID'], { DataType: 'String', StringValue: r.$metadata.requestId });
    assert.deepEqual(msg.MessageAttributes?.['ErrorCode'], { DataType: 'Number', StringValue: '200' });
    assert.deepEqual(msg.MessageAttributes?.['ErrorMessage'], { DataType: 'String', StringValue: 'boom d1' });
  });

  it('sends records to another Lambda function, invoked asynchronously', async () => {
    const q = await createQueue(sqs, 'second-hop');
    await create('first', OK);
    await create('second', 'exports.handler = async (record) => record.requestContext.condition;');
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'first', DestinationConfig: { OnSuccess: { Destination: 'arn:aws:lambda:us-east-1:000000000000:function:second' } } }));
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'second', DestinationConfig: { OnSuccess: { Destination: q.arn } } }));
    await t.client.send(new InvokeCommand({ FunctionName: 'first', InvocationType: 'Event', Payload: Buffer.from('{"id":"hop"}') }));
    const [msg] = await receive(sqs, q.url, 1);
    const record = JSON.parse(msg!.Body!);
    assert.equal(record.responsePayload, 'Success');
    assert.equal(record.requestPayload.requestContext.functionArn, 'arn:aws:lambda:us-east-1:000000000000:function:first:$LATEST');
  });

  it('fails an event of a function with reserved concurrency 0 as ZeroReservedConcurrency', async () => {
    const q = await createQueue(sqs, 'zero');
    await create('zero-fn', OK);
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'zero-fn', DestinationConfig: { OnFailure: { Destination: q.arn } } }));
    await t.client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'zero-fn', ReservedConcurrentExecutions: 0 }));
    await t.client.send(new InvokeCommand({ FunctionName: 'zero-fn', InvocationType: 'Event', Payload: Buffer.from('{"id":"z"}') }));
    const [msg] = await receive(sqs, q.url, 1);
    const record = JSON.parse(msg!.Body!);
    assert.equal(record.requestContext.condition, 'ZeroReservedConcurrency');
    assert.equal(record.requestContext.approximateInvokeCount, 0);
    assert.equal(record.responseContext, undefined);
  });
});
