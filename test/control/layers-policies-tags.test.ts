// Layers that really load, resource policies with cross-account invoke, tags and account settings,
// through the real SDK against a real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  AddLayerVersionPermissionCommand, AddPermissionCommand, CreateFunctionCommand, DeleteLayerVersionCommand,
  GetAccountSettingsCommand, GetFunctionCommand, GetFunctionConfigurationCommand, GetLayerVersionByArnCommand,
  GetLayerVersionCommand, GetLayerVersionPolicyCommand, GetPolicyCommand, InvokeCommand, ListLayerVersionsCommand,
  ListLayersCommand, ListTagsCommand, PublishLayerVersionCommand, PublishVersionCommand, RemovePermissionCommand,
  TagResourceCommand, UntagResourceCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

let t: TestServer;
let lambda: LambdaClient;
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const FN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function`;
const LAYER = `arn:aws:lambda:${REGION}:${ACCOUNT}:layer`;
const text = (p: Uint8Array | undefined) => Buffer.from(p ?? []).toString('utf8');

async function publishLayer(name: string, files: Array<{ name: string; content: string; mode?: number }>, extra: Record<string, unknown> = {}) {
  return lambda.send(new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: await makeZip(files) }, ...extra }));
}

async function createFn(name: string, runtime: 'nodejs20.x' | 'python3.12', files: Array<{ name: string; content: string }>, handler: string, extra: Record<string, unknown> = {}) {
  return lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: runtime, Handler: handler, Role: ROLE, Code: { ZipFile: await makeZip(files) }, ...extra }));
}

async function invokeJson(name: string, qualifier?: string): Promise<unknown> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, ...(qualifier ? { Qualifier: qualifier } : {}) }));
  assert.equal(out.FunctionError, undefined, text(out.Payload));
  return JSON.parse(text(out.Payload));
}

before(async () => {
  t = await startTestServer();
  lambda = t.client;
});
after(async () => t.close());

test('PublishLayerVersion and the layer read operations answer AWS shapes', async () => {
  const v1 = await publishLayer('shapes', [{ name: 'nodejs/a.txt', content: 'a' }], { Description: 'one', CompatibleRuntimes: ['nodejs20.x'], CompatibleArchitectures: ['x86_64'], LicenseInfo: 'MIT' });
  assert.equal(v1.$metadata.httpStatusCode, 201);
  assert.equal(v1.Version, 1);
  assert.equal(v1.LayerArn, `${LAYER}:shapes`);
  assert.equal(v1.LayerVersionArn, `${LAYER}:shapes:1`);
  assert.match(v1.CreatedDate ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
  assert.deepEqual(v1.CompatibleRuntimes, ['nodejs20.x']);
  assert.equal(v1.LicenseInfo, 'MIT');
  assert.match(v1.Content?.CodeSha256 ?? '', /^[A-Za-z0-9+/]{43}=$/);
  const zip = await fetch(v1.Content!.Location!);
  assert.equal(zip.status, 200);
  assert.equal((await zip.arrayBuffer()).byteLength, v1.Content?.CodeSize);

  const v2 = await publishLayer('shapes', [{ name: 'nodejs/b.txt', content: 'b' }]);
  assert.equal(v2.Version, 2);
  assert.equal(v2.Description, '');
  assert.equal(v2.CompatibleRuntimes, undefined, 'absent when not given');

  const byName = await lambda.send(new GetLayerVersionCommand({ LayerName: 'shapes', VersionNumber: 1 }));
  assert.equal(byName.Description, 'one');
  const byArn = await lambda.send(new GetLayerVersionByArnCommand({ Arn: `${LAYER}:shapes:2` }));
  assert.equal(byArn.Version, 2);
  const versions = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'shapes' }));
  assert.deepEqual(versions.LayerVersions?.map((v) => v.Version), [2, 1], 'newest first');
  const filtered = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'shapes', CompatibleRuntime: 'nodejs20.x' }));
  assert.deepEqual(filtered.LayerVersions?.map((v) => v.Version), [1]);
  const layers = await lambda.send(new ListLayersCommand({}));
  const mine = layers.Layers?.find((l) => l.LayerName === 'shapes');
  assert.equal(mine?.LatestMatchingVersion?.Version, 2);
  assert.deepEqual((await lambda.send(new ListLayerVersionsCommand({ LayerName: 'never' }))).LayerVersions, []);

  const del = await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'shapes', VersionNumber: 2 }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'shapes', VersionNumber: 2 }));
  await expectAwsError(lambda.send(new GetLayerVersionCommand({ LayerName: 'shapes', VersionNumber: 2 })), {
    name: 'ResourceNotFoundException', status: 404, type: 'User', message: 'The resource you requested does not exist.',
  });
  const v3 = await publishLayer('shapes', [{ name: 'x', content: 'x' }]);
  assert.equal(v3.Version, 3, 'layer version numbers are never reused');
  await expectAwsError(lambda.send(new GetLayerVersionCommand({ LayerName: 'shapes', VersionNumber: 0 })), {
    name: 'InvalidParameterValueException', status: 400, message: 'Layer Version Cannot be less than 1',
  });
});

test('functions reference layers with AWS rules', async () => {
  await publishLayer('rules', [{ name: 'a', content: 'a' }]);
  await publishLayer('rules', [{ name: 'b', content: 'b' }]);
  const files = [{ name: 'index.js', content: 'exports.handler = async () => 1;' }];
  await expectAwsError(createFn('badlayers1', 'nodejs20.x', files, 'index.handler', { Layers: [`${LAYER}:rules:9`] }), {
    name: 'InvalidParameterValueException', status: 400, type: 'User', message: `Layer version ${LAYER}:rules:9 does not exist.`,
  });
  await expectAwsError(createFn('badlayers2', 'nodejs20.x', files, 'index.handler', { Layers: [`${LAYER}:rules:1`, `${LAYER}:rules:2`] }), {
    name: 'InvalidParameterValueException', status: 400,
    message: `Two different versions of the same layer are not allowed to be referenced in the same function. ${LAYER}:rules:1 and ${LAYER}:rules:2 are versions of the same layer.`,
  });
  await expectAwsError(createFn('badlayers3', 'nodejs20.x', files, 'index.handler', { Layers: Array.from({ length: 6 }, (_, i) => `${LAYER}:l${i}:1`) }), {
    name: 'InvalidParameterValueException', status: 400, message: 'Cannot reference more than 5 layers.',
  });
  await expectAwsError(createFn('badlayers4', 'nodejs20.x', files, 'index.handler', { Layers: [`arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:rules:1`] }), {
    name: 'InvalidParameterValueException', status: 400, message: `Layers are not in the same region as the function. Layers are expected to be in region ${REGION}.`,
  });
  const created = await createFn('withlayer', 'nodejs20.x', files, 'index.handler', { Layers: [`${LAYER}:rules:1`] });
  assert.equal(created.Layers?.length, 1);
  assert.equal(created.Layers?.[0]?.Arn, `${LAYER}:rules:1`);
  assert.ok((created.Layers?.[0]?.CodeSize ?? 0) > 0);
});

test('layers load at run time: Node.js and Python import libraries that exist only in a layer', async () => {
  const lib = await publishLayer('libs', [
    { name: 'nodejs/node_modules/greeter/index.js', content: "exports.greet = (n) => 'hello ' + n + ' from a layer';" },
    { name: 'python/greeter_py.py', content: "def greet(n):\n    return 'hi ' + n + ' from a layer'\n" },
    { name: 'bin/layertool', content: '#!/bin/sh\necho tool\n', mode: 0o100755 },
  ]);
  const later = await publishLayer('override', [{ name: 'nodejs/node_modules/greeter/index.js', content: "exports.greet = (n) => 'later layer wins for ' + n;" }]);
  await createFn('nodelayer', 'nodejs20.x', [{
    name: 'index.js',
    content: "const { execFileSync } = require('child_process'); exports.handler = async () => ({ msg: require('greeter').greet('node'), tool: execFileSync('layertool').toString().trim(), ro: (() => { try { require('fs').writeFileSync('/opt/x', '1'); return 'writable'; } catch { return 'read-only'; } })() });",
  }], 'index.handler', { Layers: [lib.LayerVersionArn] });
  assert.deepEqual(await invokeJson('nodelayer'), { msg: 'hello node from a layer', tool: 'tool', ro: 'read-only' });

  await createFn('pylayer', 'python3.12', [{ name: 'app.py', content: 'import greeter_py\ndef handler(event, context):\n    return greeter_py.greet("python")\n' }], 'app.handler', { Layers: [lib.LayerVersionArn] });
  assert.equal(await invokeJson('pylayer'), 'hi python from a layer');

  // Later layers win, and a published version keeps the layers it was published with.
  await lambda.send(new PublishVersionCommand({ FunctionName: 'nodelayer' }));
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'nodelayer', Layers: [lib.LayerVersionArn!, later.LayerVersionArn!] }));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 20, minDelay: 1 }, { FunctionName: 'nodelayer' });
  assert.equal((await invokeJson('nodelayer') as { msg: string }).msg, 'later layer wins for node');
  assert.equal((await invokeJson('nodelayer', '1') as { msg: string }).msg, 'hello node from a layer');
  // Deleting the layer version does not break functions that use it.
  await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'libs', VersionNumber: lib.Version! }));
  assert.equal((await invokeJson('nodelayer', '1') as { msg: string }).msg, 'hello node from a layer');
  const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'nodelayer', Qualifier: '1' }));
  assert.deepEqual(cfg.Layers?.map((l) => l.Arn), [lib.LayerVersionArn]);
});

test('layer version permissions', async () => {
  const v = await publishLayer('shared', [{ name: 'a', content: 'a' }]);
  await expectAwsError(lambda.send(new GetLayerVersionPolicyCommand({ LayerName: 'shared', VersionNumber: 1 })), {
    name: 'ResourceNotFoundException', status: 404, message: 'No policy is associated with the given resource.',
  });
  const added = await lambda.send(new AddLayerVersionPermissionCommand({ LayerName: 'shared', VersionNumber: 1, StatementId: 's1', Action: 'lambda:GetLayerVersion', Principal: '*' }));
  assert.equal(added.$metadata.httpStatusCode, 201);
  assert.deepEqual(JSON.parse(added.Statement!), { Sid: 's1', Effect: 'Allow', Principal: '*', Action: 'lambda:GetLayerVersion', Resource: v.LayerVersionArn });
  const policy = await lambda.send(new GetLayerVersionPolicyCommand({ LayerName: 'shared', VersionNumber: 1 }));
  assert.equal(policy.RevisionId, added.RevisionId);
  assert.deepEqual(JSON.parse(policy.Policy!), { Version: '2012-10-17', Id: 'default', Statement: [JSON.parse(added.Statement!)] });
  await expectAwsError(lambda.send(new AddLayerVersionPermissionCommand({ LayerName: 'shared', VersionNumber: 1, StatementId: 's1', Action: 'lambda:GetLayerVersion', Principal: '*' })), {
    name: 'ResourceConflictException', status: 409, message: 'The statement id (s1) provided already exists. Please provide a new statement id, or remove the existing statement.',
  });
  await expectAwsError(lambda.send(new AddLayerVersionPermissionCommand({ LayerName: 'shared', VersionNumber: 7, StatementId: 's2', Action: 'lambda:GetLayerVersion', Principal: '*' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Layer version ${LAYER}:shared:7 does not exist.`,
  });
  // Another account can use a layer version shared with it.
  const other = t.clientFor({ accessKeyId: '111122223333' });
  const out = await other.send(new CreateFunctionCommand({ FunctionName: 'uses-shared', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::111122223333:role/r', Code: { ZipFile: await makeZip([{ name: 'index.js', content: 'exports.handler = async () => 1;' }]) }, Layers: [v.LayerVersionArn!] }));
  assert.equal(out.Layers?.[0]?.Arn, v.LayerVersionArn);
});

test('resource policies: statements as AWS renders them, errors, and RevisionId', async () => {
  await createFn('pol', 'nodejs20.x', [{ name: 'index.js', content: 'exports.handler = async () => "ok";' }], 'index.handler');
  await expectAwsError(lambda.send(new GetPolicyCommand({ FunctionName: 'pol' })), {
    name: 'ResourceNotFoundException', status: 404, type: 'User', message: 'The resource you requested does not exist.',
  });
  const s3 = await lambda.send(new AddPermissionCommand({ FunctionName: 'pol', StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceArn: 'arn:aws:s3:::bucket', SourceAccount: '123456789012' }));
  assert.equal(s3.$metadata.httpStatusCode, 201);
  assert.equal(s3.Statement, JSON.stringify({
    Sid: 's3', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'lambda:InvokeFunction', Resource: `${FN}:pol`,
    Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' }, ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::bucket' } },
  }));
  const acct = await lambda.send(new AddPermissionCommand({ FunctionName: 'pol', StatementId: 'acct', Action: 'lambda:InvokeFunction', Principal: '111122223333' }));
  assert.deepEqual(JSON.parse(acct.Statement!).Principal, { AWS: 'arn:aws:iam::111122223333:root' });
  const policy = await lambda.send(new GetPolicyCommand({ FunctionName: 'pol' }));
  const fn = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'pol' }));
  assert.equal(policy.RevisionId, fn.RevisionId, "GetPolicy's RevisionId is the function's");
  const doc = JSON.parse(policy.Policy!) as { Version: string; Id: string; Statement: Array<{ Sid: string }> };
  assert.equal(doc.Version, '2012-10-17');
  assert.equal(doc.Id, 'default');
  assert.deepEqual(doc.Statement.map((s) => s.Sid), ['s3', 'acct']);

  await expectAwsError(lambda.send(new AddPermissionCommand({ FunctionName: 'pol', StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: '*' })), {
    name: 'ResourceConflictException', status: 409, message: 'The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement.',
  });
  await expectAwsError(lambda.send(new AddPermissionCommand({ FunctionName: 'pol', StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: '*', Qualifier: '$LATEST' })), {
    name: 'InvalidParameterValueException', status: 400, message: 'We currently do not support adding policies for $LATEST.',
  });
  await expectAwsError(lambda.send(new AddPermissionCommand({ FunctionName: 'pol', StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: 'invalid.com' })), {
    name: 'InvalidParameterValueException', status: 400, message: 'The provided principal was invalid. Please check the principal and try again.',
  });
  await expectAwsError(lambda.send(new AddPermissionCommand({ FunctionName: 'pol', StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: '*', RevisionId: 'stale' })), {
    name: 'PreconditionFailedException', status: 412, type: 'User',
    message: 'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
  });
  await expectAwsError(lambda.send(new AddPermissionCommand({ FunctionName: 'pol', StatementId: 'x', Action: 'lambda:InvokeFunction', Principal: '*', Qualifier: 'nope' })), {
    name: 'ResourceNotFoundException', status: 404, message: `Cannot find alias arn: ${FN}:pol:nope`,
  });
  await expectAwsError(lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 'ghost' })), {
    name: 'ResourceNotFoundException', status: 404, message: 'Statement ghost is not found in resource policy.',
  });
  await expectAwsError(lambda.send(new RemovePermissionCommand({ FunctionName: 'no-such-fn', StatementId: 's3' })), {
    name: 'ResourceNotFoundException', status: 404, message: `No policy found for: ${FN}:no-such-fn`,
  });
  const removed = await lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 's3' }));
  assert.equal(removed.$metadata.httpStatusCode, 204);
  await lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 'acct' }));
  await expectAwsError(lambda.send(new GetPolicyCommand({ FunctionName: 'pol' })), {
    name: 'ResourceNotFoundException', status: 404, message: 'The resource you requested does not exist.',
  });
  await expectAwsError(lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 'acct' })), {
    name: 'ResourceNotFoundException', status: 404, message: 'No policy is associated with the given resource.',
  });
});

