// Regression guard for "loses nothing": 1,000 accepted events, the server SIGKILLed while most still wait,
// a restart on the same data dir, and every event delivered (at least once).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, InvokeCommand, LambdaClient, PutFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { awsOptions, createQueue, receive, startMoto, type Moto } from '../helpers/moto.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Child {
  readonly url: string;
  readonly proc: ChildProcess;
}

async function startChild(dataDir: string, moto: string): Promise<Child> {
  const proc = spawn(process.execPath, [path.join(root, 'bin', 'lambdalite.js'), 'start', '--port', '0', '--data-dir', dataDir, '--aws-endpoint', moto, '--async-retry-scale', '0.001'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no readiness line:\n${out}`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /lambdalite listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
  proc.stdout!.resume();
  proc.stderr!.resume();
  return { url, proc };
}

describe('the async queue survives SIGKILL', () => {
  let moto: Moto;
  let sqs: SQSClient;
  let dataDir: string;
  let child: Child | undefined;

  before(async () => {
    moto = await startMoto();
    sqs = new SQSClient(awsOptions(moto.url));
    dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-crash-'));
  });
  after(async () => {
    child?.proc.kill('SIGKILL');
    sqs?.destroy();
    await moto?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers all 1,000 events accepted before the kill', async () => {
    const N = 1000;
    const q = await createQueue(sqs, 'crash-success');
    child = await startChild(dataDir, moto.url);
    let lambda = new LambdaClient({ ...awsOptions(child.url), maxAttempts: 1 });
    // A function slow enough that most events still wait in the queue when the server dies.
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'crash-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler',
      Code: { ZipFile: await nodeHandlerZip('exports.handler = async (e) => { await new Promise((r) => setTimeout(r, 20)); return e.id; };') },
    }));
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'crash-fn', DestinationConfig: { OnSuccess: { Destination: q.arn } } }));
    let next = 0;
    const accepted = new Set<number>();
    const sender = async () => {
      while (next < N) {
        const id = next++;
        const r = await lambda.send(new InvokeCommand({ FunctionName: 'crash-fn', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ id })) }));
        assert.equal(r.StatusCode, 202);
        accepted.add(id);
      }
    };
    await Promise.all(Array.from({ length: 32 }, sender));
    assert.equal(accepted.size, N);
    child.proc.kill('SIGKILL');
    await new Promise((r) => child!.proc.once('exit', r));
    lambda.destroy();

    child = await startChild(dataDir, moto.url);
    lambda = new LambdaClient({ ...awsOptions(child.url), maxAttempts: 1 });
    // At least once: events running at the kill may arrive twice, so count distinct ids.
    const seen = new Set<number>();
    let total = 0;
    const deadline = Date.now() + 120_000;
    while (seen.size < N && Date.now() < deadline) {
      const batch = await receive(sqs, q.url, N - seen.size, 5_000);
      total += batch.length;
      for (const m of batch) seen.add(JSON.parse(m.Body!).responsePayload as number);
    }
    process.stderr.write(`crash test: ${seen.size} distinct events delivered in ${total} records\n`);
    const missing = [...accepted].filter((id) => !seen.has(id));
    assert.deepEqual(missing, [], `${missing.length} events lost`);
    lambda.destroy();
    child.proc.kill('SIGTERM');
    await new Promise((r) => child!.proc.once('exit', r));
    child = undefined;
  });
});
