// CloudWatch Logs on the Lambda endpoint: a function's lines read back, in order and in AWS's shapes,
// with @aws-sdk/client-cloudwatch-logs, the AWS CLI and boto3 (only the endpoint changed), plus the
// groups/streams/events operations, their errors and pagination tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  paginateDescribeLogGroups,
  paginateFilterLogEvents,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

const run = promisify(execFile);
let t: TestServer;
let logs: CloudWatchLogsClient;
const GROUP = '/aws/lambda/chatty';

const cliEnv = () => ({ ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' });

async function aws(...args: string[]): Promise<any> {
  const { stdout } = await run('aws', ['logs', ...args, '--endpoint-url', t.url, '--output', 'json'], { env: cliEnv(), timeout: 60_000 });
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

before(async () => {
  t = await startTestServer();
  logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  const handler = `exports.handler = async (event) => {
    console.log('first line', event.n);
    console.error('ERROR something broke', event.n);
    console.log('last line', event.n);
    return event.n;
  };`;
  await t.client.send(new CreateFunctionCommand({ FunctionName: 'chatty', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await makeZip([{ name: 'index.js', content: handler }]) } }));
  for (const n of [1, 2]) {
    const out = await t.client.send(new InvokeCommand({ FunctionName: 'chatty', Payload: Buffer.from(JSON.stringify({ n })) }));
    assert.equal(out.FunctionError, undefined);
  }
});
after(async () => {
  logs.destroy();
  await t.close();
});

/** The function's messages, as the platform and runtime wrote them, in order. */
function expectFunctionLines(messages: string[]): void {
  const platform = messages.map((m) => m.split('\t')[0]!.split(' ')[0]);
  assert.equal(platform[0], 'INIT_START');
  const lines = messages.filter((m) => /\t(first|last) line |ERROR something broke/.test(m));
  assert.deepEqual(
    lines.map((m) => m.split('\t').slice(2).join('\t')),
    ['INFO\tfirst line 1', 'ERROR\tERROR something broke 1', 'INFO\tlast line 1', 'INFO\tfirst line 2', 'ERROR\tERROR something broke 2', 'INFO\tlast line 2'],
  );
  const rids = messages.flatMap((m) => /^START RequestId: (\S+) /.exec(m)?.[1] ?? []);
  assert.equal(rids.length, 2, 'two invocations');
  for (const rid of rids) {
    const start = messages.indexOf(`START RequestId: ${rid} Version: $LATEST`);
    const end = messages.indexOf(`END RequestId: ${rid}`);
    assert.ok(start >= 0 && end > start, `START and END of ${rid} in order`);
    assert.match(messages[end + 1] ?? '', new RegExp(`^REPORT RequestId: ${rid}\\tDuration: `));
  }
}

test('the SDK: the function group and its stream, described as AWS describes them', async () => {
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/' }));
  const g = groups.logGroups?.find((x) => x.logGroupName === GROUP);
  assert.ok(g, 'the function log group exists after its first log line');
  assert.equal(g.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}:*`);
  assert.equal(g.logGroupArn, `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`);
  assert.equal(g.logGroupClass, 'STANDARD');
  assert.equal(g.metricFilterCount, 0);
  assert.equal(g.retentionInDays, undefined);
  assert.ok((g.storedBytes ?? 0) > 0);
  assert.equal(typeof g.creationTime, 'number');

  const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, orderBy: 'LastEventTime', descending: true }));
  assert.equal(streams.logStreams?.length, 1, 'one environment served both invokes: one stream');
  const s = streams.logStreams![0]!;
  assert.match(s.logStreamName ?? '', /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  assert.equal(s.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}:log-stream:${s.logStreamName}`);
  assert.ok((s.firstEventTimestamp ?? 0) <= (s.lastEventTimestamp ?? 0));
  assert.equal(typeof s.lastIngestionTime, 'number');
});

test('the SDK: GetLogEvents returns the lines in order, with forward and backward tokens', async () => {
  const [stream] = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }))).logStreams ?? [];
  const name = stream!.logStreamName!;
  const all = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: name, startFromHead: true }));
  expectFunctionLines(all.events!.map((e) => e.message!));
  assert.match(all.nextForwardToken ?? '', /^f\/\d{56}\/s$/);
  assert.match(all.nextBackwardToken ?? '', /^b\/\d{56}\/s$/);
  const ts = all.events!.map((e) => e.timestamp!);
  assert.deepEqual([...ts].sort((a, b) => a - b), ts);

  // Page forward two at a time: the pages join up into the whole stream; at the end the token stays put.
  const paged: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: name, startFromHead: true, limit: 2, ...(token ? { nextToken: token } : {}) }));
    paged.push(...page.events!.map((e) => e.message!));
    if (page.nextForwardToken === token) break;
    token = page.nextForwardToken;
  }
  assert.deepEqual(paged, all.events!.map((e) => e.message));

  // Without startFromHead the newest events come first; the backward token reaches the older ones.
  const tail = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: name, limit: 2 }));
  assert.deepEqual(tail.events!.map((e) => e.message), all.events!.slice(-2).map((e) => e.message));
  const older = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: name, limit: 2, nextToken: tail.nextBackwardToken }));
  assert.deepEqual(older.events!.map((e) => e.message), all.events!.slice(-4, -2).map((e) => e.message));
});