test('another account invokes only what a resource policy allows it', async () => {
  await createFn('guarded', 'nodejs20.x', [{ name: 'index.js', content: 'exports.handler = async (e, c) => c.invokedFunctionArn;' }], 'index.handler');
  const other = t.clientFor({ accessKeyId: '111122223333' });
  const arn = `${FN}:guarded`;
  await expectAwsError(other.send(new InvokeCommand({ FunctionName: arn })), {
    name: 'AccessDeniedException', status: 403,
    message: `User: arn:aws:iam::111122223333:root is not authorized to perform: lambda:InvokeFunction on resource: ${arn} because no resource-based policy allows the lambda:InvokeFunction action`,
  });
  await lambda.send(new AddPermissionCommand({ FunctionName: 'guarded', StatementId: 'other', Action: 'lambda:InvokeFunction', Principal: '111122223333' }));
  const out = await other.send(new InvokeCommand({ FunctionName: arn }));
  assert.equal(out.FunctionError, undefined);
  assert.equal(JSON.parse(text(out.Payload)), arn);
  // A third account is still refused.
  await expectAwsError(t.clientFor({ accessKeyId: '444455556666' }).send(new InvokeCommand({ FunctionName: arn })), { name: 'AccessDeniedException', status: 403, message: /444455556666/ });
  // By name alone the caller's own account is meant, where no such function exists.
  await expectAwsError(other.send(new InvokeCommand({ FunctionName: 'guarded' })), {
    name: 'ResourceNotFoundException', status: 404, message: 'Function not found: arn:aws:lambda:us-east-1:111122223333:function:guarded:$LATEST',
  });
});

