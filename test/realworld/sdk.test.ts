// Functions calling AWS through the SDK their runtime ships, as deployed on AWS: a Node.js function
// using the runtime's @aws-sdk/client-s3 and a Python function using the runtime's boto3, both
// against moto_server. The operator points every function at it with --function-env
// AWS_ENDPOINT_URL=...; the functions use the environment's credentials.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client, CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { SQSClient, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startMoto, awsOptions, createQueue, type Moto } from '../helpers/moto.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { createActive, invokeOk } from './functions.js';

let moto: Moto;
let t: TestServer;

before(async () => {
  moto = await startMoto();
  t = await startTestServer({ functionEnv: [`AWS_ENDPOINT_URL=${moto.url}`] });
});
after(async () => {
  await t?.close();
  await moto?.stop();
});

async function deploy(name: string, runtime: string, handler: string, files: { name: string; content: string }[]): Promise<void> {
  await createActive(t.client, { FunctionName: name, Runtime: runtime as 'nodejs22.x', Role: ROLE, Handler: handler, Code: { ZipFile: await makeZip(files) }, Timeout: 30 });
}

const invoke = (name: string, payload: unknown): Promise<any> => invokeOk(t.client, name, payload);

describe('the SDKs inside the runtimes', () => {
  it('a nodejs22.x ES module writes to S3 with the runtime\'s own @aws-sdk/client-s3', async () => {
    const s3 = new S3Client({ ...awsOptions(moto.url), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'rt-node-bucket' }));
    await deploy('s3-writer', 'nodejs22.x', 'index.handler', [
      {
        name: 'index.mjs',
        content: `import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({ forcePathStyle: true });
export const handler = async (event) => {
  await s3.send(new PutObjectCommand({ Bucket: event.bucket, Key: event.key, Body: 'from ' + process.version }));
  return { endpoint: process.env.AWS_ENDPOINT_URL, region: await s3.config.region() };
};`,
      },
    ]);
    const body = await invoke('s3-writer', { bucket: 'rt-node-bucket', key: 'hello.txt' });
    assert.deepEqual(body, { endpoint: moto.url, region: 'us-east-1' });
    const got = await s3.send(new GetObjectCommand({ Bucket: 'rt-node-bucket', Key: 'hello.txt' }));
    assert.match(await got.Body!.transformToString(), /^from v22\./);
    s3.destroy();
  });

  it('a python3.12 function sends to SQS with the runtime\'s own boto3', async () => {
    const sqs = new SQSClient(awsOptions(moto.url));
    const queue = await createQueue(sqs, 'rt-python-queue');
    await deploy('sqs-sender', 'python3.12', 'app.handler', [
      {
        name: 'app.py',
        content: `import boto3
sqs = boto3.client("sqs")
def handler(event, context):
    r = sqs.send_message(QueueUrl=event["queue"], MessageBody="hi from " + context.function_name)
    return {"id": r["MessageId"], "boto3": boto3.__version__}
`,
      },
    ]);
    const body = await invoke('sqs-sender', { queue: queue.url });
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 5 }));
    assert.deepEqual(got.Messages?.map((m) => m.Body), ['hi from sqs-sender']);
    sqs.destroy();
  });
});
