// What the server accepted survives a restart on the same data dir: configuration exactly, code byte for
// byte (downloaded through GetFunction's Code.Location), and lifecycles left half way are finished.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, ListFunctionsCommand, UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand, waitUntilFunctionActiveV2, type GetFunctionCommandOutput,
} from '@aws-sdk/client-lambda';
import { FakeClock } from '../../src/shared/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

async function download(location: string): Promise<Buffer> {
  const res = await fetch(location);
  assert.equal(res.status, 200, `GET ${location}`);
  assert.equal(res.headers.get('content-type'), 'application/zip');
  return Buffer.from(await res.arrayBuffer());
}

function withoutMetadata(out: GetFunctionCommandOutput): Omit<GetFunctionCommandOutput, '$metadata' | 'Code'> {
  const { $metadata: _m, Code: _c, ...rest } = out;
  return rest;
}

describe('persistence across restarts', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
  });

  it('a function created before a restart is there after it, with the same configuration and byte-identical code', async () => {
    // Several files, an executable one and binary content, so "byte-identical" means something.
    const zip = await makeZip([
      { name: 'index.js', content: 'exports.handler = async () => require("./lib/data.json");' },
      { name: 'lib/data.json', content: '{"ok":true}' },
      { name: 'bin/tool', content: '#!/bin/sh\necho hi\n', mode: 0o100755 },
      { name: 'blob.bin', content: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff)) },
    ]);
    await t.client.send(new CreateFunctionCommand({
      FunctionName: 'survivor', Runtime: 'nodejs22.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip },
      Description: 'kept', MemorySize: 512, Timeout: 42, Environment: { Variables: { STAGE: 'test' } }, Tags: { team: 'core' },
    }));
    const other = await nodeHandlerZip();
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'updated-before', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: other } }));
    const zip2 = await nodeHandlerZip('exports.handler = async () => "second";');
    await t.client.send(new UpdateFunctionCodeCommand({ FunctionName: 'updated-before', ZipFile: zip2 }));
    await t.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'updated-before', Description: 'second' }));
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'deleted-before', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: other } }));
    await t.client.send(new DeleteFunctionCommand({ FunctionName: 'deleted-before' }));

    const before = await t.client.send(new GetFunctionCommand({ FunctionName: 'survivor' }));
    const beforeUpdated = await t.client.send(new GetFunctionCommand({ FunctionName: 'updated-before' }));
    const listBefore = await t.client.send(new ListFunctionsCommand({}));
    assert.deepEqual(await download(before.Code!.Location!), zip);

    await t.restart();

    const after = await t.client.send(new GetFunctionCommand({ FunctionName: 'survivor' }));
    assert.deepEqual(withoutMetadata(after), withoutMetadata(before), 'configuration and tags unchanged, RevisionId included');
    assert.equal(after.Configuration?.State, 'Active');
    assert.deepEqual(await download(after.Code!.Location!), zip, 'the package downloads byte-identical after the restart');

    const afterUpdated = await t.client.send(new GetFunctionCommand({ FunctionName: 'updated-before' }));
    assert.deepEqual(withoutMetadata(afterUpdated), withoutMetadata(beforeUpdated));
    assert.equal(afterUpdated.Configuration?.Description, 'second');
    assert.deepEqual(await download(afterUpdated.Code!.Location!), zip2, 'the replaced package is the one served');

    await expectAwsError(t.client.send(new GetFunctionCommand({ FunctionName: 'deleted-before' })), {
      name: 'ResourceNotFoundException', status: 404, message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:deleted-before',
    });
    const { $metadata: _a, ...listAfter } = await t.client.send(new ListFunctionsCommand({}));
    const { $metadata: _b, ...listBeforeBody } = listBefore;
    assert.deepEqual(listAfter, listBeforeBody);

    // The restarted server keeps working on the same data: RevisionIds recorded before still apply.
    await t.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'survivor', Timeout: 43, RevisionId: before.Configuration!.RevisionId }));
  });

  it('the code URL refuses a tampered, missing or expired signature', async () => {
    const zip = await nodeHandlerZip('exports.handler = async () => "signed";');
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'signed', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip } }));
    const location = (await t.client.send(new GetFunctionCommand({ FunctionName: 'signed' }))).Code!.Location!;
    assert.deepEqual(await download(location), zip);
    const url = new URL(location);
    const signature = url.searchParams.get('signature')!;
    const expires = Number(url.searchParams.get('expires'));
    assert.ok(signature.length > 20, 'the URL is signed');
    assert.ok(expires * 1000 > Date.now(), 'the URL expires in the future');

    const variants: Record<string, URL> = {};
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    variants['tampered signature'] = new URL(location);
    variants['tampered signature']!.searchParams.set('signature', flip(signature));
    variants['no signature'] = new URL(location);
    variants['no signature']!.searchParams.delete('signature');
    variants['later expiry, same signature'] = new URL(location);
    variants['later expiry, same signature']!.searchParams.set('expires', String(expires + 3600));
    variants['expired'] = new URL(location);
    variants['expired']!.searchParams.set('expires', '1');
    const otherHash = url.pathname.replace(/[0-9a-f]{64}/, '0'.repeat(64));
    variants['another package, same signature'] = new URL(location);
    variants['another package, same signature']!.pathname = otherHash;
    for (const [what, u] of Object.entries(variants)) {
      const res = await fetch(u);
      const body = await res.text();
      assert.equal(res.status, 403, `${what}: ${res.status} ${body}`);
      assert.match(body, /AccessDenied/, what);
    }
  });

  it('a function still Pending at shutdown becomes Active after the restart', async () => {
    // The settle delay runs on the server's clock; time passes only when the test moves it.
    const clock = new FakeClock();
    const slow = await startTestServer({ settleDelayMs: 400 }, { clock });
    try {
      const zip = await nodeHandlerZip();
      const created = await slow.client.send(new CreateFunctionCommand({ FunctionName: 'half-way', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip } }));
      assert.equal(created.State, 'Pending');
      await slow.restart();
      assert.equal((await slow.client.send(new GetFunctionCommand({ FunctionName: 'half-way' }))).Configuration?.State, 'Pending');
      // The restarted server settles it after its own delay.
      await clock.whenTimer((ms) => ms === 400);
      clock.advance(400);
      const r = await waitUntilFunctionActiveV2({ client: slow.client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { FunctionName: 'half-way' });
      assert.equal(r.state, 'SUCCESS');
    } finally {
      await slow.close();
    }
  });
});
