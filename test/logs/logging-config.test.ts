// Advanced logging controls: LoggingConfig as AWS validates and returns it, JSON records from the Node.js
// and Python runtime clients filtered by ApplicationLogLevel, platform records filtered by
// SystemLogLevel, and LogGroup sending a function's logs to a group of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type Runtime } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

let t: TestServer;
let logs: CloudWatchLogsClient;

before(async () => {
  t = await startTestServer();
  logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});
after(async () => {
  logs.destroy();
  await t.close();
});

const NODE_HANDLER = `exports.handler = async () => {
  console.debug('a debug line');
  console.log('an info line');
  console.warn('a warning', 42);
  console.error(new Error('an error object'));
  return 'done';
};`;

const PY_HANDLER = `import logging
logger = logging.getLogger()
def handler(event, context):
    print("a print line")
    logger.debug("a debug line")
    logger.info("an info line")
    logger.warning("a warning %d", 42)
    logger.error("an error line")
    return "done"
`;

async function createAndInvoke(name: string, runtime: Runtime, file: string, source: string, handler: string, loggingConfig: Record<string, string>): Promise<string> {
  await t.client.send(
    new CreateFunctionCommand({ FunctionName: name, Runtime: runtime, Handler: handler, Role: ROLE, Code: { ZipFile: await makeZip([{ name: file, content: source }]) }, LoggingConfig: loggingConfig }),
  );
  const out = await t.client.send(new InvokeCommand({ FunctionName: name }));
  assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
  return Buffer.from(out.Payload ?? []).toString();
}

async function groupMessages(group: string): Promise<string[]> {
  const out = await logs.send(new FilterLogEventsCommand({ logGroupName: group }));
  return (out.events ?? []).map((e) => e.message ?? '');
}

const parse = (m: string) => JSON.parse(m) as Record<string, any>;

test('LoggingConfig: AWS defaults, JSON levels, and levels refused with Text', async () => {
  const code = await makeZip([{ name: 'index.js', content: 'exports.handler = async () => 1;' }]);
  const create = (name: string, LoggingConfig?: Record<string, string>) =>
    t.client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: code }, ...(LoggingConfig ? { LoggingConfig } : {}) }));
  const plain = await create('cfg-plain');
  assert.deepEqual(plain.LoggingConfig, { LogFormat: 'Text', LogGroup: '/aws/lambda/cfg-plain' });
  const json = await create('cfg-json', { LogFormat: 'JSON' });
  assert.deepEqual(json.LoggingConfig, { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/cfg-json' });
  await expectAwsError(create('cfg-bad', { LogFormat: 'Text', ApplicationLogLevel: 'WARN' }), {
    name: 'InvalidParameterValueException',
    status: 400,
    message: 'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or change the LogFormat to "Json" and try again.',
  });
  await expectAwsError(t.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-plain', LoggingConfig: { SystemLogLevel: 'WARN' } })), {
    name: 'InvalidParameterValueException',
    status: 400,
    message: /^LogLevel is not supported when LogFormat is set to "Text"/,
  });
  await t.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-json', LoggingConfig: { ApplicationLogLevel: 'ERROR' } }));
  await waitUntilFunctionUpdatedV2({ client: t.client, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'cfg-json' });
  const updated = await t.client.send(new GetFunctionConfigurationCommand({ FunctionName: 'cfg-json' }));
  assert.deepEqual(updated.LoggingConfig, { LogFormat: 'JSON', ApplicationLogLevel: 'ERROR', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/cfg-json' });
  await t.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-json', LoggingConfig: { LogFormat: 'Text' } }));
  await waitUntilFunctionUpdatedV2({ client: t.client, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'cfg-json' });
  const text = await t.client.send(new GetFunctionConfigurationCommand({ FunctionName: 'cfg-json' }));
  assert.deepEqual(text.LoggingConfig, { LogFormat: 'Text', LogGroup: '/aws/lambda/cfg-json' });
});

test('Node.js, JSON + WARN: only WARN and above, as JSON records; platform records as JSON', async () => {
  assert.equal(await createAndInvoke('json-node', 'nodejs20.x', 'index.js', NODE_HANDLER, 'index.handler', { LogFormat: 'JSON', ApplicationLogLevel: 'WARN' }), '"done"');
  const messages = await groupMessages('/aws/lambda/json-node');
  const records = messages.map(parse);
  const app = records.filter((r) => 'level' in r);
  assert.deepEqual(app.map((r) => r['level']), ['WARN', 'ERROR']);
  const [warn, error] = app;
  assert.deepEqual(Object.keys(warn!), ['timestamp', 'level', 'requestId', 'message']);
  assert.equal(warn!['message'], 'a warning 42');
  assert.match(warn!['timestamp'], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.match(warn!['requestId'], /^[0-9a-f-]{36}$/);
  assert.equal(error!['message'].errorType, 'Error');
  assert.equal(error!['message'].errorMessage, 'an error object');
  assert.ok(Array.isArray(error!['message'].stackTrace));

  const platform = records.filter((r) => 'type' in r);
  assert.deepEqual(platform.map((r) => r['type']), ['platform.initStart', 'platform.start', 'platform.report']);
  const [init, start, report] = platform;
  assert.equal(init!['record'].functionName, 'json-node');
  assert.equal(init!['record'].functionVersion, '$LATEST');
  assert.deepEqual(start!['record'], { requestId: warn!['requestId'], version: '$LATEST' });
  assert.equal(report!['record'].requestId, warn!['requestId']);
  assert.equal(report!['record'].status, 'success');
  assert.equal(report!['record'].metrics.memorySizeMB, 128);
  assert.equal(typeof report!['record'].metrics.durationMs, 'number');
  assert.equal(typeof report!['record'].metrics.initDurationMs, 'number');
  assert.match(start!['time'], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
});

test('Python, JSON + WARN: only WARN and above, as JSON records (print counts as INFO)', async () => {
  assert.equal(await createAndInvoke('json-py', 'python3.12', 'app.py', PY_HANDLER, 'app.handler', { LogFormat: 'JSON', ApplicationLogLevel: 'WARN' }), '"done"');
  const messages = await groupMessages('/aws/lambda/json-py');
  assert.ok(!messages.some((m) => m.includes('a print line') || m.includes('an info line') || m.includes('a debug line')), messages.join('\n'));
  const app = messages.map(parse).filter((r) => 'level' in r);
  assert.deepEqual(app.map((r) => [r['level'], r['message']]), [['WARN', 'a warning 42'], ['ERROR', 'an error line']]);
  assert.deepEqual(Object.keys(app[0]!), ['timestamp', 'level', 'message', 'logger', 'requestId']);
  assert.equal(app[0]!['logger'], 'root');
  assert.match(app[0]!['timestamp'], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.match(app[0]!['requestId'], /^[0-9a-f-]{36}$/);
});

test('SystemLogLevel WARN drops the platform records; LogGroup sends logs to a custom group', async () => {
  await createAndInvoke('json-quiet', 'nodejs20.x', 'index.js', NODE_HANDLER, 'index.handler', { LogFormat: 'JSON', SystemLogLevel: 'WARN', LogGroup: '/custom/quiet' });
  const messages = await groupMessages('/custom/quiet');
  const records = messages.map(parse);
  assert.ok(!records.some((r) => 'type' in r), messages.join('\n'));
  assert.deepEqual(records.map((r) => r['level']), ['INFO', 'WARN', 'ERROR'], 'the default application level is INFO');
  await expectAwsError(logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/json-quiet' })), {
    name: 'ResourceNotFoundException',
    status: 400,
    message: 'The specified log group does not exist.',
  });
});
