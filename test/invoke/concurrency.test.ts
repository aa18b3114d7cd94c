// Concurrency in the invoke engine (issue 6): reserved concurrency and the unreserved pool,
// provisioned environments, start-rate bounds for bursts, the memory budget, and the metrics text.
// Functions that must stay in flight wait on a gate (an HTTP request to the test, answered when the
// test says so), so nothing here sleeps to make an invocation "slow".

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { gate as openGate, WAIT_ON_GATE, type Gate } from '../helpers/gate.js';
import { within } from '../helpers/wait.js';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from './fixtures.js';
import type { InvokeEngine } from '../../src/invoke/engine.js';
import type { FunctionRuntimeConfig } from '../../src/invoke/types.js';
import { LambdaError } from '../../src/shared/errors.js';

const gates: Gate[] = [];
after(async () => {
  await Promise.all(gates.map((g) => g.close()));
  cleanupTemp();
});

async function gate(): Promise<Gate> {
  const g = await openGate();
  gates.push(g);
  return g;
}

/** Awaits p, failing with a clear message instead of hanging. */
const bounded = <T>(what: string, p: Promise<T>): Promise<T> => within(p, { message: what });

// Reports its environment, the initialization type it saw at init, and waits on the gate if asked.
const GATED = `
  ${WAIT_ON_GATE}
  const envId = require('crypto').randomUUID();
  const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  exports.handler = async (e) => {
    if (e.gate) await waitOnGate(e.gate);
    return { envId, initType };
  };`;

function gatedFn(overrides: Partial<FunctionRuntimeConfig> = {}): FunctionRuntimeConfig {
  return fnConfig({ codeDir: makeCode({ 'index.js': GATED }), timeout: 30, ...overrides });
}

/** Asserts a TooManyRequestsException exactly as the wire needs it. */
function assertThrottle(e: unknown, reason: string): void {
  assert.ok(e instanceof LambdaError, `expected LambdaError, got ${String(e)}`);
  assert.equal(e.code, 'TooManyRequestsException');
  assert.equal(e.status, 429);
  assert.equal(e.message, 'Rate Exceeded.');
  assert.equal(e.fault, 'User');
  assert.deepEqual(e.fields, { Reason: reason });
  assert.deepEqual(e.headers, {});
}

function settle(invoker: InvokeEngine, cfg: FunctionRuntimeConfig, n: number, payload: unknown, qualifier?: string) {
  return Promise.allSettled(Array.from({ length: n }, () => invokeJson(invoker, cfg, payload, qualifier ? { qualifier } : {})));
}

describe('reserved concurrency', () => {
  const invoker = testInvoker();
  after(() => invoker.close());

  it('reserved 0 blocks every invocation before an environment is touched', async () => {
    const cfg = gatedFn();
    invoker.setReservedConcurrency(cfg.functionArn, 0);
    await assert.rejects(invokeJson(invoker, cfg), (e) => (assertThrottle(e, 'ReservedFunctionConcurrentInvocationLimitExceeded'), true));
    assert.equal(invoker.environments(cfg.functionArn).length, 0);
    invoker.setReservedConcurrency(cfg.functionArn, undefined);
    assert.equal((await invokeJson(invoker, cfg)).body.initType, 'on-demand');
  });

  it('reserved 2 with 5 parallel slow invokes: exactly 2 run, 3 get 429 ReservedFunctionConcurrentInvocationLimitExceeded', async () => {
    const g = await gate();
    const cfg = gatedFn();
    invoker.setReservedConcurrency(cfg.functionArn, 2);
    const all = settle(invoker, cfg, 5, { gate: g.url });
    await g.arrivals(2);
    // Both admitted invocations are in flight (holding the gate) while the others were refused.
    assert.equal(g.arrived(), 2);
    g.release();
    const results = await bounded('5 invokes to settle', all);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 2);
    assert.equal(refused.length, 3);
    for (const r of refused) assertThrottle(r.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(g.arrived(), 2, 'no throttled invocation reached the function');
    const envs = invoker.environments(cfg.functionArn);
    assert.equal(envs.length, 2);
    assert.ok(envs.every((e) => e.maxConcurrent === 1));
  });
});

