// StartLiveTail: an event stream (application/vnd.amazon.eventstream) that opens with a
// `sessionStart` event and then sends `sessionUpdate`s with the events committed since (at least one a
// second, as AWS does), until the client goes away or the session reaches AWS's 3-hour limit
// (SessionTimeoutException).
import type http from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import type { Clock } from '../shared/clock.js';
import type { OperationTypes } from './generated/types.js';
import type { AppendedEvent, GroupScope, LogGroupRow, LogStore } from './store.js';
import type { Matcher } from './filter-pattern.js';
import { groupArn, type StreamingResponse } from './protocol.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text) => Buffer.from(text, 'utf8'),
);

type Message = Parameters<EventStreamCodec['encode']>[0];

const UPDATE_INTERVAL_MS = 1000;
const BURST_WINDOW_MS = 50;
const SESSION_LIMIT_MS = 3 * 3_600_000;
/** AWS samples a session above 500 events per second; the rest of an update is dropped and flagged. */
const MAX_EVENTS_PER_UPDATE = 500;

function frame(headers: Record<string, string>, payload: unknown): Uint8Array {
  const h: Message['headers'] = {};
  for (const [k, v] of Object.entries(headers)) h[k] = { type: 'string', value: v };
  const message: Message = { headers: h, body: Buffer.from(JSON.stringify(payload)) };
  return codec.encode(message);
}

function event(type: string, payload: unknown): Uint8Array {
  return frame({ ':message-type': 'event', ':event-type': type, ':content-type': 'application/json' }, payload);
}

export interface LiveTailOptions {
  readonly store: LogStore;
  readonly clock: Clock;
  readonly scope: GroupScope;
  readonly groups: readonly LogGroupRow[];
  readonly input: OperationTypes['StartLiveTail']['input'];
  readonly matcher: Matcher;
  readonly requestId: string;
  /** Open sessions, each with the function that ends it (the server ends them all when it stops). */
  readonly sessions: Set<() => void>;
}

export function startLiveTail(o: LiveTailOptions): StreamingResponse {
  const names = new Set(o.groups.map((g) => g.name));
  const streamNames = o.input.logStreamNames ? new Set(o.input.logStreamNames) : undefined;
  const prefixes = o.input.logStreamNamePrefixes;
  const wanted = (e: AppendedEvent) =>
    e.key.accountId === o.scope.accountId &&
    e.key.region === o.scope.region &&
    names.has(e.key.group) &&
    (streamNames === undefined || streamNames.has(e.key.stream)) &&
    (prefixes === undefined || prefixes.some((p) => e.key.stream.startsWith(p))) &&
    o.matcher(e.row.message);
  return {
    status: 200,
    headers: { 'content-type': 'application/vnd.amazon.eventstream' },
    body: undefined,
    stream(res: http.ServerResponse) {
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': o.requestId });
      const start: Record<string, unknown> = {
        requestId: o.requestId,
        sessionId: o.requestId,
        logGroupIdentifiers: o.input.logGroupIdentifiers,
      };
      if (o.input.logStreamNames) start['logStreamNames'] = o.input.logStreamNames;
      if (o.input.logStreamNamePrefixes) start['logStreamNamePrefixes'] = o.input.logStreamNamePrefixes;
      start['logEventFilterPattern'] = o.input.logEventFilterPattern ?? '';
      // JSON-protocol event streams open with the output's other members as an `initial-response`
      // event (StartLiveTailResponse has none): botocore requires it, the JavaScript SDK skips it.
      res.write(event('initial-response', {}));
      res.write(event('sessionStart', start));
      let pending: AppendedEvent[] = [];
      let flushTimer: NodeJS.Timeout | undefined;
      const flush = () => {
        flushTimer = undefined;
        const batch = pending;
        pending = [];
        res.write(
          event('sessionUpdate', {
            sessionMetadata: { sampled: batch.length > MAX_EVENTS_PER_UPDATE },
            sessionResults: batch.slice(0, MAX_EVENTS_PER_UPDATE).map((e) => ({
              logStreamName: e.key.stream,
              logGroupIdentifier: groupArn(o.scope, e.key.group),
              message: e.row.message,
              timestamp: e.row.ts,
              ingestionTime: e.row.ingest,
            })),
          }),
        );
      };
      const unsubscribe = o.store.onAppend((events) => {
        for (const e of events) if (wanted(e)) pending.push(e);
        // Matching events go out promptly (a following reader sees a line well within a second),
        // gathered over a short window so a burst becomes one update.
        if (pending.length > 0 && flushTimer === undefined) flushTimer = setTimeout(flush, BURST_WINDOW_MS);
      });
      const opened = o.clock.now();
      // An update every second even when nothing matched, as AWS keeps the session alive.
      const timer = setInterval(() => {
        if (flushTimer === undefined) flush();
        if (o.clock.now() - opened >= SESSION_LIMIT_MS) {
          res.end(
            frame(
              { ':message-type': 'exception', ':exception-type': 'SessionTimeoutException', ':content-type': 'application/json' },
              { message: 'Session timed out after 3 hours.' },
            ),
          );
          stop();
        }
      }, UPDATE_INTERVAL_MS);
      const stop = () => {
        clearInterval(timer);
        clearTimeout(flushTimer);
        unsubscribe();
        o.sessions.delete(end);
      };
      const end = () => {
        stop();
        res.end();
      };
      o.sessions.add(end);
      res.on('close', stop);
    },
  };
}
