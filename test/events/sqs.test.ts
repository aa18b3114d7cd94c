// SQS event source mappings end to end: the real server polling a real moto_server queue, functions
// that log the events they get, driven by @aws-sdk/client-lambda and @aws-sdk/client-sqs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateEventSourceMappingCommand, CreateFunctionCommand, DeleteFunctionConcurrencyCommand, PutFunctionConcurrencyCommand, UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { functionLogLines } from '../helpers/logs.js';
import type { TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { createQueue, receive, type Moto } from '../helpers/moto.js';
import { withMotoAndServer } from '../helpers/moto-server.js';
import { waitState } from './esm.js';
import { recordMessages, waitFor } from '../helpers/wait.js';
import { BATCH_CHANNEL, POLL_CHANNEL, type BatchMessage, type PollMessage } from '../../src/events/diagnostics.js';
import { compilePattern, FilterPatternError } from '../../src/events/filters.js';

interface SqsEventRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, { stringValue?: string; dataType: string; stringListValues: unknown[]; binaryListValues: unknown[] }>;
  md5OfBody: string;
  eventSource: string;
  eventSourceARN: string;
  awsRegion: string;
}

/** Each event a function logged with `console.log("EVENT " + JSON.stringify(event))`. */
function events(dataDir: string, fn: string): Array<{ Records: SqsEventRecord[] }> {
  return functionLogLines(dataDir, fn).flatMap((line) => {
    const i = line.indexOf('EVENT ');
    return i >= 0 ? [JSON.parse(line.slice(i + 6)) as { Records: SqsEventRecord[] }] : [];
  });
}


const LOGGING = 'exports.handler = async (e) => { console.log("EVENT " + JSON.stringify(e)); return {}; };';

