// The invoke engine: warm and cold environments, retirement, idle reclaim, every way an invocation
// fails, concurrency, and the logs it writes.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../helpers/require.js';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from './fixtures.js';

const invoker = testInvoker();
after(async () => {
  await invoker.close();
  cleanupTemp();
});

// Each environment picks a random id at init, so a response tells which environment served it.
const ENV_ID = `const envId = require('crypto').randomUUID();`;

/** Polls a condition that no event signals (idle reclaim runs on a timer), bounded. */
async function eventually(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('environments', () => {
  it('reuses a warm environment and logs INIT_START and Init Duration only on the cold start', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `${ENV_ID}\nexports.handler = async () => envId;` }) });
    const a = await invokeJson(invoker, cfg);
    const b = await invokeJson(invoker, cfg);
    assert.equal(a.body, b.body);
    const envs = invoker.environments(cfg.functionArn);
    assert.equal(envs.length, 1);
    assert.equal(envs[0]?.invocations, 2);
    const text = await logText(invoker, cfg);
    assert.equal(text.match(/INIT_START/g)?.length, 1);
    assert.match(text, /^INIT_START Runtime Version: nodejs:20\.v[\d.]+\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/m);
    assert.match(text, new RegExp(`^START RequestId: ${a.result.requestId} Version: \\$LATEST$`, 'm'));
    assert.match(text, new RegExp(`^END RequestId: ${a.result.requestId}$`, 'm'));
    assert.match(
      text,
      new RegExp(
        `^REPORT RequestId: ${a.result.requestId}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d{2} ms\\t$`,
        'm',
      ),
    );
    assert.match(
      text,
      new RegExp(`^REPORT RequestId: ${b.result.requestId}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB\\t$`, 'm'),
    );
    // One stream per environment, named like AWS's.
    const [stream] = await invoker.readLogs(cfg.logGroup);
    assert.match(stream?.stream ?? '', /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('never reuses an environment after retire() or for another revision', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `${ENV_ID}\nexports.handler = async () => envId;` }) });
    const first = (await invokeJson(invoker, cfg)).body;
    await invoker.retire(cfg.functionArn);
    assert.equal(invoker.environments(cfg.functionArn).length, 0);
    const second = (await invokeJson(invoker, cfg)).body;
    assert.notEqual(second, first);
    const third = (await invokeJson(invoker, { ...cfg, revision: 'rev-2' })).body;
    assert.notEqual(third, second);
    // Versions have their own environments.
    const v1 = (await invokeJson(invoker, { ...cfg, version: '1' })).body;
    assert.notEqual(v1, third);
    await invoker.retire(cfg.functionArn, '1');
    assert.deepEqual(invoker.environments(cfg.functionArn).map((e) => e.version), ['$LATEST']);
  });

  it('reclaims idle environments after idleTimeoutMs', async () => {
    const quick = testInvoker({ idleTimeoutMs: 100 });
    try {
      const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async () => 1;' }) });
      await invokeJson(quick, cfg);
      assert.equal(quick.environments().length, 1);
      await eventually('idle environment reclaimed', () => quick.environments().length === 0);
    } finally {
      await quick.close();
    }
  });

  it('serves 50 concurrent invokes with several environments, never two requests in one', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({
        'index.js': `${ENV_ID}
          const fs = require('fs');
          exports.handler = async () => {
            // /tmp is private to the environment: a second request here would find the flag.
            if (fs.existsSync('/tmp/busy')) throw new Error('two requests in one environment');
            fs.writeFileSync('/tmp/busy', '1');
            await new Promise((r) => setTimeout(r, 100));
            fs.unlinkSync('/tmp/busy');
            return envId;
          };`,
      }),
      timeout: 30,
    });
    const results = await Promise.all(Array.from({ length: 50 }, () => invokeJson(invoker, cfg)));
    for (const r of results) assert.equal(r.result.functionError, undefined, JSON.stringify(r.body));
    const envIds = new Set(results.map((r) => r.body));
    assert.ok(envIds.size > 1, `served by ${envIds.size} environment(s)`);
    const envs = invoker.environments(cfg.functionArn);
    assert.ok(envs.every((e) => e.maxConcurrent === 1), JSON.stringify(envs));
    assert.equal(envs.reduce((n, e) => n + e.invocations, 0), 50);
  });
});

