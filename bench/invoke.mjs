#!/usr/bin/env node
// Invoke benchmark: warm latency (p50/p99 at concurrency 1), throughput (concurrency 1 and 16) and
// cold start, for a no-op Node.js and a no-op Python function, each beside its floor measured in the
// same run: a bare loopback HTTP round trip in Node.js (warm), a bare `node -e 0` / `python3 -c 0`
// spawn (cold). Floors run with a clean environment, as functions do.
// Then a burst (issue 6): N_BURST concurrent invokes of a cold no-op Node.js function: time until all
// are served, environments started, and peak memory sampled every 20 ms two ways: the environments'
// cgroup (memory.usage_in_bytes / memory.current of the engine's parent cgroup, which covers every
// environment's processes, page cache included) and the RSS of this process plus all its
// descendants from /proc (shared pages counted once per process, so it overstates).
//
//   node bench/invoke.mjs [--driver engine|http] [--quick] [--burst-only] [--burst N]
//   node bench/invoke.mjs --isolation [--quick]
//
// --isolation: what the execution environments' isolation costs, before/after in one run (engine
// driver, no-op nodejs20.x function): warm p50/p99 and cold start with no isolation (network host,
// not frozen, tmpfs /tmp), then each piece alone (own network namespace with pasta egress; freezer;
// disk-backed /tmp), then all of it (the default).
//
// The driver is swappable: `engine` drives src/invoke/engine.ts directly; `http` goes through the
// server's Invoke API over keep-alive HTTP, as a client would.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const driverName = args[args.indexOf('--driver') + 1] && args.includes('--driver') ? args[args.indexOf('--driver') + 1] : 'engine';

const N_WARM = quick ? 500 : 3000;
const N_THROUGHPUT = quick ? 1000 : 4000;
const N_COLD = quick ? 8 : 20;
const N_SPAWN = quick ? 10 : 30;
const burstOnly = args.includes('--burst-only');
const N_BURST = args.includes('--burst') ? Number(args[args.indexOf('--burst') + 1]) : 100;
/** --max-starts N: the engine's maxConcurrentStarts (engine driver only); default the engine's own. */
const maxStarts = args.includes('--max-starts') ? Number(args[args.indexOf('--max-starts') + 1]) : undefined;

/** The runtime directory the tests use (Node.js builds, SDKs), so nothing is downloaded mid-run. */
const benchRuntimeDir = process.env.LAMBDALITE_RUNTIME_DIR ?? path.join(os.homedir(), '.cache', 'lambdalite', 'runtimes');

/** The engine's parent memory cgroup, from its start-up notice ("memory limits: cgroup v1 at …"). */
let cgroupDir;
const noteLog = (l) => {
  const m = l.match(/cgroup v[12] at (\S+)/);
  if (m) cgroupDir = m[1];
  console.log(`# ${l}`);
};

// ---- drivers ---------------------------------------------------------------------------------