test('tags: at create, merge, limits, qualified ARNs, and RevisionId', async () => {
  await createFn('tagged', 'nodejs20.x', [{ name: 'index.js', content: 'exports.handler = async () => 1;' }], 'index.handler', { Tags: { team: 'core' } });
  const arn = `${FN}:tagged`;
  assert.deepEqual((await lambda.send(new GetFunctionCommand({ FunctionName: 'tagged' }))).Tags, { team: 'core' });
  const before = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'tagged' }))).RevisionId;
  const tagged = await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { team: 'platform', env: 'dev' } }));
  assert.equal(tagged.$metadata.httpStatusCode, 204);
  assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { team: 'platform', env: 'dev' });
  assert.notEqual((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'tagged' }))).RevisionId, before, 'tagging changes the RevisionId');
  await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['team', 'not-there'] }));
  assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { env: 'dev' });
  await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['env'] }));
  assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, {});
  assert.equal((await lambda.send(new GetFunctionCommand({ FunctionName: 'tagged' }))).Tags, undefined, 'no Tags member without tags');

  const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
  await lambda.send(new TagResourceCommand({ Resource: arn, Tags: fifty }));
  await expectAwsError(lambda.send(new TagResourceCommand({ Resource: arn, Tags: { one: 'more' } })), {
    name: 'InvalidParameterValueException', status: 400, type: 'User', message: 'Number of tags exceeds resource tag limit.',
  });
  await expectAwsError(lambda.send(new TagResourceCommand({ Resource: `${arn}:1`, Tags: { a: 'b' } })), {
    name: 'InvalidParameterValueException', status: 400, message: 'Tags on function aliases and versions are not supported. Please specify a function ARN.',
  });
  await expectAwsError(lambda.send(new TagResourceCommand({ Resource: `${FN}:ghost`, Tags: { a: 'b' } })), {
    name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${FN}:ghost`,
  });
  await expectAwsError(createFn('toomanytags', 'nodejs20.x', [{ name: 'index.js', content: '' }], 'index.handler', { Tags: { ...fifty, extra: 'x' } }), {
    name: 'InvalidParameterValueException', status: 400, message: 'Number of tags exceeds resource tag limit.',
  });
});

test('GetAccountSettings reports limits and usage counted from the store; storage is enforced', async () => {
  const small = await startTestServer({ totalCodeSize: 2000 });
  try {
    const c = small.client;
    const empty = await c.send(new GetAccountSettingsCommand({}));
    assert.deepEqual(empty.AccountLimit, { TotalCodeSize: 2000, CodeSizeUnzipped: 262144000, CodeSizeZipped: 52428800, ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 });
    assert.deepEqual(empty.AccountUsage, { TotalCodeSize: 0, FunctionCount: 0 });
    const zip = await makeZip([{ name: 'index.js', content: 'exports.handler = async () => 1;' }]);
    await c.send(new CreateFunctionCommand({ FunctionName: 'a', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: zip } }));
    const layer = await c.send(new PublishLayerVersionCommand({ LayerName: 'l', Content: { ZipFile: zip } }));
    const used = await c.send(new GetAccountSettingsCommand({}));
    assert.deepEqual(used.AccountUsage, { TotalCodeSize: zip.length + (layer.Content?.CodeSize ?? 0), FunctionCount: 1 });
    const big = await makeZip([{ name: 'index.js', content: 'x'.repeat(100) }, { name: 'data.bin', content: randomBytes(3000) }]);
    await expectAwsError(c.send(new CreateFunctionCommand({ FunctionName: 'b', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: big } })), {
      name: 'CodeStorageExceededException', status: 400, type: 'User', message: 'Code storage limit exceeded.',
    });
  } finally {
    await small.close();
  }
});
