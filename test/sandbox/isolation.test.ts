// What a function can see: with bwrap, its own code read-only at /var/task, a private /tmp, no
// other function's code, no data dir, no host processes; AWS's environment variables and nothing
// of the server's own environment. Plus the plain-process fallback.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { skipUnless } from '../helpers/require.js';
import { makeCode, fnConfig, testInvoker, tempDir, invokeJson, cleanupTemp } from '../invoke/fixtures.js';

const dataDir = tempDir('isolation-data');
fs.writeFileSync(path.join(dataDir, 'secret.db'), 'server state');
const invoker = testInvoker({ dataDir });
after(async () => {
  await invoker.close();
  cleanupTemp();
});

const PROBE = `
const fs = require('fs');
const tryRead = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch (e) { return e.code; } };
const tryList = (p) => { try { return fs.readdirSync(p); } catch (e) { return e.code; } };
const tryWrite = (p) => { try { fs.writeFileSync(p, 'x'); return 'ok'; } catch (e) { return e.code; } };
exports.handler = async (e) => ({
  other: tryRead(e.otherFile),
  otherDir: tryList(e.otherDir),
  data: tryList(e.dataDir),
  dataFile: tryRead(e.dataDir + '/secret.db'),
  own: tryRead('/var/task/index.js').length > 0,
  writeTask: tryWrite('/var/task/new.txt'),
  writeUsr: tryWrite('/usr/new.txt'),
  tmpBefore: tryRead('/tmp/mark'),
  writeTmp: tryWrite('/tmp/mark'),
  uid: process.getuid(),
  cwd: process.cwd(),
  pids: fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).length,
  shadow: tryRead('/etc/shadow'),
  root: tryList('/root'),
});
`;

describe('isolation with bwrap', { skip: skipUnless(invoker.sandboxKind === 'bwrap', 'BWRAP', 'bwrap is not usable here') }, () => {
  before(() => assert.equal(invoker.sandboxKind, 'bwrap', 'bwrap must be usable on this host'));

  it("keeps functions out of each other's code, the data dir, and the host", async () => {
    const other = makeCode({ 'index.js': 'exports.handler = async () => "other";', 'secret.txt': 'other function secret' });
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': PROBE }) });
    const otherCfg = fnConfig({ codeDir: other });
    await invokeJson(invoker, otherCfg);
    const { body } = await invokeJson(invoker, cfg, { otherFile: path.join(other, 'secret.txt'), otherDir: other, dataDir });
    assert.equal(body.other, 'ENOENT');
    assert.equal(body.otherDir, 'ENOENT');
    assert.equal(body.data, 'ENOENT');
    assert.equal(body.dataFile, 'ENOENT');
    assert.equal(body.own, true);
    assert.equal(body.writeTask, 'EROFS');
    assert.equal(body.writeUsr, 'EROFS');
    assert.equal(body.writeTmp, 'ok');
    assert.equal(body.uid, 993);
    assert.equal(body.cwd, '/var/task');
    assert.ok(body.pids <= 3, `sees ${body.pids} processes`);
    assert.equal(body.shadow, 'EACCES');
    assert.equal(body.root, 'ENOENT', 'the host /root is not in the sandbox');
  });

  it('gives every environment its own /tmp', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': PROBE }) });
    const args = { otherFile: '/nope', otherDir: '/nope', dataDir: '/nope' };
    const first = await invokeJson(invoker, cfg, args);
    assert.equal(first.body.tmpBefore, 'ENOENT');
    const warm = await invokeJson(invoker, cfg, args);
    assert.equal(warm.body.tmpBefore, 'x', 'the same environment keeps its /tmp');
    // Two at once: the second environment starts with an empty /tmp.
    const both = await Promise.all([invokeJson(invoker, cfg, args), invokeJson(invoker, cfg, args)]);
    assert.deepEqual(both.map((r) => r.body.tmpBefore).sort(), ['ENOENT', 'x']);
  });

  it('sizes /tmp by EphemeralStorage', async () => {
    const cfg = fnConfig({
      codeDir: makeCode({ 'index.js': `exports.handler = async () => { const s = require('fs').statfsSync('/tmp'); return s.blocks * s.bsize; };` }),
      ephemeralStorage: 600,
    });
    assert.equal((await invokeJson(invoker, cfg)).body, 600 * 1024 * 1024);
  });

  it('merges layers into /opt, later layers winning', async () => {
    const l1 = makeCode({ 'nodejs/node_modules/a/index.js': 'module.exports = "a1";', 'shared.txt': 'from 1', 'only1.txt': '1' });
    const l2 = makeCode({ 'nodejs/node_modules/b/index.js': 'module.exports = "b2";', 'shared.txt': 'from 2' });
    const cfg = fnConfig({
      codeDir: makeCode({
        'index.js': `const fs = require('fs'); exports.handler = async () => [require('a'), require('b'), fs.readFileSync('/opt/shared.txt', 'utf8'), fs.readFileSync('/opt/only1.txt', 'utf8')];`,
      }),
      layerDirs: [l1, l2],
    });
    assert.deepEqual((await invokeJson(invoker, cfg)).body, ['a1', 'b2', 'from 2', '1']);
  });

  it('hides the host Python site-packages', async () => {
    // The runtime's own site dir (/var/lang/lib/python3.X/site-packages, boto3 as on AWS) is not the host's.
    const cfg = fnConfig({
      codeDir: makeCode({ 'app.py': 'import sys, os\ndef handler(e, c):\n    return [p for p in sys.path if os.path.isdir(p) and os.listdir(p) and "site-packages" in p and not p.startswith("/var/lang/")]\n' }),
      runtime: 'python3.12',
      handler: 'app.handler',
    });
    assert.deepEqual((await invokeJson(invoker, cfg)).body, []);
  });
});

