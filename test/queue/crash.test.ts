// Regression guard for "loses nothing": 1,000 accepted events, the server SIGKILLed while all of them are
// still pending (checked in its store), a restart on the same data dir, and every event delivered (at
// least once).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, InvokeCommand, LambdaClient, PutFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { awsOptions, createQueue, receive, startMoto, type Moto } from '../helpers/moto.js';
import { spawnUntilReady, type SpawnedProcess } from '../helpers/spawn.js';
import { gate, WAIT_ON_GATE, type Gate } from '../helpers/gate.js';
import { waitFor } from '../helpers/wait.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface Child {
  readonly url: string;
  readonly proc: SpawnedProcess;
}

async function startChild(dataDir: string, moto: string): Promise<Child> {
  const proc = await spawnUntilReady(process.execPath, [path.join(root, 'bin', 'lambdalite.js'), 'start', '--port', '0', '--data-dir', dataDir, '--aws-endpoint', moto], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    ready: /lambdalite listening on (\S+)/,
  });
  return { url: proc.ready[1]!, proc };
}

/** Events the data dir's store still holds (no server may be running on it). */
function eventsInStore(dataDir: string): number {
  const store = new SqliteStore(path.join(dataDir, 'lambdalite.db'));
  try {
    return store.countEvents();
  } finally {
    store.close();
  }
}

describe('the async queue survives SIGKILL', () => {
  let moto: Moto;
  let sqs: SQSClient;
  let dataDir: string;
  let child: Child | undefined;
  let held: Gate;

  before(async () => {
    moto = await startMoto();
    sqs = new SQSClient(awsOptions(moto.url));
    dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-crash-'));
    held = await gate();
  });
  after(async () => {
    await child?.proc.stop('SIGKILL');
    await held?.close();
    sqs?.destroy();
    await moto?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers all 1,000 events accepted before the kill', async () => {
    const N = 1000;
    const q = await createQueue(sqs, 'crash-success');
    child = await startChild(dataDir, moto.url);
    let lambda = new LambdaClient({ ...awsOptions(child.url), maxAttempts: 1 });
    // Every invocation waits on the gate, which opens only after the restart: no event can finish
    // before the kill, so all of them must come back from the store.
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'crash-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Timeout: 120,
      Environment: { Variables: { GATE: held.url } },
      Code: { ZipFile: await nodeHandlerZip(`${WAIT_ON_GATE}\nexports.handler = async (e) => { await waitOnGate(process.env.GATE); return e.id; };`) },
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
    // Some are running (held at the gate) when the server dies.
    await held.arrivals(1);
    await child.proc.stop('SIGKILL');
    lambda.destroy();
    assert.equal(eventsInStore(dataDir), N, 'every accepted event was still pending at the kill');

    child = await startChild(dataDir, moto.url);
    held.release();
    lambda = new LambdaClient({ ...awsOptions(child.url), maxAttempts: 1 });
    // At least once: events running at the kill may arrive twice, so count distinct ids.
    const seen = new Set<number>();
    let total = 0;
    await waitFor(async () => {
      const batch = await receive(sqs, q.url, N - seen.size, 5_000);
      total += batch.length;
      for (const m of batch) seen.add(JSON.parse(m.Body!).responsePayload as number);
      return seen.size >= N;
    }, { message: `all ${N} events delivered after the restart`, timeoutMs: 180_000, intervalMs: 0 });
    process.stderr.write(`crash test: ${seen.size} distinct events delivered in ${total} records\n`);
    const missing = [...accepted].filter((id) => !seen.has(id));
    assert.deepEqual(missing, [], `${missing.length} events lost`);
    lambda.destroy();
    assert.equal(await child.proc.stop('SIGTERM'), 0);
    child = undefined;
  });
});
