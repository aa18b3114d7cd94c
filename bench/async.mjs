#!/usr/bin/env node
// Async invoke benchmark: how many InvocationType=Event requests per second the server accepts (each
// answered only after its fsync'd commit), and the end-to-end delivery rate for a no-op Node.js function
// (accepted until the durable queue is empty again).
//
//   node bench/async.mjs [--events N] [--concurrency C]
//
// Runs the built server (dist/) in this process on a temporary data dir, driven by @aws-sdk/client-lambda.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { makeZip } from '../dist/test/helpers/zip.js';
import { startServer } from '../dist/src/server.js';
import { parseOptions } from '../dist/src/shared/config.js';
import { createLogger } from '../dist/src/shared/logger.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const N = arg('--events', 2000);
const C = arg('--concurrency', 32);

/** A Node.js package whose index.js is `source`. */
const zip = (source) => makeZip([{ name: 'index.js', content: source }]);

const dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-bench-async-'));
const server = await startServer(parseOptions([], {}, { port: 0, dataDir }), { logger: createLogger(process.stderr, true) });
const client = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
try {
  await client.send(new CreateFunctionCommand({
    FunctionName: 'noop', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler',
    Code: { ZipFile: await zip('exports.handler = async () => null;') },
  }));
  const payload = Buffer.from('{"k":"v"}');
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, async () => {
    while (next < N) {
      next++;
      const r = await client.send(new InvokeCommand({ FunctionName: 'noop', InvocationType: 'Event', Payload: payload }));
      if (r.StatusCode !== 202) throw new Error(`status ${r.StatusCode}`);
    }
  }));
  const accepted = performance.now() - t0;
  while (server.store.countEvents() > 0) await new Promise((r) => setTimeout(r, 5));
  const delivered = performance.now() - t0;
  const line = (k, v) => console.log(`${k.padEnd(44)} ${v}`);
  line('events', N);
  line('client concurrency', C);
  line('accepted (202 after fsync) events/s', Math.round(N / (accepted / 1000)));
  line('accept phase ms', Math.round(accepted));
  line('end-to-end delivered events/s', Math.round(N / (delivered / 1000)));
  line('all delivered after ms', Math.round(delivered));
} finally {
  client.destroy();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
