// `lambdalite runtimes list|install` and the runtime flags, through the real command.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'lambdalite.js');

async function lambdalite(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: process.env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('lambdalite runtimes', () => {
  it('install reports each runtime ready with its version (already installed: nothing to download)', async () => {
    const r = await lambdalite('runtimes', 'install', 'nodejs22.x', 'nodejs24.x');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^nodejs22\.x: ready \(nodejs:22\.v22\.\d+\.\d+\)$/m);
    assert.match(r.stdout, /^nodejs24\.x: ready \(nodejs:24\.v24\.\d+\.\d+\)$/m);
  });

  it('list shows what each runtime runs on, and why one cannot run', async () => {
    const r = await lambdalite('runtimes', 'list', 'nodejs20.x', 'nodejs22.x', 'java21', 'python3.10', '--runtime-path', 'python3.10=/nonexistent/python3.10');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^nodejs20\.x\s+nodejs:20\.v20\./m);
    assert.match(r.stdout, /^nodejs22\.x\s+nodejs:22\.v22\./m);
    assert.match(r.stdout, /^java21\s+unavailable: The runtime parameter of java21 is not supported/m);
    assert.match(r.stdout, /^python3\.10\s+unavailable: .*--runtime-path names \/nonexistent\/python3\.10, which is not an executable file/m);
  });

  it('refuses malformed runtime flags with one line', async () => {
    const r = await lambdalite('runtimes', 'list', '--runtime-path', 'ruby3.3=/usr/bin/ruby');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "lambdalite: --runtime-path: 'ruby3.3' is not a nodejsNN.x or python3.N runtime\n");
    const f = await lambdalite('start', '--function-env', 'no-equals-sign', '--port', '0');
    assert.equal(f.code, 2);
    assert.match(f.stderr, /--function-env takes NAME=VALUE/);
  });
});