describe('SQS event source mappings (moto_server)', () => {
  let moto: Moto;
  let t: TestServer;
  let sqs: SQSClient;

  const createFn = async (name: string, source: string) => {
    await t.client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip(source) } }));
  };
  const counts = async (url: string) => {
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
    return Number(a['ApproximateNumberOfMessages']) + Number(a['ApproximateNumberOfMessagesNotVisible']);
  };
  const sendAll = async (url: string, bodies: string[]) => {
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b, MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } } })),
      }));
    }
  };

  withMotoAndServer((env) => ({ moto, sqs, t } = env));

  it('delivers batches of the configured size in AWS\'s event shape and deletes them on success', async () => {
    await createFn('batches', LOGGING);
    const q = await createQueue(sqs, 'batches');
    await sendAll(q.url, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    const m = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'batches', EventSourceArn: q.arn, BatchSize: 3 }));
    const seen = await waitFor(() => {
      const ev = events(t.dataDir, 'batches');
      return ev.flatMap((e) => e.Records).length >= 7 ? ev : undefined;
    }, { message: '7 records' });
    assert.ok(seen.every((e) => e.Records.length >= 1 && e.Records.length <= 3), `batch sizes ${seen.map((e) => e.Records.length)}`);
    assert.ok(seen.some((e) => e.Records.length === 3));
    assert.deepEqual(seen.flatMap((e) => e.Records.map((r) => r.body)).sort(), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    const r = seen[0]!.Records[0]!;
    assert.deepEqual(Object.keys(r), ['messageId', 'receiptHandle', 'body', 'attributes', 'messageAttributes', 'md5OfBody', 'md5OfMessageAttributes', 'eventSource', 'eventSourceARN', 'awsRegion']);
    assert.equal(r.eventSource, 'aws:sqs');
    assert.equal(r.eventSourceARN, q.arn);
    assert.equal(r.awsRegion, 'us-east-1');
    assert.match(r.md5OfBody, /^[0-9a-f]{32}$/);
    for (const k of ['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp']) assert.ok(k in r.attributes, `attributes.${k}`);
    assert.equal(r.attributes['ApproximateReceiveCount'], '1');
    assert.deepEqual(r.messageAttributes['kind'], { stringValue: 'test', stringListValues: [], binaryListValues: [], dataType: 'String' });
    await waitFor(async () => ((await counts(q.url)) === 0 ? true : undefined), { message: 'an empty queue' });
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: false }));
  });

  it('gathers a batch for MaximumBatchingWindowInSeconds', async () => {
    await createFn('window', LOGGING);
    const q = await createQueue(sqs, 'window');
    const m = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'window', EventSourceArn: q.arn, BatchSize: 50, MaximumBatchingWindowInSeconds: 2 }));
    await waitState(t, m.UUID!, 'Enabled');
    await sendAll(q.url, Array.from({ length: 25 }, (_, i) => `w${i}`));
    const seen = await waitFor(() => {
      const ev = events(t.dataDir, 'window');
      return ev.flatMap((e) => e.Records).length >= 25 ? ev : undefined;
    }, { message: '25 records' });
    assert.ok(seen.length <= 2, `the window gathers the messages into few batches, got ${seen.map((e) => e.Records.length)}`);
    assert.ok(Math.max(...seen.map((e) => e.Records.length)) > 10, 'a batch larger than one receive');
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: false }));
  });

  it('ReportBatchItemFailures deletes what succeeded and leaves the failures to the redrive policy', async () => {
    await createFn('partial', `exports.handler = async (e) => {
      console.log("EVENT " + JSON.stringify(e));
      return { batchItemFailures: e.Records.filter((r) => r.body.startsWith("bad")).map((r) => ({ itemIdentifier: r.messageId })) };
    };`);
    const dlq = await createQueue(sqs, 'partial-dlq');
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({
      QueueName: 'partial',
      Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }) },
    }));
    const arn = `arn:aws:sqs:us-east-1:123456789012:partial`;
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = attrs.Attributes?.['QueueArn'] ?? arn;
    await sendAll(QueueUrl!, ['ok1', 'bad1', 'ok2', 'bad2', 'ok3']);
    const m = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'partial', EventSourceArn: queueArn, BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] }));
    const dead = await receive(sqs, dlq.url, 2, 30_000);
    assert.deepEqual(dead.map((d) => d.Body).sort(), ['bad1', 'bad2'], 'only the reported failures reach the dead-letter queue');
    await waitFor(async () => ((await counts(QueueUrl!)) === 0 ? true : undefined), { message: 'an empty queue' });
    const bodies = events(t.dataDir, 'partial').flatMap((e) => e.Records.map((r) => r.body));
    assert.equal(bodies.filter((b) => b.startsWith('ok')).length, 3, 'each success ran once');
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: false }));
  });

  it('FilterCriteria drops (and deletes) the records that match no filter', async () => {
    await createFn('filtered', LOGGING);
    const q = await createQueue(sqs, 'filtered');
    const m = await t.client.send(new CreateEventSourceMappingCommand({
      FunctionName: 'filtered', EventSourceArn: q.arn,
      FilterCriteria: { Filters: [
        { Pattern: JSON.stringify({ body: { kind: ['order'], amount: [{ numeric: ['>', 100] }] } }) },
        { Pattern: JSON.stringify({ body: [{ prefix: 'urgent:' }] }) },
      ] },
    }));
    await waitState(t, m.UUID!, 'Enabled');
    const batches = recordMessages<BatchMessage>(BATCH_CHANNEL);
    await sendAll(q.url, [
      JSON.stringify({ kind: 'order', amount: 150 }),
      JSON.stringify({ kind: 'order', amount: 50 }),
      JSON.stringify({ kind: 'refund', amount: 500 }),
      'urgent: call back',
      'plain text',
    ]);
    // Every one of the five was received and handled (invoked or filtered out), whatever the batches.
    const handled = () => batches.messages.filter((b) => b.uuid === m.UUID).reduce((n, b) => n + b.records, 0);
    await waitFor(() => handled() >= 5, { message: 'all five messages handled' });
    batches.stop();
    assert.equal(handled(), 5);
    await waitFor(async () => ((await counts(q.url)) === 0 ? true : undefined), { message: 'an empty queue' });
    const bodies = events(t.dataDir, 'filtered').flatMap((e) => e.Records.map((r) => r.body)).sort();
    assert.deepEqual(bodies, [JSON.stringify({ kind: 'order', amount: 150 }), 'urgent: call back'].sort());
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: false }));
  });

  it('stops polling when disabled, resumes when enabled, and after a restart', async () => {
    await createFn('toggle', LOGGING);
    const q = await createQueue(sqs, 'toggle');
    const m = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'toggle', EventSourceArn: q.arn }));
    await waitState(t, m.UUID!, 'Enabled');
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: false }));
    // Disabled is recorded only once the poller has stopped: from here on nothing reads the queue.
    await waitState(t, m.UUID!, 'Disabled');
    const polls = recordMessages<PollMessage>(POLL_CHANNEL);
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'while-disabled' }));
    assert.equal(await counts(q.url), 1);
    polls.stop();
    assert.deepEqual(polls.messages.filter((p) => p.uuid === m.UUID), [], 'nothing is polled while disabled');
    assert.equal(events(t.dataDir, 'toggle').length, 0);
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: true }));
    await waitFor(() => (events(t.dataDir, 'toggle').length === 1 ? true : undefined), { message: 'the message' });

    await t.restart();
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'after-restart' }));
    await waitFor(() => (events(t.dataDir, 'toggle').flatMap((e) => e.Records).some((r) => r.body === 'after-restart') ? true : undefined), { message: 'the message after the restart' });
    assert.equal((await waitState(t, m.UUID!, 'Enabled')).State, 'Enabled');
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: false }));
  });

  it('keeps a throttled batch in the queue and delivers it once the function may run', async () => {
    await createFn('throttled', LOGGING);
    await t.client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'throttled', ReservedConcurrentExecutions: 0 }));
    const q = await createQueue(sqs, 'throttled');
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: 'held' }));
    const batches = recordMessages<BatchMessage>(BATCH_CHANNEL);
    const m = await t.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'throttled', EventSourceArn: q.arn }));
    await waitState(t, m.UUID!, 'Enabled');
    // The poller has received the message and been throttled with it (twice: it keeps trying).
    await waitFor(() => batches.messages.filter((b) => b.uuid === m.UUID && b.outcome === 'throttled').length >= 2, { message: 'the batch throttled twice' });
    batches.stop();
    assert.deepEqual(batches.messages.filter((b) => b.uuid === m.UUID && b.outcome !== 'throttled'), []);
    assert.equal(events(t.dataDir, 'throttled').length, 0);
    assert.equal(await counts(q.url), 1, 'the message is not lost');
    await t.client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'throttled' }));
    await waitFor(() => (events(t.dataDir, 'throttled').length === 1 ? true : undefined), { message: 'the message' });
    await waitFor(async () => ((await counts(q.url)) === 0 ? true : undefined), { message: 'an empty queue' });
    await t.client.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID!, Enabled: false }));
  });
});

