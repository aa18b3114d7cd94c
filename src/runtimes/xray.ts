// A local stand-in for the X-Ray daemon: the UDP endpoint AWS_XRAY_DAEMON_ADDRESS points functions at.
// The X-Ray SDKs (and Powertools' tracer, OpenTelemetry's X-Ray exporter) send each segment as one
// datagram: a JSON header line `{"format": "json", "version": 1}` and the segment document. Segments
// are kept in memory per function, found through the trace id the platform handed the invocation;
// bounded per function and in the number of functions, oldest dropped first.

import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { lineageField } from '../shared/recursion.js';

export interface TraceSegment {
  readonly trace_id: string;
  readonly id: string;
  readonly name?: string;
  readonly [key: string]: unknown;
}

const MAX_SEGMENTS_PER_FUNCTION = 1000;
const MAX_FUNCTIONS = 500;
const MAX_OPEN_TRACES = 10_000;
/** The X-Ray daemon's own limit on one datagram. */
const MAX_DATAGRAM = 64 * 1024;

export class XRayDaemon {
  readonly #socket: dgram.Socket;
  /** Trace root id (1-xxxxxxxx-yyyy...) -> function ARN, for traces the platform started. */
  readonly #traces = new Map<string, string>();
  readonly #segments = new Map<string, TraceSegment[]>();
  #port = 0;

  private constructor(socket: dgram.Socket) {
    this.#socket = socket;
    socket.on('message', (msg) => this.receive(msg));
    socket.on('error', () => {});
  }

  static async start(host = '127.0.0.1'): Promise<XRayDaemon> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.unref();
    const d = new XRayDaemon(socket);
    d.#port = socket.address().port;
    return d;
  }

  /** The variables every function gets (AWS sets all three). */
  env(): Record<string, string> {
    return {
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${this.#port}`,
      _AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1',
      _AWS_XRAY_DAEMON_PORT: String(this.#port),
    };
  }

  /** Segments sent for a function's traces, oldest first. */
  segments(functionArn: string): readonly TraceSegment[] {
    return this.#segments.get(functionArn) ?? [];
  }

  /**
   * Starts a trace for one invocation of an Active function: a sampled trace header for the
   * runtime (the caller's root is kept when one was given), the function segment's id for the
   * REPORT line, and the segment itself recorded as the platform's once `finish` is called.
   */
  begin(functionArn: string, functionName: string, upstream: string | undefined, nowMs: number): ActiveTrace {
    const root = upstream?.match(/Root=(1-[0-9a-f]{8}-[0-9a-f]{24})/)?.[1] ?? newRoot(nowMs);
    const segmentId = randomBytes(8).toString('hex');
    this.#remember(root, functionArn);
    return {
      header: `Root=${root};Parent=${segmentId};Sampled=1;Lineage=${lineageField(upstream) ?? `1:${randomBytes(4).toString('hex')}:0`}`,
      root,
      segmentId,
      finish: (endMs: number, error: boolean) =>
        this.#store(functionArn, {
          trace_id: root,
          id: segmentId,
          name: functionName,
          origin: 'AWS::Lambda::Function',
          start_time: nowMs / 1000,
          end_time: endMs / 1000,
          ...(error ? { fault: true } : {}),
        }),
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #remember(root: string, functionArn: string): void {
    this.#traces.delete(root);
    this.#traces.set(root, functionArn);
    if (this.#traces.size > MAX_OPEN_TRACES) this.#traces.delete(this.#traces.keys().next().value as string);
  }

  /**
   * One datagram sent to a daemon address. From an environment's own socket (network.ts), `from` is
   * its function: only that function's traces take the segment, so no function can add segments to
   * another's traces.
   */
  receive(msg: Buffer, from?: string): void {
    if (msg.length > MAX_DATAGRAM) return;
    const text = msg.toString('utf8');
    const nl = text.indexOf('\n');
    if (nl < 0) return;
    try {
      const header = JSON.parse(text.slice(0, nl)) as { format?: unknown };
      if (header.format !== 'json') return;
      const doc = JSON.parse(text.slice(nl + 1)) as unknown;
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return;
      const seg = doc as Partial<TraceSegment>;
      if (typeof seg.trace_id !== 'string' || typeof seg.id !== 'string') return;
      const fn = this.#traces.get(seg.trace_id);
      // Segments of traces no function here started are not ours to keep.
      if (fn !== undefined && (from === undefined || from === fn)) this.#store(fn, seg as TraceSegment);
    } catch {
      // not a segment
    }
  }

  #store(functionArn: string, seg: TraceSegment): void {
    let list = this.#segments.get(functionArn);
    if (list === undefined) {
      if (this.#segments.size >= MAX_FUNCTIONS) this.#segments.delete(this.#segments.keys().next().value as string);
      list = [];
      this.#segments.set(functionArn, list);
    }
    list.push(seg);
    if (list.length > MAX_SEGMENTS_PER_FUNCTION) list.splice(0, list.length - MAX_SEGMENTS_PER_FUNCTION);
  }
}

export interface ActiveTrace {
  /** Lambda-Runtime-Trace-Id / _X_AMZN_TRACE_ID for the invocation. */
  readonly header: string;
  readonly root: string;
  /** The function segment's id: the Parent of the header and REPORT's SegmentId. */
  readonly segmentId: string;
  finish(endMs: number, error: boolean): void;
}

function newRoot(nowMs: number): string {
  return `1-${Math.floor(nowMs / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}
