#!/usr/bin/env node
// What verifying SigV4 costs: GetFunctionConfiguration requests/s and p50/p99 latency with --credentials
// beside the open developer mode (the floor), same machine, same run, 8 concurrent SDK clients.
//
//   npm run build && node bench/auth.mjs [--duration 5] [--clients 8]
//
// Each server runs in its own child process (dist/src/server.js, port 0, temporary data dir), so the
// load generator does not share its event loop.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root, serveForParent } from './lib.mjs';

const here = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const KEY = { accessKeyId: 'AKIABENCH00000000000', secretAccessKey: 'bench-secret' };

if (args[0] === '--serve') {
  const credentialsFile = args[2] === '-' ? undefined : args[2];
  await serveForParent({ dataDir: args[1], credentialsFile });
} else {
  await main();
}

async function main() {
  const CLIENTS = Number(flag('--clients', 8));
  const DURATION_S = Number(flag('--duration', 5));
  const MAX_REQUESTS = 1_000_000;
  if (!fs.existsSync(path.join(root, 'dist/src/server.js'))) {
    console.error('bench: dist/src/server.js is missing; run `npm run build` first');
    process.exit(1);
  }
  const { LambdaClient, CreateFunctionCommand, GetFunctionConfigurationCommand } = await import('@aws-sdk/client-lambda');
  const { default: yazl } = await import('yazl');
  const zip = await new Promise((resolve) => {
    const z = new yazl.ZipFile();
    z.addBuffer(Buffer.from('exports.handler = async (e) => e;'), 'index.js');
    z.end();
    const chunks = [];
    z.outputStream.on('data', (c) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-bench-auth-'));
  const credentials = path.join(work, 'credentials');
  fs.writeFileSync(credentials, `[bench]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\naws_account_id = 111111111111\n`);

  async function measure(label, credentialsFile) {
    const child = fork(here, ['--serve', fs.mkdtempSync(path.join(work, 'data-')), credentialsFile ?? '-'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { url } = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const clients = Array.from({ length: CLIENTS }, () => new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 }));
    await clients[0].send(new CreateFunctionCommand({ FunctionName: 'bench', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::111111111111:role/r', Handler: 'index.handler', Code: { ZipFile: zip } }));
    const latencies = [];
    const run = async (c, until) => {
      while (performance.now() < until && latencies.length < MAX_REQUESTS) {
        const t0 = performance.now();
        await c.send(new GetFunctionConfigurationCommand({ FunctionName: 'bench' }));
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(clients.map((c) => run(c, performance.now() + 500)));
    latencies.length = 0;
    const start = performance.now();
    await Promise.all(clients.map((c) => run(c, start + DURATION_S * 1000)));
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);
    for (const c of clients) c.destroy();
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
    const rps = latencies.length / seconds;
    console.log(`${label.padEnd(34)} ${rps.toFixed(0).padStart(6)} req/s   p50 ${q(0.5)} ms   p99 ${q(0.99)} ms`);
    return rps;
  }

  console.log(`GetFunctionConfiguration, ${CLIENTS} clients, ${DURATION_S} s each`);
  const floor = await measure('open mode (floor)', undefined);
  const verified = await measure('--credentials (SigV4 verified)', credentials);
  console.log(`verification keeps ${((verified / floor) * 100).toFixed(0)}% of the open mode's throughput`);
  fs.rmSync(work, { recursive: true, force: true });
}
