// Answers compared with responses recorded from AWS: each case asserts AWS's status, error type, `Type`
// and text through @aws-sdk/client-lambda. Cases are grouped by the rule they check; a rule is fixed at
// its root (the model, the serialiser or the error table), so one case per rule stands for many.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddPermissionCommand, CreateAliasCommand, CreateEventSourceMappingCommand, CreateFunctionCommand,
  DeleteFunctionCommand, GetFunctionCommand, GetFunctionConfigurationCommand, GetPolicyCommand, InvokeCommand, ListLayersCommand,
  ListLayerVersionsCommand, ListVersionsByFunctionCommand, PublishLayerVersionCommand, PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand, PutFunctionConcurrencyCommand, UpdateFunctionConfigurationCommand, type LambdaClient,
  AddLayerVersionPermissionCommand, UpdateFunctionCodeCommand, GetLayerVersionByArnCommand, GetLayerVersionCommand, ListTagsCommand, TagResourceCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { shapes } from '../../src/api/generated/model.js';

const ACCOUNT = '000000000000';
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function`;
/**
 * The newest model's NamespacedFunctionName pattern, which AWS quotes for GetFunction, DeleteFunction and
 * Invoke (recordings from before the model's August 2026 release quote the earlier pattern).
 */
const NAMESPACED = shapes['NamespacedFunctionName']!.pattern!;

let t: TestServer;
let lambda: LambdaClient;
const text = (p: Uint8Array | undefined) => Buffer.from(p ?? []).toString('utf8');

async function create(name: string, source = 'exports.handler = async (event, context) => ({ rid: context.awsRequestId });', extra: Record<string, unknown> = {}) {
  return lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip(source) }, ...extra }));
}

before(async () => {
  t = await startTestServer();
  lambda = t.client;
  await create('conf');
});
after(async () => t.close());

describe('Invoke: one request id for the whole invocation', () => {
  it('x-amzn-RequestId is context.awsRequestId and the id in START/END/REPORT', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'conf', LogType: 'Tail' }));
    const id = out.$metadata.requestId;
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(JSON.parse(text(out.Payload)), { rid: id });
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    assert.match(log, new RegExp(`^START RequestId: ${id} Version: \\$LATEST$`, 'm'));
    assert.match(log, new RegExp(`^END RequestId: ${id}$`, 'm'));
    assert.match(log, new RegExp(`^REPORT RequestId: ${id}\t`, 'm'));
  });

  it('the Sandbox.Timedout message names the same id', async () => {
    await create('conf-slow', 'exports.handler = () => new Promise(() => {});', { Timeout: 1 });
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'conf-slow' }));
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(text(out.Payload)), {
      errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${out.$metadata.requestId} Error: Task timed out after 1.00 seconds`,
    });
  });

  it('DryRun answers 204 without X-Amz-Executed-Version', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'conf', InvocationType: 'DryRun' }));
    assert.equal(out.StatusCode, 204);
    assert.equal(out.ExecutedVersion, undefined);
  });
});

describe("payloads that are not JSON: the texts of AWS's JSON parser", () => {
  const REDACTED = '[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)';
  const cases: Array<[string, Buffer, string]> = [
    ['not UTF-8 inside a token (recorded)', Buffer.from('6e87729ee9b5d749ee9b6d74', 'hex'), `Invalid UTF-8 start byte 0x87\n at ${REDACTED}; line: 1, column: 3]`],
    ['a control byte first (recorded)', Buffer.from('99eb2c6a07a17a5968', 'hex'), `Unexpected character ((CTRL-CHAR, code 153)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at ${REDACTED}; line: 1, column: 1]`],
    ['a bare word', Buffer.from('hello'), `Unrecognized token 'hello': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at ${REDACTED}; line: 1, column: 6]`],
    ['an unfinished object', Buffer.from('{"a":1'), `Unexpected end-of-input: expected close marker for Object (start marker at ${REDACTED}; line: 1, column: 1])\n at ${REDACTED}; line: 1, column: 7]`],
    ['a missing comma on line 2', Buffer.from('{"a":1\n "b":2}'), `Unexpected character ('"' (code 34)): was expecting comma to separate Object entries\n at ${REDACTED}; line: 2, column: 2]`],
  ];
  for (const [what, payload, problem] of cases) {
    it(what, async () => {
      await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: 'conf', Payload: payload })), {
        name: 'InvalidRequestContentException', status: 400, type: 'User',
        message: `Could not parse request body into json: Could not parse payload into json: ${problem}`,
      });
    });
  }
});

