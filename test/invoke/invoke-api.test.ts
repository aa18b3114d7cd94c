// Invoke over the real API: @aws-sdk/client-lambda and `aws lambda invoke` against a real server whose
// functions really run. The engine's own behaviour is proven in engine.test.ts; this file proves the
// HTTP contract around it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateFunctionCommand, InvokeCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type LambdaClient, type Runtime } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

const run = promisify(execFile);
let t: TestServer;
let lambda: LambdaClient;
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

async function create(name: string, runtime: Runtime, files: Array<{ name: string; content: string; mode?: number }>, handler = 'index.handler', extra: Record<string, unknown> = {}) {
  await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: runtime, Handler: handler, Role: ROLE, Code: { ZipFile: await makeZip(files) }, ...extra }));
}

const text = (p: Uint8Array | undefined) => Buffer.from(p ?? []).toString('utf8');

before(async () => {
  t = await startTestServer();
  lambda = t.client;
  await create('echo', 'nodejs22.x', [{ name: 'index.mjs', content: "export const handler = async (event, context) => { console.log('hello from', context.functionName); return { event, cc: context.clientContext ?? null, arn: context.invokedFunctionArn, rid: context.awsRequestId }; };" }]);
  await create('pyecho', 'python3.12', [{ name: 'app.py', content: 'import logging\nlogging.getLogger().setLevel(logging.INFO)\ndef handler(event, context):\n    logging.info("py says hi")\n    return {"event": event, "fn": context.function_name}\n' }], 'app.handler');
  await create('boom', 'nodejs20.x', [{ name: 'index.js', content: "exports.handler = async () => { const e = new Error('kaboom'); e.name = 'CustomError'; throw e; };" }]);
  await create('slow', 'nodejs20.x', [{ name: 'index.js', content: "const envId = require('crypto').randomUUID(); exports.handler = async (e) => (e.hang ? new Promise(() => {}) : envId);" }], 'index.handler', { Timeout: 1 });
  await create('nothing', 'nodejs20.x', [{ name: 'index.js', content: 'exports.handler = async () => undefined;' }]);
  await create('javafn', 'java21', [{ name: 'a.txt', content: 'x' }], 'example.Handler::handleRequest');
});
after(async () => t.close());

test('RequestResponse returns the payload, the executed version and a request id', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"a":1}') }));
  assert.equal(out.StatusCode, 200);
  assert.equal(out.ExecutedVersion, '$LATEST');
  assert.equal(out.FunctionError, undefined);
  const body = JSON.parse(text(out.Payload)) as { event: unknown; arn: string; rid: string };
  assert.deepEqual(body.event, { a: 1 });
  assert.equal(body.arn, `${ARN}:echo`);
  assert.match(body.rid, /^[0-9a-f-]{36}$/);
});

test('Python functions run through the same API', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'pyecho', Payload: Buffer.from('[1,2]'), LogType: 'Tail' }));
  assert.equal(out.StatusCode, 200);
  assert.deepEqual(JSON.parse(text(out.Payload)), { event: [1, 2], fn: 'pyecho' });
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
  assert.match(log, /\[INFO\]\t\d{4}-\d\d-\d\dT[^\t]+Z\t[0-9a-f-]{36}\tpy says hi/);
});

test('an empty payload is the empty object; a handler returning nothing yields null', async () => {
  const echo = await lambda.send(new InvokeCommand({ FunctionName: 'echo' }));
  assert.deepEqual((JSON.parse(text(echo.Payload)) as { event: unknown }).event, {});
  const none = await lambda.send(new InvokeCommand({ FunctionName: 'nothing' }));
  assert.equal(text(none.Payload), 'null');
});

test('Tail returns the invocation log, base64, with START/END/REPORT', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', LogType: 'Tail', Payload: Buffer.from('{}') }));
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
  const rid = (JSON.parse(text(out.Payload)) as { rid: string }).rid;
  assert.match(log, new RegExp(`START RequestId: ${rid} Version: \\$LATEST`));
  assert.match(log, new RegExp(`\\t${rid}\\tINFO\\thello from echo`));
  assert.match(log, new RegExp(`END RequestId: ${rid}`));
  assert.match(log, new RegExp(`REPORT RequestId: ${rid}\\tDuration: [0-9.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB`));
  assert.ok(Buffer.byteLength(log) <= 4096);
});

