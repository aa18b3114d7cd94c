// `lambdalite deploy`, `invoke` and `ls` as a person runs them against a real server: created and updated
// functions, results and log tails, --json for scripts, upload progress, and one-line errors without a stack.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'bin', 'lambdalite.js');

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `lambdalite ARGS` with an environment free of the machine's AWS and lambdalite settings. */
export function lambdalite(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('LAMBDALITE_')) env[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...env, ...extraEnv }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('lambdalite deploy, invoke, ls', () => {
  let t: TestServer;
  let work: string;
  let fn: string;
  const ep = () => ['--endpoint', t.url];
  before(async () => {
    t = await startTestServer();
    work = mkdtempSync(path.join(tmpdir(), 'lambdalite-cli-'));
    fn = path.join(work, 'greeter');
    mkdirSync(path.join(fn, 'lib'), { recursive: true });
    writeFileSync(path.join(fn, 'index.mjs'), "import { word } from './lib/word.mjs';\nexport const handler = async (event) => { console.log('greeting', event.name); return { greeting: `${word} ${event.name}` }; };\n");
    writeFileSync(path.join(fn, 'lib', 'word.mjs'), "export const word = 'hello';\n");
  });
  after(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('deploy creates the function from a folder and waits until it is active', async () => {
    const r = await lambdalite(['deploy', fn, '--runtime', 'nodejs22.x', ...ep()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^created greeter \(nodejs22\.x, index\.handler, [\d.]+ KB\): Active\n$/);
    const config = await t.client.send(new GetFunctionConfigurationCommand({ FunctionName: 'greeter' }));
    assert.equal(config.State, 'Active');
    assert.equal(config.Handler, 'index.handler');
  });

  it('invoke prints the result on stdout and the log tail on stderr', async () => {
    const r = await lambdalite(['invoke', 'greeter', '{"name":"ada"}', ...ep()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { greeting: 'hello ada' });
    assert.match(r.stderr, /START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    assert.match(r.stderr, /\tINFO\tgreeting ada\n/);
    assert.match(r.stderr, /REPORT RequestId: /);
  });

  it('deploy again updates the code (and the configuration given) of the same function', async () => {
    writeFileSync(path.join(fn, 'lib', 'word.mjs'), "export const word = 'bonjour';\n");
    const r = await lambdalite(['deploy', fn, '--memory', '256', ...ep()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^updated greeter /);
    const inv = await lambdalite(['invoke', 'greeter', '{"name":"ada"}', '--json', ...ep()]);
    assert.equal(inv.code, 0, inv.stderr);
    const doc = JSON.parse(inv.stdout) as { StatusCode: number; ExecutedVersion: string; Payload: unknown; Log: string };
    assert.equal(doc.StatusCode, 200);
    assert.equal(doc.ExecutedVersion, '$LATEST');
    assert.deepEqual(doc.Payload, { greeting: 'bonjour ada' });
    assert.match(doc.Log, /Memory Size: 256 MB/);
  });

  it('invoke exits 1 when the function fails, with its error payload', async () => {
    const bad = path.join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'index.js'), "exports.handler = async () => { throw new TypeError('no way'); };\n");
    assert.equal((await lambdalite(['deploy', bad, '--runtime', 'nodejs22.x', ...ep()])).code, 0);
    const r = await lambdalite(['invoke', 'bad', ...ep()]);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { errorType: string }).errorType, 'TypeError');
    assert.match(r.stderr, /lambdalite invoke: the function failed \(Unhandled\)/);
  });

  it('ls lists the functions, as a table or as JSON', async () => {
    const r = await lambdalite(['ls', ...ep()]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+RUNTIME\s+HANDLER\s+MEMORY/);
    assert.ok(lines.some((l) => /^greeter\s+nodejs22\.x\s+index\.handler\s+256 MB/.test(l)), r.stdout);
    const j = await lambdalite(['ls', '--json', ...ep()]);
    const names = (JSON.parse(j.stdout) as { FunctionName: string }[]).map((f) => f.FunctionName).sort();
    assert.deepEqual(names, ['bad', 'greeter']);
  });

  it('prints AWS error type and message in one line, without a stack trace', async () => {
    const r = await lambdalite(['invoke', 'nope', ...ep()]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'lambdalite invoke: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST\n');
    const v = await lambdalite(['deploy', fn, '--name', 'bad name!', '--runtime', 'nodejs22.x', ...ep()]);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /^lambdalite deploy: ValidationException: 1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint/);
    assert.equal(v.stderr.split('\n').length, 2, v.stderr);
  });

  it('says what is wrong with the command line or the endpoint', async () => {
    const missing = await lambdalite(['deploy', path.join(work, 'missing'), ...ep()]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^lambdalite deploy: .*missing is not a folder\n$/);
    const create = await lambdalite(['deploy', fn, '--name', 'fresh', ...ep()]);
    assert.equal(create.code, 2);
    assert.match(create.stderr, /function fresh does not exist yet: --runtime is needed/);
    const flag = await lambdalite(['ls', '--colour', ...ep()]);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, 'lambdalite ls: unknown option --colour\n');
    // A port nothing listens on: the server that was here has just gone.
    const gone = await startTestServer();
    const url = gone.url;
    await gone.close();
    const down = await lambdalite(['ls', '--endpoint', url]);
    assert.equal(down.code, 1);
    assert.equal(down.stderr, `lambdalite ls: cannot reach ${url} (ECONNREFUSED): is \`lambdalite start\` running there? (--endpoint sets another)\n`);
  });

  it('shows upload progress for a large package', async () => {
    const big = path.join(work, 'big');
    mkdirSync(big);
    writeFileSync(path.join(big, 'index.js'), 'exports.handler = async () => require("fs").statSync(__dirname + "/blob.bin").size;\n');
    writeFileSync(path.join(big, 'blob.bin'), randomBytes(3 * 1024 * 1024)); // incompressible
    const r = await lambdalite(['deploy', big, '--runtime', 'nodejs22.x', '--progress', ...ep()]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, /^uploading 0% of 4\.\d MB$/);
    assert.match(lines.at(-1)!, /^uploading 100% of 4\.\d MB$/);
    const inv = await lambdalite(['invoke', 'big', ...ep()]);
    assert.equal(inv.stdout.trim(), String(3 * 1024 * 1024));
  });
});