test('the SDK: FilterLogEvents with a pattern, across pages with nextToken', async () => {
  const errorsOnly = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: 'ERROR' }));
  assert.deepEqual(
    errorsOnly.events!.map((e) => e.message!.split('\t').slice(2).join('\t')),
    ['ERROR\tERROR something broke 1', 'ERROR\tERROR something broke 2'],
  );
  const e = errorsOnly.events![0]!;
  assert.match(e.eventId ?? '', /^\d{56}$/);
  assert.match(e.logStreamName ?? '', /\[\$LATEST\]/);
  assert.deepEqual(errorsOnly.searchedLogStreams, []);
  assert.equal(errorsOnly.nextToken, undefined);

  const pages: string[][] = [];
  for await (const page of paginateFilterLogEvents({ client: logs, pageSize: 3 }, { logGroupName: GROUP, filterPattern: '?first ?last' })) {
    pages.push(page.events!.map((x) => x.message!.split('\t').slice(3).join('\t')));
  }
  assert.ok(pages.length >= 2, 'a limit of 3 needs more than one page');
  assert.deepEqual(pages.flat(), ['first line 1', 'last line 1', 'first line 2', 'last line 2']);

  const none = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: 'line -first -last' }));
  assert.deepEqual(none.events, []);
});

test('the SDK: groups, streams, PutLogEvents, retention and AWS errors', async () => {
  await logs.send(new CreateLogGroupCommand({ logGroupName: 'my/app' }));
  await expectAwsError(logs.send(new CreateLogGroupCommand({ logGroupName: 'my/app' })), {
    name: 'ResourceAlreadyExistsException',
    status: 400,
    message: 'The specified log group already exists',
  });
  await expectAwsError(logs.send(new DescribeLogStreamsCommand({ logGroupName: 'nope' })), {
    name: 'ResourceNotFoundException',
    status: 400,
    message: 'The specified log group does not exist.',
  });
  await expectAwsError(logs.send(new CreateLogGroupCommand({ logGroupName: 'bad name' })), {
    name: 'InvalidParameterException',
    status: 400,
    message: "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
  });
  await logs.send(new CreateLogStreamCommand({ logGroupName: 'my/app', logStreamName: 'one' }));
  await expectAwsError(logs.send(new CreateLogStreamCommand({ logGroupName: 'my/app', logStreamName: 'one' })), {
    name: 'ResourceAlreadyExistsException',
    status: 400,
    message: 'The specified log stream already exists',
  });
  await expectAwsError(logs.send(new PutLogEventsCommand({ logGroupName: 'my/app', logStreamName: 'two', logEvents: [{ timestamp: Date.now(), message: 'x' }] })), {
    name: 'ResourceNotFoundException',
    status: 400,
    message: 'The specified log stream does not exist.',
  });
  const now = Date.now();
  await expectAwsError(
    logs.send(new PutLogEventsCommand({ logGroupName: 'my/app', logStreamName: 'one', logEvents: [{ timestamp: now, message: 'b' }, { timestamp: now - 1, message: 'a' }] })),
    { name: 'InvalidParameterException', status: 400, message: 'Log events in a single PutLogEvents request must be in chronological order.' },
  );
  await expectAwsError(
    logs.send(new PutLogEventsCommand({ logGroupName: 'my/app', logStreamName: 'one', logEvents: [{ timestamp: now - 2 * 86_400_000, message: 'a' }, { timestamp: now, message: 'b' }] })),
    { name: 'InvalidParameterException', status: 400, message: 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.' },
  );
  const old = await logs.send(new PutLogEventsCommand({ logGroupName: 'my/app', logStreamName: 'one', logEvents: [{ timestamp: now - 20 * 86_400_000, message: 'ancient' }] }));
  assert.deepEqual(old.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 1 });
  const put = await logs.send(
    new PutLogEventsCommand({
      logGroupName: 'my/app',
      logStreamName: 'one',
      logEvents: [{ timestamp: now - 1, message: 'hello' }, { timestamp: now, message: 'world' }, { timestamp: now + 3 * 3_600_000, message: 'future' }],
    }),
  );
  assert.deepEqual(put.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 2 });
  const got = await logs.send(new GetLogEventsCommand({ logGroupName: 'my/app', logStreamName: 'one', startFromHead: true }));
  assert.deepEqual(got.events!.map((e) => [e.timestamp, e.message]), [[now - 1, 'hello'], [now, 'world']]);

  await expectAwsError(logs.send(new PutRetentionPolicyCommand({ logGroupName: 'my/app', retentionInDays: 2 })), {
    name: 'InvalidParameterException',
    status: 400,
    message: /^1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: \[1, 3, 5, 7, 14, 30/,
  });
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: 'my/app', retentionInDays: 14 }));
  const described = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'APP' }));
  assert.deepEqual(described.logGroups?.map((g) => [g.logGroupName, g.retentionInDays]), [['my/app', 14]]);
  await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: 'my/app' }));
  assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'my/' }))).logGroups?.[0]?.retentionInDays, undefined);

  await logs.send(new DeleteLogStreamCommand({ logGroupName: 'my/app', logStreamName: 'one' }));
  await expectAwsError(logs.send(new GetLogEventsCommand({ logGroupName: 'my/app', logStreamName: 'one' })), {
    name: 'ResourceNotFoundException',
    status: 400,
    message: 'The specified log stream does not exist.',
  });
  await logs.send(new DeleteLogGroupCommand({ logGroupName: 'my/app' }));
  await expectAwsError(logs.send(new DeleteLogGroupCommand({ logGroupName: 'my/app' })), {
    name: 'ResourceNotFoundException',
    status: 400,
    message: 'The specified log group does not exist.',
  });
});

