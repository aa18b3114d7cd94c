// The function control plane against the real server and the real @aws-sdk/client-lambda: AWS's defaults
// and fields, lifecycle and waiters, RevisionId preconditions, pagination, name forms, accounts and
// regions, and every error case of issue 2 with AWS's status, code and text (the texts come from
// recordings against AWS; see the research notes cited in issue 2).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, GetFunctionConfigurationCommand, ListFunctionsCommand,
  GetFunctionUrlConfigCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, paginateListFunctions,
  waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2, type CreateFunctionCommandInput, type LambdaClient,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import yazl from 'yazl';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE, zipWithEntryName } from '../helpers/zip.js';
import { createApiServer } from '../../src/api/http-server.js';
import { operations } from '../../src/api/generated/model.js';
import { expectAwsError } from '../helpers/aws-error.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const arn = (name: string, region = REGION, account = ACCOUNT) => `arn:aws:lambda:${region}:${account}:function:${name}`;
const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const LAST_MODIFIED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
/** The runtimes AWS listed, in its order, in the enum message recorded in January 2026. */
const AWS_LISTED_RUNTIMES = 'nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2';

let seq = 0;
const uniqueName = (prefix = 'fn') => `${prefix}-${process.pid}-${++seq}`;

/** Bounded wait for waiters: a few seconds, polling fast. */
const waiter = (client: LambdaClient) => ({ client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 });

function createInput(name: string, zip: Buffer, extra: Partial<CreateFunctionCommandInput> = {}): CreateFunctionCommandInput {
  return { FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip }, ...extra };
}

/** A small zip that unpacks to more than AWS's 262144000-byte limit: one entry of zeros. */
async function zipBomb(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  // Level 1 is several times faster than the default on 250 MB and still compresses zeros ~230:1.
  zip.addBuffer(Buffer.alloc(262_144_001), 'zeros.bin', { compressionLevel: 1, mtime: new Date(0) });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function filesNamed(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.name === name) out.push(p);
    if (e.isDirectory()) out.push(...filesNamed(p, name));
  }
  return out;
}

