// Attacks on the process and resource limits of execution environments, through the real server
// and @aws-sdk/client-lambda: a fork bomb, /tmp used as memory, background work between invocations.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { CreateFunctionCommand, GetFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';

async function create(lambda: LambdaClient, name: string, source: string, extra: Record<string, unknown> = {}): Promise<void> {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Timeout: 120,
    Code: { ZipFile: await makeZip([{ name: 'index.js', content: source }]) },
    ...extra,
  }));
}

async function invoke(lambda: LambdaClient, name: string, event: unknown = {}): Promise<any> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }));
  const text = Buffer.from(out.Payload ?? []).toString('utf8');
  assert.equal(out.FunctionError, undefined, `${name} failed: ${text}`);
  return JSON.parse(text);
}

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(async () => t.close());

describe('processes', () => {
  it('bounds a fork bomb inside its environment; the server and the next invoke are unaffected', async () => {
    await create(t.client, 'forker', `
      const { spawnSync } = require('child_process');
      const fs = require('fs');
      const count = () => fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).length;
      exports.handler = async (e) => {
        if (e.again) return { procs: count() };
        // Each round forks as many sleepers as it can; the shell reports the fork that failed.
        const r = spawnSync('/bin/sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do sleep 600 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo forked $i'], { encoding: 'utf8' });
        const procs = count();
        return { out: (r.stdout + r.stderr).slice(-300), procs };
      };
    `, { MemorySize: 1024 }); // enough memory for 1024 processes: the pids limit is what stops it
    const bomb = await invoke(t.client, 'forker');
    assert.match(bomb.out, /Cannot fork|Resource temporarily unavailable/, `the fork bomb was not stopped: ${bomb.out}`);
    assert.ok(bomb.procs <= 1024, `${bomb.procs} processes in one environment`);
    // The server answers while the environment holds its ~1000 processes.
    const fn = await t.client.send(new GetFunctionCommand({ FunctionName: 'forker' }));
    assert.equal(fn.Configuration?.FunctionName, 'forker');
    const again = await invoke(t.client, 'forker', { again: true });
    assert.ok(again.procs > 900, 'the same (warm) environment serves the next invoke');
  });
});

describe('/tmp', () => {
  it('is disk of EphemeralStorage\'s size, not memory: 2 GB in /tmp of a 128 MB function', async (tc) => {
    const free = fs.statfsSync(t.dataDir);
    const freeBytes = free.bavail * free.bsize;
    if (freeBytes < 3 * 1024 ** 3) {
      const why = `the data dir's file system (${t.dataDir}) has ${(freeBytes / 1024 ** 3).toFixed(1)} GB free; this test needs 3 GB`;
      if (process.env['CI']) assert.fail(why);
      return tc.skip(why);
    }
    await create(t.client, 'filler', `
      const fs = require('fs');
      exports.handler = async () => {
        const chunk = Buffer.alloc(1024 * 1024, 7);
        const fd = fs.openSync('/tmp/big', 'w');
        for (let i = 0; i < 2048; i++) fs.writeSync(fd, chunk);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        const s = fs.statfsSync('/tmp');
        const size = fs.statSync('/tmp/big').size;
        fs.unlinkSync('/tmp/big');
        return { size, total: s.blocks * s.bsize };
      };
    `, { MemorySize: 128, EphemeralStorage: { Size: 4096 } });
    const out = await invoke(t.client, 'filler');
    assert.deepEqual(out, { size: 2 * 1024 ** 3, total: 4096 * 1024 ** 2 });
  });
});

describe('between invocations', () => {
  it('runs no timer and no background process of an idle environment', async () => {
    await create(t.client, 'ticker', `
      const fs = require('fs');
      const { spawn } = require('child_process');
      const ticks = [];
      exports.handler = async (e) => {
        if (e.start) {
          setInterval(() => ticks.push(Date.now()), 2);
          spawn('/bin/sh', ['-c', 'while :; do date +%s%3N >> /tmp/bg; sleep 0.01; done'], { detached: true, stdio: 'ignore' }).unref();
          // Both run while the invocation is in flight.
          await new Promise((r) => setTimeout(r, 100));
        }
        const bg = fs.existsSync('/tmp/bg') ? fs.readFileSync('/tmp/bg', 'utf8').trim().split('\\n').map(Number) : [];
        return { ticks, bg };
      };
    `);
    const first = await invoke(t.client, 'ticker', { start: true });
    assert.ok(first.ticks.length > 5 && first.bg.length > 2, `timer and background process run during the invocation: ${first.ticks.length} ticks, ${first.bg.length} lines`);
    const answered = Date.now();
    // An observation window, not a synchronisation: anything still running would tick ~250 times.
    await new Promise((r) => setTimeout(r, 600));
    const resumed = Date.now();
    const second = await invoke(t.client, 'ticker');
    // Freezing happens right after the response; allow it 100 ms to take hold under load.
    const during = (stamps: number[]) => stamps.filter((s) => s > answered + 100 && s < resumed);
    assert.deepEqual(during(second.ticks), [], 'the timer fired while the environment was idle');
    assert.deepEqual(during(second.bg), [], 'the background process ran while the environment was idle');
    assert.ok(second.ticks.length >= first.ticks.length, 'the same environment');
  });
});
