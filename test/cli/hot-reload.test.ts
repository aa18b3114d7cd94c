// Hot reload: a function whose code is a folder (LocalStack's Code={S3Bucket: 'hot-reload', S3Key: path},
// and `lambdalite dev`). No package is stored, the folder is /var/task read-only, and a saved file is what
// the next invokes run, in a new environment.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, UpdateFunctionCodeCommand, waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'bin', 'lambdalite.js');
/** A bound on how long a save may take to reach an invoke; AWS-free, so generous: failing means it never came. */
const RELOAD_BOUND_MS = 10_000;

/** A folder readable by the sandbox's unprivileged user (mkdtemp makes 0700 folders). */
function codeFolder(parent: string, name: string, word: string): string {
  const dir = path.join(parent, name);
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  writeFileSync(path.join(dir, 'index.js'), `const { word } = require('./lib/word.js');\nexports.handler = async () => { let ro; try { require('fs').writeFileSync(__dirname + '/probe', 'x'); ro = 'writable'; } catch (e) { ro = e.code; } return { word, ro }; };\n`);
  writeFileSync(path.join(dir, 'lib', 'word.js'), `exports.word = ${JSON.stringify(word)};\n`);
  return dir;
}

describe('hot reload', () => {
  let t: TestServer;
  let work: string;
  before(async () => {
    t = await startTestServer();
    work = mkdtempSync(path.join(tmpdir(), 'lambdalite-hot-'));
    chmodSync(work, 0o755);
  });
  after(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  const invoke = async (name: string) => {
    const r = await t.client.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail' }));
    assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload ?? []).toString());
    return { body: JSON.parse(Buffer.from(r.Payload!).toString()) as { word: string; ro: string }, log: Buffer.from(r.LogResult ?? '', 'base64').toString() };
  };

  /** Invokes until the function answers `word` (bounded); returns how long the save took to be live. */
  const awaitWord = async (name: string, word: string, savedAt: number) => {
    let last = '';
    while (Date.now() - savedAt < RELOAD_BOUND_MS) {
      const { body, log } = await invoke(name);
      if (body.word === word) return { elapsed: Date.now() - savedAt, log };
      last = body.word;
    }
    assert.fail(`the saved change was not live within ${RELOAD_BOUND_MS} ms: still '${last}'`);
  };

  it("runs the folder named by Code={S3Bucket: 'hot-reload', S3Key}, read-only, and a save is live for the next invokes", async (ctx) => {
    const dir = codeFolder(work, 'fn', 'one');
    const packagesBefore = readdirSync(path.join(t.dataDir, 'code')).length;
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'hot', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: ROLE, Code: { S3Bucket: 'hot-reload', S3Key: dir } }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'hot' });
    const config = await t.client.send(new GetFunctionConfigurationCommand({ FunctionName: 'hot' }));
    assert.equal(config.CodeSize, 0);
    assert.equal(readdirSync(path.join(t.dataDir, 'code')).length, packagesBefore, 'no package is stored for a hot-reload folder');

    const first = await invoke('hot');
    assert.equal(first.body.word, 'one');
    assert.equal(first.body.ro, 'EROFS', 'the folder is mounted read-only at /var/task');
    assert.equal(existsSync(path.join(dir, 'probe')), false);
    assert.doesNotMatch((await invoke('hot')).log, /INIT_START|Init Duration/, 'a warm environment serves an unchanged folder');

    const savedAt = Date.now();
    writeFileSync(path.join(dir, 'lib', 'word.js'), 'exports.word = "two";\n');
    const { elapsed, log } = await awaitWord('hot', 'two', savedAt);
    ctx.diagnostic(`save to live invoke: ${elapsed} ms`);
    assert.match(log, /Init Duration/, 'the new code runs in a new environment');
    assert.equal((await invoke('hot')).body.word, 'two');
  });

  it('UpdateFunctionCode moves a function between packages and folders', async () => {
    const dir = codeFolder(work, 'moved', 'folder');
    const zip = await makeZip([
      { name: 'index.js', content: "exports.handler = async () => ({ word: require('./lib/word.js').word, ro: 'n/a' });" },
      { name: 'lib/word.js', content: 'exports.word = "zipped";' },
    ]);
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'mover', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: zip } }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'mover' });
    assert.equal((await invoke('mover')).body.word, 'zipped');
    await t.client.send(new UpdateFunctionCodeCommand({ FunctionName: 'mover', S3Bucket: 'hot-reload', S3Key: dir }));
    await waitUntilFunctionUpdatedV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'mover' });
    assert.equal((await invoke('mover')).body.word, 'folder');
    await t.client.send(new UpdateFunctionCodeCommand({ FunctionName: 'mover', ZipFile: zip }));
    await waitUntilFunctionUpdatedV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'mover' });
    assert.equal((await invoke('mover')).body.word, 'zipped');
  });

  it('refuses folders that are relative, missing, files, or hold the data dir', async () => {
    const file = path.join(work, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string, RegExp][] = [
      ['relative/path', /S3Key must be the absolute path of a folder/],
      [path.join(work, 'missing'), /does not exist/],
      [file, /is not a folder/],
      ['/', /holds or lies inside the server's data directory/],
      [t.dataDir, /holds or lies inside the server's data directory/],
    ];
    for (const [key, message] of cases) {
      await assert.rejects(
        t.client.send(new CreateFunctionCommand({ FunctionName: 'refused', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: ROLE, Code: { S3Bucket: 'hot-reload', S3Key: key } })),
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.name === 'InvalidParameterValueException' && e.$metadata?.httpStatusCode === 400 && message.test(e.message),
        key,
      );
    }
  });

  it('lambdalite dev creates the function on a folder and names each change', async () => {
    const dir = codeFolder(work, 'dev-fn', 'first');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('LAMBDALITE_')) env[k] = v;
    const child = spawn(process.execPath, [bin, 'dev', dir, '--name', 'dev-fn', '--runtime', 'nodejs22.x', '--endpoint', t.url], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = (re: RegExp, what: string) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lambdalite dev printed no ${what} within ${RELOAD_BOUND_MS} ms; stdout: ${out} stderr: ${err}`)), RELOAD_BOUND_MS);
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve();
        }
      };
      const onData = (d: Buffer) => { out += d.toString(); check(); };
      child.stdout.on('data', onData);
      check();
    });
    try {
      await waitFor(/^created dev-fn \(nodejs22\.x, index\.handler\): watching .*dev-fn; each save is live/m, 'ready line');
      assert.equal((await invoke('dev-fn')).body.word, 'first');
      const savedAt = Date.now();
      writeFileSync(path.join(dir, 'lib', 'word.js'), 'exports.word = "second";\n');
      await waitFor(/^changed lib\/word\.js$/m, 'change line');
      await awaitWord('dev-fn', 'second', savedAt);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, err);
  });
});
