// Starts the real server on port 0 with a temporary data dir, and a real @aws-sdk/client-lambda for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parseOptions, type ServerOptions } from '../../src/shared/config.js';
import { startServer, type RunningServer, type ServerDeps } from '../../src/server.js';
import { createLogger } from '../../src/shared/logger.js';

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly dataDir: string;
  readonly client: LambdaClient;
  /** A client signing with another access key (12 digits name an account) or region. */
  clientFor(opts: { accessKeyId?: string; region?: string }): LambdaClient;
  /** Stops and starts again on the same data dir (and port), as after a crash-free restart. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerOptions> = {}, deps: ServerDeps = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(path.join(tmpdir(), 'lambdalite-test-'));
  const options = parseOptions([], {}, { port: 0, ...overrides, dataDir });
  const logger = deps.logger ?? createLogger(process.stderr, true);
  let server = await startServer(options, { ...deps, logger });
  const clients: LambdaClient[] = [];
  const make = (opts: { accessKeyId?: string; region?: string } = {}) => {
    const c = new LambdaClient({
      endpoint: server.url,
      region: opts.region ?? 'us-east-1',
      credentials: { accessKeyId: opts.accessKeyId ?? 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  };
  const t: TestServer = {
    get server() { return server; },
    get url() { return server.url; },
    dataDir,
    client: make(),
    clientFor: make,
    async restart() {
      const port = server.port;
      await server.close();
      server = await startServer({ ...options, port }, { ...deps, logger });
    },
    async close() {
      for (const c of clients) c.destroy();
      await server.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
