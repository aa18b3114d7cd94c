// Recursive loop detection: a Node.js function invoking itself through the SDK it finds in the
// runtime (which forwards _X_AMZN_TRACE_ID as X-Amzn-Trace-Id) is stopped at its 17th invocation in
// one chain under Terminate (AWS's default), synchronously with RecursiveInvocationException and
// asynchronously by dropping the event (RecursiveInvocationsDropped in /metrics); Allow stops nothing.
// The synchronous chain holds 16 environments at once; the others run one at a time. A Lambda -> SQS ->
// Lambda loop runs through a moto_server queue.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateEventSourceMappingCommand, CreateFunctionCommand, GetFunctionRecursionConfigCommand, InvokeCommand, PutFunctionEventInvokeConfigCommand, PutFunctionRecursionConfigCommand,
} from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip } from '../helpers/zip.js';
import { waitFor } from '../helpers/wait.js';
import { functionLogLines } from '../helpers/logs.js';
import { createQueue, receive, type Moto } from '../helpers/moto.js';
import { withMotoAndServer } from '../helpers/moto-server.js';

const LOOP = `
const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const lambda = new LambdaClient({ maxAttempts: 1 });
exports.handler = async (event) => {
  const next = { ...event, depth: event.depth + 1 };
  if (event.mode === 'event') {
    if (event.depth < event.stop) await lambda.send(new InvokeCommand({ FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME, InvocationType: 'Event', Payload: JSON.stringify(next) }));
    return {};
  }
  if (event.depth >= event.stop) return { depth: event.depth };
  try {
    const r = await lambda.send(new InvokeCommand({ FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME, Payload: JSON.stringify(next) }));
    return JSON.parse(Buffer.from(r.Payload).toString());
  } catch (e) {
    return { depth: event.depth, error: e.name, status: e.$metadata && e.$metadata.httpStatusCode, message: e.message };
  }
};
`;

async function metric(t: TestServer, line: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? undefined : Number(m.split(' ').pop());
}

