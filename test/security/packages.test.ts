// Hostile code packages: every way we know for a zip to create or follow a link out of its own tree,
// through each way code arrives (CreateFunction, UpdateFunctionCode, PublishLayerVersion, S3). Each
// is refused with AWS's answer for a package it cannot unzip, and nothing appears on the host.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand, InvokeCommand, PublishLayerVersionCommand, UpdateFunctionCodeCommand, waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, nodeHandlerZip, ROLE, zipWithEntryName, type ZipEntry } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { startMoto, type Moto } from '../helpers/moto.js';

const refused = {
  name: 'InvalidParameterValueException',
  status: 400,
  type: 'User' as const,
  message: 'Could not unzip uploaded file. Please check your file, then try to upload again.',
};

const link = (name: string, target: string): ZipEntry => ({ name, content: target, mode: 0o120777 });
const file = (name: string, content = 'pwned'): ZipEntry => ({ name, content });

let seq = 0;
const uniqueName = () => `pkg-${process.pid}-${++seq}`;

interface Attack {
  readonly name: string;
  /** The package, given the host directory an escape would write into (under /tmp). */
  readonly zip: (host: string) => Promise<Buffer>;
}

const attacks: Attack[] = [
  {
    name: 'a link to a relative path out of the package, then a file beneath it',
    zip: (host) => makeZip([link('d', `${'../'.repeat(24)}${host.slice(1)}`), file('d/pwned')]),
  },
  {
    name: 'an absolute link into /tmp, then a file beneath it',
    zip: (host) => makeZip([link('d', host), file('d/pwned')]),
  },
  {
    name: 'a /tmp/../ link target, then a file beneath it',
    zip: (host) => makeZip([link('d', `/tmp/..${host}`), file('d/pwned')]),
  },
  {
    name: 'a /tmp/../ link target that normalises out of the sandbox mounts',
    zip: () => makeZip([link('d', '/tmp/../etc'), file('index.js', 'exports.handler = async () => 1;')]),
  },
  {
    name: 'an /opt/../ link target, then a file beneath it',
    zip: (host) => makeZip([link('d', `/opt/..${host}`), file('d/pwned')]),
  },
  {
    name: 'an /opt/../etc/cron.d link',
    zip: () => makeZip([link('cron', '/opt/../etc/cron.d'), file('index.js', 'exports.handler = async () => 1;')]),
  },
  {
    name: 'nested links: a link to a link out of the package, then a file beneath the first',
    zip: (host) => makeZip([link('a', 'b'), link('b', host), file('a/pwned')]),
  },
  {
    name: 'nested links that climb out only when resolved as the kernel does (.. after a link)',
    // `up` leads to s1; `esc` reads as s1/s2 but resolves to s1/.. /.. : above the package.
    zip: () => makeZip([file('s1/s2/s3/keep'), link('s1/s2/s3/up', '../..'), link('esc', 's1/s2/s3/up/../..')]),
  },
  {
    name: 'a link chain that leaves through an absolute target and then climbs',
    // `y` reads as ./etc but resolves to /opt/../etc.
    zip: () => makeZip([link('x', '/opt'), link('y', 'x/../etc')]),
  },
  {
    name: 'a directory entry beneath a link',
    zip: (host) => makeZip([link('d', host), { name: 'd/sub', content: '', mode: 0o040755 }]),
  },
  {
    name: 'a file entry with the name of an earlier link (written through it if followed)',
    zip: (host) => makeZip([link('f', `${host}/pwned`), file('f')]),
  },
  {
    // Zip has no hard-link entry type: an archiver smuggling one writes the same name twice.
    name: 'two entries with the same name (a hard link stored as a second file)',
    zip: () => makeZip([file('index.js', 'exports.handler = async () => 1;'), file('index.js', 'exports.handler = async () => 2;')]),
  },
  {
    name: 'a device entry',
    zip: () => makeZip([{ name: 'dev', content: '', mode: 0o020644 }]),
  },
  {
    name: 'a zip-slip entry name with ../',
    zip: (host) => zipWithEntryName(`${'../'.repeat(24)}${host.slice(1)}/pwned`),
  },
  {
    name: 'an absolute entry name',
    zip: (host) => zipWithEntryName(`${host}/pwned`),
  },
];