describe('function names and qualifiers (GetFunction, DeleteFunction, Invoke)', () => {
  const long = 'a'.repeat(65);
  it('a name too long is a function that does not exist', async () => {
    await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: long })), { name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:${long}` });
    await expectAwsError(lambda.send(new DeleteFunctionCommand({ FunctionName: long })), { name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:${long}` });
    await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: long })), { name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:${long}:$LATEST` });
    await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: `my-function:${long}` })), { name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${FN}:my-function:${long}` });
  });

  it('an ARN without the function part names the function "function"', async () => {
    const incomplete = `arn:aws:lambda:us-east-1:${ACCOUNT}:function`;
    await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: incomplete })), { name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${FN}:function` });
    await expectAwsError(lambda.send(new DeleteFunctionCommand({ FunctionName: incomplete })), { name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${FN}:function` });
    await expectAwsError(lambda.send(new InvokeCommand({ FunctionName: incomplete })), { name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${FN}:function:$LATEST` });
  });

  it('names that break the pattern quote the namespaced pattern', async () => {
    for (const name of ['my-function!', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:my-function:1:2`, 'function:my-function:$LATEST:extra', `arn:aws:lambda::${ACCOUNT}:function:my-function`]) {
      await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: name })), {
        name: 'ValidationException', status: 400, type: null,
        message: `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAMESPACED}`,
      });
    }
  });

  it('DeleteFunction: an alias-shaped qualifier is refused before the lookup; $latest is a missing version', async () => {
    await expectAwsError(lambda.send(new DeleteFunctionCommand({ FunctionName: 'no-such-fn', Qualifier: 'prod' })), {
      name: 'InvalidParameterValueException', status: 400, type: 'User', message: 'Deletion of aliases is not currently supported.',
    });
    await expectAwsError(lambda.send(new DeleteFunctionCommand({ FunctionName: `${FN}:my-function`, Qualifier: '$latest' })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:my-function`,
    });
    await expectAwsError(lambda.send(new GetFunctionCommand({ FunctionName: `${FN}:conf`, Qualifier: '$latest' })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:conf:$latest`,
    });
  });
});