describe('unreserved pool', () => {
  it('gives ConcurrentInvocationLimitExceeded when the shared pool is used up, while a reservation stays available', async () => {
    // Account 3, one function reserves 1: the other functions share 2.
    const invoker = testInvoker({ accountConcurrency: 3, unreservedMinimum: 1 });
    try {
      const g = await gate();
      const reservedFn = gatedFn();
      const a = gatedFn();
      const b = gatedFn();
      invoker.setReservedConcurrency(reservedFn.functionArn, 1);
      const inA = settle(invoker, a, 2, { gate: g.url });
      await assert.rejects(invokeJson(invoker, b, { gate: g.url }), (e) => (assertThrottle(e, 'ConcurrentInvocationLimitExceeded'), true));
      const inReserved = settle(invoker, reservedFn, 1, { gate: g.url });
      await g.arrivals(3);
      g.release();
      const results = [...(await bounded('invokes to settle', inA)), ...(await bounded('reserved invoke', inReserved))];
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
      // Freed again once they finished.
      assert.equal((await invokeJson(invoker, b)).result.functionError, undefined);
    } finally {
      await invoker.close();
    }
  });
});

describe('provisioned concurrency', () => {
  const invoker = testInvoker();
  after(() => invoker.close());

  it('reaches READY with 2 initialised environments before any invoke; invokes through the qualifier are warm', async () => {
    const cfg = gatedFn({ version: '1' });
    const key = { functionArn: cfg.functionArn, qualifier: 'live' };
    invoker.setProvisionedConcurrency(key, cfg, 2);
    assert.equal(invoker.provisionedStatus(key)?.status, 'IN_PROGRESS');
    const status = await bounded('provisioned READY', invoker.provisionedSettled(key));
    assert.deepEqual(status, { status: 'READY', requested: 2, allocated: 2, available: 2 });
    const envs = invoker.environments(cfg.functionArn);
    assert.equal(envs.length, 2);
    assert.ok(envs.every((e) => e.state === 'idle' && e.initializationType === 'provisioned-concurrency' && e.invocations === 0), JSON.stringify(envs));
    assert.match(await logText(invoker, cfg), /INIT_START/);

    // Three at once through the alias: both provisioned environments, then one on-demand.
    const g = await gate();
    const all = settle(invoker, cfg, 3, { gate: g.url }, 'live');
    await g.arrivals(3);
    g.release();
    const results = (await bounded('3 invokes', all)).map((r) => (r.status === 'fulfilled' ? r.value : assert.fail(String(r.reason))));
    const types = results.map((r) => r.body.initType).sort();
    assert.deepEqual(types, ['on-demand', 'provisioned-concurrency', 'provisioned-concurrency']);
    const provisionedIds = new Set(envs.map((e) => e.id));
    assert.equal(invoker.environments(cfg.functionArn).filter((e) => provisionedIds.has(e.id)).length, 2);

    // Warm: no Init Duration on the provisioned environments' REPORT lines.
    const text = await logText(invoker, cfg);
    for (const r of results) {
      const report = text.split('\n').find((l) => l.startsWith(`REPORT RequestId: ${r.result.requestId}`)) ?? assert.fail('no REPORT');
      assert.equal(report.includes('Init Duration'), r.body.initType === 'on-demand', report);
    }
    // Configured on the alias: invoking version 1 directly uses them too, as on AWS; the alias once it
    // resolves to another version runs on demand.
    assert.equal((await invokeJson(invoker, cfg, {}, { qualifier: '1' })).body.initType, 'provisioned-concurrency');
    assert.equal((await invokeJson(invoker, { ...cfg, version: '2' }, {}, { qualifier: 'live' })).body.initType, 'on-demand');

    // Removing the configuration retires them.
    invoker.setProvisionedConcurrency(key, cfg, 0);
    assert.equal(invoker.provisionedStatus(key), undefined);
    assert.ok(invoker.environments(cfg.functionArn).every((e) => e.initializationType === 'on-demand'));
  });

  it('never reclaims provisioned environments while configured', async () => {
    const quick = testInvoker({ idleTimeoutMs: 40 });
    try {
      const cfg = gatedFn({ version: '3' });
      const key = { functionArn: cfg.functionArn, qualifier: '3' };
      quick.setProvisionedConcurrency(key, cfg, 1);
      assert.equal((await bounded('READY', quick.provisionedSettled(key)))?.status, 'READY');
      await invokeJson(quick, { ...cfg, version: '4' }); // an on-demand environment of another version
      // Wait for the sweeper to reclaim the on-demand one (an event we can only poll for).
      const end = Date.now() + 5000;
      while (quick.environments().some((e) => e.initializationType === 'on-demand')) {
        if (Date.now() > end) assert.fail('on-demand environment was never reclaimed');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(quick.environments().map((e) => e.initializationType), ['provisioned-concurrency']);
      assert.equal(quick.provisionedStatus(key)?.status, 'READY');
    } finally {
      await quick.close();
    }
  });

  it('reports FAILED with FUNCTION_ERROR_INIT_FAILURE when init fails', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `throw new Error('cannot init');` }), version: '1' });
    const key = { functionArn: cfg.functionArn, qualifier: '1' };
    invoker.setProvisionedConcurrency(key, cfg, 2);
    const status = await bounded('provisioned to settle', invoker.provisionedSettled(key));
    assert.equal(status?.status, 'FAILED');
    assert.equal(status?.statusReason, 'FUNCTION_ERROR_INIT_FAILURE');
    assert.equal(status?.allocated, 0);
    // The thrown Error's name is the error type the runtime reports to /init/error.
    assert.match(await logText(invoker, cfg), /^INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Error$/m);
    // Invocations still run (on demand) and report the init error as AWS does.
    const { result, body } = await invokeJson(invoker, cfg, {}, { qualifier: '1' });
    assert.equal(result.functionError, 'Unhandled');
    assert.equal(body.errorType, 'Error');
    assert.equal(body.errorMessage, 'cannot init');
  });

  it('configured on a version, serves that version also when invoked through an alias', async () => {
    const cfg = gatedFn({ version: '5' });
    const key = { functionArn: cfg.functionArn, qualifier: '5' };
    invoker.setProvisionedConcurrency(key, cfg, 1);
    await bounded('READY', invoker.provisionedSettled(key));
    assert.equal((await invokeJson(invoker, cfg, {}, { qualifier: 'prod' })).body.initType, 'provisioned-concurrency');
    assert.equal((await invokeJson(invoker, cfg, {}, { qualifier: '5' })).body.initType, 'provisioned-concurrency');
  });

  it('counts provisioned invocations toward the reservation', async () => {
    const g = await gate();
    const cfg = gatedFn({ version: '1' });
    const key = { functionArn: cfg.functionArn, qualifier: '1' };
    invoker.setReservedConcurrency(cfg.functionArn, 1);
    invoker.setProvisionedConcurrency(key, cfg, 1);
    await bounded('READY', invoker.provisionedSettled(key));
    const first = invokeJson(invoker, cfg, { gate: g.url }, { qualifier: '1' });
    await g.arrivals(1);
    await assert.rejects(invokeJson(invoker, cfg, {}, { qualifier: '1' }), (e) => (assertThrottle(e, 'ReservedFunctionConcurrentInvocationLimitExceeded'), true));
    g.release();
    assert.equal((await first).body.initType, 'provisioned-concurrency');
  });
});

