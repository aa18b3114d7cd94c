// The poll loop shared by the Kinesis and DynamoDB Streams pollers. A source adapter (kinesis.ts,
// dynamodb-streams.ts) lists shards, hands out shard iterators and turns GetRecords output into Lambda
// event records; everything AWS documents about stream event source mappings lives here:
//
// - one ShardWorker per shard, children started only once their parents are fully processed (AWS
//   processes a parent shard's records before its children's, so per-key order survives resharding);
// - a reader per shard fills up to ParallelizationFactor lanes, records placed by a hash of their
//   partition key, so records with one key stay in order while up to 10 batches per shard run at once;
// - a lane gathers BatchSize records (within MaximumBatchingWindowInSeconds, and under the 6 MB
//   synchronous payload limit) and runs the batch through retries, BisectBatchOnFunctionError,
//   ReportBatchItemFailures, MaximumRetryAttempts and MaximumRecordAgeInSeconds, sending the OnFailure
//   record when it gives up;
// - the checkpoint of a shard advances only over the contiguous prefix of records that are finished
//   (succeeded or given up on), so a restart resumes right after it: nothing checkpointed is processed
//   again and nothing after it is skipped. Records finished out of order in other lanes may be
//   processed again after a restart, which is AWS's at-least-once behaviour too.
import { randomUUID } from 'node:crypto';
import type { BatchOutcome, MappingView, Poller, PollerContext } from './types.js';
import { publishBatch, publishPoll } from './diagnostics.js';

/** One record as a lane needs it: the Lambda event record plus what batching and ordering look at. */
export interface StreamRecord {
  readonly sequenceNumber: string;
  /** Records with one key stay in order across ParallelizationFactor lanes. */
  readonly partitionKey: string;
  /** When the record reached the stream (epoch ms): record age, tumbling windows, OnFailure batch info. */
  readonly arrivalMs: number;
  /** The element of the event's `Records` array. */
  readonly event: Readonly<Record<string, unknown>>;
  /** Bytes the record adds to the invoke payload. */
  readonly size: number;
}

export interface ShardDescription {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  /** Set on a closed shard (after a reshard): no record will follow this one. */
  readonly endingSequenceNumber: string | undefined;
}

export type IteratorPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

export interface RecordsPage {
  readonly records: readonly StreamRecord[];
  /** Undefined once a closed shard has been read to its end. */
  readonly nextIterator: string | undefined;
}

/** What differs between Kinesis and DynamoDB Streams. */
export interface StreamSource {
  /** For logs and LastProcessingResult. */
  readonly serviceName: string;
  /** The OnFailure record's batch info key: KinesisBatchInfo or DDBStreamBatchInfo. */
  readonly batchInfoKey: string;
  /** GetRecords' upper Limit (Kinesis 10000, DynamoDB Streams 1000). */
  readonly maxGetRecordsLimit: number;
  listShards(): Promise<ShardDescription[]>;
  getIterator(shardId: string, position: IteratorPosition): Promise<string>;
  getRecords(shardId: string, iterator: string, limit: number): Promise<RecordsPage>;
  /** ExpiredIteratorException (iterators live 5 minutes on AWS): the reader asks for a new one. */
  isExpiredIterator(error: unknown): boolean;
  /** The OnFailure record's approximateArrivalOf... timestamps. */
  formatArrival(ms: number): string;
  close(): void;
}

/** The checkpoint value of a closed shard whose records are all finished: its children may start. */
export const SHARD_END = 'SHARD_END';

/** AWS's synchronous invocation payload limit; a batch is cut before it. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 1024;
const SHARD_REFRESH_MS = 10_000;
const EMPTY_BACKOFF_MIN_MS = 200;
const EMPTY_BACKOFF_MAX_MS = 1_000;
const ERROR_BACKOFF_MS = 1_000;
const RETRY_BACKOFF_MIN_MS = 100;
const RETRY_BACKOFF_MAX_MS = 2_000;

/** The mapping's stream settings with AWS's defaults (BatchSize 100, unlimited retries and age). */
export interface StreamSettings {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly parallelization: number;
  readonly maxRetryAttempts: number;
  readonly maxRecordAgeMs: number;
  readonly bisect: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly tumblingWindowMs: number;
  readonly startingPosition: IteratorPosition;
}

