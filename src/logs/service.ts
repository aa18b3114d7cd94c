// CloudWatch Logs operations over the log store: groups, streams, events, retention, with AWS's
// shapes, errors and pagination tokens. GetLogEvents tokens are AWS's `f/<56 digits>/s` and
// `b/<56 digits>/s`; the digits are a position in the stream (timestamp, then arrival), the same
// digits AWS's FilterLogEvents uses as `eventId`.
import type http from 'node:http';
import type { Clock } from '../shared/clock.js';
import type { Identity } from '../api/identity.js';
import type { WireResponse } from '../api/codec.js';
import type { OperationTypes } from './generated/types.js';
import type { LogsOperationName } from './generated/model.js';
import { LogStore, type GroupScope, type LogEventRow, type LogGroupRow, type LogStreamRow, type Position } from './store.js';
import { compileFilterPattern, FilterPatternError, type Matcher } from './filter-pattern.js';
import { CONTENT_TYPE, LogsError, logsErrors, operationOf, readInput, jsonResponse, errorResponse, groupArn } from './protocol.js';
export { isStreamingResponse, isLogsRequest } from './protocol.js';
import { startLiveTail } from './live-tail.js';

export interface LogsRequest {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly identity: Identity;
  readonly requestId: string;
}

type Handler<N extends LogsOperationName> = (input: OperationTypes[N]['input'], scope: GroupScope, req: LogsRequest) => OperationTypes[N]['output'] | WireResponse | void;
type Handlers = { readonly [N in LogsOperationName]?: Handler<N> };

/** The retention periods PutRetentionPolicy accepts (its model declares only an integer). */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const DEFAULT_EVENTS_LIMIT = 10_000;
const MAX_LIVE_TAILS = 15;
/** GetLogEvents and FilterLogEvents answer at most 1 MB of events. */
const MAX_RESPONSE_BYTES = 1_048_576;
/** FilterLogEvents examines at most this many events per call and answers a nextToken for the rest. */
const FILTER_SCAN = 10_000;
/** PutLogEvents: events more than 14 days old or 2 hours ahead are rejected, as on AWS. */
const TOO_OLD_MS = 14 * 86_400_000;
const TOO_NEW_MS = 2 * 3_600_000;

function positionDigits(p: Position): string {
  return String(p.ts).padStart(20, '0') + String(p.id).padStart(36, '0');
}

function digitsPosition(d: string): Position {
  return { ts: Number(d.slice(0, 20)), id: Number(d.slice(20)) };
}

function invalidToken(): LogsError {
  return logsErrors.invalidParameter('The specified nextToken is invalid.');
}

function encodeToken(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

function decodeToken<T>(token: string, check: (v: unknown) => v is T): T {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (check(v)) return v;
  } catch {
    // falls through to the error
  }
  throw invalidToken();
}

const isPosition = (v: unknown): v is Position =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as Position).ts) && Number.isSafeInteger((v as Position).id);

export class LogsService {
  readonly #store: LogStore;
  readonly #clock: Clock;
  readonly #handlers: Handlers;
  readonly #sessions = new Set<() => void>();

