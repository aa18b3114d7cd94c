// The SQS poller: receives batches (BatchSize, MaximumBatchingWindowInSeconds), drops and deletes what
// FilterCriteria rejects, invokes the function synchronously with AWS's event, deletes what succeeded
// (all of it, or all but the batchItemFailures with ReportBatchItemFailures), and leaves failures to
// the queue's visibility timeout and redrive policy. ScalingConfig.MaximumConcurrency bounds the
// batches in flight. See README.md.
import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient,
  type Message, type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { compileFilterCriteria } from './filters.js';
import { publishBatch, publishPoll } from './diagnostics.js';
import type { Poller, PollerContext, PollerFactory } from './types.js';

/** AWS's invoke payload limit: a batch never grows beyond it. */
const MAX_PAYLOAD = 6_291_456;
/**
 * Batches in flight without ScalingConfig. AWS starts five pollers and scales up to 1,250 concurrent
 * invokes; lambdalite keeps five, and at most MAX_IN_FLIGHT with a MaximumConcurrency (2 to 1,000).
 */
const DEFAULT_CONCURRENCY = 5;
const MAX_IN_FLIGHT = 100;
/** Long polls are kept short so that disabling stops a mapping within a second or two. */
const MAX_WAIT_S = 1;
/** A throttled batch is retried while its messages stay invisible, up to this share of the visibility timeout. */
const THROTTLE_SHARE = 0.8;

interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, Record<string, unknown>>;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

/** AWS's shape of a message attribute in the Lambda event (lower camel case, empty lists present). */
function attribute(v: MessageAttributeValue): Record<string, unknown> {
  return {
    ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
    ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
    stringListValues: v.StringListValues ?? [],
    binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    dataType: v.DataType,
  };
}

export function toRecord(m: Message, arn: string, region: string): SqsRecord {
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) attrs[k] = attribute(v);
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: { ...(m.Attributes ?? {}) } as Record<string, string>,
    messageAttributes: attrs as SqsRecord['messageAttributes'],
    md5OfBody: m.MD5OfBody ?? '',
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: region,
  };
}

/** What filter patterns see of an SQS record: `body` parsed when it is JSON, the plain string otherwise. */
function filterView(r: SqsRecord): unknown {
  let body: unknown = r.body;
  try {
    const parsed: unknown = JSON.parse(r.body);
    if (parsed !== null && typeof parsed === 'object') body = parsed;
  } catch {
    // a plain string body
  }
  return { ...r, body };
}

/**
 * The message ids ReportBatchItemFailures says failed, or 'all' when AWS treats the response as a
 * failure of the whole batch (invalid JSON, an empty, null or unknown itemIdentifier). An empty or
 * null response or list means every message succeeded.
 */
export function failedItems(payload: Buffer, ids: ReadonlySet<string>): Set<string> | 'all' {
  const text = payload.toString('utf8').trim();
  if (!text) return new Set();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'all';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return new Set();
  const list = (parsed as Record<string, unknown>)['batchItemFailures'];
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'all';
  const out = new Set<string>();
  for (const item of list) {
    const id = item && typeof item === 'object' ? (item as Record<string, unknown>)['itemIdentifier'] : undefined;
    if (typeof id !== 'string' || !id || !ids.has(id)) return 'all';
    out.add(id);
  }
  return out;
}

class SqsPoller implements Poller {
  readonly #ctx: PollerContext;
  readonly #arn: string;
  readonly #region: string;
  readonly #client: SQSClient;
  #url: string | undefined;
  #visibilityMs = 30_000;

  constructor(ctx: PollerContext) {
    this.#ctx = ctx;
    const config = ctx.mapping().config;
    this.#arn = config.EventSourceArn!;
    this.#region = this.#arn.split(':')[3]!;
    this.#client = new SQSClient({ region: this.#region, ...ctx.aws });
  }

