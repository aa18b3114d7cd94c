// The Lambda Runtime API (2018-06-01) that one execution environment's runtime talks to, served on
// its own 127.0.0.1 port. Status codes, error types and messages follow AWS's own implementation of
// this API, the Runtime Interface Emulator (aws/aws-lambda-runtime-interface-emulator, lambda/rapi):
// a request the state machine does not allow is 403 InvalidStateTransition, a response for another
// request id is 400 InvalidRequestID, a response over the limit is 413 RequestEntityTooLarge.
//
// The server knows nothing about functions; the environment that owns it supplies the invocation and
// receives the runtime's answers through RuntimeApiHooks.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXTENSIONS_PREFIX, ExtensionsApi, type ExtensionsHooks, type FunctionInfo } from './extensions-api.js';
import { TELEMETRY_PREFIX, TelemetryApi } from './telemetry-api.js';

/** AWS's LAMBDA_EVENT_BODY_SIZE: 6 MiB plus 100 bytes (RIE interop.MaxPayloadSize). */
export const MAX_PAYLOAD_SIZE = 6 * 1024 * 1024 + 100;

const PREFIX = '/2018-06-01/runtime/';

// RIE core state names, which appear verbatim in InvalidStateTransition messages.
const State = {
  Started: 'Started',
  Ready: 'Ready',
  Running: 'Running',
  ResponseSent: 'RuntimeResponseSentState',
  InitError: 'InitError',
} as const;
type State = (typeof State)[keyof typeof State];

export interface RuntimeInvocation {
  readonly requestId: string;
  readonly payload: Buffer;
}

export interface RuntimeApiHooks {
  /** The runtime asked for the next event; the first call marks the end of its init phase. */
  onNext(): void;
  /** An invocation is being handed to the runtime; returns the Lambda-Runtime-* headers to send. */
  onDeliver(invocation: RuntimeInvocation): Record<string, string>;
  onResponse(requestId: string, body: Buffer, contentType: string | undefined): void;
  onError(requestId: string, errorType: string | undefined, body: Buffer, contentType: string | undefined): void;
  /** The response body was over MAX_PAYLOAD_SIZE; the runtime got 413. */
  onResponseTooLarge(requestId: string, size: number): void;
  onInitError(errorType: string | undefined, body: Buffer): void;
  /** Every extension waits in event/next again (the environment may now be idle, see parked). */
  onExtensionsReady?(): void;
}

export class RuntimeApiServer {
  /** The Extensions API (2020-01-01) on the same port; invocations wait for its extensions. */
  readonly extensions = new ExtensionsApi();
  /** The Telemetry API (2022-07-01): subscriptions of this environment's extensions. */
  readonly telemetry = new TelemetryApi((id) => this.extensions.has(id));
  readonly #server: http.Server;
  #hooks: RuntimeApiHooks | undefined;
  #state: State = State.Started;
  #waiting: http.ServerResponse | undefined;
  #queued: RuntimeInvocation | undefined;
  #current: RuntimeInvocation | undefined;
  /** A response/error body is being read; a next pipelined behind it waits for it. */
  #reading = false;
  #deferredNext: [http.IncomingMessage, http.ServerResponse] | undefined;
  #port = 0;
  #address: string | undefined;