describe('scaling', () => {
  it('serves a burst of 20 with 20 environments, never more than maxConcurrentStarts initialising at once', async () => {
    const invoker = testInvoker({ maxConcurrentStarts: 3 });
    try {
      const g = await gate();
      const cfg = gatedFn();
      const all = settle(invoker, cfg, 20, { gate: g.url });
      // All 20 in flight at once: each has its own environment.
      await g.arrivals(20);
      g.release();
      const results = await bounded('burst', all);
      assert.ok(results.every((r) => r.status === 'fulfilled'), JSON.stringify(results.filter((r) => r.status === 'rejected')));
      const envs = invoker.environments(cfg.functionArn);
      assert.equal(envs.length, 20);
      assert.ok(envs.every((e) => e.maxConcurrent === 1));
      const stats = invoker.stats();
      assert.ok(stats.peakConcurrentStarts <= 3 && stats.peakConcurrentStarts >= 2, JSON.stringify(stats));
      assert.equal(stats.memoryUsedMb, 20 * 128);
    } finally {
      await invoker.close();
    }
  });

  it('bounds starts per second, and an invoke waits for a start slot rather than fail', async () => {
    const invoker = testInvoker({ startsPerSecond: 4 });
    try {
      const g = await gate();
      const cfg = gatedFn();
      const t = performance.now();
      const all = settle(invoker, cfg, 8, { gate: g.url });
      await g.arrivals(8);
      const took = performance.now() - t;
      g.release();
      assert.ok((await bounded('burst', all)).every((r) => r.status === 'fulfilled'));
      // 4 at once (one second's worth), then one every 250 ms.
      assert.ok(took >= 900, `8 environments at 4 per second took only ${took.toFixed(0)} ms`);
    } finally {
      await invoker.close();
    }
  });

  it('throttles with FunctionInvocationRateLimitExceeded when the wait for a start slot runs out', async () => {
    const invoker = testInvoker({ startsPerSecond: 1, startWaitTimeoutMs: 100 });
    try {
      const g = await gate();
      const cfg = gatedFn();
      const first = invokeJson(invoker, cfg, { gate: g.url });
      await assert.rejects(invokeJson(invoker, cfg, { gate: g.url }), (e) => (assertThrottle(e, 'FunctionInvocationRateLimitExceeded'), true));
      await g.arrivals(1);
      g.release();
      await first;
    } finally {
      await invoker.close();
    }
  });

  it('hands an environment that frees up to an invoke waiting for a start slot', async () => {
    const invoker = testInvoker({ startsPerSecond: 1 });
    try {
      const cfg = gatedFn();
      // The first takes the only token; the second waits and gets the first's environment (warm).
      const [a, b] = await bounded('two invokes', Promise.all([invokeJson(invoker, cfg), invokeJson(invoker, cfg)]));
      assert.equal(a.body.envId, b.body.envId);
      assert.equal(invoker.environments(cfg.functionArn).length, 1);
    } finally {
      await invoker.close();
    }
  });
});