function toDate(v: unknown): Date | undefined {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v < 1e11 ? v * 1000 : v);
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? toDate(n) : new Date(v);
  }
  return undefined;
}

export function streamSettings(view: MappingView): StreamSettings {
  const c = view.config;
  const pos = c.StartingPosition ?? 'LATEST';
  let startingPosition: IteratorPosition;
  if (pos === 'AT_TIMESTAMP') {
    const ts = toDate(c.StartingPositionTimestamp as unknown);
    startingPosition = ts ? { type: 'AT_TIMESTAMP', timestamp: ts } : { type: 'LATEST' };
  } else {
    startingPosition = { type: pos === 'TRIM_HORIZON' ? 'TRIM_HORIZON' : 'LATEST' };
  }
  const tumblingWindowMs = (c.TumblingWindowInSeconds ?? 0) * 1000;
  return {
    batchSize: Math.max(1, c.BatchSize ?? 100),
    batchingWindowMs: (c.MaximumBatchingWindowInSeconds ?? 0) * 1000,
    // AWS keeps a window's state per shard; lambdalite runs one lane per shard when windows are on.
    parallelization: tumblingWindowMs > 0 ? 1 : Math.min(10, Math.max(1, c.ParallelizationFactor ?? 1)),
    maxRetryAttempts: c.MaximumRetryAttempts ?? -1,
    maxRecordAgeMs: c.MaximumRecordAgeInSeconds === undefined || c.MaximumRecordAgeInSeconds < 0 ? -1 : c.MaximumRecordAgeInSeconds * 1000,
    bisect: c.BisectBatchOnFunctionError ?? false,
    reportBatchItemFailures: (c.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
    tumblingWindowMs,
    startingPosition,
  };
}

/** Wakes waiters early (new records, a finished batch, a stop) instead of making them poll. */
class Signal {
  #waiters: Array<() => void> = [];
  notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
  wait(ctx: PollerContext, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        ctx.clock.clearTimeout(timer);
        const i = this.#waiters.indexOf(finish);
        if (i !== -1) this.#waiters.splice(i, 1);
        resolve();
      };
      // Never sleep longer than 200 ms without looking at ctx.stopped().
      const timer = ctx.clock.setTimeout(finish, Math.max(0, Math.min(ms, 200)));
      this.#waiters.push(finish);
    });
  }
}

async function sleep(ctx: PollerContext, ms: number): Promise<void> {
  const deadline = ctx.clock.elapsed() + ms;
  const signal = new Signal();
  while (!ctx.stopped()) {
    const left = deadline - ctx.clock.elapsed();
    if (left <= 0) return;
    await signal.wait(ctx, left);
  }
}

const seqLess = (a: string, b: string) => BigInt(a) < BigInt(b);

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Records of a shard in read order; the checkpoint moves over the finished prefix only, so a restart
 * never skips a record that a slower lane had not finished yet.
 */
class Progress {
  readonly #entries: Array<{ seq: string; done: boolean }> = [];
  readonly #bySeq = new Map<string, { seq: string; done: boolean }>();
  #head = 0;
  constructor(readonly onAdvance: (seq: string) => void) {}
  add(seq: string): void {
    const e = { seq, done: false };
    this.#entries.push(e);
    this.#bySeq.set(seq, e);
  }
  get pending(): number {
    return this.#entries.length - this.#head;
  }
  finish(seqs: readonly string[]): void {
    for (const s of seqs) {
      const e = this.#bySeq.get(s);
      if (e) e.done = true;
    }
    let last: string | undefined;
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.done) {
      const e = this.#entries[this.#head++]!;
      this.#bySeq.delete(e.seq);
      last = e.seq;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
    if (last !== undefined) this.onAdvance(last);
  }
}

interface Window {
  readonly start: number;
  readonly end: number;
  state: unknown;
}

