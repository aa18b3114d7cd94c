// One server per data dir: a second one exits with a message naming the process that holds it, a
// stale lock left by a SIGKILLed server does not block a restart, and code nothing refers to any more
// leaves the disk as soon as it is deleted.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  CreateFunctionCommand, DeleteFunctionCommand, DeleteLayerVersionCommand, InvokeCommand, PublishLayerVersionCommand, PublishVersionCommand,
  UpdateFunctionCodeCommand, waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2, type LambdaClient,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { parseOptions } from '../../src/shared/config.js';
import { startServer } from '../../src/server.js';
import { CodeStore } from '../../src/control/code-store.js';
import { createLogger } from '../../src/shared/logger.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Started {
  readonly proc: ChildProcess;
  /** The `listening` line, or the exit code and stderr of a server that did not start. */
  readonly outcome: Promise<{ listening: true } | { listening: false; code: number | null; stderr: string }>;
}

function startCli(dataDir: string): Started {
  const proc = spawn(process.execPath, [path.join(root, 'bin', 'lambdalite.js'), 'start', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const outcome = new Promise<{ listening: true } | { listening: false; code: number | null; stderr: string }>((resolve) => {
    proc.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('lambdalite listening on')) resolve({ listening: true });
    });
    proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    proc.once('exit', (code) => resolve({ listening: false, code, stderr }));
  });
  return { proc, outcome };
}

function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms); })]).finally(() => clearTimeout(timer));
}

