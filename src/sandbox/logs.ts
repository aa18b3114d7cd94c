// Function logs: one log stream per execution environment, as in CloudWatch Logs. The runtime's
// stdout/stderr is cut into events at line ends, the platform lines (INIT_START, START, END, REPORT)
// go in as events of their own, and every event is handed to the log store (src/logs/store.ts),
// which commits them in batches off the invoke's path.
//
// With LogFormat JSON the platform lines become AWS's JSON records
// (`{"time","type":"platform.start","record":{...}}`) filtered by SystemLogLevel, and application
// lines are filtered by ApplicationLogLevel on their `level` member (lines without one count as
// INFO), as Lambda does for runtimes that do not filter themselves.

import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { FunctionRuntimeConfig } from '../invoke/types.js';
import type { Clock } from '../shared/clock.js';
import type { StreamKey } from '../logs/store.js';

/** X-Amz-Log-Result carries the last 4 KB of the invocation's log. */
export const TAIL_BYTES = 4096;

/** CloudWatch Logs' largest event (256 KiB including its 26 bytes of overhead); longer lines are split. */
const MAX_EVENT_CHARS = 262_118;

/** `2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef`, the shape AWS gives stream names. */
export function newLogStreamName(version: string, nowMs: number): string {
  const d = new Date(nowMs);
  const ymd = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  return `${ymd}/[${version}]${randomBytes(16).toString('hex')}`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Where an environment's events go: the log store. */
export interface LogSink {
  append(key: StreamKey, ts: number, message: string): void;
  flush(): void;
  /** The stream will not be written again. */
  release(key: StreamKey): void;
}

/** AWS's application log levels, least severe first. */
const APP_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
/** System log levels as AWS ranks them (DEBUG is the most detailed). */
const SYSTEM_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;

function levelRank(level: string | undefined): number {
  const l = (level ?? '').toUpperCase();
  const aliased = l === 'WARNING' ? 'WARN' : l === 'CRITICAL' ? 'FATAL' : l;
  const i = (APP_LEVELS as readonly string[]).indexOf(aliased);
  return i < 0 ? 2 : i;
}

export interface LogStreamOptions {
  readonly sink: LogSink;
  readonly config: FunctionRuntimeConfig;
  readonly name: string;
  readonly clock: Clock;
  readonly echo?: ((chunk: string | Buffer) => void) | undefined;
  /** For the JSON platform records: `on-demand` (default) or `provisioned-concurrency`. */
  readonly initializationType?: string;
}

export class LogStream {
  readonly name: string;
  readonly #sink: LogSink;
  readonly #key: StreamKey;
  readonly #clock: Clock;
  readonly #config: FunctionRuntimeConfig;
  readonly #initializationType: string;
  readonly #json: boolean;
  /** Lowest application level kept, and lowest system level kept (JSON format only). */
  readonly #appMin: number;
  readonly #systemMin: number;
  readonly #echo: ((chunk: string | Buffer) => void) | undefined;
  readonly #echoPrefix: string;
  readonly #decoder = new StringDecoder('utf8');
  /** Output of the runtime since its last line end. */
  #partial = '';
  #capture: Buffer[] | undefined;
  #captured = 0;

  constructor(o: LogStreamOptions) {
    this.name = o.name;
    this.#sink = o.sink;
    this.#clock = o.clock;
    this.#config = o.config;
    this.#initializationType = o.initializationType ?? 'on-demand';
    this.#key = { accountId: o.config.accountId, region: o.config.region, group: o.config.logGroup, stream: o.name };
    this.#json = o.config.logFormat === 'JSON';
    this.#appMin = levelRank(o.config.applicationLogLevel ?? 'INFO');
    this.#systemMin = Math.max(0, (SYSTEM_LEVELS as readonly string[]).indexOf(o.config.systemLogLevel ?? 'INFO'));
    this.#echo = o.echo;
    this.#echoPrefix = `[${o.config.functionName}] `;
  }

  /** The runtime's own output: cut into events at line ends. */
  write(chunk: Buffer | string): void {
    if (chunk.length === 0) return;
    const text = this.#partial + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#application(text.slice(start, nl));
      start = nl + 1;
    }
    this.#partial = text.slice(start);
    while (this.#partial.length > MAX_EVENT_CHARS) {
      this.#application(this.#partial.slice(0, MAX_EVENT_CHARS));
      this.#partial = this.#partial.slice(MAX_EVENT_CHARS);
    }
  }

  /** A platform line (START, END, REPORT, ...), always an event of its own. */
  platform(line: string): void {
    if (this.#partial !== '') {
      this.#application(this.#partial);
      this.#partial = '';
    }
    if (!this.#json) {
      this.#emit(line);
      return;
    }
    const rec = platformRecord(line, this.#config, this.#clock.now(), this.#initializationType);
    if (rec === undefined) return;
    if ((SYSTEM_LEVELS as readonly string[]).indexOf(rec.level) < this.#systemMin) return;
    this.#emit(rec.message);
  }

  #application(line: string): void {
    if (this.#json && this.#appMin > 0 && levelRank(jsonLevel(line)) < this.#appMin) return;
    for (let i = 0; i < line.length || i === 0; i += MAX_EVENT_CHARS) this.#emit(line.slice(i, i + MAX_EVENT_CHARS));
  }

  #emit(message: string): void {
    this.#sink.append(this.#key, this.#clock.now(), message);
    this.#echo?.(`${this.#echoPrefix}${message.replaceAll('\n', `\n${this.#echoPrefix}`)}\n`);
    const capture = this.#capture;
    if (capture !== undefined) {
      const buf = Buffer.from(`${message}\n`);
      capture.push(buf);
      this.#captured += buf.length;
      // Keep memory bounded for chatty functions: drop whole events no longer in the tail.
      while (capture.length > 1 && this.#captured - (capture[0] as Buffer).length >= TAIL_BYTES) {
        this.#captured -= (capture.shift() as Buffer).length;
      }
    }
  }

  /** Starts keeping this invocation's log for X-Amz-Log-Result. */
  beginCapture(): void {
    this.#capture = [];
    this.#captured = 0;
  }

  /** Stops capturing; returns base64 of the last TAIL_BYTES bytes. */
  endCapture(): string {
    const parts = this.#capture ?? [];
    this.#capture = undefined;
    let all = Buffer.concat(parts);
    if (all.length > TAIL_BYTES) all = all.subarray(all.length - TAIL_BYTES);
    return all.toString('base64');
  }

  /** Resolves once everything written so far is in the store. */
  flush(): Promise<void> {
    this.#sink.flush();
    return Promise.resolve();
  }

  close(): Promise<void> {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    if (rest !== '') this.#application(rest);
    this.#sink.flush();
    this.#sink.release(this.#key);
    return Promise.resolve();
  }
}

/** The `level` member of a JSON log line, if it is one. */
function jsonLevel(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = (JSON.parse(line) as { level?: unknown }).level;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * AWS's JSON rendering of a platform line, with the system level Lambda files it under. Lines that
 * have no record type (the timeout notice, a runtime's exit error) keep their text at WARN. END has
 * no record of its own at AWS (its runtimeDone record is DEBUG telemetry we do not produce).
 */
export function platformRecord(
  line: string,
  config: FunctionRuntimeConfig,
  now: number,
  initializationType = 'on-demand',
): { level: string; message: string } | undefined {
  const record = (type: string, rec: Record<string, unknown>, level = 'INFO') => ({
    level,
    message: JSON.stringify({ time: new Date(now).toISOString(), type, record: rec }),
  });
  const fields = (text: string) => {
    const out = new Map<string, string>();
    for (const part of text.split('\t')) {
      const i = part.indexOf(': ');
      if (i > 0) out.set(part.slice(0, i), part.slice(i + 2));
    }
    return out;
  };
  const ms = (v: string | undefined) => (v === undefined ? undefined : Number.parseFloat(v));
  let m: RegExpExecArray | null;
  if (line.startsWith('INIT_START ')) {
    const f = fields(line.slice('INIT_START '.length));
    return record('platform.initStart', {
      initializationType,
      phase: 'init',
      runtimeVersion: f.get('Runtime Version'),
      runtimeVersionArn: f.get('Runtime Version ARN'),
      functionName: config.functionName,
      functionVersion: config.version,
    });
  }
  if ((m = /^START RequestId: (\S+) Version: (\S+)$/.exec(line))) return record('platform.start', { requestId: m[1], version: m[2] });
  if (line.startsWith('END RequestId: ')) return undefined;
  if (line.startsWith('REPORT ')) {
    const f = fields(line.slice('REPORT '.length));
    const metrics: Record<string, number | undefined> = {
      durationMs: ms(f.get('Duration')),
      billedDurationMs: ms(f.get('Billed Duration')),
      memorySizeMB: ms(f.get('Memory Size')),
      maxMemoryUsedMB: ms(f.get('Max Memory Used')),
    };
    if (f.has('Init Duration')) metrics['initDurationMs'] = ms(f.get('Init Duration'));
    const rec: Record<string, unknown> = { requestId: f.get('RequestId'), metrics, status: f.get('Status') ?? 'success' };
    if (f.has('Error Type')) rec['errorType'] = f.get('Error Type');
    return record('platform.report', rec);
  }
  if (line.startsWith('INIT_REPORT ')) {
    const f = fields(line.slice('INIT_REPORT '.length));
    const rec: Record<string, unknown> = { initializationType, phase: f.get('Phase') ?? 'init', status: f.get('Status') ?? 'success' };
    if (f.has('Error Type')) rec['errorType'] = f.get('Error Type');
    rec['metrics'] = { durationMs: ms(f.get('Init Duration')) };
    return record('platform.initReport', rec);
  }
  return { level: 'WARN', message: line };
}