describe('environment variables', () => {
  it("sets AWS's variables, the function's own, and nothing of the server's", async () => {
    process.env['LAMBDALITE_SERVER_SECRET'] = 'must not leak';
    const cfg = fnConfig({
      codeDir: makeCode({ 'index.js': 'exports.handler = async () => process.env;' }),
      environment: { MY_SETTING: 'on', AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: 'spoofed', TZ: 'Europe/Paris' },
      memorySize: 256,
      handler: 'index.handler',
    });
    const { body: env } = await invokeJson(invoker, cfg);
    delete process.env['LAMBDALITE_SERVER_SECRET'];
    const taskRoot = invoker.sandboxKind === 'bwrap' ? '/var/task' : cfg.codeDir;
    assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, cfg.functionName);
    assert.equal(env.AWS_LAMBDA_FUNCTION_VERSION, '$LATEST');
    assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256');
    assert.equal(env.AWS_LAMBDA_LOG_GROUP_NAME, cfg.logGroup);
    assert.match(env.AWS_LAMBDA_LOG_STREAM_NAME, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.match(env.AWS_LAMBDA_RUNTIME_API, /^127\.0\.0\.1:\d+$/);
    assert.equal(env._HANDLER, 'index.handler');
    assert.equal(env.LAMBDA_TASK_ROOT, taskRoot);
    assert.ok(env.LAMBDA_RUNTIME_DIR);
    assert.equal(env.AWS_REGION, 'us-east-1', 'reserved variables cannot be overridden');
    assert.equal(env.AWS_DEFAULT_REGION, 'us-east-1');
    assert.equal(env.AWS_EXECUTION_ENV, 'AWS_Lambda_nodejs20.x');
    assert.equal(env.AWS_LAMBDA_INITIALIZATION_TYPE, 'on-demand');
    assert.equal(env.LANG, 'en_US.UTF-8');
    assert.ok(env.PATH.includes('/usr/bin'));
    assert.ok(env.LD_LIBRARY_PATH);
    assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && env.AWS_SESSION_TOKEN);
    assert.ok(env.NODE_PATH.includes('/nodejs/node_modules'));
    assert.equal(env.MY_SETTING, 'on');
    assert.equal(env.TZ, 'Europe/Paris', 'non-reserved defaults can be replaced');
    assert.equal(env.LAMBDALITE_SERVER_SECRET, undefined);
    assert.equal(env.HOME, undefined);
    assert.equal(env.PYENV_ROOT, undefined);
    assert.match(env._X_AMZN_TRACE_ID, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};/);
  });

  it('defaults TZ to :UTC', async () => {
    const cfg = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async () => [process.env.TZ, new Date(0).getTimezoneOffset()];' }) });
    assert.deepEqual((await invokeJson(invoker, cfg)).body, [':UTC', 0]);
  });
});

describe('plain-process fallback', () => {
  it('runs functions as child processes when asked to', async () => {
    const plain = testInvoker({ sandbox: 'process' });
    try {
      assert.equal(plain.sandboxKind, 'process');
      const code = makeCode({ 'index.js': 'exports.handler = async () => [process.env.LAMBDA_TASK_ROOT, process.cwd(), require("os").tmpdir()];' });
      const cfg = fnConfig({ codeDir: code });
      const { body } = await invokeJson(plain, cfg);
      assert.equal(body[0], code);
      assert.equal(body[1], code);
      assert.notEqual(body[2], '/tmp', 'a private TMPDIR');
      const py = fnConfig({ codeDir: makeCode({ 'app.py': 'def handler(e, c):\n    return "py ok"\n' }), runtime: 'python3.12', handler: 'app.handler' });
      assert.equal((await invokeJson(plain, py)).body, 'py ok');
    } finally {
      await plain.close();
    }
  });
});
