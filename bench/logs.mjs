#!/usr/bin/env node
// Log write cost per line: function output going through LogStream into the log store (cut into events,
// queued, committed once per event-loop turn), beside floors measured in the same run:
//   - raw SQLite: the same rows inserted with one prepared statement in one transaction per batch;
//   - the file-per-stream approach it replaced: one writeSync per event-loop turn;
//   - appendFileSync per line.
// Also the part an invoke waits for: the synchronous cost of LogStream.write (queueing only), and the
// warm invoke latency (p50, through the server) of a function printing 100 lines beside the same
// function printing none.
//
//   node bench/logs.mjs [--lines N] [--batch B] [--invokes N]
import { appendFileSync, closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LogStore } from '../dist/src/logs/store.js';
import { LogStream } from '../dist/src/sandbox/logs.js';
import { systemClock } from '../dist/src/shared/clock.js';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { makeZip } from '../dist/test/helpers/zip.js';
import { startServer } from '../dist/src/server.js';
import { parseOptions } from '../dist/src/shared/config.js';
import { createLogger } from '../dist/src/shared/logger.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const N = arg('--lines', 200_000);
/** Lines written per event-loop turn (a chatty function's stdout chunk). */
const B = arg('--batch', 50);
const INVOKES = arg('--invokes', 300);

const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-bench-logs-'));
const line = (i) => `2026-01-01T00:00:00.000Z\t0f6c1d2e-1111-2222-3333-444455556666\tINFO\tprocessed record ${i} of the batch with some payload text\n`;
const turn = () => new Promise((r) => setImmediate(r));
const nsPerLine = (ms) => ((ms * 1e6) / N).toFixed(0).padStart(6);

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const results = [];
try {
  // lambdalite: LogStream -> LogStore (logs.db, WAL), as an execution environment writes.
  const store = new LogStore(path.join(dir, 'logs.db'), { clock: systemClock, retentionDays: 7, maxBytes: 0 });
  const config = { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench', functionName: 'bench', version: '$LATEST', accountId: '000000000000', region: 'us-east-1', logGroup: '/aws/lambda/bench' };
  const stream = new LogStream({ sink: store, config, name: '2026/01/01/[$LATEST]00000000000000000000000000000000', clock: systemClock });
  let syncMs = 0;
  const total = await timed(async () => {
    for (let i = 0; i < N; i += B) {
      let chunk = '';
      for (let j = i; j < Math.min(N, i + B); j++) chunk += line(j);
      const t0 = performance.now();
      stream.write(Buffer.from(chunk));
      syncMs += performance.now() - t0;
      await turn();
    }
    await stream.close();
  });
  store.close();
  results.push(['lambdalite LogStream -> LogStore (commit per turn)', total]);
  results.push(['  of which on the invoke path (LogStream.write)', syncMs]);

  // Floor: raw better-sqlite3, prepared insert, one transaction per batch.
  const db = new Database(path.join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The same table and indexes as the store's events (by stream and by group, each in time order).
  db.exec('CREATE TABLE e (id INTEGER PRIMARY KEY, group_id INTEGER, stream_id INTEGER, ts INTEGER, ingest INTEGER, message TEXT); CREATE INDEX e_s ON e (stream_id, ts, id); CREATE INDEX e_g ON e (group_id, ts, id)');
  const insert = db.prepare('INSERT INTO e (group_id, stream_id, ts, ingest, message) VALUES (?, ?, ?, ?, ?)');
  const batch = db.transaction((from) => {
    const now = Date.now();
    for (let j = from; j < Math.min(N, from + B); j++) insert.run(1, 1, now, now, line(j).slice(0, -1));
  });
  results.push(['floor: raw SQLite insert (same table), a transaction per batch', await timed(async () => {
    for (let i = 0; i < N; i += B) {
      batch(i);
      await turn();
    }
  })]);
  db.close();

  // The file-per-stream store it replaced: one writeSync per turn.
  const fd = openSync(path.join(dir, 'stream.log'), 'a');
  results.push(['file per stream, one writeSync per turn', await timed(async () => {
    for (let i = 0; i < N; i += B) {
      let chunk = '';
      for (let j = i; j < Math.min(N, i + B); j++) chunk += line(j);
      writeSync(fd, chunk);
      await turn();
    }
  })]);
  closeSync(fd);

  // appendFileSync per line (open, write, close each time).
  const perLine = Math.min(N, 50_000);
  const appendMs = await timed(async () => {
    for (let i = 0; i < perLine; i++) appendFileSync(path.join(dir, 'append.log'), line(i));
  });
  results.push(['floor: appendFileSync per line', (appendMs * N) / perLine]);

  console.log(`log write cost, ${N} lines of ${line(0).length} bytes, ${B} lines per event-loop turn`);
  for (const [name, ms] of results) console.log(`  ${name.padEnd(62)} ${nsPerLine(ms)} ns/line  (${((N / ms) * 1000).toFixed(0)} lines/s)`);

  // Warm invokes through the server: what printing costs the caller.
  const server = await startServer(parseOptions([], {}, { port: 0, dataDir: path.join(dir, 'server') }), { logger: createLogger(process.stderr, true) });
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  try {
    const p50 = async (name, source) => {
      await client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { ZipFile: await makeZip([{ name: 'index.js', content: source }]) } }));
      const times = [];
      for (let i = 0; i < INVOKES + 10; i++) {
        const t0 = performance.now();
        await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }));
        if (i >= 10) times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)];
    };
    const quiet = await p50('quiet', 'exports.handler = async () => 1;');
    const chatty = await p50('chatty', 'exports.handler = async () => { for (let i = 0; i < 100; i++) console.log("line", i, "of a chatty function"); return 1; };');
    console.log(`warm invoke p50 over ${INVOKES} invokes (server, keep-alive HTTP)`);
    console.log(`  ${'floor: a function that prints nothing'.padEnd(62)} ${quiet.toFixed(2).padStart(6)} ms`);
    console.log(`  ${'a function that prints 100 lines'.padEnd(62)} ${chatty.toFixed(2).padStart(6)} ms  (${(((chatty - quiet) * 1e3) / 100).toFixed(1)} us/line)`);
  } finally {
    client.destroy();
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