  constructor(store: LogStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    this.#handlers = {
      CreateLogGroup: (i, s) => this.#createGroup(i, s),
      DescribeLogGroups: (i, s) => this.#describeGroups(i, s),
      DeleteLogGroup: (i, s) => this.#store.deleteGroup(s, this.#group(s, i.logGroupName)),
      PutRetentionPolicy: (i, s) => this.#putRetention(i, s),
      DeleteRetentionPolicy: (i, s) => this.#store.setRetention(this.#group(s, i.logGroupName).id, null),
      CreateLogStream: (i, s) => this.#createStream(i, s),
      DescribeLogStreams: (i, s) => this.#describeStreams(i, s),
      DeleteLogStream: (i, s) => {
        const g = this.#group(s, i.logGroupName);
        this.#store.deleteStream(s, g, this.#stream(g, i.logStreamName));
      },
      PutLogEvents: (i, s) => this.#putEvents(i, s),
      GetLogEvents: (i, s) => this.#getEvents(i, s),
      FilterLogEvents: (i, s) => this.#filterEvents(i, s),
      StartLiveTail: (i, s, req) => this.#liveTail(i, s, req),
    };
  }

  /** Answers one request; never throws. */
  handle(req: LogsRequest): WireResponse {
    try {
      const op = operationOf(req.headers);
      const handler = this.#handlers[op.name] as ((input: unknown, scope: GroupScope, req: LogsRequest) => unknown) | undefined;
      if (!handler) throw new LogsError('ServiceUnavailableException', `lambdalite does not implement the ${op.name} operation yet.`, 501);
      const input = readInput(op, req.body);
      const out = handler(input, { accountId: req.identity.accountId, region: req.identity.region }, req);
      if (out !== undefined && typeof (out as WireResponse).status === 'number' && 'headers' in (out as object)) return out as WireResponse;
      // Operations without an output shape answer an empty body, as AWS's JSON services do.
      if (op.output === null) return { status: 200, headers: { 'content-type': CONTENT_TYPE }, body: undefined };
      return jsonResponse(out);
    } catch (e) {
      if (e instanceof LogsError) return errorResponse(e);
      throw e;
    }
  }

  // ---- groups ----------------------------------------------------------------------------------

  #group(scope: GroupScope, name: string | undefined, identifier?: string): LogGroupRow {
    if (name !== undefined && identifier !== undefined) {
      throw logsErrors.invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    }
    let groupName = name;
    if (identifier !== undefined) {
      // A name, or an ARN of this account and region (with or without the trailing `:*`).
      const m = /^arn:aws[\w-]*:logs:([\w-]+):(\d{12}):log-group:([^:]+)(:\*)?$/.exec(identifier);
      if (m && (m[1] !== scope.region || m[2] !== scope.accountId)) throw logsErrors.groupNotFound();
      groupName = m ? m[3] : identifier;
    }
    if (groupName === undefined) throw logsErrors.invalidParameter('Either the LogGroup name or LogGroup ARN must be specified.');
    const g = this.#store.getGroup(scope, groupName);
    if (!g) throw logsErrors.groupNotFound();
    return g;
  }

  #createGroup(i: OperationTypes['CreateLogGroup']['input'], scope: GroupScope): void {
    if (this.#store.getGroup(scope, i.logGroupName)) throw logsErrors.exists('The specified log group already exists');
    this.#store.createGroup(scope, i.logGroupName);
  }

  #describeGroups(i: OperationTypes['DescribeLogGroups']['input'], scope: GroupScope): OperationTypes['DescribeLogGroups']['output'] {
    if (i.logGroupNamePrefix !== undefined && i.logGroupNamePattern !== undefined) {
      throw logsErrors.invalidParameter('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
    }
    const limit = i.limit ?? 50;
    let after = i.nextToken !== undefined ? decodeToken(i.nextToken, (v): v is string => typeof v === 'string') : '';
    const pattern = i.logGroupNamePattern?.toLowerCase();
    const wanted = new Set(i.logGroupIdentifiers ?? []);
    const out: LogGroupRow[] = [];
    let more = false;
    // Pattern and identifier filters are applied after the prefix scan, a page of names at a time.
    for (;;) {
      const page = this.#store.listGroups(scope, i.logGroupNamePrefix ?? '', after, limit + 1);
      for (const g of page) {
        if (out.length === limit) {
          more = true;
          break;
        }
        after = g.name;
        if (pattern !== undefined && !g.name.toLowerCase().includes(pattern)) continue;
        if (wanted.size && !wanted.has(g.name) && !wanted.has(groupArn(scope, g.name))) continue;
        out.push(g);
      }
      if (more || page.length < limit + 1) break;
    }
    const logGroups = out.map((g) => ({
      logGroupName: g.name,
      creationTime: g.created,
      ...(g.retentionDays !== null ? { retentionInDays: g.retentionDays } : {}),
      metricFilterCount: 0,
      arn: `${groupArn(scope, g.name)}:*`,
      storedBytes: g.storedBytes,
      logGroupClass: 'STANDARD' as const,
      logGroupArn: groupArn(scope, g.name),
    }));
    return more ? { logGroups, nextToken: encodeToken(out[out.length - 1]!.name) } : { logGroups };
  }

  #putRetention(i: OperationTypes['PutRetentionPolicy']['input'], scope: GroupScope): void {
    if (!(RETENTION_DAYS as readonly number[]).includes(i.retentionInDays)) {
      throw logsErrors.invalidParameter(
        `1 validation error detected: Value '${i.retentionInDays}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
      );
    }
    this.#store.setRetention(this.#group(scope, i.logGroupName).id, i.retentionInDays);
    // Enforced from now on, not only at the next periodic sweep.
    this.#store.sweep();
  }

  // ---- streams ---------------------------------------------------------------------------------

  #stream(group: LogGroupRow, name: string): LogStreamRow {
    const s = this.#store.getStream(group.id, name);
    if (!s) throw logsErrors.streamNotFound();
    return s;
  }

  #createStream(i: OperationTypes['CreateLogStream']['input'], scope: GroupScope): void {
    const g = this.#group(scope, i.logGroupName);
    if (this.#store.getStream(g.id, i.logStreamName)) throw logsErrors.exists('The specified log stream already exists');
    this.#store.createStream(g.id, i.logStreamName);
  }

  #describeStreams(i: OperationTypes['DescribeLogStreams']['input'], scope: GroupScope): OperationTypes['DescribeLogStreams']['output'] {
    const g = this.#group(scope, i.logGroupName, i.logGroupIdentifier);
    const byTime = i.orderBy === 'LastEventTime';
    if (byTime && i.logStreamNamePrefix !== undefined) {
      throw logsErrors.invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
    }
    const limit = i.limit ?? 50;
    const offset = i.nextToken !== undefined ? decodeToken(i.nextToken, (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) : 0;
    const all = this.#store.streams(g.id, i.logStreamNamePrefix ?? '');
    if (byTime) all.sort((a, b) => (a.lastTs ?? a.created) - (b.lastTs ?? b.created) || a.id - b.id);
    if (i.descending) all.reverse();
    const page = all.slice(offset, offset + limit);
    const logStreams = page.map((s) => ({
      logStreamName: s.name,
      creationTime: s.created,
      ...(s.firstTs !== null ? { firstEventTimestamp: s.firstTs } : {}),
      ...(s.lastTs !== null ? { lastEventTimestamp: s.lastTs } : {}),
      ...(s.lastIngest !== null ? { lastIngestionTime: s.lastIngest } : {}),
      arn: `${groupArn(scope, g.name)}:log-stream:${s.name}`,
      // Deprecated by AWS in 2019 and always reported as zero for streams.
      storedBytes: 0,
    }));
    return offset + limit < all.length ? { logStreams, nextToken: encodeToken(offset + limit) } : { logStreams };
  }

  // ---- events ----------------------------------------------------------------------------------

  #putEvents(i: OperationTypes['PutLogEvents']['input'], scope: GroupScope): OperationTypes['PutLogEvents']['output'] {
    const g = this.#group(scope, i.logGroupName);
    this.#stream(g, i.logStreamName);
    const events = i.logEvents;
    for (let k = 1; k < events.length; k++) {
      if (events[k]!.timestamp < events[k - 1]!.timestamp) {
        throw logsErrors.invalidParameter('Log events in a single PutLogEvents request must be in chronological order.');
      }
    }
    if (events.length && events[events.length - 1]!.timestamp - events[0]!.timestamp > 86_400_000) {
      throw logsErrors.invalidParameter('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
    }
    const now = this.#clock.now();
    const keepDays = g.retentionDays;
    let tooOldEnd: number | undefined;
    let expiredEnd: number | undefined;
    let tooNewStart: number | undefined;
    const accepted: { ts: number; message: string }[] = [];
    events.forEach((e, k) => {
      if (keepDays !== null && e.timestamp < now - keepDays * 86_400_000) expiredEnd = k + 1;
      else if (e.timestamp < now - TOO_OLD_MS) tooOldEnd = k + 1;
      else if (e.timestamp > now + TOO_NEW_MS) tooNewStart ??= k;
      else accepted.push({ ts: e.timestamp, message: e.message });
    });
    this.#store.put({ ...scope, group: g.name, stream: i.logStreamName }, accepted);
    const rejected = {
      ...(tooNewStart !== undefined ? { tooNewLogEventStartIndex: tooNewStart } : {}),
      ...(tooOldEnd !== undefined ? { tooOldLogEventEndIndex: tooOldEnd } : {}),
      ...(expiredEnd !== undefined ? { expiredLogEventEndIndex: expiredEnd } : {}),
    };
    // The sequence token is obsolete (AWS ignores it since 2023) but still answered.
    const out: OperationTypes['PutLogEvents']['output'] = { nextSequenceToken: positionDigits({ ts: now, id: 0 }) };
    if (Object.keys(rejected).length) out.rejectedLogEventsInfo = rejected;
    return out;
  }

  #getEvents(i: OperationTypes['GetLogEvents']['input'], scope: GroupScope): OperationTypes['GetLogEvents']['output'] {
    const g = this.#group(scope, i.logGroupName, i.logGroupIdentifier);
    const s = this.#stream(g, i.logStreamName);
    const limit = i.limit ?? DEFAULT_EVENTS_LIMIT;
    let backward = i.startFromHead !== true;
    let after: Position | undefined;
    let before: Position | undefined;
    if (i.nextToken !== undefined) {
      const m = /^([fb])\/(\d{56})(\/s)?$/.exec(i.nextToken);
      if (!m) throw invalidToken();
      const pos = digitsPosition(m[2]!);
      backward = m[1] === 'b';
      if (backward) before = pos;
      else after = pos;
    }
    let rows = this.#store.events(g.id, [s.id], { start: i.startTime, end: i.endTime, after, before, limit, backward });
    rows = capBytes(rows, backward);
    const events = rows.map((r) => ({ timestamp: r.ts, message: r.message, ingestionTime: r.ingest }));
    const first = rows[0];
    const last = rows[rows.length - 1];
    // With nothing new, the forward token stays where it was (callers poll it) and so does the backward one.
    const fwd = last ? { ts: last.ts, id: last.id } : (after ?? before ?? { ts: 0, id: 0 });
    const bwd = first ? { ts: first.ts, id: first.id } : (before ?? after ?? { ts: 0, id: 0 });
    return { events, nextForwardToken: `f/${positionDigits(fwd)}/s`, nextBackwardToken: `b/${positionDigits(bwd)}/s` };
  }

  #filterEvents(i: OperationTypes['FilterLogEvents']['input'], scope: GroupScope): OperationTypes['FilterLogEvents']['output'] {
    const g = this.#group(scope, i.logGroupName, i.logGroupIdentifier);
    if (i.logStreamNames !== undefined && i.logStreamNamePrefix !== undefined) {
      throw logsErrors.invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
    }
    const matcher = compile(i.filterPattern);
    let streamIds: number[] | undefined;
    if (i.logStreamNames !== undefined) {
      streamIds = i.logStreamNames.map((n) => this.#store.getStream(g.id, n)?.id).filter((id): id is number => id !== undefined);
      if (streamIds.length === 0) throw logsErrors.streamNotFound();
    } else if (i.logStreamNamePrefix !== undefined) {
      streamIds = this.#store.streams(g.id, i.logStreamNamePrefix).map((s) => s.id);
    }
    const limit = i.limit ?? DEFAULT_EVENTS_LIMIT;
    let after = i.nextToken !== undefined ? decodeToken(i.nextToken, isPosition) : undefined;
    const events: LogEventRow[] = [];
    let bytes = 0;
    let scanned = 0;
    let exhausted = false;
    while (events.length < limit && scanned < FILTER_SCAN && bytes < MAX_RESPONSE_BYTES) {
      const batch = this.#store.events(g.id, streamIds, { start: i.startTime, end: i.endTime, after, limit: Math.min(1000, FILTER_SCAN - scanned) });
      if (batch.length === 0) {
        exhausted = true;
        break;
      }
      for (const r of batch) {
        scanned++;
        after = { ts: r.ts, id: r.id };
        if (!matcher(r.message)) continue;
        events.push(r);
        bytes += Buffer.byteLength(r.message) + 26;
        if (events.length === limit || bytes >= MAX_RESPONSE_BYTES) break;
      }
    }
    const out: OperationTypes['FilterLogEvents']['output'] = {
      events: events.map((r) => ({
        logStreamName: r.stream,
        timestamp: r.ts,
        message: r.message,
        ingestionTime: r.ingest,
        eventId: positionDigits(r),
      })),
      // Deprecated by AWS (every search is interleaved); answered empty.
      searchedLogStreams: [],
    };
    if (!exhausted && after !== undefined && this.#hasMore(g.id, streamIds, i.startTime, i.endTime, after)) out.nextToken = encodeToken(after);
    return out;
  }

  #hasMore(groupId: number, streamIds: number[] | undefined, start: number | undefined, end: number | undefined, after: Position): boolean {
    return this.#store.events(groupId, streamIds, { start, end, after, limit: 1 }).length > 0;
  }

  #liveTail(i: OperationTypes['StartLiveTail']['input'], scope: GroupScope, req: LogsRequest): WireResponse {
    const groups = i.logGroupIdentifiers.map((id) => this.#group(scope, undefined, id));
    if (this.#sessions.size >= MAX_LIVE_TAILS) {
      // AWS's quota is 15 concurrent sessions per account; lambdalite bounds them per server.
      throw new LogsError('LimitExceededException', `You have reached the maximum number of concurrent Live Tail sessions (${MAX_LIVE_TAILS}).`);
    }
    const matcher = compile(i.logEventFilterPattern);
    return startLiveTail({ store: this.#store, clock: this.#clock, scope, groups, input: i, matcher, requestId: req.requestId, sessions: this.#sessions });
  }

  /** Ends every live tail session, so the server can stop. */
  close(): void {
    for (const end of [...this.#sessions]) end();
  }
}

function compile(pattern: string | undefined): Matcher {
  try {
    return compileFilterPattern(pattern);
  } catch (e) {
    if (e instanceof FilterPatternError) throw logsErrors.invalidParameter(`Invalid filter pattern: ${e.message}`);
    throw e;
  }
}

/** Keeps the answer within 1 MB: the oldest events go first when reading backward, the newest forward. */
function capBytes(rows: LogEventRow[], backward: boolean): LogEventRow[] {
  let bytes = 0;
  const ordered = backward ? [...rows].reverse() : rows;
  let n = 0;
  for (const r of ordered) {
    bytes += Buffer.byteLength(r.message) + 26;
    if (bytes > MAX_RESPONSE_BYTES && n > 0) break;
    n++;
  }
  if (n === rows.length) return rows;
  return backward ? rows.slice(rows.length - n) : rows.slice(0, n);
}