describe('memory budget', () => {
  it('retires the least recently used idle environments to make room', async () => {
    const invoker = testInvoker({ memoryBudgetMb: 256 });
    try {
      const [a, b, c] = [gatedFn(), gatedFn(), gatedFn()];
      await invokeJson(invoker, a);
      await invokeJson(invoker, b);
      await invokeJson(invoker, a); // b is now the least recently used
      assert.equal(invoker.stats().memoryUsedMb, 256);
      await invokeJson(invoker, c);
      assert.deepEqual(invoker.environments().map((e) => e.functionArn).sort(), [a.functionArn, c.functionArn].sort());
      assert.equal(invoker.stats().memoryUsedMb, 256);
    } finally {
      await invoker.close();
    }
  });

  it('throttles when nothing can be freed, and never retires provisioned environments', async () => {
    const invoker = testInvoker({ memoryBudgetMb: 256 });
    try {
      const g = await gate();
      const p = gatedFn({ version: '1' });
      const key = { functionArn: p.functionArn, qualifier: '1' };
      invoker.setProvisionedConcurrency(key, p, 1);
      assert.equal((await bounded('READY', invoker.provisionedSettled(key)))?.status, 'READY');
      const cfg = gatedFn();
      const busy = invokeJson(invoker, cfg, { gate: g.url });
      await g.arrivals(1);
      // 128 MB provisioned (idle, not retirable) + 128 MB busy = the whole budget.
      await assert.rejects(invokeJson(invoker, gatedFn()), (e) => (assertThrottle(e, 'ConcurrentInvocationLimitExceeded'), true));
      // A function larger than the whole budget can never run.
      await assert.rejects(invokeJson(invoker, gatedFn({ memorySize: 512 })), (e) => (assertThrottle(e, 'ConcurrentInvocationLimitExceeded'), true));
      g.release();
      await busy;
      assert.equal(invoker.provisionedStatus(key)?.allocated, 1);
      // Now the busy one is idle and can be retired for a newcomer.
      assert.equal((await invokeJson(invoker, gatedFn())).result.functionError, undefined);
      assert.equal(invoker.environments(p.functionArn).length, 1);
    } finally {
      await invoker.close();
    }
  });
});