test('the SDK: DescribeLogGroups pages with nextToken', async () => {
  for (let i = 0; i < 5; i++) await logs.send(new CreateLogGroupCommand({ logGroupName: `paged/${i}` }));
  const names: string[] = [];
  let pages = 0;
  for await (const page of paginateDescribeLogGroups({ client: logs, pageSize: 2 }, { logGroupNamePrefix: 'paged/' })) {
    pages++;
    names.push(...page.logGroups!.map((g) => g.logGroupName!));
  }
  assert.equal(pages, 3);
  assert.deepEqual(names, ['paged/0', 'paged/1', 'paged/2', 'paged/3', 'paged/4']);
});

test('another account sees none of these groups', async () => {
  const other = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: '111122223333', secretAccessKey: 'test' }, maxAttempts: 1 });
  try {
    assert.deepEqual((await other.send(new DescribeLogGroupsCommand({}))).logGroups, []);
    await expectAwsError(other.send(new FilterLogEventsCommand({ logGroupName: GROUP })), { name: 'ResourceNotFoundException', status: 400, message: 'The specified log group does not exist.' });
    await expectAwsError(other.send(new FilterLogEventsCommand({ logGroupIdentifier: `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}` })), {
      name: 'ResourceNotFoundException',
      status: 400,
      message: 'The specified log group does not exist.',
    });
  } finally {
    other.destroy();
  }
});

test('a request without a known X-Amz-Target answers UnknownOperationException', async () => {
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.NoSuchThing' }, body: '{}' });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { __type: 'UnknownOperationException' });
  const bad = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.DescribeLogGroups' }, body: '{"limit":"ten"}' });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { __type: 'SerializationException' });
});

