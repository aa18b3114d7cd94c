// Reserved and provisioned concurrency through the real API, with real invokes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAliasCommand, CreateFunctionCommand, DeleteAliasCommand, DeleteFunctionConcurrencyCommand, DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand, GetFunctionCommand, GetFunctionConcurrencyCommand, GetProvisionedConcurrencyConfigCommand, InvokeCommand,
  ListProvisionedConcurrencyConfigsCommand, PublishVersionCommand, PutFunctionConcurrencyCommand, PutProvisionedConcurrencyConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { gate, WAIT_ON_GATE } from '../helpers/gate.js';
import { waitFor } from '../helpers/wait.js';

let t: TestServer;
let lambda: LambdaClient;
const FN = 'arn:aws:lambda:us-east-1:000000000000:function';
const text = (p: Uint8Array | undefined) => Buffer.from(p ?? []).toString('utf8');

async function createFn(name: string, source: string, extra: Record<string, unknown> = {}) {
  return lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await makeZip([{ name: 'index.js', content: source }]) }, ...extra }));
}

before(async () => {
  // Functions here hold at gates the tests open after the server started; in the host network a new gate
  // is reachable at once (egress namespaces learn new host ports with a delay, tested in test/security/).
  t = await startTestServer({ concurrentExecutions: 150, unreservedMinimum: 100, functionNetwork: 'host' });
  lambda = t.client;
});
after(async () => t.close());

test('reserved concurrency: put, get, delete, and AWS errors', async () => {
  await createFn('res', 'exports.handler = async () => 1;');
  assert.deepEqual((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'res' }))).ReservedConcurrentExecutions, undefined);
  const put = await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'res', ReservedConcurrentExecutions: 20 }));
  assert.equal(put.ReservedConcurrentExecutions, 20);
  assert.equal((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'res' }))).ReservedConcurrentExecutions, 20);
  assert.deepEqual((await lambda.send(new GetFunctionCommand({ FunctionName: 'res' }))).Concurrency, { ReservedConcurrentExecutions: 20 });
  assert.equal((await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions, 130);
  await expectAwsError(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'res', ReservedConcurrentExecutions: 51 })), {
    name: 'InvalidParameterValueException', status: 400, type: null,
    message: "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
  });
  await expectAwsError(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'ghost', ReservedConcurrentExecutions: 1 })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${FN}:ghost:$LATEST`,
  });
  const del = await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'res' }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  assert.equal((await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions, 150);
});

test('reserved concurrency 0 blocks every invocation', async () => {
  await createFn('blocked', 'exports.handler = async () => 1;');
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'blocked', ReservedConcurrentExecutions: 0 }));
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'blocked' })), {
    name: 'TooManyRequestsException', status: 429, type: 'User', message: 'Rate Exceeded.',
  });
  await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'blocked' }));
  assert.equal(text((await lambda.send(new InvokeCommand({ FunctionName: 'blocked' }))).Payload), '1');
});

test('reserved concurrency 2: with 2 invokes in flight, 3 more are throttled with the reason', async () => {
  const g = await gate();
  try {
    await createFn('two', `${WAIT_ON_GATE}\nexports.handler = async (e) => { await waitOnGate(e.gate); return "done"; };`, { Timeout: 60 });
    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'two', ReservedConcurrentExecutions: 2 }));
    const payload = Buffer.from(JSON.stringify({ gate: g.url }));
    const running = Array.from({ length: 2 }, () => lambda.send(new InvokeCommand({ FunctionName: 'two', Payload: payload })));
    await g.arrivals(2);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'two', Payload: payload })), (e: { name: string; Reason?: string; $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(e.name, 'TooManyRequestsException');
        assert.equal(e.$metadata?.httpStatusCode, 429);
        assert.equal(e.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
        return true;
      });
    }
    g.release();
    for (const r of await Promise.all(running)) assert.equal(text(r.Payload), '"done"');
  } finally {
    await g.close();
  }
});

test('provisioned concurrency: errors, READY with initialised environments, used by invokes through the alias', async () => {
  await createFn('prov', "const initAt = Date.now(); exports.handler = async () => ({ type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, initAt });");
  await lambda.send(new PublishVersionCommand({ FunctionName: 'prov' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'prov', Name: 'live', FunctionVersion: '1' }));
  await expectAwsError(lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })), {
    name: 'InvalidParameterValueException', status: 400, message: 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
  });
  await expectAwsError(lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: 'live' })), {
    name: 'ProvisionedConcurrencyConfigNotFoundException', status: 404, type: 'User', message: 'No Provisioned Concurrency Config found for this function',
  });
  await expectAwsError(lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: 'nope' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Cannot find alias arn: ${FN}:prov:nope`,
  });
  await expectAwsError(lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: '$LATEST' })), {
    name: 'InvalidParameterValueException', status: 400, message: 'The function resource provided must be an alias or a published version.',
  });

  const put = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: 'live', ProvisionedConcurrentExecutions: 2 }));
  assert.equal(put.$metadata.httpStatusCode, 202);
  assert.equal(put.Status, 'IN_PROGRESS');
  assert.equal(put.RequestedProvisionedConcurrentExecutions, 2);
  await expectAwsError(lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: '1', ProvisionedConcurrentExecutions: 1 })), {
    name: 'ResourceConflictException', status: 409, message: 'Version is pointed by a Provisioned Concurrency alias',
  });
  const ready = await waitFor(async () => {
    const got = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: 'live' }));
    assert.notEqual(got.Status, 'FAILED', got.StatusReason);
    return got.Status === 'READY' ? got : undefined;
  }, { message: 'provisioned concurrency READY' });
  assert.equal(ready.AllocatedProvisionedConcurrentExecutions, 2);
  assert.equal(ready.AvailableProvisionedConcurrentExecutions, 2);

  const invokedAt = Date.now();
  const out = JSON.parse(text((await lambda.send(new InvokeCommand({ FunctionName: 'prov', Qualifier: 'live' }))).Payload)) as { type: string; initAt: number };
  assert.equal(out.type, 'provisioned-concurrency');
  assert.ok(out.initAt < invokedAt, 'the environment was initialised before the invoke');

  const list = await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'prov' }));
  assert.deepEqual(list.ProvisionedConcurrencyConfigs?.map((c) => c.FunctionArn), [`${FN}:prov:live`]);
  const del = await lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: 'live' }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  await lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: 'live' }));
  assert.deepEqual((await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'prov' }))).ProvisionedConcurrencyConfigs, []);
  // Deleting an alias removes its configuration.
  await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'prov', Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
  await lambda.send(new DeleteAliasCommand({ FunctionName: 'prov', Name: 'live' }));
  assert.deepEqual((await lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'prov' }))).ProvisionedConcurrencyConfigs, []);
});