describe('functions: create, read, update, delete', () => {
  let t: TestServer;
  let client: LambdaClient;
  let zip: Buffer;

  before(async () => {
    t = await startTestServer();
    client = t.client;
    zip = await nodeHandlerZip();
  });
  after(async () => {
    await t.close();
  });

  it('CreateFunction answers 201 with AWS defaults, Pending, and no LastUpdateStatus', async () => {
    const name = uniqueName();
    const before = Date.now();
    const created = await client.send(new CreateFunctionCommand(createInput(name, zip)));
    const afterMs = Date.now();
    const { $metadata, RevisionId, LastModified, RuntimeVersionConfig, ...rest } = created;
    assert.equal($metadata.httpStatusCode, 201);
    assert.deepEqual(rest, {
      FunctionName: name,
      FunctionArn: arn(name),
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      CodeSize: zip.length,
      Description: '',
      Timeout: 3,
      MemorySize: 128,
      CodeSha256: sha256b64(zip),
      Version: '$LATEST',
      TracingConfig: { Mode: 'PassThrough' },
      State: 'Pending',
      StateReason: 'The function is being created.',
      StateReasonCode: 'Creating',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${name}` },
    });
    assert.match(RevisionId ?? '', UUID);
    assert.match(LastModified ?? '', LAST_MODIFIED);
    const modified = Date.parse(LastModified!.replace('+0000', 'Z'));
    assert.ok(modified >= before - 1000 && modified <= afterMs + 1000, `LastModified ${LastModified} is now`);
    assert.match(RuntimeVersionConfig?.RuntimeVersionArn ?? '', /^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/);
  });

  it('GetFunction shows Active, Successful, a new RevisionId and a Code.Location that downloads the zip', async () => {
    const name = uniqueName();
    const created = await client.send(new CreateFunctionCommand(createInput(name, zip, { Tags: { team: 'a' } })));
    const got = await client.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(got.$metadata.httpStatusCode, 200);
    const c = got.Configuration!;
    assert.equal(c.State, 'Active');
    assert.equal(c.LastUpdateStatus, 'Successful');
    assert.equal(c.StateReason, undefined);
    assert.equal(c.StateReasonCode, undefined);
    assert.equal(c.LastUpdateStatusReason, undefined);
    assert.notEqual(c.RevisionId, created.RevisionId, 'becoming Active issues a new RevisionId');
    assert.equal(c.LastModified, created.LastModified);
    assert.equal(c.CodeSha256, created.CodeSha256);
    assert.deepEqual(got.Tags, { team: 'a' });
    assert.equal(got.Code?.RepositoryType, 'S3');
    assert.ok(got.Code?.Location?.startsWith(`${t.url}/`), got.Code?.Location);
    const download = await fetch(got.Code!.Location!);
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), zip);

    const { $metadata: _m, ...config } = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    assert.deepEqual(config, c);
    const untagged = uniqueName();
    await client.send(new CreateFunctionCommand(createInput(untagged, zip)));
    assert.equal((await client.send(new GetFunctionCommand({ FunctionName: untagged }))).Tags, undefined, 'no Tags member without tags');
  });

  it('keeps what was given: description, memory, timeout, environment, architecture, storage, logging, tracing', async () => {
    const name = uniqueName();
    const created = await client.send(new CreateFunctionCommand(createInput(name, zip, {
      Description: 'hello', MemorySize: 1024, Timeout: 900, Environment: { Variables: { AA: '1', B_2: 'two' } },
      Architectures: ['arm64'], EphemeralStorage: { Size: 10240 }, TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: '/custom/group' }, Runtime: 'python3.12', Handler: 'app.handler',
    })));
    assert.equal(created.Description, 'hello');
    assert.equal(created.MemorySize, 1024);
    assert.equal(created.Timeout, 900);
    assert.deepEqual(created.Environment, { Variables: { AA: '1', B_2: 'two' } });
    assert.deepEqual(created.Architectures, ['arm64']);
    assert.deepEqual(created.EphemeralStorage, { Size: 10240 });
    assert.deepEqual(created.TracingConfig, { Mode: 'Active' });
    assert.deepEqual(created.LoggingConfig, { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: '/custom/group' });
    assert.equal(created.Runtime, 'python3.12');
    // Environment is reported only when it was given, even empty.
    const empty = await client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Environment: {} })));
    assert.deepEqual(empty.Environment, { Variables: {} });
    const none = await client.send(new CreateFunctionCommand(createInput(uniqueName(), zip)));
    assert.equal(none.Environment, undefined);
  });

  it('the SDK waiters function-active-v2 and function-updated-v2 succeed', async () => {
    const name = uniqueName();
    await client.send(new CreateFunctionCommand(createInput(name, zip)));
    const active = await waitUntilFunctionActiveV2(waiter(client), { FunctionName: name });
    assert.equal(active.state, 'SUCCESS');
    await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 10 }));
    const updated = await waitUntilFunctionUpdatedV2(waiter(client), { FunctionName: name });
    assert.equal(updated.state, 'SUCCESS');
  });

  it('UpdateFunctionConfiguration answers InProgress with AWS reason, then Successful; RevisionId changes each time', async () => {
    const name = uniqueName();
    const created = await client.send(new CreateFunctionCommand(createInput(name, zip, { Environment: { Variables: { KEEP: 'me' } } })));
    const active = (await client.send(new GetFunctionCommand({ FunctionName: name }))).Configuration!;
    const updated = await client.send(new UpdateFunctionConfigurationCommand({
      FunctionName: name, Description: 'd2', MemorySize: 256, Timeout: 30, Handler: 'main.run', RevisionId: active.RevisionId,
    }));
    assert.equal(updated.$metadata.httpStatusCode, 200);
    assert.equal(updated.State, 'Active');
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    assert.equal(updated.LastUpdateStatusReason, 'The function is being created.');
    assert.equal(updated.LastUpdateStatusReasonCode, 'Creating');
    assert.equal(updated.Description, 'd2');
    assert.equal(updated.MemorySize, 256);
    assert.equal(updated.Timeout, 30);
    assert.equal(updated.Handler, 'main.run');
    assert.deepEqual(updated.Environment, { Variables: { KEEP: 'me' } }, 'members not given are kept');
    assert.equal(updated.CodeSha256, created.CodeSha256);
    assert.match(updated.LastModified ?? '', LAST_MODIFIED);
    assert.ok(updated.LastModified! >= created.LastModified!);
    const settled = (await client.send(new GetFunctionCommand({ FunctionName: name }))).Configuration!;
    assert.equal(settled.LastUpdateStatus, 'Successful');
    assert.equal(settled.LastUpdateStatusReason, undefined);
    assert.equal(settled.LastUpdateStatusReasonCode, undefined);
    // A redundant update is still an update, as on AWS.
    const again = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: 'd2' }));
    const final = (await client.send(new GetFunctionCommand({ FunctionName: name }))).Configuration!;
    const revisions = [created.RevisionId, active.RevisionId, updated.RevisionId, settled.RevisionId, again.RevisionId, final.RevisionId];
    assert.equal(new Set(revisions).size, revisions.length, `every change issues a new RevisionId: ${revisions.join(' ')}`);
  });

  it('UpdateFunctionCode replaces CodeSha256, CodeSize and the downloadable package', async () => {
    const name = uniqueName();
    const created = await client.send(new CreateFunctionCommand(createInput(name, zip)));
    const zip2 = await nodeHandlerZip('exports.handler = async () => "v2";');
    const current = (await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).RevisionId;
    const updated = await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip2, RevisionId: current }));
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    assert.equal(updated.CodeSha256, sha256b64(zip2));
    assert.equal(updated.CodeSize, zip2.length);
    assert.notEqual(updated.RevisionId, created.RevisionId);
    const got = await client.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(got.Configuration?.LastUpdateStatus, 'Successful');
    assert.equal(got.Configuration?.CodeSha256, sha256b64(zip2));
    const download = await fetch(got.Code!.Location!);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), zip2);
    const archUpdate = await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip2, Architectures: ['arm64'] }));
    assert.deepEqual(archUpdate.Architectures, ['arm64']);
  });

  it('a wrong RevisionId answers PreconditionFailedException and changes nothing', async () => {
    const name = uniqueName();
    const created = await client.send(new CreateFunctionCommand(createInput(name, zip)));
    const text = 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';
    // The create response's RevisionId is stale once the function is Active.
    await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 5, RevisionId: created.RevisionId })),
      { name: 'PreconditionFailedException', status: 412, type: 'User', message: text });
    await expectAwsError(client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip, RevisionId: '00000000-0000-0000-0000-000000000000' })),
      { name: 'PreconditionFailedException', status: 412, type: 'User', message: text });
    const got = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    assert.equal(got.Timeout, 3);
    assert.equal(got.LastUpdateStatus, 'Successful');
  });

  it('concurrent updates with the same RevisionId: exactly one wins', async () => {
    const name = uniqueName();
    await client.send(new CreateFunctionCommand(createInput(name, zip)));
    const rev = (await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).RevisionId;
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
      client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: `writer ${i}`, RevisionId: rev }))));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, 'one update applies');
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(['PreconditionFailedException', 'ResourceConflictException'].includes((r.reason as Error).name), (r.reason as Error).message);
    }
    const got = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    assert.equal(got.Description, (won[0] as PromiseFulfilledResult<FunctionConfiguration>).value.Description);
  });

  it('concurrent creates of one name: exactly one succeeds, the rest conflict', async () => {
    const name = uniqueName();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.send(new CreateFunctionCommand(createInput(name, zip)))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal((r.reason as Error).message, `Function already exist: ${name}`);
    }
  });

  it('DeleteFunction answers 204; the function is gone afterwards', async () => {
    const name = uniqueName();
    await client.send(new CreateFunctionCommand(createInput(name, zip)));
    const deleted = await client.send(new DeleteFunctionCommand({ FunctionName: name }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    const gone = { name: 'ResourceNotFoundException', status: 404, type: 'User' as const, message: `Function not found: ${arn(name)}` };
    await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: name })), gone);
    await expectAwsError(client.send(new DeleteFunctionCommand({ FunctionName: name })), gone);
    // The name can be reused.
    await client.send(new CreateFunctionCommand(createInput(name, zip)));
  });

  it('ListFunctions pages with Marker/MaxItems in a stable order, without duplicates or gaps', async () => {
    // A fresh account so other tests' functions are not listed.
    const c = t.clientFor({ accessKeyId: '111111111111' });
    const names = Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}-${process.pid}`);
    // Created in shuffled order: the listing order must not depend on it.
    for (const n of [...names].sort(() => Math.random() - 0.5)) await c.send(new CreateFunctionCommand(createInput(n, zip)));

    const all = await c.send(new ListFunctionsCommand({}));
    assert.equal(all.Functions?.length, 25, 'the default page holds 50');
    assert.equal(all.NextMarker, undefined);
    assert.deepEqual(all.Functions!.map((f) => f.FunctionName), [...names].sort());

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await c.send(new ListFunctionsCommand({ MaxItems: 7, ...(marker ? { Marker: marker } : {}) }));
      pages++;
      assert.ok((page.Functions?.length ?? 0) <= 7);
      seen.push(...page.Functions!.map((f) => f.FunctionName!));
      marker = page.NextMarker;
      assert.ok(pages <= 10, 'pagination terminates');
    } while (marker);
    assert.equal(pages, 4);
    assert.deepEqual(seen, all.Functions!.map((f) => f.FunctionName));

    const viaPaginator: string[] = [];
    for await (const page of paginateListFunctions({ client: c, pageSize: 10 }, {})) viaPaginator.push(...page.Functions!.map((f) => f.FunctionName!));
    assert.deepEqual(viaPaginator, seen);

    // Items leave out the lifecycle members, as AWS's ListFunctions does.
    const item = all.Functions![0]!;
    assert.equal(item.State, undefined);
    assert.equal(item.LastUpdateStatus, undefined);
    assert.equal(item.RuntimeVersionConfig, undefined);
    assert.equal(item.FunctionArn, arn(item.FunctionName!, REGION, '111111111111'));
    assert.equal(item.Version, '$LATEST');
    assert.equal(item.MemorySize, 128);
    const allVersions = await c.send(new ListFunctionsCommand({ FunctionVersion: 'ALL', MaxItems: 1 }));
    assert.equal(allVersions.Functions?.[0]?.FunctionArn, `${arn(names[0]!, REGION, '111111111111')}:$LATEST`);
  });

  it('accepts a name, a partial ARN and a full ARN, and answers with the bare name', async () => {
    const name = uniqueName();
    const created = await client.send(new CreateFunctionCommand(createInput(`${ACCOUNT}:function:${name}`, zip)));
    assert.equal(created.FunctionName, name);
    assert.equal(created.FunctionArn, arn(name));
    const viaArn = uniqueName();
    assert.equal((await client.send(new CreateFunctionCommand(createInput(arn(viaArn), zip)))).FunctionName, viaArn);
    for (const form of [name, `${ACCOUNT}:function:${name}`, arn(name)]) {
      const got = await client.send(new GetFunctionConfigurationCommand({ FunctionName: form }));
      assert.equal(got.FunctionName, name, form);
      assert.equal(got.FunctionArn, arn(name), form);
    }
    const qualified = await client.send(new GetFunctionCommand({ FunctionName: `${arn(name)}:$LATEST` }));
    assert.equal(qualified.Configuration?.FunctionArn, `${arn(name)}:$LATEST`);
    const byQualifier = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: '$LATEST' }));
    assert.equal(byQualifier.FunctionArn, `${arn(name)}:$LATEST`);
    await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: arn(name), Description: 'by arn' }));
    await client.send(new DeleteFunctionCommand({ FunctionName: `${ACCOUNT}:function:${name}` }));
    await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: name })), { name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${arn(name)}` });
  });

  it('an ARN of another region is not reachable from this one', async () => {
    const name = uniqueName();
    await client.send(new CreateFunctionCommand(createInput(name, zip)));
    await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: arn(name, 'eu-west-1') })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    });
  });

  it('regions are separate', async () => {
    const name = uniqueName();
    await client.send(new CreateFunctionCommand(createInput(name, zip)));
    const eu = t.clientFor({ region: 'eu-west-1' });
    await expectAwsError(eu.send(new GetFunctionCommand({ FunctionName: name })), {
      name: 'ResourceNotFoundException', status: 404, type: 'User', message: `Function not found: ${arn(name, 'eu-west-1')}`,
    });
    assert.ok(!(await eu.send(new ListFunctionsCommand({}))).Functions?.some((f) => f.FunctionName === name));
    const inEu = await eu.send(new CreateFunctionCommand(createInput(name, zip, { Description: 'eu' })));
    assert.equal(inEu.FunctionArn, arn(name, 'eu-west-1'));
    assert.equal(inEu.RuntimeVersionConfig?.RuntimeVersionArn?.startsWith('arn:aws:lambda:eu-west-1::runtime:'), true);
    assert.equal((await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).Description, '');
    await eu.send(new DeleteFunctionCommand({ FunctionName: name }));
    await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  });

  it('a 12-digit access key id names its own account', async () => {
    const other = t.clientFor({ accessKeyId: '123456789012' });
    const name = uniqueName();
    const created = await other.send(new CreateFunctionCommand(createInput(name, zip)));
    assert.equal(created.FunctionArn, arn(name, REGION, '123456789012'));
    assert.equal((await other.send(new GetFunctionConfigurationCommand({ FunctionName: `123456789012:function:${name}` }))).FunctionName, name);
    await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: name })), {
      name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${arn(name)}`,
    });
    // Another account's function named by ARN: AWS answers 403 AccessDeniedException.
    await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: arn(name, REGION, '123456789012') })), {
      name: 'AccessDeniedException', status: 403, message: /.*/,
    });
  });

  describe('errors, with AWS status, code and text', () => {
    const notFound = (name: string, qualifier?: string) => ({
      name: 'ResourceNotFoundException', status: 404, type: 'User' as const, message: `Function not found: ${arn(name)}${qualifier ? `:${qualifier}` : ''}`,
    });
    const invalid = (message: string | RegExp) => ({ name: 'InvalidParameterValueException', status: 400, type: 'User' as const, message });
    const validation = (message: string) => ({ name: 'ValidationException', status: 400, message });

    it('not found, on every function operation', async () => {
      await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: 'nope' })), notFound('nope'));
      await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: 'nope', Qualifier: '$LATEST' })), notFound('nope', '$LATEST'));
      await expectAwsError(client.send(new GetFunctionConfigurationCommand({ FunctionName: 'nope' })), notFound('nope'));
      await expectAwsError(client.send(new UpdateFunctionCodeCommand({ FunctionName: 'nope', ZipFile: zip })), notFound('nope'));
      await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'nope', Timeout: 5 })), notFound('nope'));
      await expectAwsError(client.send(new DeleteFunctionCommand({ FunctionName: 'nope' })), notFound('nope'));
      // AWS names the unqualified function when deleting a missing one with a qualifier.
      await expectAwsError(client.send(new DeleteFunctionCommand({ FunctionName: 'nope', Qualifier: '1' })), notFound('nope'));
    });

    it('already exists', async () => {
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(name, zip))),
        { name: 'ResourceConflictException', status: 409, type: 'User', message: `Function already exist: ${name}` });
    });

    it('name too long: 65 characters is InvalidParameterValueException, a 141-character ARN is ValidationException', async () => {
      const long = 'a'.repeat(65);
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(long, zip))), invalid(
        `1 validation error detected: Value '${long}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
      ));
      const longArn = arn('b'.repeat(141 - arn('').length));
      assert.equal(longArn.length, 141);
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(longArn, zip))), validation(
        `1 validation error detected: Value '${longArn}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140`,
      ));
      await client.send(new CreateFunctionCommand(createInput('c'.repeat(64), zip)));
    });

    it('bad characters in the name', async () => {
      await expectAwsError(client.send(new CreateFunctionCommand(createInput('invalid:function:name', zip))), validation(
        "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
      ));
    });

    it('bad role', async () => {
      const message = `1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: ${ROLE_PATTERN}`;
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Role: 'r1' }))), validation(message));
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Role: 'r1' })), validation(message));
    });

    it('unknown runtime, case-sensitive, on create and update', async () => {
      const text = (rt: string) => new RegExp(`^${`Value ${rt} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${AWS_LISTED_RUNTIMES}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(, [a-z0-9.]+)*\\] or be a valid ARN$`);
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Runtime: 'non-existent-runtime' as 'nodejs20.x' }))), invalid(text('non-existent-runtime')));
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Runtime: 'PYTHON3.9' as 'python3.9' }))), invalid(text('PYTHON3.9')));
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Runtime: 'nodejs99.x' as 'nodejs20.x' })), invalid(text('nodejs99.x')));
    });

    it('deprecated runtimes', async () => {
      for (const rt of ['nodejs12.x', 'python3.7'] as const) {
        await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Runtime: rt }))), invalid(
          `The runtime parameter of ${rt} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`,
        ));
      }
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Runtime: 'go1.x' })), invalid(
        'The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.',
      ));
    });

    it('every current runtime is accepted', async () => {
      for (const rt of AWS_LISTED_RUNTIMES.split(', ')) {
        await client.send(new CreateFunctionCommand(createInput(uniqueName('rt'), zip, { Runtime: rt as 'nodejs20.x' })));
      }
    });

    it('memory out of range', async () => {
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { MemorySize: 10241 }))), validation(
        "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
      ));
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { MemorySize: 64 }))), validation(
        "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
      ));
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip, { MemorySize: 10240 })));
      await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, MemorySize: 10241 })), validation(
        "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
      ));
    });

    it('timeout out of range', async () => {
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Timeout: 901 }))), validation(
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900",
      ));
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Timeout: 0 }))), validation(
        "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
      ));
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 901 })), validation(
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900",
      ));
    });

    it('several violations are counted and joined with "; "', async () => {
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { MemorySize: 64, Timeout: 0 }))), validation(
        "2 validation errors detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
      ));
    });

    it('architectures', async () => {
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Architectures: ['x86_64', 'arm64'] }))), validation(
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1",
      ));
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Architectures: ['X86_64' as 'x86_64'] }))), validation(
        "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
      ));
    });

    it('environment variables over 4 KB; just under is fine', async () => {
      const big = { LARGE_VAR: 'x'.repeat(4096) };
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Environment: { Variables: big } }))), invalid(
        `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(big)}`,
      ));
      const two = { SMALL_VAR: 'ok', LARGE_VAR: 'y'.repeat(4100) };
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Environment: { Variables: two } }))), invalid(
        `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"SMALL_VAR":"ok","LARGE_VAR":"${'y'.repeat(4100)}"}`,
      ));
      const nearLimit = { NEAR: 'z'.repeat(4095 - JSON.stringify({ NEAR: '' }).length) };
      assert.equal(JSON.stringify(nearLimit).length, 4095);
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip, { Environment: { Variables: nearLimit } })));
      await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: big } })), invalid(
        `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(big)}`,
      ));
    });

    it('reserved environment variable keys', async () => {
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Environment: { Variables: { AWS_REGION: 'x', MINE: '1', AWS_ACCESS_KEY_ID: 'y' } } }))), invalid(
        'Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION, AWS_ACCESS_KEY_ID',
      ));
      // Not reserved: AWS_LAMBDA_EXEC_WRAPPER, NODE_OPTIONS, TZ.
      await client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Environment: { Variables: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/w', NODE_OPTIONS: '--x', TZ: 'UTC' } } })));
    });

    it('a package that is not a zip, on create and update', async () => {
      const message = 'Could not unzip uploaded file. Please check your file, then try to upload again.';
      const name = uniqueName();
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(name, Buffer.from('not a zip at all')))), invalid(message));
      await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: name })), notFound(name));
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      const truncated = zip.subarray(0, zip.length - 10);
      await expectAwsError(client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: truncated })), invalid(message));
      assert.equal((await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).CodeSha256, sha256b64(zip));
    });

    it('zip-slip entries are refused and nothing is written outside the package', async () => {
      const marker = `evil-${process.pid}.js`;
      for (const entry of ['../evil.js', `../../../${marker}`, `/tmp/${marker}`]) {
        const bad = await zipWithEntryName(entry);
        await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), bad))),
          invalid('Could not unzip uploaded file. Please check your file, then try to upload again.'));
      }
      assert.deepEqual(filesNamed(t.dataDir, 'evil.js'), []);
      assert.deepEqual(filesNamed(t.dataDir, marker), []);
      assert.equal(existsSync(path.join(path.dirname(t.dataDir), marker)), false);
      assert.equal(existsSync(path.join('/tmp', marker)), false);
      assert.deepEqual(readdirSync(path.join(t.dataDir, 'code')).filter((n) => n.startsWith('.tmp-')), [], 'no unpack leftovers');
    });

    it('a package that unzips to more than 250 MB', async () => {
      const bomb = await zipBomb();
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), bomb))), invalid('Unzipped size must be smaller than 262144000 bytes'));
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      await expectAwsError(client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: bomb })), invalid('Unzipped size must be smaller than 262144000 bytes'));
    });

    it('missing code source, runtime or handler', async () => {
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Code: {} }))), invalid('Please provide a source for function code.'));
      await expectAwsError(client.send(new CreateFunctionCommand(createInput(uniqueName(), zip, { Handler: undefined }))),
        invalid('Runtime and Handler are mandatory parameters for functions created with deployment packages.'));
      await expectAwsError(client.send(new CreateFunctionCommand({ FunctionName: uniqueName(), Role: ROLE } as CreateFunctionCommandInput)), validation(
        "1 validation error detected: Value null at 'code' failed to satisfy constraint: Member must not be null",
      ));
    });

    it('qualifiers: deleting $LATEST alone, and a qualifier that contradicts the name', async () => {
      const name = uniqueName();
      await client.send(new CreateFunctionCommand(createInput(name, zip)));
      await expectAwsError(client.send(new DeleteFunctionCommand({ FunctionName: name, Qualifier: '$LATEST' })), invalid('$LATEST version cannot be deleted without deleting the function.'));
      await expectAwsError(client.send(new GetFunctionCommand({ FunctionName: `${name}:1`, Qualifier: '2' })), invalid('The derived qualifier from the function name does not match the specified qualifier.'));
    });

    it('an operation in the model that is not implemented yet names itself', async () => {
      // Function URLs are not implemented, so GetFunctionUrlConfig stands for every such operation.
      await expectAwsError(client.send(new GetFunctionUrlConfigCommand({ FunctionName: 'any' })), {
        name: 'ServiceException', status: 501, type: 'Service', message: 'lambdalite does not implement the GetFunctionUrlConfig operation yet.',
      });
    });
  });
});

describe('functions: the lifecycle is visible and the waiters wait (settleDelayMs 300)', () => {
  let t: TestServer;
  let client: LambdaClient;
  let zip: Buffer;

  before(async () => {
    t = await startTestServer({ settleDelayMs: 300 });
    client = t.client;
    zip = await nodeHandlerZip();
  });
  after(async () => {
    await t.close();
  });

  it('Pending until Active; updates refused while Pending; waitUntilFunctionActiveV2 waits', async () => {
    const name = uniqueName();
    const created = await client.send(new CreateFunctionCommand(createInput(name, zip)));
    assert.equal(created.State, 'Pending');
    const early = (await client.send(new GetFunctionCommand({ FunctionName: name }))).Configuration!;
    assert.equal(early.State, 'Pending');
    assert.equal(early.StateReason, 'The function is being created.');
    assert.equal(early.StateReasonCode, 'Creating');
    assert.equal(early.RevisionId, created.RevisionId);
    await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 5 })), {
      name: 'ResourceConflictException', status: 409, type: 'User',
      message: 'The operation cannot be performed at this time. The function is currently in the following state: Pending',
    });
    const started = Date.now();
    const result = await waitUntilFunctionActiveV2(waiter(client), { FunctionName: name });
    assert.equal(result.state, 'SUCCESS');
    assert.equal((result.reason as { Configuration?: FunctionConfiguration }).Configuration?.State, 'Active');
    assert.ok(Date.now() - started >= 100, 'the waiter polled until the function became Active');
    const now = (await client.send(new GetFunctionCommand({ FunctionName: name }))).Configuration!;
    assert.equal(now.State, 'Active');
    assert.notEqual(now.RevisionId, created.RevisionId);
  });

  it('InProgress until Successful; a second update meanwhile conflicts; waitUntilFunctionUpdatedV2 waits', async () => {
    const name = uniqueName();
    await client.send(new CreateFunctionCommand(createInput(name, zip)));
    await waitUntilFunctionActiveV2(waiter(client), { FunctionName: name });
    const updated = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 5 }));
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    const during = (await client.send(new GetFunctionConfigurationCommand({ FunctionName: name })));
    assert.equal(during.LastUpdateStatus, 'InProgress');
    assert.equal(during.LastUpdateStatusReason, 'The function is being created.');
    assert.equal(during.LastUpdateStatusReasonCode, 'Creating');
    const conflict = {
      name: 'ResourceConflictException', status: 409, type: 'User' as const,
      message: `The operation cannot be performed at this time. An update is in progress for resource: ${arn(name)}`,
    };
    await expectAwsError(client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 6 })), conflict);
    await expectAwsError(client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip })), conflict);
    const result = await waitUntilFunctionUpdatedV2(waiter(client), { FunctionName: name });
    assert.equal(result.state, 'SUCCESS');
    const settled = (result.reason as { Configuration?: FunctionConfiguration }).Configuration!;
    assert.equal(settled.LastUpdateStatus, 'Successful');
    assert.equal(settled.Timeout, 5);
    assert.notEqual(settled.RevisionId, updated.RevisionId);
    // Once Successful, updates are accepted again.
    const next = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 6, RevisionId: settled.RevisionId }));
    assert.equal(next.Timeout, 6);
  });
});

describe('functions: the raw wire (fetch, unsigned: default account and region)', () => {
  let t: TestServer;
  let zip: Buffer;
  const requestIds = new Set<string>();

  before(async () => {
    t = await startTestServer();
    zip = await nodeHandlerZip();
  });
  after(async () => {
    await t.close();
  });

  /** Sends a request and checks what every response carries: a fresh x-amzn-RequestId. */
  async function call(method: string, pathAndQuery: string, body?: string | object): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
    const res = await fetch(`${t.url}${pathAndQuery}`, {
      method,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    const id = res.headers.get('x-amzn-RequestId');
    assert.match(id ?? '', UUID, `${method} ${pathAndQuery} carries x-amzn-RequestId`);
    assert.ok(!requestIds.has(id!), 'request ids are unique');
    requestIds.add(id!);
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
  }

  function assertError(r: Awaited<ReturnType<typeof call>>, status: number, code: string, body: Record<string, unknown>): void {
    assert.equal(r.status, status, r.text);
    assert.equal(r.headers.get('x-amzn-ErrorType'), code);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(r.json(), body);
  }

  const createBody = (name: string, extra: object = {}) => ({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip.toString('base64') }, ...extra });

  it('ResourceNotFoundException: Type + Message (capital M)', async () => {
    assertError(await call('GET', '/2015-03-31/functions/nope'), 404, 'ResourceNotFoundException', {
      Type: 'User', Message: `Function not found: ${arn('nope')}`,
    });
    assertError(await call('GET', `/2015-03-31/functions/${encodeURIComponent(arn('nope'))}/configuration`), 404, 'ResourceNotFoundException', {
      Type: 'User', Message: `Function not found: ${arn('nope')}`,
    });
  });

  it('InvalidParameterValueException and ResourceConflictException: Type + message (lower case)', async () => {
    assertError(await call('POST', '/2015-03-31/functions', createBody('wire-bad-zip', { Code: { ZipFile: Buffer.from('nope').toString('base64') } })), 400, 'InvalidParameterValueException', {
      Type: 'User', message: 'Could not unzip uploaded file. Please check your file, then try to upload again.',
    });
    const created = await call('POST', '/2015-03-31/functions', createBody('wire-fn'));
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('content-type'), 'application/json');
    assert.equal((created.json() as { State: string }).State, 'Pending');
    assertError(await call('POST', '/2015-03-31/functions', createBody('wire-fn')), 409, 'ResourceConflictException', {
      Type: 'User', message: 'Function already exist: wire-fn',
    });
    assertError(await call('PUT', '/2015-03-31/functions/wire-fn/configuration', { Timeout: 4, RevisionId: 'stale' }), 412, 'PreconditionFailedException', {
      Type: 'User', message: 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    });
  });

  it('ValidationException: message only, no Type', async () => {
    assertError(await call('POST', '/2015-03-31/functions', createBody('wire-role', { Role: 'r1' })), 400, 'ValidationException', {
      message: `1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: ${ROLE_PATTERN}`,
    });
    assertError(await call('GET', '/2015-03-31/functions/?MaxItems=0'), 400, 'ValidationException', {
      message: "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
    });
  });

  it('a malformed JSON body gets an AWS-shaped JSON error', async () => {
    const r = await call('POST', '/2015-03-31/functions', '{"FunctionName": "x",');
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('x-amzn-ErrorType'), 'InvalidRequestContentException');
    const body = r.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['Type', 'message']);
    assert.equal(body['Type'], 'User');
    assert.match(String(body['message']), /^Could not parse request body into json: /);
    const wrongType = await call('POST', '/2015-03-31/functions', { ...createBody('wire-type'), MemorySize: 'big' });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.headers.get('x-amzn-ErrorType'), 'InvalidRequestContentException');
  });

  it('an unknown route gets an AWS-shaped JSON error, not an HTML page', async () => {
    for (const [method, p] of [['GET', '/nope'], ['POST', '/2015-03-31/functions/x/unknown'], ['PATCH', '/2015-03-31/functions']] as const) {
      const r = await call(method, p);
      assert.equal(r.status, 404, `${method} ${p}`);
      assert.equal(r.headers.get('x-amzn-ErrorType'), 'UnknownOperationException', `${method} ${p}`);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.equal((r.json() as { message?: string }).message, 'Unable to determine service/operation name to be authorized');
    }
  });

  it('an operation of the model that is not implemented answers a JSON error naming it', async () => {
    // Function URLs are not implemented, so GetFunctionUrlConfig stays unanswered.
    const r = await call('GET', '/2021-10-31/functions/any/url');
    assert.equal(r.status, 501);
    assert.equal(r.headers.get('x-amzn-ErrorType'), 'ServiceException');
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(r.json(), { Type: 'Service', Message: 'lambdalite does not implement the GetFunctionUrlConfig operation yet.' });
  });

  it('every operation of the model is routed, and answers a JSON error naming it while it has no handler', async () => {
    // The same HTTP layer with an empty handler table, so this holds whatever is implemented today.
    const api = createApiServer({ handlers: {}, identity: { accountId: ACCOUNT, region: REGION }, logger: { info() {}, warn() {}, error() {} } });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    try {
      for (const op of operations) {
        const p = op.path.replace(/\{([^}+]+)\+?\}/g, (_m, label: string) => encodeURIComponent(label === 'FunctionName' ? 'my-fn' : `x-${label}`));
        const query = new URLSearchParams(op.staticQuery).toString();
        const res = await fetch(`${base}${p}${query ? `?${query}` : ''}`, { method: op.method, ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { body: '{}' }) });
        const text = await res.text();
        assert.equal(res.status, 501, `${op.name}: ${text}`);
        assert.match(res.headers.get('x-amzn-RequestId') ?? '', UUID, op.name);
        assert.equal(res.headers.get('x-amzn-ErrorType'), 'ServiceException', op.name);
        assert.deepEqual(JSON.parse(text), { Type: 'Service', Message: `lambdalite does not implement the ${op.name} operation yet.` }, `${op.method} ${p}`);
      }
    } finally {
      await new Promise<void>((resolve) => api.close(() => resolve()));
    }
  });

  it('successful responses carry x-amzn-RequestId too: 200, 201, 204, and the code download', async () => {
    assert.equal((await call('POST', '/2015-03-31/functions', createBody('wire-ok'))).status, 201);
    const list = await call('GET', '/2015-03-31/functions/');
    assert.equal(list.status, 200);
    const got = await call('GET', '/2015-03-31/functions/wire-ok');
    assert.equal(got.status, 200);
    const location = (got.json() as { Code: { Location: string } }).Code.Location;
    const download = await call('GET', location.slice(t.url.length));
    assert.equal(download.status, 200);
    const deleted = await call('DELETE', '/2015-03-31/functions/wire-ok');
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
  });
});