test('the AWS CLI: describe-log-groups, filter-log-events --filter-pattern ERROR, get-log-events', async () => {
  const groups = await aws('describe-log-groups');
  assert.ok(groups.logGroups.some((g: { logGroupName: string }) => g.logGroupName === GROUP));
  const filtered = await aws('filter-log-events', '--log-group-name', GROUP, '--filter-pattern', 'ERROR');
  assert.deepEqual(
    filtered.events.map((e: { message: string }) => e.message.split('\t').slice(3).join('\t')),
    ['ERROR something broke 1', 'ERROR something broke 2'],
  );
  const streams = await aws('describe-log-streams', '--log-group-name', GROUP);
  const name = streams.logStreams[0].logStreamName as string;
  const events = await aws('get-log-events', '--log-group-name', GROUP, '--log-stream-name', name, '--start-from-head');
  expectFunctionLines(events.events.map((e: { message: string }) => e.message));
});

test('boto3: the logs client and its paginators', async () => {
  const script = `
import boto3, json, sys
c = boto3.client('logs', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
group = sys.argv[2]
out = {}
out['groups'] = [g['logGroupName'] for p in c.get_paginator('describe_log_groups').paginate(PaginationConfig={'PageSize': 1}) for g in p['logGroups']]
streams = [s['logStreamName'] for p in c.get_paginator('describe_log_streams').paginate(logGroupName=group) for s in p['logStreams']]
out['streams'] = streams
out['filtered'] = [e['message'] for p in c.get_paginator('filter_log_events').paginate(logGroupName=group, filterPattern='ERROR', PaginationConfig={'PageSize': 1}) for e in p['events']]
out['events'] = [e['message'] for e in c.get_log_events(logGroupName=group, logStreamName=streams[0], startFromHead=True)['events']]
try:
    c.describe_log_streams(logGroupName='missing')
except c.exceptions.ResourceNotFoundException as e:
    out['error'] = [e.response['Error']['Code'], e.response['Error']['Message']]
print(json.dumps(out))
`;
  const { stdout } = await run('python3', ['-c', script, t.url, GROUP], { env: { ...cliEnv(), AWS_EC2_METADATA_DISABLED: 'true' }, timeout: 60_000 });
  const out = JSON.parse(stdout) as { groups: string[]; streams: string[]; filtered: string[]; events: string[]; error: string[] };
  assert.ok(out.groups.includes(GROUP));
  assert.equal(out.streams.length, 1);
  assert.deepEqual(out.filtered.map((m) => m.split('\t').slice(3).join('\t')), ['ERROR something broke 1', 'ERROR something broke 2']);
  expectFunctionLines(out.events);
  assert.deepEqual(out.error, ['ResourceNotFoundException', 'The specified log group does not exist.']);
});

test('PutRetentionPolicy is enforced: events older than the period are gone at once', async () => {
  const now = Date.now();
  await logs.send(new CreateLogGroupCommand({ logGroupName: 'kept/briefly' }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: 'kept/briefly', logStreamName: 's' }));
  await logs.send(new PutLogEventsCommand({ logGroupName: 'kept/briefly', logStreamName: 's', logEvents: [{ timestamp: now - 3 * 86_400_000, message: 'three days old' }] }));
  await logs.send(new PutLogEventsCommand({ logGroupName: 'kept/briefly', logStreamName: 's', logEvents: [{ timestamp: now, message: 'fresh' }] }));
  const before = await logs.send(new FilterLogEventsCommand({ logGroupName: 'kept/briefly' }));
  assert.deepEqual(before.events?.map((e) => e.message), ['three days old', 'fresh']);
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: 'kept/briefly', retentionInDays: 1 }));
  const afterPolicy = await logs.send(new FilterLogEventsCommand({ logGroupName: 'kept/briefly' }));
  assert.deepEqual(afterPolicy.events?.map((e) => e.message), ['fresh']);
  // And events already older than the period are refused as expired.
  const put = await logs.send(new PutLogEventsCommand({ logGroupName: 'kept/briefly', logStreamName: 's', logEvents: [{ timestamp: now - 2 * 86_400_000, message: 'late' }] }));
  assert.deepEqual(put.rejectedLogEventsInfo, { expiredLogEventEndIndex: 1 });
});

test('logs survive a restart of the server', async () => {
  await t.restart();
  const filtered = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: 'ERROR' }));
  assert.equal(filtered.events?.length, 2);
});
