#!/usr/bin/env node
// Control-plane benchmark: requests/s and p50/p99 latency of GetFunction and ListFunctions (default page
// of 50) over 1,000 functions, with 16 concurrent clients.
//
//   npm run build && npm run bench:control-plane [-- --duration 5] [-- --quick]
//
// The server (dist/src/server.js) runs in a child process of this script, on port 0 with a temporary
// data dir, so the load generator does not share its event loop. The clients are @aws-sdk/client-lambda
// (SigV4-signed requests), one client per concurrent caller, each over its own keep-alive connection.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root, serveForParent } from './lib.mjs';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);

// ---- the server, in its own process ---------------------------------------------------------------

if (args[0] === '--serve') {
  await serveForParent({ dataDir: args[1] });
} else {
  await main();
}

// ---- the load generator ------------------------------------------------------------------------

async function main() {
  const quick = args.includes('--quick');
  const FUNCTIONS = Number(flag('--functions', 1000));
  const CLIENTS = Number(flag('--clients', 16));
  const DURATION_S = Number(flag('--duration', quick ? 2 : 5));
  const WARMUP_S = quick ? 0.5 : 1;
  /** Bound on requests per operation, whatever the duration. */
  const MAX_REQUESTS = 1_000_000;

  for (const f of ['dist/src/server.js', 'dist/src/shared/config.js']) {
    if (!fs.existsSync(path.join(root, f))) {
      console.error(`bench: ${f} is missing; run \`npm run build\` first`);
      process.exit(1);
    }
  }
  const { LambdaClient, CreateFunctionCommand, GetFunctionCommand, ListFunctionsCommand } = await import('@aws-sdk/client-lambda');
  const { default: yazl } = await import('yazl');

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-bench-cp-'));
  const child = fork(here, ['--serve', dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const cleanup = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const { url } = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000);
      child.once('message', (m) => { clearTimeout(timer); resolve(m); });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}`)); });
    });

    // One client per caller, each with a keep-alive agent holding one connection; connections are
    // counted to show they are reused.
    let connections = 0;
    const clients = Array.from({ length: CLIENTS }, () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const create = agent.createConnection.bind(agent);
      agent.createConnection = (...a) => { connections++; return create(...a); };
      return new LambdaClient({
        endpoint: url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
        maxAttempts: 1,
        requestHandler: { httpAgent: agent },
      });
    });

    const zip = await makeZip(yazl);
    const names = Array.from({ length: FUNCTIONS }, (_, i) => `bench-fn-${String(i).padStart(4, '0')}`);
    const setupStart = performance.now();
    let next = 0;
    await Promise.all(clients.map(async (client) => {
      while (next < names.length) {
        const name = names[next++];
        await client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/bench', Handler: 'index.handler', Code: { ZipFile: zip } }));
      }
    }));
    const setupMs = performance.now() - setupStart;
    let listed = 0;
    let marker;
    do {
      const page = await clients[0].send(new ListFunctionsCommand({ ...(marker ? { Marker: marker } : {}) }));
      listed += page.Functions.length;
      marker = page.NextMarker;
    } while (marker);
    if (listed !== FUNCTIONS) throw new Error(`expected ${FUNCTIONS} functions, listed ${listed}`);

    const operations = [
      { name: 'GetFunction', make: () => new GetFunctionCommand({ FunctionName: names[Math.floor(Math.random() * names.length)] }) },
      { name: 'ListFunctions', make: () => new ListFunctionsCommand({}) },
    ];
    const results = [];
    for (const op of operations) {
      await load(clients, op.make, WARMUP_S, MAX_REQUESTS);
      const connectionsBefore = connections;
      const r = await load(clients, op.make, DURATION_S, MAX_REQUESTS);
      results.push({ name: op.name, ...r, newConnections: connections - connectionsBefore });
    }

    const lines = [
      `lambdalite control plane: ${FUNCTIONS} functions, ${CLIENTS} concurrent clients, ${DURATION_S} s per operation after ${WARMUP_S} s warm-up`,
      `clients: @aws-sdk/client-lambda (SigV4-signed), keep-alive HTTP/1.1, one connection per client; server in a separate process`,
      `host: ${os.cpus()[0]?.model ?? 'unknown cpu'} x${os.cpus().length}, node ${process.version}; setup: ${FUNCTIONS} CreateFunction in ${(setupMs / 1000).toFixed(1)} s`,
      '',
      `${'operation'.padEnd(16)}${'requests'.padStart(10)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'errors'.padStart(8)}${'new conns'.padStart(11)}`,
      ...results.map((r) => `${r.name.padEnd(16)}${String(r.count).padStart(10)}${r.rps.toFixed(0).padStart(10)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${String(r.errors).padStart(8)}${String(r.newConnections).padStart(11)}`),
    ];
    console.log(lines.join('\n'));
    for (const c of clients) c.destroy();
    if (results.some((r) => r.errors > 0)) {
      console.error(`bench: requests failed, e.g. ${results.find((r) => r.firstError)?.firstError}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanup();
  }
}

/** Every client sends one request after another for `seconds` (or until `max` requests in all). */
async function load(clients, make, seconds, max) {
  const latencies = [];
  let errors = 0;
  let firstError;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < deadline && latencies.length + errors < max) {
      const t0 = performance.now();
      try {
        await client.send(make());
        latencies.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= `${e.name}: ${e.message}`;
      }
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { count: latencies.length, errors, firstError, rps: latencies.length / elapsed, p50: pct(50), p99: pct(99) };
}

function makeZip(yazl) {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('exports.handler = async (event) => event;\n'), 'index.js', { mtime: new Date(0) });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks = [];
    zip.outputStream.on('data', (c) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
