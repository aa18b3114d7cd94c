// Each runtime identifier runs on its own interpreter version, never a stand-in, and the AWS SDKs
// ship inside the runtimes as on AWS. Node.js builds come from the runtime directory
// ($LAMBDALITE_RUNTIME_DIR, filled by `lambdalite runtimes install` in CI).

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp, tempDir } from '../invoke/fixtures.js';

const invoker = testInvoker();
after(async () => {
  await invoker.close();
  cleanupTemp();
});

describe('runtime versions', () => {
  for (const major of ['20', '22', '24']) {
    it(`runs nodejs${major}.x on Node.js ${major}, and INIT_START names that version`, async () => {
      const cfg = fnConfig({
        runtime: `nodejs${major}.x`,
        codeDir: makeCode({ 'index.mjs': 'export const handler = async () => ({ v: process.version, env: process.env.AWS_EXECUTION_ENV, ws: typeof WebSocket });' }),
      });
      const { result, body } = await invokeJson(invoker, cfg);
      assert.equal(result.functionError, undefined, JSON.stringify(body));
      assert.match(body.v, new RegExp(`^v${major}\\.`));
      assert.equal(body.env, `AWS_Lambda_nodejs${major}.x`);
      const version = body.v.slice(1);
      assert.match(await logText(invoker, cfg), new RegExp(`INIT_START Runtime Version: nodejs:${major}\\.v${version.replace(/\./g, '\\.')}\\t`));
      // Node 22 and later have a global WebSocket; Node 20 has not (without a flag).
      assert.equal(body.ws, major === '20' ? 'undefined' : 'function');
    });
  }

  it('answers InvalidRuntimeException, saying how to provide one, when no Python 3.X interpreter exists', async () => {
    const saved = { PATH: process.env['PATH'], PYENV_ROOT: process.env['PYENV_ROOT'] };
    process.env['PATH'] = tempDir('empty-path');
    process.env['PYENV_ROOT'] = tempDir('empty-pyenv');
    try {
      const cfg = fnConfig({ runtime: 'python3.14', handler: 'app.handler', codeDir: makeCode({ 'app.py': 'def handler(e, c):\n    return 1\n' }) });
      await assert.rejects(invoker.invoke(cfg, { requestId: 'r1', payload: Buffer.from('{}'), invokedFunctionArn: cfg.functionArn, tailLog: false }), (e: any) => {
        assert.equal(e.code ?? e.name, 'InvalidRuntimeException');
        assert.match(e.message, /no Python 3\.14 interpreter was found/);
        assert.match(e.message, /--runtime-path python3\.14=/);
        return true;
      });
    } finally {
      process.env['PATH'] = saved.PATH;
      if (saved.PYENV_ROOT === undefined) delete process.env['PYENV_ROOT'];
      else process.env['PYENV_ROOT'] = saved.PYENV_ROOT;
    }
  });

  it('refuses an interpreter named by --runtime-path that is another version', async () => {
    const host = hostPython();
    const other = testInvoker({ runtimePaths: { 'python3.9': host.exe } });
    try {
      const cfg = fnConfig({ runtime: 'python3.9', handler: 'app.handler', codeDir: makeCode({ 'app.py': 'def handler(e, c):\n    return 1\n' }) });
      await assert.rejects(other.invoke(cfg, { requestId: 'r2', payload: Buffer.from('{}'), invokedFunctionArn: cfg.functionArn, tailLog: false }), (e: any) => {
        assert.match(e.message, new RegExp(`is Python ${host.minor.replace('.', '\\.')}\\.\\d+, not Python 3\\.9`));
        return true;
      });
    } finally {
      await other.close();
    }
  });

  it('runs python3.X on the interpreter --runtime-path names, and reports its version', async () => {
    const host = hostPython();
    const runtime = `python${host.minor}`;
    const other = testInvoker({ runtimePaths: { [runtime]: host.exe } });
    try {
      const cfg = fnConfig({ runtime, handler: 'app.handler', codeDir: makeCode({ 'app.py': 'import sys\ndef handler(e, c):\n    return {"exe": sys.executable, "ver": sys.version.split()[0]}\n' }) });
      const { result, body } = await invokeJson(other, cfg);
      assert.equal(result.functionError, undefined, JSON.stringify(body));
      assert.equal(fs.realpathSync(body.exe), fs.realpathSync(host.exe));
      assert.match(await logText(other, cfg), new RegExp(`INIT_START Runtime Version: python:${host.minor}\\.v${body.ver.replace(/\./g, '\\.')}\\t`));
    } finally {
      await other.close();
    }
  });
});

/** Debian's python3, which every CI machine has. */
function hostPython(): { exe: string; minor: string } {
  const exe = fs.realpathSync('/usr/bin/python3');
  const m = path.basename(exe).match(/^python(3\.\d+)$/);
  assert.ok(m, `/usr/bin/python3 is ${exe}`);
  return { exe, minor: m[1] as string };
}