describe('recursive loop detection', () => {
  let t: TestServer;

  before(async () => {
    // The functions only need the Lambda API, which reaches them without outbound access.
    t = await startTestServer({ functionNetwork: 'none' });
    const code = await nodeHandlerZip(LOOP);
    for (const name of ['loop-terminate', 'loop-allow', 'loop-event']) {
      await t.client.send(new CreateFunctionCommand({
        FunctionName: name, Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Timeout: 60, Code: { ZipFile: code },
      }));
    }
    await t.client.send(new PutFunctionRecursionConfigCommand({ FunctionName: 'loop-allow', RecursiveLoop: 'Allow' }));
  });
  after(async () => {
    await t?.close();
  });

  const invoke = async (name: string, event: unknown) => {
    const r = await t.client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), LogType: 'Tail' }));
    const text = Buffer.from(r.Payload!).toString();
    assert.equal(r.FunctionError, undefined, `${name} failed: ${text}\n${Buffer.from(r.LogResult ?? '', 'base64').toString()}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  it('defaults to Terminate', async () => {
    assert.equal((await t.client.send(new GetFunctionRecursionConfigCommand({ FunctionName: 'loop-terminate' }))).RecursiveLoop, 'Terminate');
  });

  it('refuses the 17th synchronous invocation of a chain with RecursiveInvocationException', async () => {
    assert.deepEqual(await invoke('loop-terminate', { mode: 'sync', depth: 1, stop: 100 }), {
      depth: 16,
      error: 'RecursiveInvocationException',
      status: 400,
      message: "Lambda has detected your function being invoked in a recursive loop with other AWS resources and stopped your function's invocation.",
    });
    assert.equal(await metric(t, /^lambdalite_recursive_invocations_dropped_total\{function_name="loop-terminate"\} /), 1);
    // A new chain starts from nothing.
    assert.deepEqual(await invoke('loop-terminate', { mode: 'sync', depth: 1, stop: 2 }), { depth: 2 });
  });

  it('lets a function set to Allow recurse past the limit', async () => {
    await t.client.send(new InvokeCommand({ FunctionName: 'loop-allow', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ mode: 'event', depth: 1, stop: 20 })) }));
    await waitFor(() => metric(t, /^lambdalite_invocations_total\{function_name="loop-allow",version="\$LATEST"\} 20$/), { message: 'a chain of 20 invocations', timeoutMs: 120_000 });
    assert.equal(await metric(t, /^lambdalite_recursive_invocations_dropped_total\{function_name="loop-allow"\} /), undefined);
  });

  it('drops the 17th event of an asynchronous chain', async () => {
    await t.client.send(new InvokeCommand({ FunctionName: 'loop-event', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ mode: 'event', depth: 1, stop: 100 })) }));
    await waitFor(() => metric(t, /^lambdalite_recursive_invocations_dropped_total\{function_name="loop-event"\} 1$/), { message: 'the 17th event to be dropped', timeoutMs: 120_000 });
    assert.equal(await metric(t, /^lambdalite_invocations_total\{function_name="loop-event",version="\$LATEST"\} /), 16);
  });
});

const SQS_LOOP = `
const { SQSClient, SendMessageCommand } = require('@aws-sdk/client-sqs');
const sqs = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, maxAttempts: 1 });
exports.handler = async (event) => {
  for (const r of event.Records) {
    const depth = JSON.parse(r.body).depth;
    console.log('DEPTH ' + depth);
    await sqs.send(new SendMessageCommand({
      QueueUrl: process.env.QUEUE_URL, MessageBody: JSON.stringify({ depth: depth + 1 }),
      // AWS's SQS stores the SDK's X-Amzn-Trace-Id header as this attribute; moto_server does not.
      MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: process.env._X_AMZN_TRACE_ID } },
    }));
  }
  return {};
};
`;

describe('recursive loop detection through SQS (moto_server)', () => {
  let moto: Moto;
  let t: TestServer;
  let sqs: SQSClient;

  withMotoAndServer((env) => ({ moto, sqs, t } = env));

  it('stops a Lambda -> SQS -> Lambda loop at the 17th invocation', async () => {
    const q = await createQueue(sqs, 'loop-queue');
    await t.client.send(new CreateFunctionCommand({
      FunctionName: 'loop-sqs', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Timeout: 30,
      Code: { ZipFile: await nodeHandlerZip(SQS_LOOP) }, Environment: { Variables: { SQS_ENDPOINT: moto.url, QUEUE_URL: q.url } },
    }));
    await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'loop-sqs', EventSourceArn: q.arn, BatchSize: 1 }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: JSON.stringify({ depth: 1 }) }));
    await waitFor(() => metric(t, /^lambdalite_recursive_invocations_dropped_total\{function_name="loop-sqs"\} [1-9]/), { message: 'the 17th batch to be stopped', timeoutMs: 120_000 });
    // A message the queue hands out again (visibility timeout under load) runs again at the same depth.
    const depths = functionLogLines(t.dataDir, 'loop-sqs').flatMap((l) => /DEPTH (\d+)/.exec(l)?.[1] ?? []).map(Number);
    assert.equal(Math.max(...depths), 16);
  });

  it('sends the stopped event of an asynchronous chain to the on-failure destination', async () => {
    const q = await createQueue(sqs, 'loop-failures');
    await t.client.send(new CreateFunctionCommand({
      FunctionName: 'loop-dest', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Timeout: 30,
      Code: { ZipFile: await nodeHandlerZip(LOOP) },
    }));
    await t.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'loop-dest', DestinationConfig: { OnFailure: { Destination: q.arn } } }));
    await t.client.send(new InvokeCommand({ FunctionName: 'loop-dest', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ mode: 'event', depth: 1, stop: 100 })) }));
    const [message] = await receive(sqs, q.url, 1, 120_000);
    assert.ok(message, 'an on-failure record');
    const record = JSON.parse(message.Body!) as { requestContext: Record<string, unknown>; requestPayload: unknown; responseContext?: unknown };
    assert.deepEqual(
      { condition: record.requestContext['condition'], approximateInvokeCount: record.requestContext['approximateInvokeCount'], requestPayload: record.requestPayload, ran: 'responseContext' in record },
      { condition: 'RecursiveInvocationException', approximateInvokeCount: 0, requestPayload: { mode: 'event', depth: 17, stop: 100 }, ran: false },
    );
  });
});