/** Polls a condition that another part of the server makes true, bounded, with a clear failure. */
async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('data dir lock', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];

  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-lock-'));
  });
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a second server on the same data dir exits non-zero naming the holder; after a SIGKILL the lock is taken over', async () => {
    const first = startCli(dataDir);
    children.push(first.proc);
    assert.deepEqual(await within('the first server listening', 30_000, first.outcome), { listening: true });

    const second = startCli(dataDir);
    children.push(second.proc);
    const refused = await within('the second server exiting', 30_000, second.outcome);
    assert.equal(refused.listening, false);
    if (refused.listening) return;
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`in use by another lambdalite server \\(process ${first.proc.pid}[,)]`));
    assert.match(refused.stderr, new RegExp(dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

    const killed = new Promise((r) => first.proc.once('exit', r));
    first.proc.kill('SIGKILL');
    await killed;
    const third = startCli(dataDir);
    children.push(third.proc);
    assert.deepEqual(await within('a server listening after the holder was SIGKILLed', 30_000, third.outcome), { listening: true });
    const stopped = new Promise((r) => third.proc.once('exit', r));
    third.proc.kill('SIGTERM');
    await stopped;
    assert.equal(existsSync(path.join(dataDir, 'lock')), false, 'a clean shutdown removes the lock');
  });

  it('in one process too: a second startServer on a data dir in use is refused, and allowed once the first closed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-lock-inproc-'));
    const logger = createLogger(process.stderr, true);
    const options = parseOptions([], {}, { port: 0, dataDir: dir });
    const one = await startServer(options, { logger });
    try {
      await assert.rejects(startServer(options, { logger }), new RegExp(`process ${process.pid}`));
    } finally {
      await one.close();
    }
    const again = await startServer(options, { logger });
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('stale data dir locks', () => {
  const logger = createLogger(process.stderr, true);

  it('a lock whose pid now belongs to another process (pid reuse after a crash) is taken over; an unreadable one is not', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-lock-reused-'));
    try {
      // The parent process is alive, but it started at another time than the lock says.
      writeFileSync(path.join(dir, 'lock'), JSON.stringify({ pid: process.ppid, started: '1', host: hostname() }));
      const options = parseOptions([], {}, { port: 0, dataDir: dir });
      const s = await startServer(options, { logger });
      await s.close();
      writeFileSync(path.join(dir, 'lock'), 'not json');
      await assert.rejects(startServer(options, { logger }), /is in use by another lambdalite server \(another process, lock file /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('code is removed once nothing refers to it', () => {
  let t: TestServer;
  let client: LambdaClient;
  const codeDir = () => path.join(t.dataDir, 'code');
  const onDisk = (hash: string) => existsSync(path.join(codeDir(), `${hash}.zip`)) || existsSync(path.join(codeDir(), hash));
  const waiter = () => ({ client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 });

  before(async () => {
    t = await startTestServer();
    client = t.client;
  });
  after(async () => t?.close());

  it('replaced code stays while a published version uses it, and goes with the version, then with the function', async () => {
    const name = `gc-${process.pid}`;
    const a = await nodeHandlerZip(`exports.handler = async () => 'a-${process.pid}';`);
    const b = await nodeHandlerZip(`exports.handler = async () => 'b-${process.pid}';`);
    await client.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: a } }));
    await waitUntilFunctionActiveV2(waiter(), { FunctionName: name });
    assert.ok(onDisk(hex(a)));
    const v1 = await client.send(new PublishVersionCommand({ FunctionName: name }));
    // Run version 1 so an environment with its code exists when the version is deleted.
    assert.equal(Buffer.from((await client.send(new InvokeCommand({ FunctionName: name, Qualifier: v1.Version }))).Payload!).toString(), `"a-${process.pid}"`);
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: b }));
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: name });
    assert.ok(onDisk(hex(a)), 'version 1 still runs the old code');
    assert.ok(onDisk(hex(b)));
    await client.send(new DeleteFunctionCommand({ FunctionName: name, Qualifier: v1.Version }));
    await until('the code of the deleted version removed', () => !onDisk(hex(a)));
    assert.ok(onDisk(hex(b)), '$LATEST keeps its code');
    await client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await until('the code of the deleted function removed', () => !onDisk(hex(b)));
  });

  it('layer code stays while a function uses it, even after the layer version is deleted', async () => {
    const layerZip = await makeZip([{ name: 'nodejs/node_modules/gc-layer/index.js', content: `module.exports = ${process.pid};` }]);
    const layer = await client.send(new PublishLayerVersionCommand({ LayerName: 'gc-layer', Content: { ZipFile: layerZip } }));
    const unused = await client.send(new PublishLayerVersionCommand({ LayerName: 'gc-layer-unused', Content: { ZipFile: await makeZip([{ name: 'x', content: `unused ${process.pid}` }]) } }));
    const unusedHash = hex(await makeZip([{ name: 'x', content: `unused ${process.pid}` }]));
    const name = `gc-layered-${process.pid}`;
    await client.send(new CreateFunctionCommand({
      FunctionName: name, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Layers: [layer.LayerVersionArn!],
      Code: { ZipFile: await nodeHandlerZip("exports.handler = async () => require('gc-layer');") },
    }));
    await waitUntilFunctionActiveV2(waiter(), { FunctionName: name });
    await client.send(new DeleteLayerVersionCommand({ LayerName: 'gc-layer', VersionNumber: layer.Version }));
    await client.send(new DeleteLayerVersionCommand({ LayerName: 'gc-layer-unused', VersionNumber: unused.Version }));
    await until('the unused layer code removed', () => !onDisk(unusedHash));
    assert.ok(onDisk(hex(layerZip)), 'a function still uses the deleted layer version');
    assert.equal(Buffer.from((await client.send(new InvokeCommand({ FunctionName: name }))).Payload!).toString(), String(process.pid));
    await client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await until('the layer code removed with its last user', () => !onDisk(hex(layerZip)));
  });

  it('code held by an invocation or environment is kept until it is let go', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-codestore-'));
    const referenced = new Set<string>();
    const store = new CodeStore(dir, () => referenced);
    await store.init();
    const pkg = await store.put(await nodeHandlerZip(`exports.handler = async () => ${process.pid};`));
    const release = store.hold([store.unpackedDir(pkg.hash)]);
    assert.equal(await store.collect(), 0, 'held code is kept');
    assert.ok(existsSync(store.unpackedDir(pkg.hash)));
    release();
    await until('released code removed', () => !existsSync(store.unpackedDir(pkg.hash)) && !existsSync(store.zipPath(pkg.hash)));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