describe('failures', () => {
  it('times out with Sandbox.Timedout and replaces the environment', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({ 'index.js': `${ENV_ID}\nexports.handler = async (e) => { if (e.wait) await new Promise((r) => setTimeout(r, 10000)); return envId; };` }),
      timeout: 1,
    });
    const before = (await invokeJson(invoker, cfg)).body;
    const t = performance.now();
    const { result, body } = await invokeJson(invoker, cfg, { wait: true });
    const took = performance.now() - t;
    assert.ok(took >= 1000 && took < 3000, `took ${took} ms`);
    assert.equal(result.functionError, 'Unhandled');
    assert.equal(result.payload.toString(), `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: ${result.requestId} Error: Task timed out after 1.00 seconds"}`);
    assert.deepEqual(body, { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 1.00 seconds` });
    const after = (await invokeJson(invoker, cfg)).body;
    assert.notEqual(after, before, 'a fresh environment after the timeout');
    const text = await logText(invoker, cfg);
    assert.match(text, new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z ${result.requestId} Task timed out after 1.00 seconds$`, 'm'));
    assert.match(text, new RegExp(`^REPORT RequestId: ${result.requestId}\\tDuration: 10\\d\\d\\.\\d\\d ms\\tBilled Duration: 10\\d\\d ms\\t.*\\tStatus: timeout$`, 'm'));
  });

  it('answers Runtime.ExitError when the runtime exits', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async (e) => { process.exit(e.code); };' }) });
    const { result, body } = await invokeJson(invoker, cfg, { code: 2 });
    assert.equal(result.functionError, 'Unhandled');
    assert.equal(result.payload.toString(), `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: ${result.requestId} Error: Runtime exited with error: exit status 2"}`);
    assert.deepEqual(body, { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: exit status 2` });
    const clean = await invokeJson(invoker, cfg, { code: 0 });
    assert.equal(clean.body.errorMessage, `RequestId: ${clean.result.requestId} Error: Runtime exited without providing a reason`);
    const text = await logText(invoker, cfg);
    assert.match(text, new RegExp(`^RequestId: ${result.requestId} Error: Runtime exited with error: exit status 2\nRuntime.ExitError$`, 'm'));
    assert.match(text, /\tStatus: error\tError Type: Runtime.ExitError$/m);
  });

  it('answers Runtime.OutOfMemory when the function exceeds MemorySize', { skip: skipUnless(invoker.memoryKind !== 'none', 'CGROUP', 'no writable memory cgroup on this host') }, async () => {
    assert.notEqual(invoker.memoryKind, 'none', 'a writable memory cgroup (cgroup v2 or v1 memory controller)');
    const cfg = fnConfig({
      codeDir: makeCode({
        'index.js': 'const keep = []; exports.handler = async () => { for (let i = 0; i < 100; i++) keep.push(Buffer.alloc(8 << 20, 1)); return keep.length; };',
      }),
      memorySize: 128,
    });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, 'Unhandled');
    assert.deepEqual(body, { errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: signal: killed` });
    const text = await logText(invoker, cfg);
    const used = Number(text.match(/Max Memory Used: (\d+) MB/)?.[1]);
    assert.ok(used >= 120 && used <= 128, `Max Memory Used: ${used} MB`);
    assert.match(text, /\tStatus: error\tError Type: Runtime.OutOfMemory$/m);
  });

  it('answers Function.ResponseSizeTooLarge for a response over 6 MB, and the environment lives on', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `${ENV_ID}\nexports.handler = async (e) => e.big ? 'x'.repeat(6 * 1024 * 1024 + 200) : envId;` }) });
    const before = (await invokeJson(invoker, cfg)).body;
    const { result, body } = await invokeJson(invoker, cfg, { big: true });
    assert.equal(result.functionError, 'Unhandled');
    assert.deepEqual(body, {
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
    assert.equal((await invokeJson(invoker, cfg)).body, before);
  });

  it('accepts a response just under the limit', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `exports.handler = async () => 'y'.repeat(6 * 1024 * 1024 - 2);` }) });
    const { result } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, undefined);
    assert.equal(result.payload.length, 6 * 1024 * 1024);
  });
});

describe('logs', () => {
  it('returns the last 4 KB of the invocation log, base64, when tailLog is set', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `exports.handler = async (e) => { for (let i = 0; i < e.lines; i++) console.log('line ' + i + ' ' + 'z'.repeat(50)); return 1; };` }) });
    const small = await invokeJson(invoker, cfg, { lines: 1 }, { tailLog: true });
    const smallTail = Buffer.from(small.result.logResult ?? '', 'base64').toString();
    assert.match(smallTail, new RegExp(`^START RequestId: ${small.result.requestId} Version: \\$LATEST\n`));
    assert.match(smallTail, /\tINFO\tline 0 z+\n/);
    assert.match(smallTail, new RegExp(`END RequestId: ${small.result.requestId}\nREPORT RequestId: ${small.result.requestId}\t[^\n]*\n$`));
    const big = await invokeJson(invoker, cfg, { lines: 200 }, { tailLog: true });
    const bigTail = Buffer.from(big.result.logResult ?? '', 'base64');
    assert.equal(bigTail.length, 4096);
    assert.match(bigTail.toString(), /line 199 z+\nEND RequestId/);
    const none = await invokeJson(invoker, cfg, { lines: 1 });
    assert.equal(none.result.logResult, undefined);
  });

  it('echoes function logs to stdout when echoLogs is set', async () => {
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const echo = testInvoker({ echoLogs: true });
    (process.stdout as { write: unknown }).write = (c: string | Uint8Array) => {
      chunks.push(Buffer.from(c).toString());
      return true;
    };
    try {
      const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `exports.handler = async () => { console.log('echo me'); return 1; };` }) });
      const { result } = await invokeJson(echo, cfg);
      await echo.readLogs(cfg.logGroup);
      const out = chunks.join('');
      assert.match(out, /\tINFO\techo me\n/);
      assert.match(out, new RegExp(`REPORT RequestId: ${result.requestId}`));
    } finally {
      (process.stdout as { write: unknown }).write = write;
      await echo.close();
    }
  });
});
