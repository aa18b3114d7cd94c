// The Node.js runtime client against real processes: module formats, handler styles, the context
// object, error shapes and Runtime.* errors, console format.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from '../invoke/fixtures.js';

const invoker = testInvoker();
after(async () => {
  await invoker.close();
  cleanupTemp();
});

describe('nodejs handlers', () => {
  it('runs a CommonJS async handler', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async (event) => ({ got: event, cjs: typeof require });' }) });
    const { result, body } = await invokeJson(invoker, cfg, { a: 1 });
    assert.equal(result.functionError, undefined);
    assert.deepEqual(body, { got: { a: 1 }, cjs: 'function' });
    assert.equal(result.executedVersion, '$LATEST');
  });

  it('runs an ES module (.mjs)', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.mjs': 'export const handler = async (e) => ({ esm: typeof require, e });' }) });
    assert.deepEqual((await invokeJson(invoker, cfg, 7)).body, { esm: 'undefined', e: 7 });
  });

  it('runs a .js file as ESM under "type": "module"', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({ 'package.json': '{"type":"module"}', 'app.js': 'export async function run() { return import.meta.url; }' }),
      handler: 'app.run',
    });
    assert.equal((await invokeJson(invoker, cfg)).body, 'file:///var/task/app.js');
  });

  it('runs ES modules with top-level await, directly and in a dependency', async () => {
    const direct = fnConfig({ codeDir: makeCode({ 'index.mjs': 'const v = await Promise.resolve(41);\nexport const handler = async () => v + 1;' }) });
    assert.equal((await invokeJson(invoker, direct)).body, 42);
    const viaDep = fnConfig({
      codeDir: makeCode({ 'dep.mjs': 'export const v = await new Promise((r) => setTimeout(() => r("late"), 5));', 'index.mjs': 'import { v } from "./dep.mjs";\nexport const handler = async () => v;' }),
    });
    assert.equal((await invokeJson(invoker, viaDep)).body, 'late');
  });

  it('runs a .cjs file and a nested path handler (dir/sub/file.handler)', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({ 'src/lib/deep.cjs': 'module.exports.handlers = { main: async () => __filename };' }),
      handler: 'src/lib/deep.handlers.main',
    });
    assert.equal((await invokeJson(invoker, cfg)).body, '/var/task/src/lib/deep.cjs');
  });

  it('waits for the event loop after a callback when callbackWaitsForEmptyEventLoop (default)', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({
        'index.js': `
          let n = 0;
          exports.handler = (event, context, callback) => {
            callback(null, { n: ++n });
            setTimeout(() => console.log('timer ran'), 50);
          };`,
      }),
    });
    const { body } = await invokeJson(invoker, cfg);
    assert.deepEqual(body, { n: 1 });
    const text = await logText(invoker, cfg);
    // The timer fired inside this invocation: before END.
    assert.ok(text.indexOf('timer ran') < text.indexOf('END RequestId'), text);
  });

  it('answers at once when callbackWaitsForEmptyEventLoop is false', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({
        'index.js': `
          exports.handler = (event, context, callback) => {
            context.callbackWaitsForEmptyEventLoop = false;
            // A handle that keeps the event loop busy for good: waiting for it would end in a timeout.
            require('net').createServer().listen(0);
            callback(null, 'fast');
          };`,
      }),
    });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, undefined, JSON.stringify(body));
    assert.equal(body, 'fast');
  });

  it('returns null when the handler returns nothing', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async () => {};' }) });
    const { result } = await invokeJson(invoker, cfg);
    assert.equal(result.payload.toString(), 'null');
  });

  it('gives the full context object', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({
        'index.js': `exports.handler = async (e, c) => ({
          awsRequestId: c.awsRequestId, functionName: c.functionName, functionVersion: c.functionVersion,
          invokedFunctionArn: c.invokedFunctionArn, memoryLimitInMB: c.memoryLimitInMB, logGroupName: c.logGroupName,
          logStreamName: c.logStreamName, deadline: Date.now() + c.getRemainingTimeInMillis(), clientContext: c.clientContext,
          identity: c.identity, waits: c.callbackWaitsForEmptyEventLoop, trace: process.env._X_AMZN_TRACE_ID,
        });`,
      }),
      memorySize: 256,
      timeout: 7,
    });
    const clientContext = { client: { installation_id: 'i-1', app_title: 'App' }, custom: { k: 'v' }, env: { platform: 'test' } };
    const sent = Date.now();
    const { result, body } = await invokeJson(invoker, cfg, {}, {
      invokedFunctionArn: `${cfg.functionArn}:live`,
      clientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64'),
      cognitoIdentity: '{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}',
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
    });
    assert.equal(body.awsRequestId, result.requestId);
    assert.equal(body.functionName, cfg.functionName);
    assert.equal(body.functionVersion, '$LATEST');
    assert.equal(body.invokedFunctionArn, `${cfg.functionArn}:live`);
    assert.equal(body.memoryLimitInMB, '256');
    assert.equal(body.logGroupName, cfg.logGroup);
    assert.match(body.logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    // The deadline is the delivery time plus Timeout (7 s), and the remaining time counts down to it.
    assert.ok(body.deadline >= sent + 7000 - 1 && body.deadline <= Date.now() + 7000 + 1, `deadline ${body.deadline - sent} ms after the invoke`);
    assert.deepEqual(body.clientContext, clientContext);
    assert.deepEqual(body.identity, { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' });
    assert.equal(body.waits, true);
    assert.equal(body.trace, 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
  });

  it('serialises a thrown Error as {errorType, errorMessage, trace}', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({ 'index.js': 'class MyError extends Error { constructor(m) { super(m); this.name = "MyError"; } }\nexports.handler = async () => { throw new MyError("it broke"); };' }),
    });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.deepEqual(Object.keys(body), ['errorType', 'errorMessage', 'trace']);
    assert.equal(body.errorType, 'MyError');
    assert.equal(body.errorMessage, 'it broke');
    assert.equal(body.trace[0], 'MyError: it broke');
    assert.match(body.trace[1], /at .*\/var\/task\/index\.js/);
    // The environment survives a function error.
    assert.equal((await invokeJson(invoker, cfg)).result.functionError, 'Unhandled');
    assert.equal(invoker.environments(cfg.functionArn).length, 1);
    const text = await logText(invoker, cfg);
    assert.match(text, /\tERROR\tInvoke Error \t\{"errorType":"MyError","errorMessage":"it broke","stack":\["MyError: it broke",/);
  });

  it('serialises a thrown non-Error like AWS (errorType is typeof)', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = (e, c, cb) => cb("plain string");' }) });
    assert.deepEqual((await invokeJson(invoker, cfg)).body, { errorType: 'string', errorMessage: 'plain string', trace: [] });
  });

  it('reports Runtime.ImportModuleError', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'other.js': '' }), handler: 'missing.handler' });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.equal(body.errorType, 'Runtime.ImportModuleError');
    assert.match(body.errorMessage, /^Error: Cannot find module 'missing'/);
    const text = await logText(invoker, cfg);
    assert.match(text, /INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError/);
    assert.match(text, /\tundefined\tERROR\tUncaught Exception \t\{"errorType":"Runtime.ImportModuleError"/);
  });

  it('reports Runtime.HandlerNotFound', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.other = () => 1;' }), handler: 'index.handler' });
    const { body } = await invokeJson(invoker, cfg);
    assert.equal(body.errorType, 'Runtime.HandlerNotFound');
    assert.equal(body.errorMessage, 'index.handler is undefined or not exported');
  });

  it('reports Runtime.UserCodeSyntaxError', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async () => { return 1 +; };' }) });
    const { body } = await invokeJson(invoker, cfg);
    assert.equal(body.errorType, 'Runtime.UserCodeSyntaxError');
    assert.match(body.errorMessage, /^SyntaxError: /);
  });

  it('reports Runtime.MalformedHandlerName', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': '' }), handler: 'nohandler' });
    assert.deepEqual(
      { ...(await invokeJson(invoker, cfg)).body, trace: undefined },
      { errorType: 'Runtime.MalformedHandlerName', errorMessage: 'Bad handler', trace: undefined },
    );
  });

  it('writes console lines as <ISO time>\\t<request id>\\t<LEVEL>\\t<message>', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({
        'index.js': `console.log('at init');
          exports.handler = async () => { console.log('hello %s', 'world', { a: 1 }); console.warn('careful'); console.error('bad'); console.info('fyi'); return 1; };`,
      }),
    });
    const { result } = await invokeJson(invoker, cfg);
    const text = await logText(invoker, cfg);
    const id = result.requestId;
    const iso = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
    assert.match(text, new RegExp(`^${iso}\\tundefined\\tINFO\\tat init$`, 'm'));
    assert.match(text, new RegExp(`^${iso}\\t${id}\\tINFO\\thello world \\{ a: 1 \\}$`, 'm'));
    assert.match(text, new RegExp(`^${iso}\\t${id}\\tWARN\\tcareful$`, 'm'));
    assert.match(text, new RegExp(`^${iso}\\t${id}\\tERROR\\tbad$`, 'm'));
    assert.match(text, new RegExp(`^${iso}\\t${id}\\tINFO\\tfyi$`, 'm'));
  });
});
