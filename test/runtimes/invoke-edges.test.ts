// Invoke edge cases as AWS has them: ClientContext validated before anything runs or is queued,
// AWS_LAMBDA_EXEC_WRAPPER, Max Memory Used as the environment's peak, Python import-time errors
// with importlib's frames.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { functionLogLines } from '../helpers/logs.js';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from '../invoke/fixtures.js';

const invoker = testInvoker();
let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.client.send(
    new CreateFunctionCommand({
      FunctionName: 'cc',
      Runtime: 'nodejs22.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: await makeZip([{ name: 'index.mjs', content: "export const handler = async (e, ctx) => { console.log('ran', e.id); return ctx.clientContext ?? null; };" }]) },
    }),
  );
  await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'cc' });
});
after(async () => {
  await t?.close();
  await invoker.close();
  cleanupTemp();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const INVALID = { name: 'InvalidRequestContentException', status: 400, message: 'Client context must be a valid Base64-encoded JSON object.' };

describe('X-Amz-Client-Context', () => {
  it('is decoded for the function when it is base64 JSON', async () => {
    const out = await t.client.send(new InvokeCommand({ FunctionName: 'cc', ClientContext: b64('{"custom":{"a":1},"env":{"locale":"en"}}'), Payload: Buffer.from('{"id":"ok"}') }));
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload ?? []).toString()), { custom: { a: 1 }, env: { locale: 'en' } });
  });

  for (const [what, value] of [
    ['not base64', 'not base64!'],
    ['base64 of text that is not JSON', b64('hello')],
    ['base64 of JSON that is not an object', b64('[1,2]')],
  ] as const) {
    it(`answers 400 for ${what}, sync and async, and nothing runs`, async () => {
      await expectAwsError(t.client.send(new InvokeCommand({ FunctionName: 'cc', ClientContext: value, Payload: Buffer.from('{"id":"bad-sync"}') })), INVALID);
      await expectAwsError(
        t.client.send(new InvokeCommand({ FunctionName: 'cc', InvocationType: 'Event', ClientContext: value, Payload: Buffer.from('{"id":"bad-async"}') })),
        INVALID,
      );
    });
  }

  it('left nothing behind: only valid invocations ran', async () => {
    // A valid invocation after the rejected ones; the function's log holds no rejected id.
    await t.client.send(new InvokeCommand({ FunctionName: 'cc', Payload: Buffer.from('{"id":"after"}') }));
    const lines = functionLogLines(t.dataDir, 'cc').filter((l) => l.includes('\tran '));
    assert.ok(lines.some((l) => l.endsWith('ran after')), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('bad-')), lines.join('\n'));
  });
});

describe('AWS_LAMBDA_EXEC_WRAPPER', () => {
  const wrapper = {
    content: '#!/bin/bash\necho "wrapper got: $1"\nexport WRAPPED_BY=wrapper\nexec "$@"\n',
    mode: 0o755,
  };

  for (const [runtime, handler, file, source] of [
    ['nodejs22.x', 'index.handler', 'index.js', 'exports.handler = async () => process.env.WRAPPED_BY;'],
    ['python3.12', 'app.handler', 'app.py', 'import os\ndef handler(e, c):\n    return os.environ.get("WRAPPED_BY")\n'],
  ] as const) {
    it(`runs ${runtime} through the wrapper script with the runtime's command line`, async () => {
      const cfg = fnConfig({
        runtime,
        handler,
        codeDir: makeCode({ [file]: source }),
        layerDirs: [makeCode({ 'otel-handler': wrapper })],
        environment: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler' },
      });
      const { result, body } = await invokeJson(invoker, cfg);
      assert.equal(result.functionError, undefined, JSON.stringify(body));
      assert.equal(body, 'wrapper');
      assert.match(await logText(invoker, cfg), new RegExp(`wrapper got: \\S*${runtime.startsWith('node') ? 'node' : 'python3'}`));
    });
  }

  it('fails init with Runtime.ExitError (exit status 127) when the wrapper does not exist', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async () => 1;' }), environment: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/missing-wrapper' } });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.equal(body.errorType, 'Runtime.ExitError');
    assert.match(body.errorMessage, /Runtime exited with error: exit status 127$/);
  });

  it('is ignored by custom runtimes, as on AWS', async () => {
    const bootstrap = {
      content: '#!/bin/sh\nAPI="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"\nH=$(mktemp)\ncurl -sS -D "$H" "$API/invocation/next" >/dev/null\nID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d "[:space:]" | cut -d: -f2)\ncurl -sS "$API/invocation/$ID/response" -d \'"direct"\' >/dev/null\n',
      mode: 0o755,
    };
    const cfg = fnConfig({ runtime: 'provided.al2023', handler: 'x', codeDir: makeCode({ bootstrap }), environment: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/missing-wrapper' } });
    assert.equal((await invokeJson(invoker, cfg)).body, 'direct');
  });
});

describe('Max Memory Used', () => {
  it('is at least the resident memory the runtime itself reports, not its heap', async () => {
    const cfg = fnConfig({
      memorySize: 256,
      codeDir: makeCode({ 'index.js': 'exports.handler = async () => { const b = Buffer.alloc(40 * 1048576, 1); return Math.floor(process.memoryUsage().rss / 1048576) + b.length * 0; };' }),
    });
    const { body: rssMb } = await invokeJson(invoker, cfg);
    const report = (await logText(invoker, cfg)).match(/Max Memory Used: (\d+) MB/);
    assert.ok(report, 'REPORT line');
    assert.ok(Number(report[1]) >= rssMb, `Max Memory Used ${report[1]} MB < RSS ${rssMb} MB`);
    assert.ok(Number(report[1]) <= 256, `Max Memory Used ${report[1]} MB over MemorySize`);
  });
});

describe('Python import-time errors', () => {
  it("carry importlib's frames before the function's own, as AWS's runtime reports them", async () => {
    const cfg = fnConfig({
      runtime: 'python3.12',
      handler: 'app.handler',
      codeDir: makeCode({ 'app.py': 'raise ValueError("bad config")\ndef handler(e, c):\n    return 1\n' }),
    });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.equal(body.errorType, 'ValueError');
    assert.equal(body.errorMessage, 'bad config');
    const trace: string[] = body.stackTrace;
    assert.match(trace[0] ?? '', /importlib\/__init__\.py", line \d+, in import_module/);
    assert.ok(trace.some((f) => f.includes('<frozen importlib._bootstrap>')), trace.join(''));
    assert.match(trace[trace.length - 1] ?? '', /File "\/var\/task\/app\.py", line 1, in <module>\n {4}raise ValueError\("bad config"\)/);
    assert.ok(!trace.some((f) => f.includes('lambdalite_runtime') || f.includes('bootstrap.py')), 'no runtime client frames');
  });
});