describe('constraint texts', () => {
  it('environment variable keys: no value quoted (sensitive), no "must not be null"', async () => {
    for (const key of ['A', '1BAD', 'bad-key']) {
      await expectAwsError(create(`conf-env-${key.length}`, undefined, { Environment: { Variables: { [key]: 'v' } } }), {
        name: 'ValidationException', status: 400, type: null,
        message: "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
      });
    }
  });

  it('routing config map keys carry no "must not be null"; map values do', async () => {
    await lambda.send(new PublishVersionCommand({ FunctionName: 'conf' }));
    await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'conf', Name: 'rc', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { $LATEST: 0.5 } } })), {
      name: 'ValidationException', status: 400,
      message: "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]",
    });
    await expectAwsError(lambda.send(new CreateAliasCommand({ FunctionName: 'conf', Name: 'rc', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 2 } } })), {
      name: 'ValidationException', status: 400,
      message: "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
    });
  });

  it('enum values in AWS order: StartingPosition', async () => {
    await expectAwsError(lambda.send(new CreateEventSourceMappingCommand({
      FunctionName: 'conf', EventSourceArn: `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/s`, StartingPosition: 'invalid' as 'LATEST',
    })), {
      name: 'ValidationException', status: 400,
      message: "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
    });
  });

  it('ListLayers and ListLayerVersions refuse an unknown CompatibleRuntime; PublishLayerVersion quotes the creatable runtimes', async () => {
    const runtimeMessage = "1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: [ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, dotnetcore2.0, python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, provided, dotnetcore3.1, dotnet8, java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, dotnet10, nodejs20.x, go1.9, byol, nodejs10.x, provided.al2023, nodejs22.x, python3.10, java8, nodejs12.x, python3.11, nodejs24.x, nodejs8.x, python3.12, nodejs14.x, nodejs8.9, nodejs26.x, python3.13, python3.14, nodejs16.x, python3.15, provided.al2, nodejs4.3-edge, nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, ruby2.5, python3.6, python2.7]";
    await expectAwsError(lambda.send(new ListLayersCommand({ CompatibleRuntime: 'runtimedoesnotexist' as 'nodejs20.x' })), { name: 'ValidationException', status: 400, type: null, message: runtimeMessage });
    await expectAwsError(lambda.send(new ListLayerVersionsCommand({ LayerName: 'l', CompatibleRuntime: 'runtimedoesnotexist' as 'nodejs20.x' })), { name: 'ValidationException', status: 400, message: runtimeMessage });
    await expectAwsError(lambda.send(new PublishLayerVersionCommand({
      LayerName: 'l', Content: { ZipFile: await makeZip([{ name: 'a.txt', content: 'a' }]) },
      CompatibleRuntimes: ['invalidruntime' as 'nodejs20.x'], CompatibleArchitectures: ['invalidarch' as 'x86_64'],
    })), {
      name: 'ValidationException', status: 400,
      message: "2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]; Value '[invalidarch]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
    });
  });

  it('VpcConfig ids: list element constraints without "must not be null"', async () => {
    await expectAwsError(create('conf-vpc', undefined, { VpcConfig: { SubnetIds: ['bad'], SecurityGroupIds: [] } }), {
      name: 'ValidationException', status: 400,
      message: "1 validation error detected: Value '[bad]' at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: subnet-[0-9a-z]*]",
    });
  });
});

describe('shapes of answers', () => {
  it('ListVersionsByFunction items omit LastUpdateStatus, State and RuntimeVersionConfig', async () => {
    const { Versions } = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'conf' }));
    assert.ok(Versions && Versions.length >= 1);
    for (const v of Versions) {
      assert.equal(v.State, undefined);
      assert.equal(v.LastUpdateStatus, undefined);
      assert.equal(v.RuntimeVersionConfig, undefined);
      assert.ok(v.RevisionId && v.CodeSha256);
    }
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'conf' }));
    assert.equal(config.State, 'Active');
    assert.ok(config.RuntimeVersionConfig?.RuntimeVersionArn);
  });

  it('a new RevisionId with every state change: Pending -> Active of $LATEST and of versions published with a deployment', async () => {
    const created = await create('conf-rev', undefined, { Publish: true });
    assert.equal(created.Version, '1');
    assert.equal(created.State, 'Pending');
    const latest = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'conf-rev' }));
    const v1 = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'conf-rev', Qualifier: '1' }));
    assert.equal(latest.State, 'Active');
    assert.equal(v1.State, 'Active');
    assert.equal(new Set([created.RevisionId, latest.RevisionId, v1.RevisionId]).size, 3);
    const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'conf-rev', ZipFile: await nodeHandlerZip('exports.handler = async () => 2;'), Publish: true }));
    assert.deepEqual({ version: updated.Version, state: updated.State }, { version: '2', state: 'Pending' });
    const v2 = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'conf-rev', Qualifier: '2' }));
    assert.deepEqual({ state: v2.State, update: v2.LastUpdateStatus }, { state: 'Active', update: 'Successful' });
    assert.notEqual(v2.RevisionId, updated.RevisionId);
  });

  it('tags on a version or alias ARN are refused', async () => {
    for (const q of ['1', '$LATEST']) {
      await expectAwsError(lambda.send(new TagResourceCommand({ Resource: `${FN}:conf:${q}`, Tags: { a: 'b' } })), {
        name: 'InvalidParameterValueException', status: 400, type: 'User', message: 'Tags on function aliases and versions are not supported. Please specify a function ARN.',
      });
    }
  });

  it('UpdateFunctionConfiguration(DeadLetterConfig={}) keeps the previous TargetArn', async () => {
    const target = `arn:aws:sqs:us-east-1:${ACCOUNT}:dlq`;
    await create('conf-dlq', undefined, { DeadLetterConfig: { TargetArn: target } });
    const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'conf-dlq', DeadLetterConfig: {} }));
    assert.deepEqual(updated.DeadLetterConfig, { TargetArn: target });
  });
});

