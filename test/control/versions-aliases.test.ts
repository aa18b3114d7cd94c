// Versions, aliases and qualifiers, driven through the real SDK against a real server; invokes run code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAliasCommand, CreateFunctionCommand, DeleteAliasCommand, DeleteFunctionCommand, GetAliasCommand,
  GetFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, ListAliasesCommand, ListFunctionsCommand,
  ListVersionsByFunctionCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type LambdaClient,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

let t: TestServer;
let lambda: LambdaClient;
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

// Returns what it was deployed with, and what the context says about the invocation.
const source = (tag: string) => `exports.handler = async (event, context) => ({ tag: ${JSON.stringify(tag)}, env: process.env.TAG_VAR ?? null, version: context.functionVersion, arn: context.invokedFunctionArn });`;
const zipOf = (tag: string) => makeZip([{ name: 'index.js', content: source(tag) }]);

async function createFn(name: string, tag = 'v0', extra: Record<string, unknown> = {}) {
  return lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: await zipOf(tag) }, ...extra,
  }));
}

async function setCode(name: string, tag: string) {
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: await zipOf(tag) }));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 20, minDelay: 1 }, { FunctionName: name });
}

async function invoke(name: string, qualifier?: string) {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, ...(qualifier ? { Qualifier: qualifier } : {}) }));
  assert.equal(out.FunctionError, undefined, `invoke failed: ${Buffer.from(out.Payload ?? []).toString()}`);
  return { executed: out.ExecutedVersion, body: JSON.parse(Buffer.from(out.Payload ?? []).toString()) as { tag: string; version: string; arn: string; env: string | null } };
}

before(async () => {
  t = await startTestServer();
  lambda = t.client;
});
after(async () => t.close());

test('PublishVersion snapshots $LATEST, numbers 1, 2, ... and returns the newest when nothing changed', async () => {
  await createFn('pub', 'a', { Description: 'first' });
  const latestBefore = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'pub' }));
  const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'pub' }));
  assert.equal(v1.$metadata.httpStatusCode, 201);
  assert.equal(v1.Version, '1');
  assert.equal(v1.FunctionArn, `${ARN}:pub:1`);
  assert.equal(v1.Description, 'first', "an omitted Description is $LATEST's");
  assert.equal(v1.State, 'Active');
  assert.equal(v1.LastUpdateStatus, 'Successful');
  assert.equal(v1.CodeSha256, latestBefore.CodeSha256);
  const latestAfter = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'pub' }));
  assert.notEqual(latestAfter.RevisionId, latestBefore.RevisionId, 'publishing gives $LATEST a new RevisionId');

  const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'pub', Description: 'ignored' }));
  assert.equal(again.Version, '1', 'an unchanged $LATEST publishes nothing new');
  assert.equal(again.RevisionId, v1.RevisionId);

  await setCode('pub', 'b');
  const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'pub', Description: 'second' }));
  assert.equal(v2.Version, '2');
  assert.equal(v2.Description, 'second');
});

test('PublishVersion checks CodeSha256 and RevisionId', async () => {
  await createFn('pubchk');
  const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'pubchk' }));
  await expectAwsError(lambda.send(new PublishVersionCommand({ FunctionName: 'pubchk', CodeSha256: 'nope' })), {
    name: 'InvalidParameterValueException', status: 400, type: 'User',
    message: `CodeSHA256 (nope) is different from current CodeSHA256 in $LATEST (${cfg.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
  });
  await expectAwsError(lambda.send(new PublishVersionCommand({ FunctionName: 'pubchk', RevisionId: 'stale' })), {
    name: 'PreconditionFailedException', status: 412, type: 'User',
    message: 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
  });
  const ok = await lambda.send(new PublishVersionCommand({ FunctionName: 'pubchk', CodeSha256: cfg.CodeSha256, RevisionId: cfg.RevisionId }));
  assert.equal(ok.Version, '1');
  await expectAwsError(lambda.send(new PublishVersionCommand({ FunctionName: 'missing-fn' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}:missing-fn`,
  });
});

