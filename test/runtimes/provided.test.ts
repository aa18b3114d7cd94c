// Custom runtimes (provided, provided.al2, provided.al2023): anything that speaks the Runtime API,
// from a shell script with curl to AWS's own runtime interface client; and runtimes with no
// interpreter on this host.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LambdaError } from '../../src/shared/errors.js';
import { skipUnless } from '../helpers/require.js';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from '../invoke/fixtures.js';

const invoker = testInvoker();
after(async () => {
  await invoker.close();
  cleanupTemp();
});

const exe = (content: string) => ({ content, mode: 0o755 });

// The bash example from AWS's custom runtime tutorial, with curl.
const CURL_BOOTSTRAP = `#!/bin/sh
set -eu
API="http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "init: handler=$_HANDLER"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -LD "$HEADERS" "$API/invocation/next")"
  REQUEST_ID="$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
  echo "handling $REQUEST_ID"
  if [ "$EVENT" = '"fail"' ]; then
    curl -sS -X POST -H 'Lambda-Runtime-Function-Error-Type: Custom.Failure' "$API/invocation/$REQUEST_ID/error" \\
      -d '{"errorMessage":"asked to fail","errorType":"Custom.Failure"}' > /dev/null
  else
    curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "{\\"echo\\":$EVENT,\\"handler\\":\\"$_HANDLER\\"}" > /dev/null
  fi
done
`;

describe('provided runtimes', () => {
  for (const runtime of ['provided', 'provided.al2', 'provided.al2023']) {
    it(`${runtime}: runs a shell bootstrap that speaks the Runtime API with curl`, async () => {
      const cfg = fnConfig({ codeDir: makeCode({ bootstrap: exe(CURL_BOOTSTRAP) }), runtime, handler: 'function.handler' });
      const first = await invokeJson(invoker, cfg, { n: 1 });
      assert.deepEqual(first.body, { echo: { n: 1 }, handler: 'function.handler' });
      const failed = await invokeJson(invoker, cfg, 'fail');
      assert.equal(failed.result.functionError, 'Unhandled');
      assert.deepEqual(failed.body, { errorMessage: 'asked to fail', errorType: 'Custom.Failure' });
      const text = await logText(invoker, cfg);
      assert.match(text, /^init: handler=function.handler$/m);
      assert.match(text, new RegExp(`^handling ${first.result.requestId}$`, 'm'));
      assert.equal(invoker.environments(cfg.functionArn).length, 1, 'warm after an error');
    });
  }

  it('runs /opt/bootstrap from a layer when the code has none', async () => {
    const layer = makeCode({ bootstrap: exe(CURL_BOOTSTRAP) });
    const cfg = fnConfig({ codeDir: makeCode({ 'README': 'no bootstrap here' }), runtime: 'provided.al2023', handler: 'h', layerDirs: [layer] });
    assert.deepEqual((await invokeJson(invoker, cfg, 5)).body, { echo: 5, handler: 'h' });
  });

  it('answers Runtime.InvalidEntrypoint without a bootstrap', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'main.sh': 'echo' }), runtime: 'provided.al2023', handler: 'h' });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.deepEqual(body, {
      errorType: 'Runtime.InvalidEntrypoint',
      errorMessage: "Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    });
  });

  it('answers Runtime.ExitError when the bootstrap exits', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ bootstrap: exe('#!/bin/sh\necho about to fail\nexit 3\n') }), runtime: 'provided.al2', handler: 'h' });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.deepEqual(body, {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: exit status 3`,
    });
    const text = await logText(invoker, cfg);
    assert.match(text, /about to fail/);
    assert.match(text, /REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tStatus: error\tError Type: Runtime.ExitError/);
  });

  it('throws InvalidRuntimeException naming a runtime this host cannot run', async () => {
    for (const runtime of ['java21', 'dotnet8', 'ruby3.3']) {
      const cfg = fnConfig({ codeDir: makeCode({ 'x': '' }), runtime, handler: 'x::y' });
      await assert.rejects(invoker.invoke(cfg, { requestId: 'r', payload: Buffer.from('{}'), invokedFunctionArn: cfg.functionArn, tailLog: false }), (e: unknown) => {
        assert.ok(e instanceof LambdaError);
        assert.equal(e.code, 'InvalidRuntimeException');
        assert.equal(e.status, 502);
        assert.match(e.message, new RegExp(`^The runtime parameter of ${runtime.replace('.', '\\.')} is not supported by this lambdalite host`));
        return true;
      });
    }
  });

  // AWS's own runtime interface client for Node.js (native, libcurl-based), installed into .test-deps/ by
  // `npm test` (scripts/ensure-test-deps.mjs) and shipped in the function's code as a real deployment
  // package would carry it.
  const ricDir = path.resolve('.test-deps/node_modules/aws-lambda-ric');
  const ricBuilt = fs.existsSync(path.join(ricDir, 'dist', 'rapid-client.node'));
  // CI builds the package (.ci/run) and sets LAMBDALITE_REQUIRE_RIC, so there a missing build fails.
  it('runs the official aws-lambda-ric npm package as a provided bootstrap', { skip: skipUnless(ricBuilt, 'RIC', 'aws-lambda-ric is not installed and built') }, async () => {
    assert.ok(ricBuilt, `aws-lambda-ric is not built: ${path.join(ricDir, 'dist', 'rapid-client.node')} is missing`);
    const code = makeCode({
      'index.js': 'exports.handler = async (event, context) => { console.log("in ric"); return { from: "aws-lambda-ric", event, id: context.awsRequestId }; };',
      'fail.js': 'exports.handler = async () => { throw new TypeError("ric failure"); };',
      bootstrap: exe(`#!/bin/sh\ncd /var/task\nexec ${process.execPath} /var/task/node_modules/aws-lambda-ric/bin/index.mjs "$_HANDLER"\n`),
    });
    for (const part of ['package.json', 'bin', 'dist']) {
      fs.cpSync(path.join(ricDir, part), path.join(code, 'node_modules', 'aws-lambda-ric', part), { recursive: true });
    }
    fs.chmodSync(path.join(code, 'node_modules'), 0o755);
    const cfg = fnConfig({ codeDir: code, runtime: 'provided.al2023', handler: 'index.handler' });
    const { result, body } = await invokeJson(invoker, cfg, { hi: 1 });
    assert.equal(result.functionError, undefined, JSON.stringify(body));
    assert.deepEqual(body, { from: 'aws-lambda-ric', event: { hi: 1 }, id: result.requestId });
    const again = await invokeJson(invoker, cfg, { hi: 2 });
    assert.deepEqual(again.body.event, { hi: 2 });
    assert.equal(invoker.environments(cfg.functionArn).length, 1);
    const text = await logText(invoker, cfg);
    assert.match(text, new RegExp(`\\t${result.requestId}\\tINFO\\tin ric`));
    // Its error reports go through /invocation/{id}/error like ours.
    const failing = await invokeJson(invoker, { ...cfg, functionArn: `${cfg.functionArn}-fail`, handler: 'fail.handler' });
    assert.equal(failing.result.functionError, 'Unhandled');
    assert.equal(failing.body.errorType, 'TypeError');
    assert.equal(failing.body.errorMessage, 'ric failure');
  });
});