  async run(): Promise<void> {
    // One receiver gathers batches (so a batching window sees every message) and hands each to an
    // invoke; at most `slots` batches are in flight, and no batch is received before a slot is free,
    // so messages are never held invisible while waiting.
    const max = this.#ctx.mapping().config.ScalingConfig?.MaximumConcurrency;
    const slots = Math.min(max ?? DEFAULT_CONCURRENCY, MAX_IN_FLIGHT);
    const inFlight = new Set<Promise<void>>();
    let errors = 0;
    try {
      while (!this.#ctx.stopped()) {
        if (inFlight.size >= slots) {
          await Promise.race(inFlight);
          continue;
        }
        try {
          const url = await this.#queueUrl();
          const messages = await this.#receive(url, () => inFlight.size);
          errors = 0;
          if (!messages.length) continue;
          const p: Promise<void> = this.#handle(url, messages)
            .catch((e) => this.#problem(e as Error))
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        } catch (e) {
          if (this.#ctx.stopped()) break;
          this.#url = undefined;
          errors++;
          this.#problem(e as Error);
          await this.#sleep(Math.min(1000 * 2 ** Math.min(errors - 1, 5), 30_000));
        }
      }
      await Promise.all(inFlight);
    } finally {
      this.#client.destroy();
    }
  }

  #problem(err: Error): void {
    this.#ctx.logger.warn(`event source mapping ${this.#ctx.mapping().uuid}: ${this.#arn}: ${err.name}: ${err.message}`);
    this.#ctx.setLastProcessingResult(`PROBLEM: ${err.name}: ${err.message}`);
  }

  async #sleep(ms: number): Promise<void> {
    const until = this.#ctx.clock.elapsed() + ms;
    while (!this.#ctx.stopped() && this.#ctx.clock.elapsed() < until) {
      await new Promise<void>((r) => this.#ctx.clock.setTimeout(r, Math.min(100, until - this.#ctx.clock.elapsed())));
    }
  }

  async #queueUrl(): Promise<string> {
    if (this.#url) return this.#url;
    const [, , , , account, name] = this.#arn.split(':');
    const { QueueUrl } = await this.#client.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
    if (!QueueUrl) throw new Error(`no queue URL for ${this.#arn}`);
    const attrs = await this.#client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout'] }));
    const vt = Number(attrs.Attributes?.['VisibilityTimeout']);
    if (Number.isFinite(vt)) this.#visibilityMs = vt * 1000;
    this.#url = QueueUrl;
    return QueueUrl;
  }

  /** One batch: up to BatchSize messages, gathered for up to MaximumBatchingWindowInSeconds. */
  async #receive(url: string, unfinished: () => number): Promise<Message[]> {
    const config = this.#ctx.mapping().config;
    const batchSize = config.BatchSize ?? 10;
    const windowMs = (config.MaximumBatchingWindowInSeconds ?? 0) * 1000;
    const started = this.#ctx.clock.elapsed();
    const out: Message[] = [];
    let bytes = 0;
    // A short poll first: some peers (moto_server) hold a long poll open until it is full or times out,
    // where AWS answers as soon as anything is there. An empty short poll is followed by long polls.
    let empty = 0;
    for (;;) {
      const left = windowMs - (this.#ctx.clock.elapsed() - started);
      const wait = empty === 0 ? 0 : windowMs > 0 ? Math.max(0, Math.min(MAX_WAIT_S, Math.ceil(left / 1000))) : MAX_WAIT_S;
      const r = await this.#client.send(new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, batchSize - out.length),
        WaitTimeSeconds: wait,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }));
      const got = r.Messages ?? [];
      publishPoll({ uuid: this.#ctx.mapping().uuid, records: got.length, unfinished: unfinished() });
      for (const m of got) {
        out.push(m);
        bytes += Buffer.byteLength(m.Body ?? '') + 1024;
      }
      empty = got.length ? 0 : empty + 1;
      if (out.length >= batchSize || bytes >= MAX_PAYLOAD / 2 || this.#ctx.stopped()) break;
      // Without a window a batch is what one receive returned (after one long poll when empty); with
      // one, keep gathering until it closes.
      if (windowMs === 0 ? got.length > 0 || empty > 1 : this.#ctx.clock.elapsed() - started >= windowMs) break;
    }
    return out;
  }

  async #delete(url: string, messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      const r = await this.#client.send(new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
      }));
      if (r.Failed?.length) this.#ctx.logger.warn(`event source mapping ${this.#ctx.mapping().uuid}: ${r.Failed.length} messages could not be deleted: ${r.Failed[0]!.Message ?? ''}`);
    }
  }

  async #handle(url: string, messages: Message[]): Promise<void> {
    const config = this.#ctx.mapping().config;
    const received = this.#ctx.clock.elapsed();
    const records = messages.map((m) => toRecord(m, this.#arn, this.#region));
    // AWS deletes the messages the filters reject: they never reach the function.
    const filter = compileFilterCriteria(config.FilterCriteria);
    const kept: SqsRecord[] = [];
    const byId = new Map<string, Message>();
    const dropped: Message[] = [];
    records.forEach((r, i) => {
      if (filter && !filter(filterView(r))) dropped.push(messages[i]!);
      else {
        kept.push(r);
        byId.set(r.messageId, messages[i]!);
      }
    });
    if (dropped.length) await this.#delete(url, dropped);
    const uuid = this.#ctx.mapping().uuid;
    if (!kept.length) return publishBatch({ uuid, records: messages.length, outcome: 'filtered' });
    const payload = Buffer.from(JSON.stringify({ Records: kept }));

    let throttles = 0;
    for (;;) {
      // One invocation per batch: it continues the lineage of the batch's first message (AWS's SDKs
      // stamp a function's own trace header on what it sends).
      const outcome = await this.#ctx.invoke(payload, byId.values().next().value?.Attributes?.AWSTraceHeader);
      // Published once the poller has acted on the outcome (deleted, released, or waiting to retry).
      const acted = () => publishBatch({ uuid, records: messages.length, outcome: outcome.kind });
      switch (outcome.kind) {
        case 'ok': {
          if (!(config.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures')) {
            await this.#delete(url, [...byId.values()]);
            this.#ctx.setLastProcessingResult('OK');
            return acted();
          }
          const failed = failedItems(outcome.result.payload, new Set(byId.keys()));
          if (failed === 'all') {
            this.#ctx.setLastProcessingResult('PROBLEM: Function call failed');
            return acted();
          }
          await this.#delete(url, [...byId].filter(([id]) => !failed.has(id)).map(([, m]) => m));
          this.#ctx.setLastProcessingResult('OK');
          return acted();
        }
        case 'function-error':
          // Left for the queue: visible again after its visibility timeout, then redriven by its policy.
          this.#ctx.setLastProcessingResult('PROBLEM: Function call failed');
          return acted();
        case 'fatal':
          // The manager disables the mapping; the batch goes back to the queue untouched.
          await this.#release(url, [...byId.values()]);
          return acted();
        case 'throttled': {
          // Retried while the messages stay invisible; past that the queue hands them out again.
          throttles++;
          if (this.#ctx.stopped() || this.#ctx.clock.elapsed() - received > this.#visibilityMs * THROTTLE_SHARE) {
            await this.#release(url, [...byId.values()]);
            return acted();
          }
          acted();
          await this.#sleep(Math.min(50 * 2 ** Math.min(throttles, 6), 2_000));
          continue;
        }
      }
    }
  }

  /** A batch that never ran (throttled, or the mapping stopped) becomes visible again at once. */
  async #release(url: string, messages: readonly Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      await this.#client.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      })).catch(() => undefined);
    }
  }
}

export const createSqsPoller: PollerFactory = (ctx) => new SqsPoller(ctx);
