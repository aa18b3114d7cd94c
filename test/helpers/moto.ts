// Starts a real moto_server, the AWS peer of the tests (S3, SQS, SNS, EventBridge, Kinesis, DynamoDB), and reads
// what arrives at an SQS queue.
import net from 'node:net';
import { spawnUntilReady } from './spawn.js';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';

export interface Moto {
  readonly url: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startMoto(timeoutMs = 20_000): Promise<Moto> {
  const port = await freePort();
  const child = await spawnUntilReady('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    ready: new RegExp(`Running on http://127\\.0\\.0\\.1:${port}`), readyOnStderr: true, timeoutMs,
  });
  return { url: `http://127.0.0.1:${port}`, stop: async () => void (await child.stop('SIGTERM')) };
}

export const awsOptions = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

export async function createQueue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: attrs.Attributes!['QueueArn']! };
}

/** Receives (and deletes) messages until `count` arrived or `timeoutMs` passed. */
export async function receive(sqs: SQSClient, url: string, count: number, timeoutMs = 30_000): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }));
    const msgs = r.Messages ?? [];
    out.push(...msgs);
    if (msgs.length) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }
  return out;
}