test('version numbers are never reused; ListVersionsByFunction pages $LATEST then numeric order', async () => {
  await createFn('nums', 'x0');
  for (let i = 1; i <= 4; i++) {
    await setCode('nums', `x${i}`);
    await lambda.send(new PublishVersionCommand({ FunctionName: 'nums' }));
  }
  const del = await lambda.send(new DeleteFunctionCommand({ FunctionName: 'nums', Qualifier: '4' }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  await setCode('nums', 'x5');
  const v = await lambda.send(new PublishVersionCommand({ FunctionName: 'nums' }));
  assert.equal(v.Version, '5', 'version 4 was deleted but its number is not reused');

  const seen: string[] = [];
  let Marker: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'nums', MaxItems: 2, ...(Marker ? { Marker } : {}) }));
    for (const item of page.Versions ?? []) {
      seen.push(item.Version!);
      assert.equal(item.FunctionArn, `${ARN}:nums:${item.Version}`);
    }
    Marker = page.NextMarker;
    if (!Marker) break;
  }
  assert.deepEqual(seen, ['$LATEST', '1', '2', '3', '5']);

  const all = await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
  const arns = (all.Functions ?? []).map((f) => f.FunctionArn).filter((a) => a?.includes(':nums:'));
  assert.deepEqual(arns, ['$LATEST', '1', '2', '3', '5'].map((q) => `${ARN}:nums:${q}`));
});