describe('resource policies grant what their actions name, wildcards included', () => {
  const OTHER = '111111111111';
  it('lambda:* lets another account invoke, read and tag the function; nothing else is granted without a statement', async () => {
    await create('conf-shared');
    const other = t.clientFor({ accessKeyId: OTHER });
    const arn = `${FN}:conf-shared`;
    await expectAwsError(other.send(new GetFunctionCommand({ FunctionName: arn })), {
      name: 'AccessDeniedException', status: 403,
      message: `User: arn:aws:iam::${OTHER}:root is not authorized to perform: lambda:GetFunction on resource: ${arn} because no resource-based policy allows the lambda:GetFunction action`,
    });
    await lambda.send(new AddPermissionCommand({ FunctionName: 'conf-shared', StatementId: 'all', Action: 'lambda:*', Principal: OTHER }));
    assert.equal((await other.send(new GetFunctionCommand({ FunctionName: arn }))).Configuration?.FunctionArn, arn);
    assert.equal((await other.send(new GetFunctionConfigurationCommand({ FunctionName: arn }))).FunctionName, 'conf-shared');
    const out = await other.send(new InvokeCommand({ FunctionName: arn }));
    assert.equal(out.StatusCode, 200);
    await other.send(new TagResourceCommand({ Resource: arn, Tags: { by: 'other' } }));
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { by: 'other' });
    // A third account is still refused.
    await expectAwsError(t.clientFor({ accessKeyId: '222222222222' }).send(new InvokeCommand({ FunctionName: arn })), {
      name: 'AccessDeniedException', status: 403,
      message: `User: arn:aws:iam::222222222222:root is not authorized to perform: lambda:InvokeFunction on resource: ${arn} because no resource-based policy allows the lambda:InvokeFunction action`,
    });
  });

  it('lambda:GetFunction grants GetFunction but not InvokeFunction; * grants everything', async () => {
    await create('conf-get-only');
    const other = t.clientFor({ accessKeyId: OTHER });
    const arn = `${FN}:conf-get-only`;
    await lambda.send(new AddPermissionCommand({ FunctionName: 'conf-get-only', StatementId: 'get', Action: 'lambda:GetFunction', Principal: `arn:aws:iam::${OTHER}:root` }));
    assert.equal((await other.send(new GetFunctionCommand({ FunctionName: arn }))).Configuration?.FunctionName, 'conf-get-only');
    await expectAwsError(other.send(new InvokeCommand({ FunctionName: arn })), {
      name: 'AccessDeniedException', status: 403,
      message: `User: arn:aws:iam::${OTHER}:root is not authorized to perform: lambda:InvokeFunction on resource: ${arn} because no resource-based policy allows the lambda:InvokeFunction action`,
    });
    await lambda.send(new AddPermissionCommand({ FunctionName: 'conf-get-only', StatementId: 'any', Action: '*', Principal: OTHER }));
    assert.equal((await other.send(new InvokeCommand({ FunctionName: arn }))).StatusCode, 200);
  });

  it('GetLayerVersion and GetLayerVersionByArn from another account after AddLayerVersionPermission', async () => {
    const other = t.clientFor({ accessKeyId: OTHER });
    const layer = await lambda.send(new PublishLayerVersionCommand({ LayerName: 'conf-shared-layer', Content: { ZipFile: await makeZip([{ name: 'a.txt', content: 'a' }]) } }));
    const denied = {
      name: 'AccessDeniedException', status: 403,
      message: `User: arn:aws:iam::${OTHER}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${layer.LayerVersionArn}`,
    };
    await expectAwsError(other.send(new GetLayerVersionCommand({ LayerName: layer.LayerArn, VersionNumber: 1 })), denied);
    await expectAwsError(other.send(new GetLayerVersionByArnCommand({ Arn: layer.LayerVersionArn })), denied);
    await lambda.send(new AddLayerVersionPermissionCommand({ LayerName: 'conf-shared-layer', VersionNumber: 1, StatementId: 'share', Action: 'lambda:GetLayerVersion', Principal: OTHER }));
    assert.equal((await other.send(new GetLayerVersionCommand({ LayerName: layer.LayerArn, VersionNumber: 1 }))).LayerVersionArn, layer.LayerVersionArn);
    assert.equal((await other.send(new GetLayerVersionByArnCommand({ Arn: layer.LayerVersionArn }))).Version, 1);
  });
});