test('X-Amz-Client-Context reaches the function', async () => {
  const cc = { custom: { k: 'v' }, env: { platform: 'test' } };
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', ClientContext: Buffer.from(JSON.stringify(cc)).toString('base64') }));
  assert.deepEqual((JSON.parse(text(out.Payload)) as { cc: { custom: unknown } }).cc.custom, cc.custom);
});

test('a function error answers 200 with X-Amz-Function-Error: Unhandled and the error payload', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'boom' }));
  assert.equal(out.StatusCode, 200);
  assert.equal(out.FunctionError, 'Unhandled');
  const err = JSON.parse(text(out.Payload)) as { errorType: string; errorMessage: string; trace: string[] };
  assert.equal(err.errorType, 'CustomError');
  assert.equal(err.errorMessage, 'kaboom');
  assert.ok(Array.isArray(err.trace));
});

test('a timeout answers Sandbox.Timedout with AWS text, and the function still works afterwards', async () => {
  const before = await lambda.send(new InvokeCommand({ FunctionName: 'slow' }));
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: Buffer.from('{"hang":true}') }));
  assert.equal(out.StatusCode, 200);
  assert.equal(out.FunctionError, 'Unhandled');
  const err = JSON.parse(text(out.Payload)) as { errorType: string; errorMessage: string };
  assert.equal(err.errorType, 'Sandbox.Timedout');
  assert.match(err.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
  const after = await lambda.send(new InvokeCommand({ FunctionName: 'slow' }));
  assert.equal(after.StatusCode, 200);
  assert.equal(after.FunctionError, undefined);
  // A timed-out environment is not reused: the next invoke runs in a fresh one.
  assert.notEqual(text(after.Payload), text(before.Payload));
});

test('DryRun answers 204 without running anything', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
  assert.equal(out.StatusCode, 204);
  assert.equal(text(out.Payload), '');
});

test('payload errors: not JSON, over 6 MB, unknown function', async () => {
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('notjson') })), {
    name: 'InvalidRequestContentException', status: 400, type: 'User', message: /^Could not parse request body into json: Could not parse payload into json: /,
  });
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.alloc(6_291_457, 0x20) })), {
    name: 'RequestEntityTooLargeException', status: 413, message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
  });
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'nope' })), {
    name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${ARN}:nope:$LATEST`,
  });
});

test('a runtime this host cannot run is accepted by the control plane, and invoking it names the runtime', async () => {
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'javafn' })), {
    name: 'InvalidRuntimeException', status: 502, message: /^The runtime parameter of java21 is not supported by this lambdalite host: /,
  });
});

test('configuration changes take effect on the next invoke', async () => {
  await create('envfn', 'nodejs20.x', [{ name: 'index.js', content: 'exports.handler = async () => process.env.GREETING ?? "none";' }]);
  assert.equal(text((await lambda.send(new InvokeCommand({ FunctionName: 'envfn' }))).Payload), '"none"');
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'envfn', Environment: { Variables: { GREETING: 'hi' } } }));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'envfn' });
  assert.equal(text((await lambda.send(new InvokeCommand({ FunctionName: 'envfn' }))).Payload), '"hi"');
});

test('aws lambda invoke works against the server', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-cli-'));
  try {
    const outFile = path.join(dir, 'out.json');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const { stdout } = await run('aws', ['lambda', 'invoke', '--endpoint-url', t.url, '--function-name', 'echo', '--payload', '{"via":"cli"}', '--log-type', 'Tail', outFile], { env, timeout: 60_000 });
    const meta = JSON.parse(stdout) as { StatusCode: number; ExecutedVersion: string; LogResult: string };
    assert.equal(meta.StatusCode, 200);
    assert.equal(meta.ExecutedVersion, '$LATEST');
    assert.match(Buffer.from(meta.LogResult, 'base64').toString(), /REPORT RequestId:/);
    assert.deepEqual((JSON.parse(readFileSync(outFile, 'utf8')) as { event: unknown }).event, { via: 'cli' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
