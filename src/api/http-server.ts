// The Lambda REST endpoint: every request gets a request id, is routed by the model, bound, validated and
// dispatched; every failure leaves as AWS's error shape. `/metrics` and paths under /_lambdalite/ are
// served by `extraRoutes` (Prometheus metrics, code downloads).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { operations, type OperationName } from './generated/model.js';
import { Router } from './router.js';
import { deserializeInput, isStreamingResponse, serializeOutput, type WireResponse } from './codec.js';
import { validateInput } from './validate.js';
import { errorResponse } from './errors.js';
import { identify, type Authentication, type IdentityDefaults } from './identity.js';
import type { Handlers, RequestContext } from './handlers.js';
import { LambdaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { LogsService } from '../logs/service.js';

/**
 * Request body limits per operation, enforced while the body is read so nothing above them is
 * buffered: AWS's documented 70,167,211 bytes for the three operations that carry a base64 zip,
 * AWS's 6 MiB invoke payload for the invoke operations (the body is the payload; InvocationType
 * Event and InvokeAsync are held to their smaller limit by their handler, with AWS's message naming
 * the payload's size), and for every other operation, whose inputs are a few KB at most, 256 KiB.
 * AWS documents no limit for those; this is the strict choice.
 */
export const BODY_LIMITS = {
  upload: 70_167_211,
  invoke: 6_291_456,
  other: 262_144,
} as const;

const bodyLimits: Partial<Record<OperationName, number>> = {
  CreateFunction: BODY_LIMITS.upload,
  UpdateFunctionCode: BODY_LIMITS.upload,
  PublishLayerVersion: BODY_LIMITS.upload,
  Invoke: BODY_LIMITS.invoke,
  InvokeAsync: BODY_LIMITS.invoke,
  InvokeWithResponseStream: BODY_LIMITS.invoke,
};

/**
 * What is still coming after a refusal is read and dropped (not buffered), so a client that sends its
 * whole body before it reads the answer still gets the 413 (closing the connection right after the
 * answer would reset it under the client's feet and lose the answer); past the largest body AWS takes
 * at all, the connection is cut.
 */
const DISCARD_BUDGET = BODY_LIMITS.upload;

/**
 * Where AWS's status differs from the model's (recorded from AWS): DeleteFunction answers 204 although
 * the model says 200.
 */
const statusOverrides: Partial<Record<OperationName, number>> = { DeleteFunction: 204 };

export type ExtraRoute = (req: http.IncomingMessage, url: URL) => WireResponse | undefined | Promise<WireResponse | undefined>;

export interface ApiServerOptions {
  readonly handlers: Handlers;
  readonly identity: IdentityDefaults;
  readonly logger: Logger;
  readonly extraRoutes?: ExtraRoute;
  /** Checks who is calling (SigV4, function credentials); without it every request is taken as it claims. */
  readonly authenticate?: (req: http.IncomingMessage) => Authentication;
  /** CloudWatch Logs, served on the same port. */
  readonly logs?: LogsService;
}

/** PutLogEvents takes up to 1 MiB of events; JSON framing on top. */
const LOGS_MAX_BODY_BYTES = 2 * 1_048_576;

const router = new Router<OperationName>(operations);

function tooLarge(limit: number, operation: string): LambdaError {
  return new LambdaError('RequestTooLarge', { limit, operation });
}

/** Drops the rest of a refused body as it arrives, up to DISCARD_BUDGET. */
function discardRest(req: http.IncomingMessage): void {
  req.removeAllListeners('data');
  let dropped = 0;
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > DISCARD_BUDGET) req.socket.destroy();
  });
  req.resume();
}

/** The body, or a 413 as soon as the declared or received size passes `limit`. */
function readBody(req: http.IncomingMessage, limit: number, operation: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      discardRest(req);
      reject(tooLarge(limit, operation));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        discardRest(req);
        reject(tooLarge(limit, operation));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, r: WireResponse): void {
  if (isStreamingResponse(r)) return r.stream(res);
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  const headers: Record<string, string | number> = { ...r.headers };
  headers['content-length'] = body ? body.length : 0;
  res.writeHead(r.status, headers);
  res.end(body);
}

export function createApiServer(options: ApiServerOptions): http.Server {
  const { handlers, logger } = options;
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const requestId = randomUUID();
    void handle(req, requestId).then(
      (r) => {
        r.headers['x-amzn-requestid'] = requestId;
        send(res, r);
      },
      (err: unknown) => {
        const { response, logged } = errorResponse(err, requestId);
        if (logged) logger.error(`request ${requestId} ${req.method} ${req.url} failed`, logged);
        send(res, response);
      },
    );
  });

  async function handle(req: http.IncomingMessage, requestId: string): Promise<WireResponse> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // No Lambda API path is /metrics or starts with /_lambdalite/, so these never shadow an operation.
    if ((url.pathname === '/metrics' || url.pathname.startsWith('/_lambdalite/')) && options.extraRoutes) {
      const r = await options.extraRoutes(req, url);
      if (r) return r;
    }
    // Before routing, as AWS's front door: an unauthenticated caller learns nothing about the paths.
    let auth: Authentication | undefined;
    try {
      auth = options.authenticate?.(req);
    } catch (e) {
      req.resume();
      throw e;
    }
    // CloudWatch Logs (awsJson1_1) shares the port: its requests are told apart by target or signing scope.
    if (options.logs?.accepts(req.headers)) {
      const body = await readBody(req, LOGS_MAX_BODY_BYTES, 'PutLogEvents');
      const target = String(req.headers['x-amz-target'] ?? '');
      await auth?.verifyLogs(body, target.slice(target.indexOf('.') + 1));
      return options.logs.handle({ headers: req.headers, body, requestId, identity: auth?.identity ?? identify(req.headers, url.searchParams, options.identity) });
    }
    const match = router.match(req.method ?? 'GET', url.pathname, url.searchParams);
    if (!match) {
      req.resume();
      // What AWS's front door answers for a path no operation serves.
      throw new LambdaError('UnknownOperationException', {});
    }
    const op = match.op;
    const body = await readBody(req, bodyLimits[op.name] ?? BODY_LIMITS.other, op.name === 'Invoke' ? 'InvokeFunction' : op.name);
    await auth?.verify(body);
    const handler = handlers[op.name] as ((input: unknown, ctx: RequestContext) => unknown) | undefined;
    if (!handler) {
      throw new LambdaError('NotImplemented', { operation: op.name });
    }
    const input = deserializeInput(op, match.labels, { method: req.method ?? 'GET', query: url.searchParams, headers: req.headers, body });
    auth?.authorize(op.name, input as Record<string, unknown>);
    if (op.input) validateInput(op.input, input);
    const host = req.headers.host ?? 'localhost';
    const ctx: RequestContext = {
      identity: auth?.identity ?? identify(req.headers, url.searchParams, options.identity),
      requestId,
      baseUrl: `http://${host}`,
      ...(typeof req.headers['x-amzn-trace-id'] === 'string' ? { traceHeader: req.headers['x-amzn-trace-id'] } : {}),
    };
    const output = (await handler(input, ctx)) as Record<string, unknown> | undefined;
    const wire = serializeOutput(op, output ?? undefined);
    const override = statusOverrides[op.name];
    if (override !== undefined) {
      wire.status = override;
      if (override === 204) wire.body = undefined;
    }
    return wire;
  }

  return server;
}