describe('event filtering patterns', () => {
  const ok = (pattern: unknown, record: unknown) => compilePattern(JSON.stringify(pattern))(record);
  it('matches AWS\'s documented syntax', () => {
    assert.equal(ok({ body: { a: ['x'] } }, { body: { a: 'x' } }), true);
    assert.equal(ok({ body: { a: ['x'] } }, { body: { a: ['y', 'x'] } }), true, 'any element of an array field');
    assert.equal(ok({ body: { a: [5] } }, { body: { a: 5.0 } }), true);
    assert.equal(ok({ body: { a: [null] } }, { body: { a: null } }), true);
    assert.equal(ok({ a: [{ prefix: 'ab' }] }, { a: 'abc' }), true);
    assert.equal(ok({ a: [{ suffix: 'bc' }] }, { a: 'abc' }), true);
    assert.equal(ok({ a: [{ 'equals-ignore-case': 'ABC' }] }, { a: 'abc' }), true);
    assert.equal(ok({ a: [{ wildcard: 'a*c' }] }, { a: 'abbbc' }), true);
    assert.equal(ok({ a: [{ 'anything-but': ['x', 'y'] }] }, { a: 'z' }), true);
    assert.equal(ok({ a: [{ 'anything-but': ['x', 'y'] }] }, { a: 'x' }), false);
    assert.equal(ok({ a: [{ 'anything-but': { prefix: 'x' } }] }, { a: 'xa' }), false);
    assert.equal(ok({ a: [{ 'anything-but': 'x' }] }, {}), false, 'a missing field is not "anything but"');
    assert.equal(ok({ a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 5 }), true);
    assert.equal(ok({ a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 6 }), false);
    assert.equal(ok({ a: [{ numeric: ['=', 5] }] }, { a: '5' }), false, 'numeric needs a number');
    assert.equal(ok({ a: [{ exists: true }] }, { a: 1 }), true);
    assert.equal(ok({ a: [{ exists: false }] }, { b: 1 }), true);
    assert.equal(ok({ a: { b: [{ exists: false }] } }, {}), true, 'exists:false through a missing parent');
    assert.equal(ok({ a: [{ exists: true }] }, { b: 1 }), false);
    assert.equal(ok({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.7' }), true);
    assert.equal(ok({ a: ['x'], b: ['y'] }, { a: 'x', b: 'z' }), false, 'every key must match');
    assert.equal(ok({ a: ['x', { prefix: 'q' }] }, { a: 'qq' }), true, 'any matcher of a key may match');
  });
  it('refuses what AWS refuses', () => {
    for (const bad of ['not json', '[]', '{"a":"x"}', '{"a":[]}', '{"a":[{"prefix":1}]}', '{"a":[{"numeric":[">"]}]}', '{"a":[{"nope":1}]}', '{}']) {
      assert.throws(() => compilePattern(bad), FilterPatternError, bad);
    }
  });
});