type BatchEnd = 'done' | 'stopped' | 'fatal';

/** Reads one shard and runs its batches through the mapped function. */
class ShardWorker {
  readonly #ctx: PollerContext;
  readonly #source: StreamSource;
  readonly #shard: ShardDescription;
  readonly #settings: StreamSettings;
  readonly #lanes: StreamRecord[][];
  readonly #signal = new Signal();
  readonly #progress: Progress;
  #readerDone = false;
  #fatal = false;
  #reachedEnd = false;
  #lastRead: string | undefined;
  /** Per lane: when its oldest queued record was queued (for MaximumBatchingWindowInSeconds). */
  readonly #queuedSince: Array<number | undefined>;
  #window: Window | undefined;

  constructor(ctx: PollerContext, source: StreamSource, shard: ShardDescription, settings: StreamSettings, private readonly onFatal: () => void) {
    this.#ctx = ctx;
    this.#source = source;
    this.#shard = shard;
    this.#settings = settings;
    this.#lanes = Array.from({ length: settings.parallelization }, () => []);
    this.#queuedSince = Array.from({ length: settings.parallelization }, () => undefined);
    this.#progress = new Progress((seq) => ctx.checkpoints.put(shard.shardId, seq));
  }

  get shardId(): string {
    return this.#shard.shardId;
  }

  /** Resolves when stopped or, for a closed shard, once all of its records are finished (true). */
  async run(): Promise<boolean> {
    const lanes = this.#lanes.map((_, i) => this.#lane(i));
    await this.#read();
    this.#readerDone = true;
    this.#signal.notify();
    await Promise.all(lanes);
    const finished = this.#reachedEnd && this.#progress.pending === 0 && !this.#fatal && !this.#ctx.stopped();
    if (finished) this.#ctx.checkpoints.put(this.#shard.shardId, SHARD_END);
    return finished;
  }

  #startPosition(): IteratorPosition {
    if (this.#lastRead !== undefined) return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: this.#lastRead };
    const cp = this.#ctx.checkpoints.get(this.#shard.shardId);
    if (cp !== undefined) return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: cp };
    // A child shard (and any shard found after the mapping started) is read from its beginning, as AWS
    // does, so no record written after the mapping's start is lost across a reshard.
    if (this.#startedLate) return { type: 'TRIM_HORIZON' };
    return this.#settings.startingPosition;
  }

  #startedLate = false;
  markStartedLate(): void {
    this.#startedLate = true;
  }

  #buffered(): number {
    let n = 0;
    for (const l of this.#lanes) n += l.length;
    return n;
  }

