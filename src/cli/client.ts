// The client side of the `lambdalite` command: a Lambda SDK client for a running server, upload progress,
// and the error boundary that prints AWS's error type and message without a stack trace.
import { Readable } from 'node:stream';
import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { UsageError } from './args.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:9001';

export interface ClientOptions {
  readonly endpoint: string;
  /** Called with (bytes sent, total) while a request body of at least `progressMinBytes` uploads. */
  readonly onProgress?: (sent: number, total: number) => void;
}

const PROGRESS_MIN_BYTES = 1024 * 1024;
const CHUNK = 64 * 1024;

/** Hands the signed request to the SDK's HTTP handler with its body as a stream that reports how much was sent. */
class ProgressHandler {
  readonly #inner = new NodeHttpHandler();
  readonly metadata = { handlerProtocol: 'http/1.1' };
  constructor(readonly onProgress: (sent: number, total: number) => void) {}

  handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const [request, options] = args;
    const body: unknown = request.body;
    // A view, not Buffer.from(body): the SDK's JSON body is a Uint8Array whose valueOf() is a string.
    const bytes = typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined;
    if (bytes !== undefined && bytes.length >= PROGRESS_MIN_BYTES) {
      const report = this.onProgress;
      request.body = Readable.from((function* chunks() {
        report(0, bytes.length);
        for (let off = 0; off < bytes.length; off += CHUNK) {
          yield bytes.subarray(off, off + CHUNK);
          report(Math.min(off + CHUNK, bytes.length), bytes.length);
        }
      })());
    }
    return this.#inner.handle(request, options);
  }

  updateHttpClientConfig(...args: Parameters<NodeHttpHandler['updateHttpClientConfig']>): void {
    this.#inner.updateHttpClientConfig(...args);
  }

  httpHandlerConfigs() {
    return this.#inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.#inner.destroy();
  }
}

/** A client for the server at `endpoint`, with the caller's credentials when set (any work unsigned-checked). */
export function lambdaClient(opts: ClientOptions): LambdaClient {
  let url: URL;
  try {
    url = new URL(opts.endpoint);
  } catch {
    throw new UsageError(`--endpoint is not a URL: ${opts.endpoint}`);
  }
  const env = process.env;
  // The SDK's notice about its future Node.js floor would precede every command's output; lambdalite
  // supports what package.json's engines says.
  env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return new LambdaClient({
    endpoint: url.toString().replace(/\/$/, ''),
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    credentials: {
      accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? 'test',
      secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? 'test',
      ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}),
    },
    maxAttempts: 1,
    ...(opts.onProgress ? { requestHandler: new ProgressHandler(opts.onProgress) as unknown as LambdaClientConfig['requestHandler'] } : {}),
  });
}

/** A one-line progress bar on a terminal (redrawn in place), or a line at each quarter elsewhere. */
export function progressPrinter(out: NodeJS.WriteStream, label: string): (sent: number, total: number) => void {
  let lastQuarter = -1;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  return (sent, total) => {
    const pct = Math.floor((sent / total) * 100);
    if (out.isTTY) {
      const width = 30;
      const filled = Math.round((width * sent) / total);
      out.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)}% ${mb(sent)}/${mb(total)} MB${sent === total ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor(pct / 25);
    if (quarter !== lastQuarter) {
      lastQuarter = quarter;
      out.write(`${label} ${pct}% of ${mb(total)} MB\n`);
    }
  };
}

/** The one line a failed client command prints: AWS's error type and message, or what went wrong on the way. */
export function describeError(err: unknown, endpoint: string): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: 2 };
  const e = err as { name?: string; message?: string; code?: string; $metadata?: unknown; cause?: { code?: string } };
  const netCode = e.code ?? e.cause?.code;
  if (netCode === 'ECONNREFUSED' || netCode === 'ENOTFOUND' || netCode === 'ECONNRESET' || netCode === 'EHOSTUNREACH') {
    return { message: `cannot reach ${endpoint} (${netCode}): is \`lambdalite start\` running there? (--endpoint sets another)`, code: 1 };
  }
  if (e.$metadata !== undefined && e.name) return { message: `${e.name}: ${e.message ?? ''}`.trim(), code: 1 };
  return { message: e.message ?? String(err), code: 1 };
}
