// `lambdalite logs NAME`: lines with time, request id and level, filtering, --since, --follow, colour
// only when asked for, and `--echo-logs` prefixing the server's copy with the function name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';
import { describeEvent, formatLine, parseSince } from '../../src/cli/logs.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'bin', 'lambdalite.js');
let t: TestServer;
let requestId = '';

function env(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('LAMBDALITE_') && k !== 'NO_COLOR') out[k] = v;
  return out;
}

async function logsCli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [bin, 'logs', ...args, '--endpoint', t.url], { env: env(), timeout: 30_000 });
  return stdout;
}

before(async () => {
  t = await startTestServer();
  const code = await makeZip([{ name: 'index.js', content: 'exports.handler = async (e) => { console.log("hello", e.n); console.error("ERROR went wrong"); return 1; };' }]);
  await t.client.send(new CreateFunctionCommand({ FunctionName: 'cli-fn', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: code } }));
  const out = await t.client.send(new InvokeCommand({ FunctionName: 'cli-fn', Payload: Buffer.from('{"n":1}'), LogType: 'Tail' }));
  requestId = /START RequestId: (\S+)/.exec(Buffer.from(out.LogResult ?? '', 'base64').toString())?.[1] ?? '';
  assert.ok(requestId);
});
after(async () => t.close());

test('prints every line with its time, request id and level, without colour when not a terminal', async () => {
  const out = await logsCli('cli-fn');
  const lines = out.trimEnd().split('\n');
  const rid = requestId.slice(0, 8);
  assert.ok(lines.some((l) => new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z ${rid} INFO     hello 1$`).test(l)), out);
  assert.ok(lines.some((l) => new RegExp(`^\\S+ ${rid} ERROR    ERROR went wrong$`).test(l)), out);
  assert.ok(lines.some((l) => l.includes(`PLATFORM REPORT RequestId: ${requestId}`)), out);
  assert.ok(!out.includes('\u001b['), 'no ANSI colour codes in a pipe');
});

test('--filter and --since narrow what is printed; --json prints events for scripts', async () => {
  const errors = (await logsCli('cli-fn', '--filter', 'ERROR')).trimEnd().split('\n');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /ERROR    ERROR went wrong$/);
  assert.equal(await logsCli('cli-fn', '--since', new Date(Date.now() + 60_000).toISOString()), '');
  const json = (await logsCli('cli-fn', '--json', '--filter', 'hello')).trimEnd().split('\n').map((l) => JSON.parse(l) as { message: string; eventId: string });
  assert.equal(json.length, 1);
  assert.match(json[0]!.message, /\tINFO\thello 1$/);
  assert.match(json[0]!.eventId, /^\d{56}$/);
});

test('an unknown function is a one-line error', async () => {
  await assert.rejects(logsCli('no-such-fn'), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr, /^lambdalite: no logs for no-such-fn: log group \/aws\/lambda\/no-such-fn does not exist/);
    return true;
  });
});

test('--follow prints a line the function prints later', async () => {
  const child = spawn(process.execPath, [bin, 'logs', 'cli-fn', '--follow', '--endpoint', t.url], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`--follow did not print ${re} within 10 s; got:\n${out}`)), 10_000);
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      check();
    });
  try {
    await seen(/hello 1\n/);
    await t.client.send(new InvokeCommand({ FunctionName: 'cli-fn', Payload: Buffer.from('{"n":2}') }));
    await seen(/hello 2\n/);
    assert.equal(out.match(/hello 1\n/g)?.length, 1, 'earlier lines are not printed twice');
  } finally {
    child.kill('SIGINT');
  }
});

test('the line formats of the runtimes and the platform are read for level and request id', () => {
  const ts = Date.UTC(2026, 0, 1);
  assert.deepEqual(describeEvent('2026-01-01T00:00:00.000Z\tabc-123\tWARN\tcareful', ts), { time: '2026-01-01T00:00:00.000Z', requestId: 'abc-123', level: 'WARN', text: 'careful' });
  assert.deepEqual(describeEvent('[WARNING]\t2026-01-01T00:00:00.000Z\tabc-123\tpython says', ts).level, 'WARN');
  assert.equal(describeEvent('END RequestId: abc-123', ts).requestId, 'abc-123');
  const json = describeEvent('{"timestamp":"x","level":"ERROR","requestId":"r-1","message":"boom"}', ts);
  assert.deepEqual([json.level, json.requestId, json.text], ['ERROR', 'r-1', 'boom']);
  const platform = describeEvent('{"time":"x","type":"platform.start","record":{"requestId":"r-2","version":"$LATEST"}}', ts);
  assert.deepEqual([platform.level, platform.requestId], ['PLATFORM', 'r-2']);
  assert.equal(describeEvent('just text', ts).level, '');
  assert.match(formatLine(json, true), /\u001b\[31m/);
  assert.equal(parseSince('10m', 1_000_000), 400_000);
  assert.throws(() => parseSince('soon', 0), /--since must be/);
});

test('--echo-logs copies each line to stdout prefixed with the function name', async () => {
  const echo = await startTestServer({ echoLogs: true });
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  (process.stdout as { write: unknown }).write = (c: string | Uint8Array) => {
    chunks.push(Buffer.from(c).toString());
    return true;
  };
  try {
    const code = await makeZip([{ name: 'index.js', content: 'exports.handler = async () => { console.log("two\\nlines"); return 1; };' }]);
    await echo.client.send(new CreateFunctionCommand({ FunctionName: 'echoed', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: code } }));
    await echo.client.send(new InvokeCommand({ FunctionName: 'echoed' }));
  } finally {
    (process.stdout as { write: unknown }).write = write;
    await echo.close();
  }
  const text = chunks.join('');
  assert.match(text, /^\[echoed\] \S+\t\S+\tINFO\ttwo$/m);
  assert.match(text, /^\[echoed\] lines$/m);
  assert.match(text, /^\[echoed\] REPORT RequestId: /m);
});
