// Function logs: one log stream per execution environment, as in CloudWatch Logs. The stream is a
// file `<logDir>/<logGroup>/<YYYY/MM/DD/[version]hex>.log` holding the runtime's stdout/stderr with
// the platform lines (INIT_START, START, END, REPORT) between them, in AWS's text format.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** X-Amz-Log-Result carries the last 4 KB of the invocation's log. */
export const TAIL_BYTES = 4096;

/** `2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef`, the shape AWS gives stream names. */
export function newLogStreamName(version: string, nowMs: number): string {
  const d = new Date(nowMs);
  const ymd = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  return `${ymd}/[${version}]${randomBytes(16).toString('hex')}`;
}

export function logStreamFile(logDir: string, logGroup: string, stream: string): string {
  return path.join(logDir, logGroup, `${stream}.log`);
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export class LogStream {
  readonly name: string;
  readonly file: string;
  #fd: number | undefined;
  readonly #echo: ((chunk: string | Buffer) => void) | undefined;
  #atLineStart = true;
  /** Writes of one turn of the event loop, issued as one file write (a syscall per line adds up). */
  #pending: (Buffer | string)[] = [];
  #scheduled = false;
  #capture: Buffer[] | undefined;
  #captured = 0;

  constructor(logDir: string, logGroup: string, name: string, echo?: (chunk: string | Buffer) => void) {
    this.name = name;
    this.file = logStreamFile(logDir, logGroup, name);
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.#fd = fs.openSync(this.file, 'a');
    this.#echo = echo;
  }

  /** The runtime's own output, verbatim. */
  write(chunk: Buffer | string): void {
    if (chunk.length === 0) return;
    this.#append(chunk);
    const last = typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk[chunk.length - 1];
    this.#atLineStart = last === 10;
  }

  /** A platform line (START, END, REPORT, ...), always on a line of its own. */
  platform(line: string): void {
    this.#append(this.#atLineStart ? `${line}\n` : `\n${line}\n`);
    this.#atLineStart = true;
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

  #append(chunk: Buffer | string): void {
    this.#pending.push(chunk);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
    this.#echo?.(chunk);
    const capture = this.#capture;
    if (capture !== undefined) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      capture.push(buf);
      this.#captured += buf.length;
      // Keep memory bounded for chatty functions: drop whole chunks no longer in the tail.
      while (capture.length > 1 && this.#captured - (capture[0] as Buffer).length >= TAIL_BYTES) {
        this.#captured -= (capture.shift() as Buffer).length;
      }
    }
  }

  // One synchronous append per event-loop turn: cheaper than a WriteStream's thread-pool round trip
  // per write, and a local append does not block for long.
  #drain(): void {
    this.#scheduled = false;
    const parts = this.#pending;
    if (parts.length === 0 || this.#fd === undefined) return;
    this.#pending = [];
    const data = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(this.#fd, data, off);
    } catch {
      // A log write failure must never fail an invocation.
    }
  }

  /** Resolves once everything written so far is in the file. */
  flush(): Promise<void> {
    this.#drain();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#drain();
    if (this.#fd !== undefined) {
      try {
        fs.closeSync(this.#fd);
      } catch {
        // already closed
      }
      this.#fd = undefined;
    }
    return Promise.resolve();
  }
}
