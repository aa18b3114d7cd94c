// The Lambda Extensions API (2020-01-01), served next to the Runtime API on the environment's port.
// Extensions register during init (external ones are the executables in /opt/extensions/, started
// before the runtime; internal ones register from the runtime's own process), then long-poll
// `event/next` for INVOKE and SHUTDOWN events. As on AWS:
// - an invocation reaches the runtime only once every registered extension is waiting in event/next
//   (so init ends when the runtime and all extensions are ready, and an invocation's extension work
//   finishes before the next one starts);
// - INVOKE goes to every extension registered for it when the runtime gets the event;
// - SHUTDOWN (reason spindown) goes to extensions registered for it when the environment stops, with
//   AWS's 2,000 ms budget for them to finish;
// - registering after init is `Extension.RegistrationClosed`; at most 10 extensions.
// Error types are those of AWS's runtime interface emulator (rapi/handler).

import http from 'node:http';
import { randomUUID } from 'node:crypto';

export const EXTENSIONS_PREFIX = '/2020-01-01/extension/';

/** AWS's limit on extensions per function. */
const MAX_EXTENSIONS = 10;
/** AWS: extensions get 2,000 ms to handle SHUTDOWN. */
export const SHUTDOWN_BUDGET_MS = 2000;

type EventType = 'INVOKE' | 'SHUTDOWN';

interface Extension {
  readonly id: string;
  readonly name: string;
  readonly events: ReadonlySet<EventType>;
  /** A pending event/next, answered with the next queued event. */
  waiting: http.ServerResponse | undefined;
  readonly queue: object[];
  exited: boolean;
}

export interface FunctionInfo {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly handler: string | undefined;
  readonly accountId: string;
}

export interface ExtensionsHooks {
  /** An extension is now waiting in event/next; delivery may proceed. */
  onReady(): void;
  /** init/error from an extension fails the environment's init. */
  onInitError(errorType: string, body: Buffer): void;
  /** Registration and other notable lines for the log stream (AWS writes EXTENSION lines). */
  onLog(line: string): void;
}

export class ExtensionsApi {
  readonly #exts = new Map<string, Extension>();
  #registrationOpen = true;
  #expectedExternal = 0;
  #info: FunctionInfo | undefined;
  #hooks: ExtensionsHooks | undefined;
  #settled: (() => void) | undefined;

  attach(info: FunctionInfo, expectedExternal: number, hooks: ExtensionsHooks): void {
    this.#info = info;
    this.#expectedExternal = expectedExternal;
    this.#hooks = hooks;
  }

  /** Every expected external extension has registered and every registered one waits in event/next. */
  ready(): boolean {
    if (this.#exts.size < this.#expectedExternal) return false;
    for (const e of this.#exts.values()) if (!e.exited && (e.waiting === undefined || e.queue.length > 0)) return false;
    return true;
  }

  get count(): number {
    return this.#exts.size;
  }

  has(id: string): boolean {
    return this.#exts.has(id);
  }

  /** The runtime got an invocation: registration is over, INVOKE goes to those registered for it. */
  invoke(event: { requestId: string; deadlineMs: number; invokedFunctionArn: string; traceId: string | undefined }): void {
    this.#registrationOpen = false;
    for (const e of this.#exts.values()) {
      if (!e.events.has('INVOKE') || e.exited) continue;
      this.#push(e, {
        eventType: 'INVOKE',
        deadlineMs: event.deadlineMs,
        requestId: event.requestId,
        invokedFunctionArn: event.invokedFunctionArn,
        tracing: { type: 'X-Amzn-Trace-Id', value: event.traceId ?? '' },
      });
    }
  }