test('qualifiers in every form, with AWS errors for unknown and mismatched ones', async () => {
  await createFn('quals', 'q1');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'quals' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'quals', Name: 'prod', FunctionVersion: '1' }));
  const forms: Array<[string, string | undefined, string, string]> = [
    ['quals:1', undefined, `${ARN}:quals:1`, '1'],
    ['quals', '1', `${ARN}:quals:1`, '1'],
    [`${ARN}:quals:1`, undefined, `${ARN}:quals:1`, '1'],
    ['000000000000:function:quals:prod', undefined, `${ARN}:quals:prod`, '1'],
    ['quals', '$LATEST', `${ARN}:quals:$LATEST`, '$LATEST'],
    ['quals', undefined, `${ARN}:quals`, '$LATEST'],
  ];
  for (const [FunctionName, Qualifier, arn, version] of forms) {
    const got = await lambda.send(new GetFunctionCommand({ FunctionName, ...(Qualifier ? { Qualifier } : {}) }));
    assert.equal(got.Configuration?.FunctionArn, arn, `${FunctionName} ${Qualifier ?? ''}`);
    assert.equal(got.Configuration?.Version, version, `${FunctionName} ${Qualifier ?? ''}`);
  }
  await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: 'quals', Qualifier: '7' })), {
    name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${ARN}:quals:7`,
  });
  await expectAwsError(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'quals:nosuchalias' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}:quals:nosuchalias`,
  });
  await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: 'quals:1', Qualifier: '2' })), {
    name: 'InvalidParameterValueException', status: 400, type: 'User',
    message: 'The derived qualifier from the function name does not match the specified qualifier.',
  });
  await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'quals', Qualifier: '9' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}:quals:9`,
  });
  await expectAwsError(lambda.send(new DeleteFunctionCommand({ FunctionName: 'quals', Qualifier: '$LATEST' })), {
    name: 'InvalidParameterValueException', status: 400, message: '$LATEST version cannot be deleted without deleting the function.',
  });
  await expectAwsError(lambda.send(new DeleteFunctionCommand({ FunctionName: 'quals', Qualifier: '1' })), {
    name: 'ResourceConflictException', status: 409, type: 'User', message: 'Unable to delete version because the following aliases reference it: [prod]',
  });
  await expectAwsError(lambda.send(new DeleteFunctionCommand({ FunctionName: 'quals', Qualifier: 'prod' })), {
    name: 'InvalidParameterValueException', status: 400, type: 'User', message: 'Deletion of aliases is not currently supported.',
  });
});

test('aliases: create, get, update, list and delete with AWS shapes and errors', async () => {
  await createFn('al', 'a1');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'al' }));
  await setCode('al', 'a2');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'al' }));

  const created = await lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'live', FunctionVersion: '1' }));
  assert.equal(created.$metadata.httpStatusCode, 201);
  assert.equal(created.AliasArn, `${ARN}:al:live`);
  assert.equal(created.Description, '');
  assert.equal(created.RoutingConfig, undefined);
  assert.match(created.RevisionId ?? '', /^[0-9a-f-]{36}$/);

  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'live', FunctionVersion: '1' })), {
    name: 'ResourceConflictException', status: 409, type: 'User', message: `Alias already exists: ${ARN}:al:live`,
  });
  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'x', FunctionVersion: '42' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}:al:42`,
  });
  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: '2024', FunctionVersion: '1' })), {
    name: 'ValidationException', status: 400,
    message: "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
  });
  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'r1', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 2 } } })), {
    name: 'ValidationException', status: 400,
    message: "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
  });
  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'r2', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5, '2': 0.2 } } })), {
    name: 'InvalidParameterValueException', status: 400, message: 'Number of items in AdditionalVersionWeights cannot be greater than 1',
  });
  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'r3', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } })), {
    name: 'InvalidParameterValueException', status: 400, message: 'Invalid function version 1. Function version 1 is already included in routing configuration.',
  });
  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'r4', FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } })), {
    name: 'InvalidParameterValueException', status: 400, message: '$LATEST is not supported for an alias pointing to more than 1 version',
  });
  await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'r5', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '9': 0.5 } } })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}:al:9`,
  });

  await expectAwsError(lambda.send(new GetAliasCommand({ FunctionName: 'al', Name: 'nope' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Cannot find alias arn: ${ARN}:al:nope`,
  });
  await expectAwsError(lambda.send(new UpdateAliasCommand({ FunctionName: 'al', Name: 'nope', FunctionVersion: '1' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Alias not found: ${ARN}:al:nope`,
  });
  await expectAwsError(lambda.send(new UpdateAliasCommand({ FunctionName: 'al', Name: 'live', FunctionVersion: '2', RevisionId: 'stale' })), {
    name: 'PreconditionFailedException', status: 412,
    message: 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
  });
  const updated = await lambda.send(new UpdateAliasCommand({ FunctionName: 'al', Name: 'live', FunctionVersion: '2', Description: 'now 2', RevisionId: created.RevisionId, RoutingConfig: { AdditionalVersionWeights: { '1': 0.25 } } }));
  assert.equal(updated.FunctionVersion, '2');
  assert.equal(updated.Description, 'now 2');
  assert.deepEqual(updated.RoutingConfig, { AdditionalVersionWeights: { '1': 0.25 } });
  assert.notEqual(updated.RevisionId, created.RevisionId);
  const cleared = await lambda.send(new UpdateAliasCommand({ FunctionName: 'al', Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } }));
  assert.equal(cleared.RoutingConfig, undefined, 'an empty weights map removes the routing configuration');

  await lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'beta', FunctionVersion: '1' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'al', Name: 'canary', FunctionVersion: '1' }));
  const onOne = await lambda.send(new ListAliasesCommand({ FunctionName: 'al', FunctionVersion: '1' }));
  assert.deepEqual(onOne.Aliases?.map((a) => a.Name), ['beta', 'canary']);
  const page1 = await lambda.send(new ListAliasesCommand({ FunctionName: 'al', MaxItems: 2 }));
  assert.deepEqual(page1.Aliases?.map((a) => a.Name), ['beta', 'canary']);
  assert.ok(page1.NextMarker);
  const page2 = await lambda.send(new ListAliasesCommand({ FunctionName: 'al', MaxItems: 2, Marker: page1.NextMarker }));
  assert.deepEqual(page2.Aliases?.map((a) => a.Name), ['live']);
  assert.equal(page2.NextMarker, undefined);

  const d1 = await lambda.send(new DeleteAliasCommand({ FunctionName: 'al', Name: 'beta' }));
  assert.equal(d1.$metadata.httpStatusCode, 204);
  const d2 = await lambda.send(new DeleteAliasCommand({ FunctionName: 'al', Name: 'beta' }));
  assert.equal(d2.$metadata.httpStatusCode, 204, 'DeleteAlias is idempotent');
});

test('invokes run the code and configuration of the version or alias they name', async () => {
  await createFn('inv', 'one', { Environment: { Variables: { TAG_VAR: 'env-one' } } });
  await lambda.send(new PublishVersionCommand({ FunctionName: 'inv' }));
  await setCode('inv', 'two');
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'inv', Environment: { Variables: { TAG_VAR: 'env-two' } } }));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'inv' });
  await lambda.send(new CreateAliasCommand({ FunctionName: 'inv', Name: 'stable', FunctionVersion: '1' }));

  const v1 = await invoke('inv', '1');
  assert.deepEqual(v1, { executed: '1', body: { tag: 'one', env: 'env-one', version: '1', arn: `${ARN}:inv:1` } });
  const latest = await invoke('inv');
  assert.deepEqual(latest, { executed: '$LATEST', body: { tag: 'two', env: 'env-two', version: '$LATEST', arn: `${ARN}:inv` } });
  const viaAlias = await invoke('inv:stable');
  assert.deepEqual(viaAlias, { executed: '1', body: { tag: 'one', env: 'env-one', version: '1', arn: `${ARN}:inv:stable` } });

  // Updating $LATEST never disturbs a published version's environments.
  await setCode('inv', 'three');
  assert.equal((await invoke('inv')).body.tag, 'three');
  assert.equal((await invoke('inv', '1')).body.tag, 'one');
});

test('a weighted alias splits invocations by its weights', async () => {
  await createFn('split', 'blue');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'split' }));
  await setCode('split', 'green');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'split' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'split', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.3 } } }));
  const n = 400;
  let green = 0;
  for (let i = 0; i < n; i++) {
    const r = await invoke('split', 'live');
    assert.equal(r.body.tag, r.executed === '2' ? 'green' : 'blue', 'the executed version header names the code that ran');
    if (r.executed === '2') green++;
  }
  // Binomial(400, 0.3): mean 120, sd ~9.2; ±5 sd keeps this test from flaking.
  assert.ok(Math.abs(green - 120) <= 46, `version 2 served ${green} of ${n}, expected about 120`);
});

test('Publish on CreateFunction and UpdateFunctionCode publishes a version', async () => {
  const created = await createFn('autopub', 'p1', { Publish: true });
  assert.equal(created.Version, '1');
  assert.equal(created.FunctionArn, `${ARN}:autopub`, 'AWS answers the unqualified ARN');
  const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'autopub', ZipFile: await zipOf('p2'), Publish: true }));
  assert.equal(updated.Version, '2');
  assert.equal(updated.FunctionArn, `${ARN}:autopub:2`);
  assert.equal(updated.LastUpdateStatus, undefined);
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'autopub' });
  assert.equal((await invoke('autopub', '1')).body.tag, 'p1');
  assert.equal((await invoke('autopub', '2')).body.tag, 'p2');
});

test('DeleteFunction removes the function with its versions and aliases', async () => {
  await createFn('gone', 'g');
  await lambda.send(new PublishVersionCommand({ FunctionName: 'gone' }));
  await lambda.send(new CreateAliasCommand({ FunctionName: 'gone', Name: 'a', FunctionVersion: '1' }));
  await invoke('gone', 'a');
  await lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' }));
  await createFn('gone', 'g2');
  await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: 'gone', Qualifier: '1' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${ARN}:gone:1`,
  });
  await expectAwsError(lambda.send(new GetAliasCommand({ FunctionName: 'gone', Name: 'a' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Cannot find alias arn: ${ARN}:gone:a`,
  });
  const v = await lambda.send(new PublishVersionCommand({ FunctionName: 'gone' }));
  assert.equal(v.Version, '1', 'a new function of the same name starts numbering again');
});