test('provisioned concurrency with a failing init reports FAILED', async () => {
  await createFn('badinit', "throw new Error('init explodes');");
  await lambda.send(new PublishVersionCommand({ FunctionName: 'badinit' }));
  await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'badinit', Qualifier: '1', ProvisionedConcurrentExecutions: 1 }));
  const failed = await waitFor(async () => {
    const got = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'badinit', Qualifier: '1' }));
    assert.notEqual(got.Status, 'READY');
    return got.Status === 'FAILED' ? got : undefined;
  }, { message: 'provisioned concurrency FAILED' });
  assert.match(failed.StatusReason ?? '', /FUNCTION_ERROR_INIT_FAILURE/);
});

test('the server exposes Prometheus metrics per function', async () => {
  await createFn('metered', 'exports.handler = async () => 1;');
  for (let i = 0; i < 3; i++) await lambda.send(new InvokeCommand({ FunctionName: 'metered' }));
  const res = await fetch(`${t.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const body = await res.text();
  assert.match(body, /^# TYPE \S+ counter$/m);
  const line = body.split('\n').find((l) => /invocations_total\{[^}]*function_name="metered"/.test(l));
  assert.ok(line, `no invocations_total series for metered in:\n${body.slice(0, 2000)}`);
  assert.ok(Number(line.trim().split(/\s+/).pop()) >= 3, line);
});

test('reserved and provisioned together: provisioned environments take the reservation; versions use an alias\'s provisioned environments', async () => {
  await createFn('resprov', "exports.handler = async () => process.env.AWS_LAMBDA_INITIALIZATION_TYPE;");
  await lambda.send(new PublishVersionCommand({ FunctionName: 'resprov' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'resprov', Name: 'live', FunctionVersion: '1' }));
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'resprov', ReservedConcurrentExecutions: 1 }));
  await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'resprov', Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
  await waitFor(async () => {
    const got = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'resprov', Qualifier: 'live' }));
    return got.Status === 'READY' ? got : undefined;
  }, { message: 'provisioned concurrency READY' });
  // Nothing is running, yet the one reserved slot belongs to the provisioned environment.
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'resprov' })), {
    name: 'TooManyRequestsException', status: 429, type: 'User', message: 'Rate Exceeded.',
  });
  for (const qualifier of ['live', '1']) {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'resprov', Qualifier: qualifier }));
    assert.equal(text(out.Payload), '"provisioned-concurrency"', `invoke through ${qualifier}`);
  }
  // reserved = provisioned = 2: the same.
  await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'resprov', ReservedConcurrentExecutions: 2 }));
  await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'resprov', Qualifier: 'live', ProvisionedConcurrentExecutions: 2 }));
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'resprov' })), {
    name: 'TooManyRequestsException', status: 429, type: 'User', message: 'Rate Exceeded.',
  });
  await lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'resprov', Qualifier: 'live' }));
  assert.equal(text((await lambda.send(new InvokeCommand({ FunctionName: 'resprov' }))).Payload), '"on-demand"');
});
