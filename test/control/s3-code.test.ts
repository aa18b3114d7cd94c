// Deployment packages from S3 (Code.S3Bucket/S3Key/S3ObjectVersion), fetched by the server with the AWS SDK
// from a real moto_server, and S3's failures answered with Lambda's texts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { CreateFunctionCommand, GetFunctionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { startMoto, type Moto } from '../helpers/moto.js';

const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

describe('function code from S3 (moto_server)', () => {
  let moto: Moto;
  let s3: S3Client;
  let t: TestServer;
  let zip: Buffer;
  let zip2: Buffer;
  const bucket = 'lambdalite-code';

  before(async () => {
    moto = await startMoto();
    s3 = new S3Client({ endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    zip = await nodeHandlerZip('exports.handler = async () => "from s3";');
    zip2 = await nodeHandlerZip('exports.handler = async () => "from s3, again";');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v1/fn.zip', Body: zip }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'v2/fn.zip', Body: zip2 }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'not-a-zip.zip', Body: 'hello' }));
    t = await startTestServer({ awsEndpoint: moto.url });
  });
  after(async () => {
    await t?.close();
    s3?.destroy();
    await moto?.stop();
  });

  it('creates a function from S3Bucket/S3Key and serves the same bytes from Code.Location', async () => {
    const created = await t.client.send(new CreateFunctionCommand({
      FunctionName: 's3-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: 'v1/fn.zip' },
    }));
    assert.equal(created.CodeSha256, sha256b64(zip));
    assert.equal(created.CodeSize, zip.length);
    const got = await t.client.send(new GetFunctionCommand({ FunctionName: 's3-fn' }));
    assert.equal(got.Configuration?.State, 'Active');
    const res = await fetch(got.Code!.Location!);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), zip);
  });

  it('updates code from S3', async () => {
    const updated = await t.client.send(new UpdateFunctionCodeCommand({ FunctionName: 's3-fn', S3Bucket: bucket, S3Key: 'v2/fn.zip' }));
    assert.equal(updated.CodeSha256, sha256b64(zip2));
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    const got = await t.client.send(new GetFunctionCommand({ FunctionName: 's3-fn' }));
    assert.equal(got.Configuration?.CodeSha256, sha256b64(zip2));
    assert.deepEqual(Buffer.from(await (await fetch(got.Code!.Location!)).arrayBuffer()), zip2);
  });

  it('S3ObjectVersion picks that version of the object', async () => {
    const versioned = 'lambdalite-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: versioned }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
    const first = await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'fn.zip', Body: zip }));
    await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'fn.zip', Body: zip2 }));
    assert.ok(first.VersionId, 'moto versions the bucket');
    const created = await t.client.send(new CreateFunctionCommand({
      FunctionName: 's3-versioned', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler',
      Code: { S3Bucket: versioned, S3Key: 'fn.zip', S3ObjectVersion: first.VersionId },
    }));
    assert.equal(created.CodeSha256, sha256b64(zip), 'the older version, not the latest');
  });

  it("S3's failures answer Lambda's InvalidParameterValueException texts", async () => {
    const input = (key: string, b = bucket) => ({ FunctionName: 's3-missing', Runtime: 'nodejs20.x' as const, Role: ROLE, Handler: 'index.handler', Code: { S3Bucket: b, S3Key: key } });
    await expectAwsError(t.client.send(new CreateFunctionCommand(input('no/such.zip'))), {
      name: 'InvalidParameterValueException', status: 400, type: 'User',
      message: 'Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',
    });
    await expectAwsError(t.client.send(new UpdateFunctionCodeCommand({ FunctionName: 's3-fn', S3Bucket: bucket, S3Key: 'no/such.zip' })), {
      name: 'InvalidParameterValueException', status: 400, type: 'User',
      message: 'Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',
    });
    await expectAwsError(t.client.send(new CreateFunctionCommand(input('fn.zip', 'no-such-bucket-here'))), {
      name: 'InvalidParameterValueException', status: 400, type: 'User',
      message: 'Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist',
    });
    await expectAwsError(t.client.send(new CreateFunctionCommand(input('not-a-zip.zip'))), {
      name: 'InvalidParameterValueException', status: 400, type: 'User',
      message: 'Could not unzip uploaded file. Please check your file, then try to upload again.',
    });
  });

  it('code from S3 is bounded by its unzipped size (250 MB), not by the 50 MB direct-upload limit', async () => {
    const big = await makeZip([
      { name: 'index.js', content: 'exports.handler = async () => "big";' },
      { name: 'padding.bin', content: Buffer.alloc(52_428_801, 7), compress: false },
    ]);
    assert.ok(big.length > 52_428_800);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.zip', Body: big }));
    const created = await t.client.send(new CreateFunctionCommand({
      FunctionName: 's3-big', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: 'big.zip' },
    }));
    assert.equal(created.CodeSize, big.length);
    // Zeros compress well: a small object that unpacks beyond the limit.
    const bomb = await makeZip([{ name: 'zeros.bin', content: Buffer.alloc(262_144_001) }]);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bomb.zip', Body: bomb }));
    await expectAwsError(t.client.send(new CreateFunctionCommand({
      FunctionName: 's3-bomb', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: 'bomb.zip' },
    })), { name: 'InvalidParameterValueException', status: 400, type: 'User', message: 'Unzipped size must be smaller than 262144000 bytes' });
  });

  it('--s3-endpoint overrides --aws-endpoint for S3', async () => {
    const other = await startTestServer({ awsEndpoint: 'http://127.0.0.1:9', s3Endpoint: moto.url });
    try {
      const created = await other.client.send(new CreateFunctionCommand({
        FunctionName: 's3-override', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: 'v1/fn.zip' },
      }));
      assert.equal(created.CodeSha256, sha256b64(zip));
    } finally {
      await other.close();
    }
  });
});