describe('metrics', () => {
  it('exposes invocations, errors, throttles, durations, concurrency, environments and cold starts', async () => {
    const invoker = testInvoker();
    try {
      const cfg = fnConfig({ codeDir: makeCode({ 'index.js': `exports.handler = async (e) => { if (e.fail) throw new Error('no'); return 1; };` }), functionName: 'metrics-fn' });
      await invokeJson(invoker, cfg);
      await invokeJson(invoker, cfg);
      await invokeJson(invoker, cfg, { fail: true });
      invoker.setReservedConcurrency(cfg.functionArn, 0);
      await assert.rejects(invokeJson(invoker, cfg));
      const text = invoker.metrics();
      const lines = text.trimEnd().split('\n');
      // Exposition format: comments are HELP/TYPE; every sample is name{labels} value.
      for (const l of lines) {
        if (l.startsWith('#')) assert.match(l, /^# (HELP|TYPE) lambdalite_[a-z_]+ .+$/);
        else assert.match(l, /^lambdalite_[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[\d.e+-]+$/, l);
      }
      const fn = 'function_name="metrics-fn"';
      assert.ok(lines.includes('# TYPE lambdalite_invocations_total counter'));
      assert.ok(lines.includes(`lambdalite_invocations_total{${fn},version="$LATEST"} 3`), text);
      assert.ok(lines.includes(`lambdalite_errors_total{${fn},version="$LATEST"} 1`));
      assert.ok(lines.includes(`lambdalite_cold_starts_total{${fn},version="$LATEST"} 1`));
      assert.ok(lines.includes(`lambdalite_throttles_total{${fn},reason="ReservedFunctionConcurrentInvocationLimitExceeded"} 1`));
      assert.ok(lines.includes('# TYPE lambdalite_duration_seconds histogram'));
      assert.ok(lines.includes(`lambdalite_duration_seconds_bucket{${fn},version="$LATEST",le="+Inf"} 3`));
      assert.ok(lines.includes(`lambdalite_duration_seconds_count{${fn},version="$LATEST"} 3`));
      assert.ok(lines.some((l) => l.startsWith(`lambdalite_duration_seconds_sum{${fn},version="$LATEST"} `)));
      const buckets = lines.filter((l) => l.startsWith(`lambdalite_duration_seconds_bucket{${fn}`)).map((l) => Number(l.split(' ').pop()));
      assert.deepEqual(buckets, [...buckets].sort((x, y) => x - y), 'buckets are cumulative');
      assert.ok(lines.includes(`lambdalite_concurrent_executions{${fn}} 0`));
      assert.ok(lines.includes(`lambdalite_environments{${fn},version="$LATEST",state="idle"} 1`));
      assert.ok(lines.includes('# TYPE lambdalite_environments gauge'));
    } finally {
      await invoker.close();
    }
  });
});
