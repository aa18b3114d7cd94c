// Sends invocation records and dead letters to where an event invoke config or DeadLetterConfig points:
// SQS, SNS and EventBridge through the AWS SDK v3 (at --aws-endpoint and the per-service overrides, AWS
// itself by default), and another Lambda function locally, as an asynchronous invocation of it.
import { GetQueueUrlCommand, SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { randomBytes } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

export interface DestinationEndpoints {
  readonly sqs: string | undefined;
  readonly sns: string | undefined;
  readonly events: string | undefined;
}

/** One message to send. `attributes` (DLQ only) become SQS/SNS string or number message attributes. */
export interface Delivery {
  readonly target: string;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, { readonly type: 'String' | 'Number'; readonly value: string }>>;
  /** For EventBridge: AWS's DetailType for the record's condition. */
  readonly detailType?: string;
  /** For EventBridge: the ARNs the event is about (the function, the destination). */
  readonly resources?: readonly string[];
  /** The X-Ray trace header of the invocation; SQS messages carry it as the AWSTraceHeader system attribute. */
  readonly traceHeader?: string;
}

/** Enqueues an asynchronous invocation of a local function (a Lambda destination). */
export type LocalInvoke = (functionArn: string, payload: Buffer) => Promise<void>;

export class DeliveryError extends Error {}

/** An X-Ray trace header as Lambda sends one for an unsampled invocation: Root=1-<epoch hex>-<96 bit hex>. */
export function newTraceHeader(nowMs: number): string {
  const epoch = Math.floor(nowMs / 1000).toString(16).padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Sampled=0`;
}

interface ParsedArn {
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly resource: string;
}

export function parseArn(arn: string): ParsedArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return { service: parts[2]!, region: parts[3]!, accountId: parts[4]!, resource: parts.slice(5).join(':') };
}

const localCredentials = (endpoint: string | undefined) =>
  // Without an endpoint the SDK's normal credential chain applies; a local endpoint takes any keys.
  endpoint && !process.env['AWS_ACCESS_KEY_ID'] ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {};

export class Destinations {
  readonly #endpoints: DestinationEndpoints;
  readonly #local: LocalInvoke;
  readonly #sqs = new Map<string, SQSClient>();
  readonly #sns = new Map<string, SNSClient>();
  readonly #events = new Map<string, EventBridgeClient>();
  readonly #queueUrls = new Map<string, string>();

  constructor(endpoints: DestinationEndpoints, local: LocalInvoke) {
    this.#endpoints = endpoints;
    this.#local = local;
  }

  #client<T>(cache: Map<string, T>, region: string, make: () => T): T {
    let c = cache.get(region);
    if (!c) {
      c = make();
      cache.set(region, c);
    }
    return c;
  }

  async send(d: Delivery): Promise<void> {
    const arn = parseArn(d.target);
    if (!arn) throw new DeliveryError(`not an ARN: ${d.target}`);
    try {
      switch (arn.service) {
        case 'sqs':
          return await this.#sendSqs(arn, d);
        case 'sns':
          return await this.#sendSns(arn, d);
        case 'events':
          return await this.#sendEvents(arn, d);
        case 'lambda':
          return await this.#local(d.target, Buffer.from(d.body));
        default:
          throw new DeliveryError(`unsupported destination service '${arn.service}' in ${d.target}`);
      }
    } catch (e) {
      if (e instanceof DeliveryError) throw e;
      throw new DeliveryError(`sending to ${d.target} failed: ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
    }
  }

  async #sendSqs(arn: ParsedArn, d: Delivery): Promise<void> {
    const endpoint = this.#endpoints.sqs;
    const client = this.#client(this.#sqs, arn.region, () => new SQSClient({ region: arn.region, ...(endpoint ? { endpoint } : {}), ...localCredentials(endpoint) }));
    let url = this.#queueUrls.get(d.target);
    if (!url) {
      url = (await client.send(new GetQueueUrlCommand({ QueueName: arn.resource, QueueOwnerAWSAccountId: arn.accountId }))).QueueUrl;
      if (!url) throw new DeliveryError(`no queue URL for ${d.target}`);
      this.#queueUrls.set(d.target, url);
    }
    const attrs: Record<string, MessageAttributeValue> = {};
    for (const [k, v] of Object.entries(d.attributes ?? {})) attrs[k] = { DataType: v.type, StringValue: v.value };
    try {
      await client.send(new SendMessageCommand({
        QueueUrl: url,
        MessageBody: d.body,
        ...(d.attributes ? { MessageAttributes: attrs } : {}),
        // Lambda's destination and dead-letter messages always carry a trace header, as AWS's do.
        MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: d.traceHeader ?? newTraceHeader(Date.now()) } },
      }));
    } catch (e) {
      this.#queueUrls.delete(d.target);
      throw e;
    }
  }

  async #sendSns(arn: ParsedArn, d: Delivery): Promise<void> {
    const endpoint = this.#endpoints.sns;
    const client = this.#client(this.#sns, arn.region, () => new SNSClient({ region: arn.region, ...(endpoint ? { endpoint } : {}), ...localCredentials(endpoint) }));
    const attrs: Record<string, { DataType: string; StringValue: string }> = {};
    for (const [k, v] of Object.entries(d.attributes ?? {})) attrs[k] = { DataType: v.type, StringValue: v.value };
    await client.send(new PublishCommand({ TopicArn: d.target, Message: d.body, ...(d.attributes ? { MessageAttributes: attrs } : {}) }));
  }

  async #sendEvents(arn: ParsedArn, d: Delivery): Promise<void> {
    const endpoint = this.#endpoints.events;
    const client = this.#client(this.#events, arn.region, () => new EventBridgeClient({ region: arn.region, ...(endpoint ? { endpoint } : {}), ...localCredentials(endpoint) }));
    // AWS puts the record as the event's detail, from source "lambda", on the bus the ARN names.
    const out = await client.send(new PutEventsCommand({
      Entries: [{ Source: 'lambda', DetailType: d.detailType ?? 'Lambda Function Invocation Result - Success', Detail: d.body, EventBusName: d.target, Resources: [...(d.resources ?? [])] }],
    }));
    if (out.FailedEntryCount) throw new DeliveryError(`EventBridge refused the event: ${JSON.stringify(out.Entries)}`);
  }

  close(): void {
    for (const c of [...this.#sqs.values(), ...this.#sns.values(), ...this.#events.values()]) c.destroy();
  }
}