describe('resource policies and concurrency errors', () => {
  it('GetPolicy of a missing function; AddPermission on missing qualifiers; a stale RevisionId points at GetPolicy', async () => {
    await expectAwsError(lambda.send(new GetPolicyCommand({ FunctionName: 'doesnotexist' })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: 'The resource you requested does not exist.',
    });
    const add = (extra: { Qualifier?: string; RevisionId?: string }) =>
      lambda.send(new AddPermissionCommand({ FunctionName: 'conf', StatementId: 's', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', ...extra }));
    await expectAwsError(add({ Qualifier: '42' }), { name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:conf:42` });
    await expectAwsError(add({ Qualifier: 'valid-with-$-but-doesnotexist' }), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:conf:valid-with-$-but-doesnotexist`,
    });
    await expectAwsError(add({ Qualifier: 'alias-doesnotexist' }), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Cannot find alias arn: ${FN}:conf:alias-doesnotexist`,
    });
    await expectAwsError(add({ Qualifier: '1', RevisionId: 'stale' }), {
      name: 'PreconditionFailedException', status: 412, type: 'User',
      message: 'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
    });
  });

  it('concurrency limit refusals carry no Type', async () => {
    await create('conf-cc');
    await lambda.send(new PublishVersionCommand({ FunctionName: 'conf-cc' }));
    await expectAwsError(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'conf-cc', ReservedConcurrentExecutions: 901 })), {
      name: 'InvalidParameterValueException', status: 400, type: null,
      message: "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    });
    await expectAwsError(lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'conf-cc', Qualifier: '1', ProvisionedConcurrentExecutions: 1001 })), {
      name: 'InvalidParameterValueException', status: 400, type: null,
      message: "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [1000].",
    });
    await expectAwsError(lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'conf-cc', Qualifier: '1', ProvisionedConcurrentExecutions: 901 })), {
      name: 'InvalidParameterValueException', status: 400, type: null,
      message: "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    });
    await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'conf-cc', Qualifier: '1', ProvisionedConcurrentExecutions: 2 }));
    await expectAwsError(lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'conf-cc', ReservedConcurrentExecutions: 1 })), {
      name: 'InvalidParameterValueException', status: 400, type: null,
      message: " ReservedConcurrentExecutions  1 should not be lower than function's total provisioned concurrency [2].",
    });
  });
});

