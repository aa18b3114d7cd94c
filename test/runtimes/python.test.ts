// The Python runtime client against real processes.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from '../invoke/fixtures.js';

const invoker = testInvoker();
after(async () => {
  await invoker.close();
  cleanupTemp();
});

const py = (files: Record<string, string>, handler = 'app.handler', extra: Partial<Parameters<typeof fnConfig>[0]> = {}) =>
  fnConfig({ codeDir: makeCode(files), runtime: 'python3.12', handler, ...extra });

describe('python handlers', () => {
  it('runs a handler and returns its JSON (json.dumps spacing)', async () => {
    const cfg = py({ 'app.py': 'def handler(event, context):\n    return {"got": event, "n": [1, 2]}\n' });
    const { result } = await invokeJson(invoker, cfg, { a: 1 });
    assert.equal(result.functionError, undefined);
    assert.equal(result.payload.toString(), '{"got": {"a": 1}, "n": [1, 2]}');
  });

  it('sets _X_AMZN_TRACE_ID per invocation, visible through os.environ', async () => {
    const cfg = py({ 'app.py': 'import os\ndef handler(event, context):\n    return os.environ.get("_X_AMZN_TRACE_ID")\n' });
    const traceId = 'Root=1-5e1b4151-5ac6c58f3b5e5e5e5e5e5e5e;Parent=53995c3f42cd8ad8;Sampled=1';
    assert.equal((await invokeJson(invoker, cfg, {}, { traceId })).body, traceId);
    const other = 'Root=1-5e1b4151-000000000000000000000000;Parent=0000000000000000;Sampled=0';
    assert.equal((await invokeJson(invoker, cfg, {}, { traceId: other })).body, other, 'a warm invoke sees its own trace id');
  });

  it('runs a nested module path and returns null for None', async () => {
    const cfg = py({ 'pkg/sub/mod.py': 'def go(e, c):\n    return None\n' }, 'pkg/sub/mod.go');
    assert.equal((await invokeJson(invoker, cfg)).result.payload.toString(), 'null');
  });

  it('gives the context object', async () => {
    const cfg = py(
      {
        'app.py': [
          'import sys, time',
          'def handler(e, c):',
          '    return {"id": c.aws_request_id, "name": c.function_name, "version": c.function_version,',
          '            "arn": c.invoked_function_arn, "mem": c.memory_limit_in_mb, "group": c.log_group_name,',
          '            "stream": c.log_stream_name, "deadline": int(time.time() * 1000) + c.get_remaining_time_in_millis(),',
          '            "cc": c.client_context.custom, "app": c.client_context.client.app_title,',
          '            "cid": c.identity.cognito_identity_id, "pool": c.identity.cognito_identity_pool_id,',
          '            "ver": "%d.%d" % sys.version_info[:2], "path0": sys.path[0]}',
        ].join('\n'),
      },
      'app.handler',
      { memorySize: 192 },
    );
    const sent = Date.now();
    const { result, body } = await invokeJson(invoker, cfg, {}, {
      invokedFunctionArn: `${cfg.functionArn}:3`,
      clientContext: Buffer.from(JSON.stringify({ client: { app_title: 'T' }, custom: { k: 1 } })).toString('base64'),
      cognitoIdentity: '{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pid"}',
    });
    assert.equal(body.id, result.requestId);
    assert.equal(body.name, cfg.functionName);
    assert.equal(body.version, '$LATEST');
    assert.equal(body.arn, `${cfg.functionArn}:3`);
    assert.equal(body.mem, '192');
    assert.equal(body.group, cfg.logGroup);
    assert.match(body.stream, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    // The deadline is the delivery time plus Timeout (5 s), and the remaining time counts down to it.
    assert.ok(body.deadline >= sent + 5000 - 1 && body.deadline <= Date.now() + 5000 + 1, `deadline ${body.deadline - sent} ms after the invoke`);
    assert.deepEqual(body.cc, { k: 1 });
    assert.equal(body.app, 'T');
    assert.equal(body.cid, 'cid');
    assert.equal(body.pool, 'pid');
    assert.equal(body.ver, '3.12', 'python3.12 runs on a host Python 3.12');
    assert.equal(body.path0, '/var/task');
  });

  it('serialises an exception as {errorMessage, errorType, requestId, stackTrace}', async () => {
    const cfg = py({ 'app.py': 'def handler(e, c):\n    raise ValueError("bad value")\n' });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.deepEqual(Object.keys(body), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
    assert.equal(body.errorMessage, 'bad value');
    assert.equal(body.errorType, 'ValueError');
    assert.equal(body.requestId, result.requestId);
    assert.deepEqual(body.stackTrace, ['  File "/var/task/app.py", line 2, in handler\n    raise ValueError("bad value")\n']);
    const text = await logText(invoker, cfg);
    assert.match(text, /\[ERROR\] ValueError: bad value\nTraceback \(most recent call last\):\n  File "\/var\/task\/app.py", line 2, in handler/);
  });

  it('reports Runtime.ImportModuleError', async () => {
    const cfg = py({ 'other.py': '' }, 'missing.handler');
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.deepEqual(body, {
      errorMessage: "Unable to import module 'missing': No module named 'missing'",
      errorType: 'Runtime.ImportModuleError',
      requestId: '',
      stackTrace: [],
    });
  });

  it('reports Runtime.HandlerNotFound', async () => {
    const cfg = py({ 'app.py': 'x = 1\n' }, 'app.nothere');
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(body.errorType, 'Runtime.HandlerNotFound');
    assert.equal(body.errorMessage, "Handler 'nothere' missing on module 'app'");
    assert.equal(body.requestId, result.requestId);
  });

  it('reports Runtime.UserCodeSyntaxError', async () => {
    const cfg = py({ 'app.py': 'def handler(e, c)\n    return 1\n' });
    const { body } = await invokeJson(invoker, cfg);
    assert.equal(body.errorType, 'Runtime.UserCodeSyntaxError');
    assert.match(body.errorMessage, /^Syntax error in module 'app': /);
  });

  it('reports Runtime.MalformedHandlerName', async () => {
    const cfg = py({ 'app.py': '' }, 'handler');
    const { body } = await invokeJson(invoker, cfg);
    assert.equal(body.errorType, 'Runtime.MalformedHandlerName');
    assert.equal(body.errorMessage, "Bad handler 'handler': not enough values to unpack (expected 2, got 1)");
  });

  it('writes logging records as [LEVEL]\\t<ISO time>\\t<request id>\\t<message> and print() verbatim', async () => {
    const cfg = py({
      'app.py': [
        'import logging',
        'logger = logging.getLogger()',
        'logger.setLevel(logging.INFO)',
        'def handler(e, c):',
        '    logger.info("hello %s", "logs")',
        '    logging.getLogger("x").warning("careful")',
        '    print("plain print")',
        '    return 1',
      ].join('\n'),
    });
    const { result } = await invokeJson(invoker, cfg);
    const text = await logText(invoker, cfg);
    const iso = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
    assert.match(text, new RegExp(`^\\[INFO\\]\\t${iso}\\t${result.requestId}\\thello logs$`, 'm'));
    assert.match(text, new RegExp(`^\\[WARNING\\]\\t${iso}\\t${result.requestId}\\tcareful$`, 'm'));
    assert.match(text, /^plain print$/m);
  });
});