  async #read(): Promise<void> {
    const ctx = this.#ctx;
    const s = this.#settings;
    const limit = Math.min(this.#source.maxGetRecordsLimit, Math.max(s.batchSize * s.parallelization, 500));
    const cap = Math.max(limit * 2, s.batchSize * s.parallelization * 2);
    let iterator: string | undefined;
    let emptyBackoff = EMPTY_BACKOFF_MIN_MS;
    let failures = 0;
    while (!ctx.stopped() && !this.#fatal) {
      if (this.#buffered() >= cap) {
        await this.#signal.wait(ctx, 200);
        continue;
      }
      let page: RecordsPage;
      try {
        iterator ??= await this.#source.getIterator(this.#shard.shardId, this.#startPosition());
        page = await this.#source.getRecords(this.#shard.shardId, iterator, limit);
      } catch (e) {
        if (this.#source.isExpiredIterator(e)) {
          iterator = undefined;
          continue;
        }
        iterator = undefined;
        // A missing stream fails every second; say so once a minute, not every time.
        if (failures++ % 60 === 0) ctx.logger.warn(`event source mapping ${ctx.mapping().uuid}: reading ${this.#source.serviceName} shard ${this.#shard.shardId} failed: ${(e as Error).name}: ${(e as Error).message}`);
        ctx.setLastProcessingResult(`PROBLEM: ${this.#source.serviceName} GetRecords failed: ${(e as Error).name}`);
        await sleep(ctx, ERROR_BACKOFF_MS);
        continue;
      }
      failures = 0;
      publishPoll({ uuid: ctx.mapping().uuid, shardId: this.#shard.shardId, records: page.records.length, unfinished: this.#progress.pending });
      for (const r of page.records) {
        // A stream can repeat records after an iterator was renewed; the order is by sequence number.
        if (this.#lastRead !== undefined && !seqLess(this.#lastRead, r.sequenceNumber)) continue;
        this.#progress.add(r.sequenceNumber);
        const lane = s.parallelization === 1 ? 0 : fnv1a(r.partitionKey) % s.parallelization;
        if (this.#lanes[lane]!.length === 0) this.#queuedSince[lane] = ctx.clock.elapsed();
        this.#lanes[lane]!.push(r);
        this.#lastRead = r.sequenceNumber;
      }
      if (page.records.length) this.#signal.notify();
      iterator = page.nextIterator;
      if (iterator === undefined) {
        this.#reachedEnd = true;
        return;
      }
      if (page.records.length === 0) {
        if (this.#closedAndRead()) {
          this.#reachedEnd = true;
          return;
        }
        await sleep(ctx, emptyBackoff);
        emptyBackoff = Math.min(EMPTY_BACKOFF_MAX_MS, emptyBackoff * 2);
      } else {
        emptyBackoff = EMPTY_BACKOFF_MIN_MS;
      }
    }
  }

  /**
   * Some emulators never end a closed shard's iterator; a closed shard read up to its
   * EndingSequenceNumber is treated as ended.
   */
  #closedAndRead(): boolean {
    const end = this.#shard.endingSequenceNumber;
    if (end === undefined) return false;
    const at = this.#lastRead ?? this.#ctx.checkpoints.get(this.#shard.shardId);
    if (at === undefined) return this.#settings.startingPosition.type === 'LATEST' && !this.#startedLate;
    return !seqLess(at, end);
  }

  async #lane(i: number): Promise<void> {
    const ctx = this.#ctx;
    const s = this.#settings;
    const queue = this.#lanes[i]!;
    while (!ctx.stopped() && !this.#fatal) {
      if (s.tumblingWindowMs > 0 && this.#window && ctx.clock.now() >= this.#window.end && (queue.length === 0 || queue[0]!.arrivalMs >= this.#window.end)) {
        if ((await this.#finalInvoke(this.#window)) !== 'done') return;
        continue;
      }
      if (queue.length === 0) {
        if (this.#readerDone) return;
        await this.#signal.wait(ctx, 200);
        continue;
      }
      if (queue.length < s.batchSize && s.batchingWindowMs > 0 && !this.#readerDone) {
        const waited = ctx.clock.elapsed() - (this.#queuedSince[i] ?? 0);
        if (waited < s.batchingWindowMs) {
          await this.#signal.wait(ctx, s.batchingWindowMs - waited);
          continue;
        }
      }
      const batch = this.#take(queue);
      this.#queuedSince[i] = queue.length ? ctx.clock.elapsed() : undefined;
      this.#signal.notify(); // the reader may be waiting for buffer space
      const end = await this.#runBatch(batch);
      if (end !== 'done') return;
    }
  }

  #take(queue: StreamRecord[]): StreamRecord[] {
    const s = this.#settings;
    let n = 0;
    let bytes = 0;
    const windowStart = s.tumblingWindowMs > 0 ? this.#windowStart(queue[0]!.arrivalMs) : undefined;
    while (n < queue.length && n < s.batchSize) {
      const r = queue[n]!;
      if (n > 0 && bytes + r.size + 1 > MAX_PAYLOAD_BYTES) break;
      if (windowStart !== undefined && this.#windowStart(r.arrivalMs) !== windowStart) break;
      bytes += r.size + 1;
      n++;
    }
    return queue.splice(0, n);
  }

  #windowStart(ms: number): number {
    return Math.floor(ms / this.#settings.tumblingWindowMs) * this.#settings.tumblingWindowMs;
  }

  /** The event for `records`, with the tumbling window fields when windows are on. */
  #payload(records: readonly StreamRecord[], window: Window | undefined, final: boolean): Buffer {
    const event: Record<string, unknown> = { Records: records.map((r) => r.event) };
    if (window) {
      event['window'] = { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() };
      event['state'] = window.state ?? {};
      event['shardId'] = this.#shard.shardId;
      event['eventSourceARN'] = this.#ctx.mapping().config.EventSourceArn;
      event['isFinalInvokeForWindow'] = final;
      event['isWindowTerminatedEarly'] = false;
    }
    return Buffer.from(JSON.stringify(event));
  }

  /** The window `records` belong to; a record of a later window first closes the current one. */
  async #windowFor(records: readonly StreamRecord[]): Promise<Window | 'stopped' | 'fatal'> {
    const start = this.#windowStart(records[0]!.arrivalMs);
    if (this.#window && this.#window.start !== start) {
      const end = await this.#finalInvoke(this.#window);
      if (end !== 'done') return end;
    }
    this.#window ??= { start, end: start + this.#settings.tumblingWindowMs, state: {} };
    return this.#window;
  }

  async #finalInvoke(window: Window): Promise<BatchEnd> {
    const end = await this.#attempt([], window, true);
    if (end === 'done' && this.#window === window) this.#window = undefined;
    return end;
  }

  async #runBatch(batch: StreamRecord[]): Promise<BatchEnd> {
    let window: Window | undefined;
    if (this.#settings.tumblingWindowMs > 0) {
      const w = await this.#windowFor(batch);
      if (w === 'stopped' || w === 'fatal') return w;
      window = w;
    }
    return this.#attempt(batch, window, false);
  }

  /**
   * One batch through AWS's stream error handling. Throttles are retried without counting; function
   * errors are retried up to MaximumRetryAttempts (-1: until the records expire), bisected first when
   * BisectBatchOnFunctionError is on (a split does not count as a retry); ReportBatchItemFailures
   * finishes the records before the lowest reported sequence number and retries from it.
   */
  async #attempt(records: StreamRecord[], window: Window | undefined, final: boolean, retriesUsed = 0, invokedBefore = 0): Promise<BatchEnd> {
    const ctx = this.#ctx;
    const s = this.#settings;
    let retries = retriesUsed;
    let invokes = invokedBefore;
    let backoff = RETRY_BACKOFF_MIN_MS;
    let throttleBackoff = RETRY_BACKOFF_MIN_MS;
    let last: BatchOutcome | undefined;
    for (;;) {
      if (ctx.stopped()) return 'stopped';
      if (s.maxRecordAgeMs >= 0 && records.length) {
        const now = ctx.clock.now();
        const expired = records.findIndex((r) => now - r.arrivalMs <= s.maxRecordAgeMs);
        const cut = expired === -1 ? records.length : expired;
        if (cut > 0) {
          const old = records.slice(0, cut);
          records = records.slice(cut);
          await this.#giveUp(old, 'RecordAgeExceeded', last, invokes);
          if (records.length === 0) return 'done';
        }
      }
      const outcome = await ctx.invoke(this.#payload(records, window, final));
      publishBatch({ uuid: ctx.mapping().uuid, shardId: this.#shard.shardId, records: records.length, outcome: outcome.kind });
      if (outcome.kind === 'fatal') {
        ctx.logger.warn(`event source mapping ${ctx.mapping().uuid}: cannot invoke the function: ${outcome.message}`);
        ctx.setLastProcessingResult(`PROBLEM: Function call failed: ${outcome.message}`);
        this.#fatal = true;
        this.onFatal();
        return 'fatal';
      }
      if (outcome.kind === 'throttled') {
        ctx.setLastProcessingResult('PROBLEM: Function call throttled');
        await sleep(ctx, throttleBackoff);
        throttleBackoff = Math.min(RETRY_BACKOFF_MAX_MS, throttleBackoff * 2);
        continue;
      }
      invokes++;
      last = outcome;
      let failedFrom: number | undefined; // index of the first record to retry
      if (outcome.kind === 'ok') {
        const response = parseResponse(outcome.result.payload);
        if (s.reportBatchItemFailures) failedFrom = firstFailed(response, records);
        if (failedFrom === undefined) {
          if (window) window.state = stateOf(response) ?? window.state;
          this.#finish(records);
          ctx.setLastProcessingResult('OK');
          return 'done';
        }
        if (failedFrom > 0) {
          this.#finish(records.slice(0, failedFrom));
          records = records.slice(failedFrom);
        }
      }
      ctx.setLastProcessingResult('PROBLEM: Function call failed');
      if (outcome.kind === 'function-error' && s.bisect && records.length > 1) {
        const half = Math.ceil(records.length / 2);
        const first = await this.#attempt(records.slice(0, half), window, final, retries, invokes);
        if (first !== 'done') return first;
        return this.#attempt(records.slice(half), window, final, retries, invokes);
      }
      retries++;
      if (s.maxRetryAttempts >= 0 && retries > s.maxRetryAttempts) {
        await this.#giveUp(records, 'RetryAttemptsExhausted', last, invokes);
        return 'done';
      }
      await sleep(ctx, backoff);
      backoff = Math.min(RETRY_BACKOFF_MAX_MS, backoff * 2);
    }
  }

  #finish(records: readonly StreamRecord[]): void {
    if (records.length) this.#progress.finish(records.map((r) => r.sequenceNumber));
  }

  /** Sends AWS's OnFailure record for `records` (when a destination is configured) and moves past them. */
  async #giveUp(records: readonly StreamRecord[], condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded', last: BatchOutcome | undefined, invokes: number): Promise<void> {
    const ctx = this.#ctx;
    const first = records[0];
    const lastRecord = records[records.length - 1];
    if (!first || !lastRecord) return;
    const view = ctx.mapping();
    const result = last && last.kind !== 'throttled' && last.kind !== 'fatal' ? last : undefined;
    const record: Record<string, unknown> = {
      requestContext: {
        requestId: result?.result.requestId ?? randomUUID(),
        functionArn: view.config.FunctionArn,
        condition,
        approximateInvokeCount: invokes,
      },
      responseContext: {
        statusCode: result ? 200 : 0,
        executedVersion: result?.executedVersion ?? '',
        functionError: result?.result.functionError ?? '',
      },
      version: '1.0',
      timestamp: new Date(ctx.clock.now()).toISOString(),
      [this.#source.batchInfoKey]: {
        shardId: this.#shard.shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: lastRecord.sequenceNumber,
        approximateArrivalOfFirstRecord: this.#source.formatArrival(first.arrivalMs),
        approximateArrivalOfLastRecord: this.#source.formatArrival(lastRecord.arrivalMs),
        batchSize: records.length,
        streamArn: view.config.EventSourceArn,
      },
    };
    if (view.config.DestinationConfig?.OnFailure?.Destination) {
      for (let attempt = 1; ; attempt++) {
        try {
          await ctx.sendOnFailure(record);
          break;
        } catch (e) {
          if (attempt >= 3 || ctx.stopped()) {
            // AWS drops the records when the destination cannot take them; say so loudly.
            ctx.logger.error(`event source mapping ${view.uuid}: could not send the OnFailure record for ${records.length} records of ${this.#shard.shardId} (${first.sequenceNumber}..${lastRecord.sequenceNumber})`, e);
            break;
          }
          await sleep(ctx, 200 * attempt);
        }
      }
    }
    this.#finish(records);
  }
}

function parseResponse(payload: Buffer): unknown {
  if (payload.length === 0) return undefined;
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function stateOf(response: unknown): unknown {
  return response && typeof response === 'object' && 'state' in response ? (response as { state: unknown }).state : undefined;
}

/**
 * ReportBatchItemFailures for streams: the index of the lowest reported sequence number, or 0 (the
 * whole batch failed) when an entry is malformed or names a record not in the batch; undefined when
 * nothing failed (no response, no or an empty batchItemFailures list).
 */
function firstFailed(response: unknown, records: readonly StreamRecord[]): number | undefined {
  if (!response || typeof response !== 'object') return undefined;
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return undefined;
  if (!Array.isArray(failures)) return 0;
  if (failures.length === 0) return undefined;
  let lowest: number | undefined;
  for (const f of failures) {
    const id = f && typeof f === 'object' ? (f as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') return 0;
    const i = records.findIndex((r) => r.sequenceNumber === id);
    if (i === -1) return 0;
    lowest = lowest === undefined ? i : Math.min(lowest, i);
  }
  return lowest;
}

/** Runs shard workers for a stream until the manager stops the poller. */
export class StreamPoller implements Poller {
  readonly #ctx: PollerContext;
  readonly #source: StreamSource;
  readonly #workers = new Map<string, Promise<void>>();
  readonly #finished = new Set<string>();
  #fatal = false;
  #firstListing = true;
  /** A worker ended: list again at once, so the children of a finished shard start promptly. */
  #relist = false;

  constructor(ctx: PollerContext, source: StreamSource) {
    this.#ctx = ctx;
    this.#source = source;
  }

  async run(): Promise<void> {
    const ctx = this.#ctx;
    const wake = new Signal();
    try {
      let nextRefresh = 0;
      let listedOnce = false;
      while (!ctx.stopped() && !this.#fatal) {
        if (this.#relist || ctx.clock.elapsed() >= nextRefresh) {
          this.#relist = false;
          try {
            const shards = await this.#source.listShards();
            this.#startReady(shards, () => wake.notify());
            listedOnce = true;
            nextRefresh = ctx.clock.elapsed() + SHARD_REFRESH_MS;
          } catch (e) {
            ctx.logger.warn(`event source mapping ${ctx.mapping().uuid}: listing ${this.#source.serviceName} shards failed: ${(e as Error).name}: ${(e as Error).message}`);
            ctx.setLastProcessingResult(`PROBLEM: ${this.#source.serviceName} stream not readable: ${(e as Error).name}`);
            nextRefresh = ctx.clock.elapsed() + (listedOnce ? SHARD_REFRESH_MS : ERROR_BACKOFF_MS);
          }
        }
        await wake.wait(ctx, Math.max(0, nextRefresh - ctx.clock.elapsed()));
      }
      // After a fatal outcome the manager disables the mapping; wait for it to say stop.
      while (!ctx.stopped()) await sleep(ctx, 200);
    } finally {
      await Promise.all(this.#workers.values());
      this.#source.close();
    }
  }

  #startReady(shards: readonly ShardDescription[], onWorkerEnd: () => void): void {
    const ctx = this.#ctx;
    const known = new Set(shards.map((s) => s.shardId));
    const settings = streamSettings(ctx.mapping());
    for (const shard of shards) {
      if (this.#workers.has(shard.shardId) || this.#finished.has(shard.shardId)) continue;
      if (ctx.checkpoints.get(shard.shardId) === SHARD_END) {
        this.#finished.add(shard.shardId);
        continue;
      }
      // A parent that is no longer listed has expired; one still listed must be finished first.
      const blocked = shard.parentShardIds.some((p) => known.has(p) && !this.#finished.has(p) && ctx.checkpoints.get(p) !== SHARD_END);
      if (blocked) continue;
      const worker = new ShardWorker(ctx, this.#source, shard, settings, () => { this.#fatal = true; onWorkerEnd(); });
      // Shards that appear after the first listing (children of a reshard) start at their beginning.
      if (!this.#firstListing || shard.parentShardIds.some((p) => known.has(p))) worker.markStartedLate();
      const p = worker.run().then(
        (finished) => {
          if (finished) {
            this.#finished.add(shard.shardId);
            this.#relist = true;
          }
        },
        (e: unknown) => ctx.logger.error(`event source mapping ${ctx.mapping().uuid}: shard ${shard.shardId} worker failed`, e),
      ).finally(() => {
        this.#workers.delete(shard.shardId);
        onWorkerEnd();
      });
      this.#workers.set(shard.shardId, p);
    }
    this.#firstListing = false;
  }
}