const DRIVERS = {
  /** Calls the invoke engine in-process. */
  async engine(engineOptions = {}) {
    const { createInvoker } = await import(path.join(root, 'dist/src/invoke/engine.js'));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-bench-'));
    const invoker = createInvoker({ dataDir, log: noteLog, runtimeDir: benchRuntimeDir, ...(maxStarts ? { maxConcurrentStarts: maxStarts } : {}), ...engineOptions });
    return {
      /** Makes a function from a code dir; returns an opaque handle. */
      async define(name, runtime, handler, codeDir) {
        return {
          functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
          functionName: name,
          version: '$LATEST',
          runtime,
          handler,
          memorySize: 128,
          timeout: 10,
          ephemeralStorage: 512,
          architectures: ['x86_64'],
          codeDir,
          layerDirs: [],
          environment: {},
          region: 'us-east-1',
          accountId: '000000000000',
          logGroup: `/aws/lambda/${name}`,
          revision: 'bench',
        };
      },
      async invoke(fn, payload) {
        const r = await invoker.invoke(fn, {
          requestId: randomUUID(),
          payload,
          invokedFunctionArn: fn.functionArn,
          tailLog: false,
        });
        if (r.functionError) throw new Error(`function error: ${r.payload}`);
        return r;
      },
      /** Drops warm environments so the next invoke is a cold start. */
      async coldify(fn) {
        await invoker.retire(fn.functionArn);
      },
      stats: () => invoker.stats(),
      async close() {
        await invoker.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

/** Zips a code dir's files (flat) for CreateFunction. */
async function zipDir(dir) {
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  for (const f of fs.readdirSync(dir)) zip.addFile(path.join(dir, f), f, { mode: 0o100644 });
  zip.end();
  const chunks = [];
  for await (const c of zip.outputStream) chunks.push(c);
  return Buffer.concat(chunks);
}

DRIVERS.http = async function http_() {
  const { startServer } = await import(path.join(root, 'dist/src/server.js'));
  const { parseOptions } = await import(path.join(root, 'dist/src/shared/config.js'));
  const { createLogger } = await import(path.join(root, 'dist/src/shared/logger.js'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-bench-'));
  const logger = createLogger(process.stderr, true);
  const server = await startServer(parseOptions([], {}, { port: 0, dataDir, runtimeDir: benchRuntimeDir }), {
    logger: { ...logger, info: (line, ...rest) => (typeof line === 'string' && noteLog(line), logger.info(line, ...rest)) },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const request = (method, urlPath, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(`${server.url}${urlPath}`, { method, agent, headers: { 'content-type': 'application/json', 'content-length': body ? body.length : 0 } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    async define(name, runtime, handler, codeDir) {
      const zip = await zipDir(codeDir);
      const body = Buffer.from(JSON.stringify({ FunctionName: name, Runtime: runtime, Handler: handler, Role: 'arn:aws:iam::000000000000:role/bench', Timeout: 10, Code: { ZipFile: zip.toString('base64') } }));
      const r = await request('POST', '/2015-03-31/functions', body);
      if (r.status !== 201) throw new Error(`CreateFunction ${r.status}: ${r.body}`);
      return { name, arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}` };
    },
    async invoke(fn, payload) {
      const r = await request('POST', `/2015-03-31/functions/${fn.name}/invocations`, payload);
      if (r.status !== 200 || r.headers['x-amz-function-error']) throw new Error(`invoke ${r.status}: ${r.body}`);
      return r;
    },
    async coldify(fn) {
      await server.invoker.retire(fn.arn);
    },
    stats: () => server.invoker.stats?.(),
    async close() {
      agent.destroy();
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

// ---- helpers ---------------------------------------------------------------------------------

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);
const f2 = (x) => x.toFixed(2);
const cleanEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'en_US.UTF-8' };

function spawnTime(cmd, argv) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const c = spawn(cmd, argv, { stdio: 'ignore', env: cleanEnv });
    c.on('error', reject);
    c.on('exit', () => resolve(performance.now() - t));
  });
}

async function spawnFloor(cmd, argv) {
  const xs = [];
  for (let i = 0; i < 3; i++) await spawnTime(cmd, argv);
  for (let i = 0; i < N_SPAWN; i++) xs.push(await spawnTime(cmd, argv));
  return median(xs);
}

/** The same bare spawn inside the sandbox (bwrap + setpriv, no cgroup): what isolation itself costs. */
async function sandboxedSpawn(runtime, argvFor) {
  const { detectSandbox } = await import(path.join(root, 'dist/src/sandbox/sandbox.js'));
  const { RuntimeRegistry } = await import(path.join(root, 'dist/src/runtimes/registry.js'));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-bench-sb-'));
  const sandbox = detectSandbox({ scratchDir: scratch });
  const plan = new RuntimeRegistry({ runtimeDir: benchRuntimeDir }).resolve(runtime);
  const prepared = sandbox.prepare('bench', {
    codeDir: scratch,
    layerDirs: [],
    runtimeDir: undefined,
    tmpSizeMb: 512,
    readOnly: plan.readOnly,
    hidden: plan.hidden,
    binds: plan.binds,
  });
  const once = async () => {
    const t = performance.now();
    const p = prepared.spawn({ argv: argvFor(plan), env: cleanEnv, launcher: undefined });
    p.stdout.resume();
    p.stderr.resume();
    await p.exit;
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await once();
  const xs = [];
  for (let i = 0; i < N_SPAWN; i++) xs.push(await once());
  prepared.cleanup();
  fs.rmSync(scratch, { recursive: true, force: true });
  return { kind: sandbox.kind, ms: median(xs) };
}

async function loopbackFloor() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('null'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const port = server.address().port;
  const once = () =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end('{}');
    });
  for (let i = 0; i < 300; i++) await once();
  const xs = [];
  for (let i = 0; i < N_WARM; i++) {
    const t = performance.now();
    await once();
    xs.push(performance.now() - t);
  }
  agent.destroy();
  server.close();
  xs.sort((a, b) => a - b);
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}

async function warm(driver, fn) {
  const payload = Buffer.from('{}');
  // Warm up the environment and the engine's own JIT before measuring.
  for (let i = 0; i < 1000; i++) await driver.invoke(fn, payload);
  const xs = [];
  const t0 = performance.now();
  for (let i = 0; i < N_WARM; i++) {
    const t = performance.now();
    await driver.invoke(fn, payload);
    xs.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  xs.sort((a, b) => a - b);
  return { p50: pct(xs, 50), p99: pct(xs, 99), rps1: (N_WARM / total) * 1000 };
}

async function throughput(driver, fn, concurrency) {
  const payload = Buffer.from('{}');
  // Start the environments first so cold starts are not counted. One round of `concurrency` invokes
  // is not enough: with bounded parallel starts, waiting invokes take environments that free up.
  let warmLeft = N_THROUGHPUT / 2;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (warmLeft-- > 0) await driver.invoke(fn, payload);
    }),
  );
  let left = N_THROUGHPUT;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await driver.invoke(fn, payload);
    }),
  );
  return (N_THROUGHPUT / (performance.now() - t0)) * 1000;
}

async function cold(driver, fn, quietMs = 100) {
  const payload = Buffer.from('{}');
  await driver.invoke(fn, payload);
  const xs = [];
  for (let i = 0; i < N_COLD; i++) {
    await driver.coldify(fn);
    // A cold start on a quiet server: let the engine replenish its spare listeners/launchers first.
    await new Promise((r) => setTimeout(r, quietMs));
    const t = performance.now();
    await driver.invoke(fn, payload);
    xs.push(performance.now() - t);
  }
  return median(xs);
}

function realPython() {
  // The engine runs python3.12 on a matching host interpreter when there is one; use the same
  // binary for the floor (never a pyenv shim, which adds a shell script's start-up).
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const pyenv = process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
  try {
    const v = fs.readdirSync(path.join(pyenv, 'versions')).filter((d) => d.startsWith('3.12')).sort().pop();
    if (v) return path.join(pyenv, 'versions', v, 'bin', 'python3.12');
  } catch {}
  return r.stdout.trim() || 'python3';
}

/** Bytes charged to the environments' parent cgroup (hierarchical), or undefined without one. */
function cgroupBytes() {
  if (!cgroupDir) return undefined;
  for (const f of ['memory.current', 'memory.usage_in_bytes']) {
    try {
      return Number(fs.readFileSync(path.join(cgroupDir, f), 'utf8'));
    } catch {}
  }
  return undefined;
}

/** RSS of this process and every descendant (bwrap, shells, runtimes), from /proc. */
function treeRssBytes(pid = process.pid) {
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    try {
      const m = fs.readFileSync(`/proc/${p}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
      if (m) total += Number(m[1]) * 1024;
      for (const t of fs.readdirSync(`/proc/${p}/task`)) {
        const kids = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim();
        if (kids) stack.push(...kids.split(' ').map(Number));
      }
    } catch {}
  }
  return total;
}

async function burst(driver, fn, n, holdMs = 0) {
  const payload = Buffer.from(holdMs ? JSON.stringify({ holdMs }) : '{}');
  await driver.coldify(fn);
  await new Promise((r) => setTimeout(r, 200));
  const before = driver.stats?.();
  const base = { cgroup: cgroupBytes() ?? 0, rss: treeRssBytes() };
  const peak = { ...base };
  const sample = () => {
    const c = cgroupBytes();
    if (c !== undefined && c > peak.cgroup) peak.cgroup = c;
    const r = treeRssBytes();
    if (r > peak.rss) peak.rss = r;
  };
  const timer = setInterval(sample, 20);
  const t = performance.now();
  const lat = await Promise.all(
    Array.from({ length: n }, async () => {
      const t0 = performance.now();
      await driver.invoke(fn, payload);
      return performance.now() - t0;
    }),
  );
  const total = performance.now() - t;
  clearInterval(timer);
  sample();
  const after = driver.stats?.();
  lat.sort((a, b) => a - b);
  return {
    n,
    holdMs,
    total,
    p50: pct(lat, 50),
    max: lat[lat.length - 1],
    started: after && before ? after.started - before.started : undefined,
    peakStarts: after?.peakConcurrentStarts,
    base,
    peak,
  };
}

function printBurst(b) {
  const mb = (x) => `${(x / 1048576).toFixed(0)} MB`;
  console.log('');
  console.log(
    `burst: ${b.n} concurrent cold invokes of a ${b.holdMs ? `nodejs20.x function that waits ${b.holdMs} ms` : 'no-op nodejs20.x function'} (128 MB)`,
  );
  console.log(`  all served in ${f2(b.total)} ms (per-invoke p50 ${f2(b.p50)} ms, max ${f2(b.max)} ms)`);
  console.log(`  environments started: ${b.started ?? 'n/a'}; most initialising at once: ${b.peakStarts ?? 'n/a'}`);
  if (cgroupDir) console.log(`  peak memory, environments' cgroup: ${mb(b.peak.cgroup)} (${mb(b.peak.cgroup - b.base.cgroup)} over idle)`);
  console.log(`  peak memory, RSS of server + descendants: ${mb(b.peak.rss)} (${mb(b.peak.rss - b.base.rss)} over idle; shared pages counted per process)`);
}

// ---- main ------------------------------------------------------------------------------------

const driverFactory = DRIVERS[driverName];
if (!driverFactory) throw new Error(`unknown driver ${driverName}; have ${Object.keys(DRIVERS).join(', ')}`);
const driver = await driverFactory();

const code = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-bench-code-'));
fs.chmodSync(code, 0o755);
fs.writeFileSync(path.join(code, 'index.js'), 'exports.handler = async () => null;\n');
fs.writeFileSync(path.join(code, 'hold.js'), 'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.holdMs)); return null; };\n');
fs.writeFileSync(path.join(code, 'esm.mjs'), 'export const handler = async () => null;\n');
fs.writeFileSync(path.join(code, 'app.py'), 'def handler(event, context):\n    return None\n');
for (const f of fs.readdirSync(code)) fs.chmodSync(path.join(code, f), 0o644);

const python = realPython();
console.log(`# driver: ${driverName}; node ${process.version}; python ${python}; ${os.cpus().length} CPUs`);

if (args.includes('--isolation')) {
  await driver.close();
  const loop = await loopbackFloor();
  const nodeSpawn = await spawnFloor(process.execPath, ['-e', '0']);
  const configs = [
    ['none (before)', { network: 'host', freeze: false, diskTmp: false }],
    ['network egress', { network: 'egress', freeze: false, diskTmp: false }],
    ['network none', { network: 'none', freeze: false, diskTmp: false }],
    ['freezer', { network: 'host', freeze: true, diskTmp: false }],
    ['disk /tmp', { network: 'host', freeze: false, diskTmp: true }],
    ['all (default)', { network: 'egress' }],
  ];
  // All engines live at once and are measured in turns, so that load from elsewhere on the machine
  // falls on every configuration alike.
  const out = [];
  for (const [label, options] of configs) {
    const d = await DRIVERS.engine(options);
    const fn = await d.define(`bench-iso-${out.length}`, 'nodejs20.x', 'index.handler', code);
    for (let i = 0; i < 300; i++) await d.invoke(fn, Buffer.from('{}'));
    out.push({ label, d, fn, warm: [], cold: [] });
  }
  const ROUNDS = quick ? 5 : 15;
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of out) {
      for (let i = 0; i < N_WARM / ROUNDS; i++) {
        const t = performance.now();
        await r.d.invoke(r.fn, Buffer.from('{}'));
        r.warm.push(performance.now() - t);
      }
    }
  }
  for (let round = 0; round < N_COLD; round++) {
    for (const r of out) {
      await r.d.coldify(r.fn);
      // Spares (namespace + pasta, /tmp image) take longer to make than a listener: a quiet time for all.
      await new Promise((res) => setTimeout(res, 600));
      const t = performance.now();
      await r.d.invoke(r.fn, Buffer.from('{}'));
      r.cold.push(performance.now() - t);
    }
  }
  for (const r of out) await r.d.close();
  fs.rmSync(code, { recursive: true, force: true });
  console.log('');
  console.log(`floor: loopback HTTP round trip p50 ${f2(loop.p50)} ms; bare spawn node -e 0 ${f2(nodeSpawn)} ms`);
  console.log(`isolation        warm p50   warm p99   cold start   (${N_WARM} warm, ${N_COLD} cold invokes each, interleaved)`);
  for (const r of out) {
    const w = [...r.warm].sort((a, b) => a - b);
    console.log([r.label.padEnd(15), `${f2(pct(w, 50))} ms`.padStart(9), `${f2(pct(w, 99))} ms`.padStart(10), `${f2(median(r.cold))} ms`.padStart(12)].join(' '));
  }
  process.exit(0);
}

if (burstOnly) {
  const fn = await driver.define('bench-burst', 'nodejs20.x', 'index.handler', code);
  const b = await burst(driver, fn, N_BURST);
  const held = await driver.define('bench-burst-hold', 'nodejs20.x', 'hold.handler', code);
  const h = await burst(driver, held, N_BURST, 1000);
  await driver.close();
  fs.rmSync(code, { recursive: true, force: true });
  printBurst(b);
  printBurst(h);
  process.exit(0);
}

const loop = await loopbackFloor();
const nodeSpawn = await spawnFloor(process.execPath, ['-e', '0']);
const pySpawn = await spawnFloor(python, ['-c', '0']);
const pySpawnS = await spawnFloor(python, ['-S', '-c', '0']);
const nodeSandboxed = await sandboxedSpawn('nodejs20.x', () => [process.execPath, '-e', '0']);
const pySandboxed = await sandboxedSpawn('python3.12', () => [python, '-S', '-c', '0']);

const rows = [];
for (const [label, runtime, handler, spawnFloorMs] of [
  ['nodejs20.x', 'nodejs20.x', 'index.handler', nodeSpawn],
  ['nodejs (ESM)', 'nodejs20.x', 'esm.handler', nodeSpawn],
  ['python3.12', 'python3.12', 'app.handler', pySpawn],
]) {
  const fn = await driver.define(`bench-${label.replace(/\W/g, '')}`, runtime, handler, code);
  const w = await warm(driver, fn);
  const t16 = await throughput(driver, fn, 16);
  await driver.coldify(fn);
  const c = await cold(driver, fn);
  await driver.coldify(fn);
  rows.push({ label, w, t16, c, spawnFloorMs });
}
const burstFn = await driver.define('bench-burst', 'nodejs20.x', 'index.handler', code);
const burstResult = await burst(driver, burstFn, N_BURST);
const heldFn = await driver.define('bench-burst-hold', 'nodejs20.x', 'hold.handler', code);
const heldResult = await burst(driver, heldFn, N_BURST, 1000);
await driver.close();
fs.rmSync(code, { recursive: true, force: true });

console.log('');
console.log(`floor: loopback HTTP round trip p50 ${f2(loop.p50)} ms, p99 ${f2(loop.p99)} ms`);
console.log(`floor: bare spawn node -e 0 ${f2(nodeSpawn)} ms; python3 -c 0 ${f2(pySpawn)} ms (python3 -S -c 0 ${f2(pySpawnS)} ms)`);
console.log(
  `info:  the same inside the sandbox (${nodeSandboxed.kind}, no cgroup): node -e 0 ${f2(nodeSandboxed.ms)} ms; python3 -S -c 0 ${f2(pySandboxed.ms)} ms`,
);
console.log('');
console.log('function      warm p50   warm p99   x floor   rps c=1   rps c=16   cold start   spawn floor   x floor');
for (const r of rows) {
  console.log(
    [
      r.label.padEnd(12),
      `${f2(r.w.p50)} ms`.padStart(9),
      `${f2(r.w.p99)} ms`.padStart(10),
      `${f2(r.w.p50 / loop.p50)}x`.padStart(9),
      `${r.w.rps1.toFixed(0)}`.padStart(9),
      `${r.t16.toFixed(0)}`.padStart(10),
      `${f2(r.c)} ms`.padStart(12),
      `${f2(r.spawnFloorMs)} ms`.padStart(13),
      `${f2(r.c / r.spawnFloorMs)}x`.padStart(9),
    ].join(' '),
  );
}
console.log('');
console.log('targets: warm p50 within 3x of the loopback floor; cold start within 1.5x of the bare spawn');
printBurst(burstResult);
printBurst(heldResult);
