// Code signing configs, their binding to functions and the verification of packages; recursion and runtime
// management settings. Driven through @aws-sdk/client-lambda and boto3 against the real server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateCodeSigningConfigCommand, CreateFunctionCommand, DeleteCodeSigningConfigCommand, DeleteFunctionCodeSigningConfigCommand,
  DeleteFunctionCommand, GetCodeSigningConfigCommand, GetFunctionCodeSigningConfigCommand, GetFunctionConfigurationCommand,
  GetFunctionRecursionConfigCommand, GetRuntimeManagementConfigCommand, ListCodeSigningConfigsCommand,
  ListFunctionsByCodeSigningConfigCommand, ListTagsCommand, PublishVersionCommand, PutFunctionCodeSigningConfigCommand,
  PutFunctionRecursionConfigCommand, PutRuntimeManagementConfigCommand, TagResourceCommand, UntagResourceCommand,
  UpdateCodeSigningConfigCommand, UpdateFunctionCodeCommand, type LambdaClient,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { signPackage } from '../../src/control/code-signing.js';

const ACCOUNT = '000000000000';
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function`;
const PROFILE = `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-profiles/trusted/abcdef1234`;
const OTHER_PROFILE = `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-profiles/other/9876543210`;
const JOB = `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-jobs/0b8a9a5e-4c2c-4a4e-9d9b-3f9b1f1f1f1f`;

let t: TestServer;
let lambda: LambdaClient;
let work: string;
const trusted = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const other = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
let unsigned: Buffer;
let signed: Buffer;

const createFn = (name: string, zip: Buffer, extra: Record<string, unknown> = {}) =>
  lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip }, ...extra }));
const newCsc = (policy: 'Warn' | 'Enforce', profiles = [PROFILE]) =>
  lambda.send(new CreateCodeSigningConfigCommand({ AllowedPublishers: { SigningProfileVersionArns: profiles }, CodeSigningPolicies: { UntrustedArtifactOnDeployment: policy } }));

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'lambdalite-csc-'));
  const profiles = path.join(work, 'profiles.json');
  writeFileSync(profiles, JSON.stringify({
    [PROFILE]: trusted.publicKey.export({ type: 'spki', format: 'pem' }),
    [OTHER_PROFILE]: other.publicKey.export({ type: 'spki', format: 'pem' }),
  }));
  t = await startTestServer({ signingProfiles: profiles });
  lambda = t.client;
  unsigned = await nodeHandlerZip('exports.handler = async () => "signed code";');
  signed = signPackage(unsigned, trusted.privateKey, PROFILE, JOB);
});
after(async () => {
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

describe('code signing configs', () => {
  it('create, get, update, list, delete with AWS shapes', async () => {
    const created = await lambda.send(new CreateCodeSigningConfigCommand({
      Description: 'Testing CodeSigning Config', AllowedPublishers: { SigningProfileVersionArns: [PROFILE] }, CodeSigningPolicies: { UntrustedArtifactOnDeployment: 'Enforce' },
    }));
    assert.equal(created.$metadata.httpStatusCode, 201);
    const c = created.CodeSigningConfig!;
    assert.match(c.CodeSigningConfigId!, /^csc-[a-z0-9]{17}$/);
    assert.equal(c.CodeSigningConfigArn, `arn:aws:lambda:us-east-1:${ACCOUNT}:code-signing-config:${c.CodeSigningConfigId}`);
    assert.deepEqual(c.AllowedPublishers, { SigningProfileVersionArns: [PROFILE] });
    assert.deepEqual(c.CodeSigningPolicies, { UntrustedArtifactOnDeployment: 'Enforce' });
    assert.match(c.LastModified!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const updated = await lambda.send(new UpdateCodeSigningConfigCommand({ CodeSigningConfigArn: c.CodeSigningConfigArn, CodeSigningPolicies: { UntrustedArtifactOnDeployment: 'Warn' } }));
    assert.deepEqual(updated.CodeSigningConfig?.CodeSigningPolicies, { UntrustedArtifactOnDeployment: 'Warn' });
    assert.equal(updated.CodeSigningConfig?.Description, 'Testing CodeSigning Config');
    const got = await lambda.send(new GetCodeSigningConfigCommand({ CodeSigningConfigArn: c.CodeSigningConfigArn }));
    assert.deepEqual(got.CodeSigningConfig, updated.CodeSigningConfig);
    const listed = await lambda.send(new ListCodeSigningConfigsCommand({}));
    assert.ok(listed.CodeSigningConfigs?.some((x) => x.CodeSigningConfigArn === c.CodeSigningConfigArn));
    const deleted = await lambda.send(new DeleteCodeSigningConfigCommand({ CodeSigningConfigArn: c.CodeSigningConfigArn }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    const invalid = `${c.CodeSigningConfigArn}`;
    for (const call of [
      () => lambda.send(new GetCodeSigningConfigCommand({ CodeSigningConfigArn: invalid })),
      () => lambda.send(new UpdateCodeSigningConfigCommand({ CodeSigningConfigArn: invalid, Description: 'x' })),
      () => lambda.send(new DeleteCodeSigningConfigCommand({ CodeSigningConfigArn: invalid })),
      () => lambda.send(new ListFunctionsByCodeSigningConfigCommand({ CodeSigningConfigArn: invalid })),
    ]) {
      await expectAwsError(call(), { name: 'ResourceNotFoundException', status: 404, type: null, message: `The Lambda code signing configuration ${invalid} can not be found.` });
    }
  });

  it('bound to functions: put, get, list functions, delete; missing config or function', async () => {
    const csc = (await newCsc('Warn')).CodeSigningConfig!.CodeSigningConfigArn!;
    await createFn('csc-bound', unsigned);
    assert.deepEqual(Object.keys(await lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'csc-bound' }))).filter((k) => k !== '$metadata'), []);
    const put = await lambda.send(new PutFunctionCodeSigningConfigCommand({ FunctionName: 'csc-bound', CodeSigningConfigArn: csc }));
    assert.deepEqual({ arn: put.CodeSigningConfigArn, name: put.FunctionName }, { arn: csc, name: 'csc-bound' });
    const got = await lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'csc-bound' }));
    assert.deepEqual({ arn: got.CodeSigningConfigArn, name: got.FunctionName }, { arn: csc, name: 'csc-bound' });
    assert.deepEqual((await lambda.send(new ListFunctionsByCodeSigningConfigCommand({ CodeSigningConfigArn: csc }))).FunctionArns, [`${FN}:csc-bound`]);
    await expectAwsError(lambda.send(new DeleteCodeSigningConfigCommand({ CodeSigningConfigArn: csc })), { name: 'ResourceConflictException', status: 409, type: 'User', message: `The code signing configuration ${csc} cannot be deleted because it is used by one or more functions.` });
    const missing = csc.replace(/.$/, (ch) => (ch === 'x' ? 'y' : 'x'));
    await expectAwsError(lambda.send(new PutFunctionCodeSigningConfigCommand({ FunctionName: 'csc-test-doesnotexist', CodeSigningConfigArn: missing })), {
      name: 'CodeSigningConfigNotFoundException', status: 404, type: 'User',
      message: `The code signing configuration cannot be found. Check that the provided configuration is not deleted: ${missing}.`,
    });
    await expectAwsError(lambda.send(new PutFunctionCodeSigningConfigCommand({ FunctionName: 'csc-test-doesnotexist', CodeSigningConfigArn: csc })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:csc-test-doesnotexist`,
    });
    await expectAwsError(lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'csc-test-doesnotexist' })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:csc-test-doesnotexist`,
    });
    const removed = await lambda.send(new DeleteFunctionCodeSigningConfigCommand({ FunctionName: 'csc-bound' }));
    assert.equal(removed.$metadata.httpStatusCode, 204);
    assert.deepEqual((await lambda.send(new ListFunctionsByCodeSigningConfigCommand({ CodeSigningConfigArn: csc }))).FunctionArns, []);
    // Nothing to delete is fine, as on AWS.
    await lambda.send(new DeleteFunctionCodeSigningConfigCommand({ FunctionName: 'csc-bound' }));
    await lambda.send(new DeleteCodeSigningConfigCommand({ CodeSigningConfigArn: csc }));
  });

  it('code signing configs are taggable', async () => {
    const csc = (await lambda.send(new CreateCodeSigningConfigCommand({ AllowedPublishers: { SigningProfileVersionArns: [PROFILE] }, Tags: { a: '1' } }))).CodeSigningConfig!.CodeSigningConfigArn!;
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: csc }))).Tags, { a: '1' });
    await lambda.send(new TagResourceCommand({ Resource: csc, Tags: { b: '2' } }));
    await lambda.send(new UntagResourceCommand({ Resource: csc, TagKeys: ['a'] }));
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: csc }))).Tags, { b: '2' });
  });
});

describe('verification of packages', () => {
  it('Enforce: a package signed by an allowed profile deploys and is reported; unsigned or other publishers are refused', async () => {
    const csc = (await newCsc('Enforce')).CodeSigningConfig!.CodeSigningConfigArn!;
    const created = await createFn('csc-enforced', signed, { CodeSigningConfigArn: csc });
    assert.equal(created.SigningProfileVersionArn, PROFILE);
    assert.equal(created.SigningJobArn, JOB);
    assert.equal((await lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'csc-enforced' }))).CodeSigningConfigArn, csc);
    const refused = {
      name: 'CodeVerificationFailedException', status: 400, type: 'User',
      message: 'Lambda cannot deploy the function. The function or layer might be signed using a signature that the client is not configured to accept. Check the provided signature for csc-enforced.',
    } as const;
    await expectAwsError(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'csc-enforced', ZipFile: unsigned })), refused);
    await expectAwsError(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'csc-enforced', ZipFile: signPackage(unsigned, other.privateKey, OTHER_PROFILE, JOB) })), refused);
    // The deployed package is unchanged.
    assert.equal((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'csc-enforced' }))).SigningProfileVersionArn, PROFILE);
    await expectAwsError(createFn('csc-enforced-2', unsigned, { CodeSigningConfigArn: csc }), { ...refused, message: refused.message.replace('csc-enforced.', 'csc-enforced-2.') });
  });

  it('a signature that does not match the package fails the integrity check even under Warn', async () => {
    const csc = (await newCsc('Warn')).CodeSigningConfig!.CodeSigningConfigArn!;
    // Same signature, other content: a package altered after signing.
    const tampered = Buffer.from(signed);
    tampered[40] = tampered[40]! ^ 0xff;
    await expectAwsError(createFn('csc-tampered', tampered, { CodeSigningConfigArn: csc }), {
      name: 'InvalidCodeSignatureException', status: 400, type: 'User',
      message: 'The code signature failed the integrity check. Lambda blocks deployment of code that fails the integrity check, even if the code signing policy is set to WARN.',
    });
  });

  it('Warn: an unsigned package deploys without signing members', async () => {
    const csc = (await newCsc('Warn')).CodeSigningConfig!.CodeSigningConfigArn!;
    const created = await createFn('csc-warned', unsigned, { CodeSigningConfigArn: csc });
    assert.equal(created.SigningProfileVersionArn, undefined);
    assert.equal(created.CodeSha256 !== undefined, true);
  });

  it('CreateFunction with a config that does not exist', async () => {
    const missing = `arn:aws:lambda:us-east-1:${ACCOUNT}:code-signing-config:csc-0123456789abcdefg`;
    await expectAwsError(createFn('csc-none', unsigned, { CodeSigningConfigArn: missing }), {
      name: 'CodeSigningConfigNotFoundException', status: 404, type: 'User',
      message: `The code signing configuration cannot be found. Check that the provided configuration is not deleted: ${missing}.`,
    });
  });
});

describe('recursion and runtime management', () => {
  it('recursion: Terminate by default, Allow when put, AWS enum order in errors', async () => {
    await createFn('rec-fn', unsigned);
    assert.equal((await lambda.send(new GetFunctionRecursionConfigCommand({ FunctionName: 'rec-fn' }))).RecursiveLoop, 'Terminate');
    assert.equal((await lambda.send(new PutFunctionRecursionConfigCommand({ FunctionName: 'rec-fn', RecursiveLoop: 'Allow' }))).RecursiveLoop, 'Allow');
    assert.equal((await lambda.send(new GetFunctionRecursionConfigCommand({ FunctionName: 'rec-fn' }))).RecursiveLoop, 'Allow');
    await expectAwsError(lambda.send(new PutFunctionRecursionConfigCommand({ FunctionName: 'rec-fn', RecursiveLoop: 'InvalidValue' as 'Allow' })), {
      name: 'ValidationException', status: 400, type: null,
      message: "1 validation error detected: Value 'InvalidValue' at 'recursiveLoop' failed to satisfy constraint: Member must satisfy enum value set: [Terminate, Allow]",
    });
    await expectAwsError(lambda.send(new GetFunctionRecursionConfigCommand({ FunctionName: 'rec-none' })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:rec-none`,
    });
    // The setting goes with the function.
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'rec-fn' }));
    await createFn('rec-fn', unsigned);
    assert.equal((await lambda.send(new GetFunctionRecursionConfigCommand({ FunctionName: 'rec-fn' }))).RecursiveLoop, 'Terminate');
  });

  it('runtime management: Auto by default; FunctionUpdate; Manual with the runtime version lambdalite has', async () => {
    await createFn('rt-fn', unsigned);
    const versionArn = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'rt-fn' }))).RuntimeVersionConfig!.RuntimeVersionArn!;
    const initial = await lambda.send(new GetRuntimeManagementConfigCommand({ FunctionName: 'rt-fn' }));
    assert.deepEqual({ on: initial.UpdateRuntimeOn, arn: initial.FunctionArn, version: initial.RuntimeVersionArn }, { on: 'Auto', arn: `${FN}:rt-fn:$LATEST`, version: undefined });
    const fu = await lambda.send(new PutRuntimeManagementConfigCommand({ FunctionName: 'rt-fn', UpdateRuntimeOn: 'FunctionUpdate' }));
    assert.deepEqual({ on: fu.UpdateRuntimeOn, arn: fu.FunctionArn }, { on: 'FunctionUpdate', arn: `${FN}:rt-fn:$LATEST` });
    const manual = await lambda.send(new PutRuntimeManagementConfigCommand({ FunctionName: 'rt-fn', UpdateRuntimeOn: 'Manual', RuntimeVersionArn: versionArn }));
    assert.equal(manual.RuntimeVersionArn, versionArn);
    const got = await lambda.send(new GetRuntimeManagementConfigCommand({ FunctionName: 'rt-fn' }));
    assert.deepEqual({ on: got.UpdateRuntimeOn, version: got.RuntimeVersionArn }, { on: 'Manual', version: versionArn });
    await expectAwsError(lambda.send(new PutRuntimeManagementConfigCommand({ FunctionName: 'rt-fn', UpdateRuntimeOn: 'Manual' })), {
      name: 'InvalidParameterValueException', status: 400, type: 'User', message: 'RuntimeVersionArn is required when UpdateRuntimeOn is Manual.',
    });
    const unknown = 'arn:aws:lambda:us-east-1::runtime:0000000000000000000000000000000000000000000000000000000000000000';
    await expectAwsError(lambda.send(new PutRuntimeManagementConfigCommand({ FunctionName: 'rt-fn', UpdateRuntimeOn: 'Manual', RuntimeVersionArn: unknown })), {
      name: 'InvalidParameterValueException', status: 400, type: 'User', message: `The runtime version ${unknown} does not exist or is not compatible with runtime nodejs20.x.`,
    });
    await expectAwsError(lambda.send(new PutRuntimeManagementConfigCommand({ FunctionName: 'rt-fn', UpdateRuntimeOn: 'Auto', RuntimeVersionArn: versionArn })), {
      name: 'InvalidParameterValueException', status: 400, type: 'User', message: 'RuntimeVersionArn can only be specified when UpdateRuntimeOn is Manual.',
    });
    // Per version: a published version has its own setting.
    await lambda.send(new PublishVersionCommand({ FunctionName: 'rt-fn' }));
    assert.equal((await lambda.send(new GetRuntimeManagementConfigCommand({ FunctionName: 'rt-fn', Qualifier: '1' }))).UpdateRuntimeOn, 'Auto');
    await expectAwsError(lambda.send(new GetRuntimeManagementConfigCommand({ FunctionName: 'rt-fn', Qualifier: '9' })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${FN}:rt-fn:9`,
    });
  });
});

describe('boto3', () => {
  it('drives the new operations, errors included', async () => {
    const script = `
import json, sys
import boto3
from botocore.exceptions import ClientError
url, profile = sys.argv[1], sys.argv[2]
c = boto3.client('lambda', endpoint_url=url, region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
out = {}
csc = c.create_code_signing_config(AllowedPublishers={'SigningProfileVersionArns': [profile]}, CodeSigningPolicies={'UntrustedArtifactOnDeployment': 'Warn'})['CodeSigningConfig']
out['csc_status'] = 201
out['get_policy'] = c.get_code_signing_config(CodeSigningConfigArn=csc['CodeSigningConfigArn'])['CodeSigningConfig']['CodeSigningPolicies']
out['listed'] = any(x['CodeSigningConfigArn'] == csc['CodeSigningConfigArn'] for x in c.list_code_signing_configs()['CodeSigningConfigs'])
c.put_function_code_signing_config(FunctionName='rt-fn', CodeSigningConfigArn=csc['CodeSigningConfigArn'])
out['by_csc'] = c.list_functions_by_code_signing_config(CodeSigningConfigArn=csc['CodeSigningConfigArn'])['FunctionArns']
c.delete_function_code_signing_config(FunctionName='rt-fn')
out['recursion'] = c.put_function_recursion_config(FunctionName='rt-fn', RecursiveLoop='Allow')['RecursiveLoop']
out['recursion_get'] = c.get_function_recursion_config(FunctionName='rt-fn')['RecursiveLoop']
out['runtime'] = c.put_runtime_management_config(FunctionName='rt-fn', UpdateRuntimeOn='FunctionUpdate')['UpdateRuntimeOn']
try:
    c.get_code_signing_config(CodeSigningConfigArn=csc['CodeSigningConfigArn'][:-1] + 'x')
except ClientError as e:
    out['missing'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
try:
    c.put_function_code_signing_config(FunctionName='rt-fn', CodeSigningConfigArn=csc['CodeSigningConfigArn'][:-1] + 'x')
except c.exceptions.CodeSigningConfigNotFoundException as e:
    out['modeled'] = e.response['Error']['Code']
print(json.dumps(out))
`;
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile('python3', ['-c', script, t.url, PROFILE], { env: { ...process.env, AWS_CONFIG_FILE: path.join(work, 'none'), AWS_EC2_METADATA_DISABLED: 'true' } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
    assert.equal(r.code, 0, `python3 failed: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), {
      csc_status: 201, get_policy: { UntrustedArtifactOnDeployment: 'Warn' }, listed: true, by_csc: [`${FN}:rt-fn`],
      recursion: 'Allow', recursion_get: 'Allow', runtime: 'FunctionUpdate', missing: ['ResourceNotFoundException', 404], modeled: 'CodeSigningConfigNotFoundException',
    });
  });
});