  private constructor() {
    this.#server = http.createServer({ noDelay: true, keepAlive: true, requestTimeout: 0 }, (req, res) =>
      this.#route(req, res),
    );
    // The runtime holds one connection open across long handler runs and long polls.
    this.#server.keepAliveTimeout = 0;
    this.#server.headersTimeout = 0;
    this.#server.timeout = 0;
  }

  static async listen(): Promise<RuntimeApiServer> {
    const api = new RuntimeApiServer();
    await new Promise<void>((resolve, reject) => {
      api.#server.once('error', reject);
      api.#server.listen(0, '127.0.0.1', () => {
        api.#server.off('error', reject);
        resolve();
      });
    });
    api.#port = (api.#server.address() as AddressInfo).port;
    // Idle spare listeners must not keep the server process alive.
    api.#server.unref();
    return api;
  }

  /**
   * Serves on a socket already listening inside an environment's network namespace (network.ts),
   * at `address` as seen from there.
   */
  static fromHandle(handle: object, address: string): RuntimeApiServer {
    const api = new RuntimeApiServer();
    api.#address = address;
    api.#server.on('error', () => {});
    api.#server.listen(handle);
    api.#server.unref();
    return api;
  }

  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return this.#address ?? `127.0.0.1:${this.#port}`;
  }

  /**
   * The runtime is parked in GET /invocation/next with nothing to deliver, and every extension waits
   * in event/next (as on AWS, an invocation's extension work ends the invoke phase): the environment is idle.
   */
  get parked(): boolean {
    return this.#state === State.Ready && this.#waiting !== undefined && this.#queued === undefined && this.extensions.ready();
  }

  attach(hooks: RuntimeApiHooks): void {
    this.#hooks = hooks;
  }

  /** Extensions of this environment: `expectedExternal` must register before the first invocation. */
  attachExtensions(info: FunctionInfo, expectedExternal: number, hooks: Omit<ExtensionsHooks, 'onReady'>): void {
    this.extensions.attach(info, expectedExternal, {
      ...hooks,
      onReady: () => {
        this.#sendIfReady();
        if (this.extensions.ready()) this.#hooks?.onExtensionsReady?.();
      },
    });
  }

  #sendIfReady(): void {
    const waiting = this.#waiting;
    if (waiting !== undefined && this.#queued !== undefined && this.#state === State.Ready && this.extensions.ready()) {
      this.#waiting = undefined;
      this.#send(waiting);
    }
  }

  /** Drops an invocation not yet handed to the runtime (it has been answered otherwise, e.g. by an init error). */
  cancelQueued(): void {
    this.#queued = undefined;
  }

  /** Hands an invocation to the runtime now if it is polling, else when it next polls. */
  deliver(invocation: RuntimeInvocation): void {
    this.#queued = invocation;
    this.#sendIfReady();
  }

  async close(): Promise<void> {
    this.#hooks = undefined;
    this.extensions.close();
    this.telemetry.close();
    this.#waiting?.destroy();
    this.#waiting = undefined;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #send(res: http.ServerResponse): void {
    const invocation = this.#queued;
    const hooks = this.#hooks;
    if (invocation === undefined || hooks === undefined) return;
    this.#queued = undefined;
    this.#current = invocation;
    this.#state = State.Running;
    const headers = hooks.onDeliver(invocation);
    this.extensions.invoke({
      requestId: invocation.requestId,
      deadlineMs: Number(headers['Lambda-Runtime-Deadline-Ms']),
      invokedFunctionArn: headers['Lambda-Runtime-Invoked-Function-Arn'] ?? '',
      traceId: headers['Lambda-Runtime-Trace-Id'],
    });
    headers['Content-Length'] = String(invocation.payload.length);
    res.writeHead(200, headers);
    res.end(invocation.payload);
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '';
    if (url.startsWith(EXTENSIONS_PREFIX)) return this.extensions.route(req, res, url.slice(EXTENSIONS_PREFIX.length));
    if (url === TELEMETRY_PREFIX || url === `${TELEMETRY_PREFIX}/`) return this.telemetry.route(req, res);
    if (!url.startsWith(PREFIX)) return notFound(req, res);
    const rest = url.slice(PREFIX.length);
    if (rest === 'invocation/next') {
      if (req.method !== 'GET') return methodNotAllowed(req, res);
      return this.#next(req, res);
    }
    if (rest === 'init/error') {
      if (req.method !== 'POST') return methodNotAllowed(req, res);
      return this.#initError(req, res);
    }
    if (rest.startsWith('invocation/')) {
      const slash = rest.lastIndexOf('/');
      const id = decodeURIComponent(rest.slice('invocation/'.length, slash));
      const verb = rest.slice(slash + 1);
      if (slash > 'invocation/'.length - 1 && id !== '' && !id.includes('/') && (verb === 'response' || verb === 'error')) {
        if (req.method !== 'POST') return methodNotAllowed(req, res);
        return verb === 'response' ? this.#response(req, res, id) : this.#error(req, res, id);
      }
    }
    notFound(req, res);
  }

  #next(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Drain (and ignore) any body so the connection stays usable.
    req.resume();
    if (this.#reading) {
      // Pipelined right behind the response (our runtime clients do this to save a round trip):
      // it is handled once that response has been taken.
      this.#deferredNext = [req, res];
      return;
    }
    if (this.#state === State.Running || this.#state === State.InitError) {
      return forbiddenTransition(res, this.#state, State.Ready);
    }
    this.#state = State.Ready;
    this.#current = undefined;
    this.#waiting?.destroy();
    this.#waiting = res;
    res.on('close', () => {
      if (this.#waiting === res) this.#waiting = undefined;
    });
    this.#hooks?.onNext();
    if (this.#waiting === res) this.#sendIfReady();
  }

  #response(req: http.IncomingMessage, res: http.ServerResponse, id: string): void {
    if (this.#state !== State.Running) {
      req.resume();
      return forbiddenTransition(res, this.#state, 'InvocationResponse');
    }
    if (this.#current?.requestId !== id) {
      req.resume();
      return invalidRequestId(res);
    }
    this.#reading = true;
    readBody(req, (body, size) => {
      this.#reading = false;
      this.#afterRead();
      if (this.#current?.requestId !== id || this.#state !== State.Running) {
        return forbiddenTransition(res, this.#state, 'InvocationResponse');
      }
      this.#state = State.ResponseSent;
      this.#current = undefined;
      if (body === undefined) {
        sendJson(res, 413, {
          errorMessage: `Exceeded maximum allowed payload size (${MAX_PAYLOAD_SIZE} bytes).`,
          errorType: 'RequestEntityTooLarge',
        });
        this.#hooks?.onResponseTooLarge(id, size);
        return;
      }
      // Answer the runtime first: the environment's completion work must not delay its next poll.
      accepted(res);
      this.#hooks?.onResponse(id, body, header(req, 'content-type'));
    });
  }

  #error(req: http.IncomingMessage, res: http.ServerResponse, id: string): void {
    if (this.#state !== State.Running) {
      req.resume();
      return forbiddenTransition(res, this.#state, 'InvocationErrorResponse');
    }
    if (this.#current?.requestId !== id) {
      req.resume();
      return invalidRequestId(res);
    }
    this.#reading = true;
    readBody(req, (body) => {
      this.#reading = false;
      this.#afterRead();
      if (this.#current?.requestId !== id || this.#state !== State.Running) {
        return forbiddenTransition(res, this.#state, 'InvocationErrorResponse');
      }
      this.#state = State.ResponseSent;
      this.#current = undefined;
      accepted(res);
      this.#hooks?.onError(
        id,
        header(req, 'lambda-runtime-function-error-type'),
        body ?? Buffer.alloc(0),
        header(req, 'content-type'),
      );
    });
  }

  /** Runs a next that arrived while a body was read, after the current handler has finished. */
  #afterRead(): void {
    const deferred = this.#deferredNext;
    if (deferred === undefined) return;
    this.#deferredNext = undefined;
    queueMicrotask(() => this.#next(deferred[0], deferred[1]));
  }

  #initError(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.#state !== State.Started) {
      req.resume();
      return forbiddenTransition(res, this.#state, State.InitError);
    }
    readBody(req, (body) => {
      this.#state = State.InitError;
      accepted(res);
      this.#hooks?.onInitError(header(req, 'lambda-runtime-function-error-type'), body ?? Buffer.alloc(0));
    });
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a body up to MAX_PAYLOAD_SIZE; past it, keeps draining but yields `undefined`. */
function readBody(req: http.IncomingMessage, done: (body: Buffer | undefined, size: number) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_PAYLOAD_SIZE) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_PAYLOAD_SIZE) return done(undefined, size);
    done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), size);
  });
}

// go-chi's render.JSON (used by RIE) ends the body with a newline.
function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const ACCEPTED = Buffer.from('{"status":"OK"}\n');

function accepted(res: http.ServerResponse): void {
  res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': ACCEPTED.length });
  res.end(ACCEPTED);
}

function invalidRequestId(res: http.ServerResponse): void {
  sendJson(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
}

function forbiddenTransition(res: http.ServerResponse, from: string, to: string): void {
  sendJson(res, 403, {
    errorMessage: `State transition from ${from} to ${to} failed for runtime. Error: State transition is not allowed`,
    errorType: 'InvalidStateTransition',
  });
}

// Go's net/http answers unknown paths and methods with these plain-text bodies.
function notFound(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('404 page not found\n');
}

function methodNotAllowed(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  res.writeHead(405, { 'Content-Length': 0 });
  res.end();
}