describe('hostile code packages', () => {
  let t: TestServer;
  /** Holds one fresh directory per attempt: where it aims, and it exists, so a write through a link would succeed. */
  let base: string;
  const target = () => mkdtempSync(path.join(base, 'aim-'));

  before(async () => {
    t = await startTestServer();
    base = mkdtempSync(path.join(tmpdir(), 'lambdalite-escape-'));
  });
  after(async () => {
    await t?.close();
    rmSync(base, { recursive: true, force: true });
  });

  const nothingEscaped = (attack: string, host: string) => {
    assert.deepEqual(readdirSync(host), [], `${attack}: nothing written into ${host}`);
    assert.equal(existsSync('/etc/cron.d/pwned'), false);
    assert.deepEqual(readdirSync(path.join(t.dataDir, 'code')).filter((n) => n.startsWith('.tmp-')), [], `${attack}: no unpack leftovers`);
  };

  for (const attack of attacks) {
    it(`CreateFunction: ${attack.name}`, async () => {
      const host = target();
      const zip = await attack.zip(host);
      await expectAwsError(t.client.send(new CreateFunctionCommand({ FunctionName: uniqueName(), Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip } })), refused);
      nothingEscaped(attack.name, host);
    });
  }

  it('UpdateFunctionCode refuses every attack and keeps the code it had', async () => {
    const name = uniqueName();
    const good = await nodeHandlerZip();
    const created = await t.client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: good } }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { FunctionName: name });
    for (const attack of attacks) {
      const host = target();
      await expectAwsError(t.client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: await attack.zip(host) })), refused);
      nothingEscaped(attack.name, host);
    }
    const out = await t.client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{"still":"here"}') }));
    assert.equal(Buffer.from(out.Payload!).toString(), '{"still":"here"}');
    assert.ok(created.CodeSha256);
  });

  it('PublishLayerVersion refuses every attack', async () => {
    for (const attack of attacks) {
      const host = target();
      await expectAwsError(t.client.send(new PublishLayerVersionCommand({ LayerName: `layer-${process.pid}`, Content: { ZipFile: await attack.zip(host) } })), refused);
      nothingEscaped(attack.name, host);
    }
  });

  it('links that stay inside the package, or point into the sandbox mounts, keep working', async () => {
    const zip = await makeZip([
      file('index.js', `const fs = require('fs');
exports.handler = async () => ({
  viaDirLink: require('./lib/mod.js').v,
  viaBinLink: require('/var/task/node_modules/.bin/tool').v,
  bin: fs.readlinkSync('/var/task/node_modules/.bin/tool'),
  opt: fs.readlinkSync('/var/task/shared'),
  dangling: fs.readlinkSync('/var/task/later'),
});`),
      file('lib64/mod.js', "exports.v = 'lib64';"),
      link('lib', 'lib64'),
      file('node_modules/tool/cli.js', "exports.v = 'tool';"),
      link('node_modules/.bin/tool', '../tool/cli.js'),
      link('shared', '/opt/nodejs/shared'),
      link('later', '/tmp/made-at-run-time'),
    ]);
    const name = uniqueName();
    await t.client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip } }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { FunctionName: name });
    const out = await t.client.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), {
      viaDirLink: 'lib64', viaBinLink: 'tool', bin: '../tool/cli.js', opt: '/opt/nodejs/shared', dangling: '/tmp/made-at-run-time',
    });
  });
});

describe('hostile code packages from S3 (moto_server)', () => {
  let moto: Moto;
  let s3: S3Client;
  let t: TestServer;
  let base: string;
  const bucket = 'hostile-code';

  before(async () => {
    moto = await startMoto();
    s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    t = await startTestServer({ awsEndpoint: moto.url });
    base = mkdtempSync(path.join(tmpdir(), 'lambdalite-escape-s3-'));
  });
  after(async () => {
    await t?.close();
    s3?.destroy();
    await moto?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  it('CreateFunction and PublishLayerVersion from S3 refuse every attack', async () => {
    for (const [i, attack] of attacks.entries()) {
      const key = `attack-${i}.zip`;
      const host = mkdtempSync(path.join(base, 'aim-'));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await attack.zip(host) }));
      await expectAwsError(t.client.send(new CreateFunctionCommand({ FunctionName: uniqueName(), Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: key } })), refused);
      await expectAwsError(t.client.send(new PublishLayerVersionCommand({ LayerName: 'from-s3', Content: { S3Bucket: bucket, S3Key: key } })), refused);
      assert.deepEqual(readdirSync(host), [], `${attack.name}: nothing written into ${host}`);
    }
  });
});

describe('links in layers merged into /opt', () => {
  let t: TestServer;
  let marker: string;

  before(async () => {
    t = await startTestServer();
    marker = mkdtempSync(path.join(tmpdir(), 'lambdalite-host-secret-'));
    writeFileSync(path.join(marker, 'secret'), 'host file');
  });
  after(async () => {
    await t?.close();
    rmSync(marker, { recursive: true, force: true });
  });

  it('a layer link to /tmp is the sandbox /tmp, never the host one, also when several layers are merged', async () => {
    const first = await t.client.send(new PublishLayerVersionCommand({ LayerName: 'merge-a', Content: { ZipFile: await makeZip([file('nodejs/a.txt', 'a')]) } }));
    const second = await t.client.send(new PublishLayerVersionCommand({ LayerName: 'merge-b', Content: { ZipFile: await makeZip([link('hosttmp', '/tmp'), file('nodejs/b.txt', 'b')]) } }));
    const name = uniqueName();
    await t.client.send(new CreateFunctionCommand({
      FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Layers: [first.LayerVersionArn!, second.LayerVersionArn!],
      Code: { ZipFile: await nodeHandlerZip(`const fs = require('fs');
exports.handler = async (e) => {
  let secret = null;
  try { secret = fs.readFileSync('/opt/hosttmp/' + e.dir + '/secret', 'utf8'); } catch {}
  return { secret, link: fs.readlinkSync('/opt/hosttmp'), a: fs.readFileSync('/opt/nodejs/a.txt', 'utf8'), b: fs.readFileSync('/opt/nodejs/b.txt', 'utf8') };
};`) },
    }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { FunctionName: name });
    const out = await t.client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify({ dir: path.basename(marker) })) }));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { secret: null, link: '/tmp', a: 'a', b: 'b' });
  });
});
