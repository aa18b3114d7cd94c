// The Lambda REST endpoint: every request gets a request id, is routed by the model, bound, validated and
// dispatched; every failure leaves as AWS's error shape. `/metrics` and paths under /_lambdalite/ are
// served by `extraRoutes` (Prometheus metrics, code downloads).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { operations, type OperationName } from './generated/model.js';
import { Router } from './router.js';
import { deserializeInput, serializeOutput, type WireResponse } from './codec.js';
import { validateInput } from './validate.js';
import { errorResponse } from './errors.js';
import { identify, type IdentityDefaults } from './identity.js';
import type { Handlers, RequestContext } from './handlers.js';
import { LambdaError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/** Bodies above this are refused before they are buffered: 6 MB invoke payloads plus JSON framing. */
export const MAX_BODY_BYTES = 70_167_211;

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
}

const router = new Router<OperationName>(operations);

function readBody(req: http.IncomingMessage, limit: number, operation: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      reject(new LambdaError('RequestTooLarge', { limit, operation }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new LambdaError('RequestTooLarge', { limit, operation }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, r: WireResponse): void {
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
    const match = router.match(req.method ?? 'GET', url.pathname, url.searchParams);
    if (!match) {
      req.resume();
      // What AWS's front door answers for a path no operation serves.
      throw new LambdaError('UnknownOperationException', {});
    }
    const op = match.op;
    const body = await readBody(req, MAX_BODY_BYTES, op.name === 'Invoke' ? 'InvokeFunction' : op.name);
    const handler = handlers[op.name] as ((input: unknown, ctx: RequestContext) => unknown) | undefined;
    if (!handler) {
      throw new LambdaError('NotImplemented', { operation: op.name });
    }
    const input = deserializeInput(op, match.labels, { method: req.method ?? 'GET', query: url.searchParams, headers: req.headers, body });
    if (op.input) validateInput(op.input, input);
    const host = req.headers.host ?? 'localhost';
    const ctx: RequestContext = {
      identity: identify(req.headers, url.searchParams, options.identity),
      requestId,
      baseUrl: `http://${host}`,
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