  /**
   * SHUTDOWN to extensions registered for it; resolves when each has asked for its next event again
   * or exited, or when the budget is spent.
   */
  async shutdown(reason: 'spindown' | 'timeout' | 'failure', nowMs: number): Promise<void> {
    this.#registrationOpen = false;
    const targets = [...this.#exts.values()].filter((e) => e.events.has('SHUTDOWN') && !e.exited);
    if (targets.length === 0) return;
    for (const e of targets) this.#push(e, { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs: nowMs + SHUTDOWN_BUDGET_MS });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = () => {
          if (targets.every((e) => e.exited || (e.waiting !== undefined && e.queue.length === 0))) {
            this.#settled = undefined;
            resolve();
          }
        };
        this.#settled = check;
        check();
      }),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_BUDGET_MS))),
    ]);
    clearTimeout(timer);
  }

  close(): void {
    for (const e of this.#exts.values()) {
      e.waiting?.destroy();
      e.waiting = undefined;
    }
  }

  route(req: http.IncomingMessage, res: http.ServerResponse, rest: string): void {
    if (rest === 'register' && req.method === 'POST') return this.#register(req, res);
    if (rest === 'event/next' && req.method === 'GET') return this.#next(req, res);
    if ((rest === 'init/error' || rest === 'exit/error') && req.method === 'POST') return this.#error(req, res, rest);
    req.resume();
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
  }

  #register(req: http.IncomingMessage, res: http.ServerResponse): void {
    readSmallBody(req, (body) => {
      const name = header(req, 'lambda-extension-name');
      if (name === undefined || name === '') return fail(res, 403, 'Extension.InvalidExtensionName', 'Empty extension name');
      if (!this.#registrationOpen) return fail(res, 403, 'Extension.RegistrationClosed', 'Extension registration closed already');
      if (this.#exts.size >= MAX_EXTENSIONS) return fail(res, 403, 'Extension.TooManyExtensions', 'Too many extensions');
      if ([...this.#exts.values()].some((e) => e.name === name)) {
        return fail(res, 403, 'Extension.InvalidExtensionState', `State transition from Registered to Registered failed for extension ${name}. Error: State transition is not allowed`);
      }
      let events: EventType[];
      try {
        const parsed = JSON.parse(body.toString('utf8') || '{}') as { events?: unknown };
        if (!Array.isArray(parsed.events)) throw new Error('events');
        events = parsed.events as EventType[];
      } catch {
        return fail(res, 403, 'InvalidRequestFormat', 'Invalid request format: events must be a list of event types');
      }
      const bad = events.find((e) => e !== 'INVOKE' && e !== 'SHUTDOWN');
      if (bad !== undefined) return fail(res, 403, 'Extension.InvalidEventType', `Invalid event type: ${String(bad)}`);
      const id = randomUUID();
      this.#exts.set(id, { id, name, events: new Set(events), waiting: undefined, queue: [], exited: false });
      this.#hooks?.onLog(`EXTENSION\tName: ${name}\tState: Registered\tEvents: [${events.join(',')}]`);
      const info = this.#info;
      const features = (header(req, 'lambda-extension-accept-feature') ?? '').split(',').map((f) => f.trim());
      const answer: Record<string, unknown> = {
        functionName: info?.functionName ?? '',
        functionVersion: info?.functionVersion ?? '',
        handler: info?.handler ?? '',
      };
      if (features.includes('accountId')) answer['accountId'] = info?.accountId ?? '';
      const text = JSON.stringify(answer);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Lambda-Extension-Identifier': id, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  }

  #next(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const ext = this.#identify(req, res);
    if (ext === undefined) return;
    ext.waiting?.destroy();
    ext.waiting = res;
    res.on('close', () => {
      if (ext.waiting === res) ext.waiting = undefined;
    });
    if (ext.queue.length > 0) this.#flush(ext);
    else {
      this.#hooks?.onReady();
      this.#settled?.();
    }
  }

  #error(req: http.IncomingMessage, res: http.ServerResponse, which: string): void {
    const ext = this.#identify(req, res);
    if (ext === undefined) return void req.resume();
    readSmallBody(req, (body) => {
      const type = header(req, 'lambda-extension-function-error-type');
      if (type === undefined || type === '') return fail(res, 403, 'Extension.MissingHeader', 'Missing Lambda-Extension-Function-Error-Type header');
      ext.exited = true;
      const ok = Buffer.from('{"status":"OK"}\n');
      res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': ok.length });
      res.end(ok);
      this.#hooks?.onLog(`EXTENSION\tName: ${ext.name}\tState: ${which === 'init/error' ? 'InitError' : 'ExitError'}\tError Type: ${type}`);
      if (which === 'init/error') this.#hooks?.onInitError(type, body);
      this.#settled?.();
    });
  }

  #identify(req: http.IncomingMessage, res: http.ServerResponse): Extension | undefined {
    const id = header(req, 'lambda-extension-identifier');
    if (id === undefined || id === '') {
      fail(res, 403, 'Extension.MissingHeader', 'Missing Lambda-Extension-Identifier header');
      return undefined;
    }
    const ext = this.#exts.get(id);
    if (ext === undefined) fail(res, 403, 'Extension.UnknownExtensionIdentifier', 'Unknown extension ' + id);
    return ext;
  }

  #push(ext: Extension, event: object): void {
    ext.queue.push(event);
    if (ext.waiting !== undefined) this.#flush(ext);
  }

  #flush(ext: Extension): void {
    const res = ext.waiting;
    const event = ext.queue.shift();
    if (res === undefined || event === undefined) return;
    ext.waiting = undefined;
    const text = JSON.stringify(event);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Lambda-Extension-Event-Identifier': randomUUID(), 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Registration, subscription and error bodies are small; anything past 64 KiB is dropped. */
export function readSmallBody(req: http.IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= 65536) chunks.push(c);
  });
  req.on('end', () => done(Buffer.concat(chunks)));
}

export function fail(res: http.ServerResponse, status: number, errorType: string, errorMessage: string): void {
  const text = JSON.stringify({ errorMessage, errorType }) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
