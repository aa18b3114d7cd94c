// The `lambdalite` command as a user runs it: readiness line, flags and environment variables, bad flags,
// clean shutdown on SIGTERM; then that server driven by the AWS CLI and by boto3, which must not be able
// to tell it from AWS.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { spawnUntilReady } from '../helpers/spawn.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'bin', 'lambdalite.js');
const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const READY_TIMEOUT_MS = 15_000;

/** The environment without anything lambdalite or AWS tools would pick up from the machine. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LAMBDALITE_') && !k.startsWith('AWS_')) env[k] = v;
  return { ...env, ...extra };
}

interface Cli {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly readyLine: string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `lambdalite start ...` and resolves once it prints its readiness line (bounded; fails with its output). */
async function startCli(args: string[], env: Record<string, string> = {}): Promise<Cli> {
  const p = await spawnUntilReady(process.execPath, [bin, 'start', ...args], { env: cleanEnv(env), ready: /^.*listening on .*\n/m, timeoutMs: READY_TIMEOUT_MS });
  const readyLine = p.ready[0].trimEnd();
  const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(readyLine);
  assert.ok(m, `readiness line names the URL: ${readyLine}`);
  return { child: p.child, url: m[1]!, port: Number(m[2]), readyLine, stderr: p.stderr, stop: p.stop };
}

/** Runs a command to completion (bounded) and returns its exit code and output. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}\n${error.message}` : stderr });
    });
  });
}

function sdk(url: string): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

describe('lambdalite start', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-cli-'));
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the real port with --port 0, and SIGTERM closes the store cleanly so a restart sees the data', async () => {
    const cli = await startCli(['--port', '0', '--data-dir', dataDir]);
    assert.ok(cli.port > 0 && cli.port !== 9001, cli.readyLine);
    assert.match(cli.readyLine, /listening on http:\/\/127\.0\.0\.1:\d+/);
    const client = sdk(cli.url);
    try {
      await client.send(new CreateFunctionCommand({ FunctionName: 'kept', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip() } }));
    } finally {
      client.destroy();
    }
    assert.equal(await cli.stop('SIGTERM'), 0, `exit code; stderr: ${cli.stderr()}`);
    assert.match(cli.stderr(), /SIGTERM, shutting down/);
    // SQLite removes the write-ahead log when the last connection closes cleanly.
    assert.equal(existsSync(path.join(dataDir, 'lambdalite.db-wal')), false, 'WAL checkpointed and removed: the store was closed');

    // Same data dir, configured through environment variables this time.
    const again = await startCli([], { LAMBDALITE_PORT: '0', LAMBDALITE_DATA_DIR: dataDir });
    assert.ok(again.port > 0, again.readyLine);
    const c2 = sdk(again.url);
    try {
      const got = await c2.send(new GetFunctionConfigurationCommand({ FunctionName: 'kept' }));
      assert.equal(got.State, 'Active');
    } finally {
      c2.destroy();
    }
    assert.equal(await again.stop('SIGINT'), 0, `exit code after SIGINT; stderr: ${again.stderr()}`);
  });

  it('a flag beats its environment variable', async () => {
    const cli = await startCli(['--port', '0', '--data-dir', dataDir], { LAMBDALITE_PORT: '1' });
    assert.ok(cli.port > 1, cli.readyLine);
    assert.equal(await cli.stop(), 0);
  });

  it('SIGTERM sent the moment the readiness line appears still shuts down cleanly (regression: the handlers were installed after the line)', async () => {
    for (let i = 0; i < 5; i++) {
      const cli = await startCli(['--port', '0', '--data-dir', dataDir]);
      const code = await cli.stop('SIGTERM');
      assert.equal(code, 0, `round ${i}: exit ${code}; stderr: ${cli.stderr()}`);
    }
  });

  it('a bad flag exits 2 with a one-line message', async () => {
    for (const [args, env, text] of [
      [['start', '--bogus'], {}, 'lambdalite: unknown option --bogus'],
      [['start', '--port', 'abc'], {}, "lambdalite: --port must be a port number from 0 to 65535, not 'abc'"],
      [['start'], { LAMBDALITE_PORT: '70000' }, "lambdalite: LAMBDALITE_PORT must be a port number from 0 to 65535, not '70000'"],
    ] as const) {
      const r = await run(process.execPath, [bin, ...args], cleanEnv({ ...env, LAMBDALITE_DATA_DIR: dataDir }));
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
      assert.equal(r.stderr, `${text}\n`, 'one line, no stack');
      assert.equal(r.stdout, '');
    }
  });
});

describe('driven by the AWS CLI and boto3', { concurrency: true }, () => {
  let dataDir: string;
  let cli: Cli;
  let work: string;
  let zip: Buffer;
  let zip2: Buffer;
  let zipPath: string;
  let zip2Path: string;
  let awsEnv: NodeJS.ProcessEnv;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-cli-'));
    work = mkdtempSync(path.join(tmpdir(), 'lambdalite-cli-work-'));
    cli = await startCli(['--port', '0', '--data-dir', dataDir]);
    zip = await nodeHandlerZip();
    zip2 = await nodeHandlerZip('exports.handler = async () => 2;');
    zipPath = path.join(work, 'fn.zip');
    zip2Path = path.join(work, 'fn2.zip');
    writeFileSync(zipPath, zip);
    writeFileSync(zip2Path, zip2);
    awsEnv = cleanEnv({
      AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: path.join(work, 'no-config'), AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '',
    });
  });
  after(async () => {
    await cli?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  const aws = async (...args: string[]) => run('aws', ['lambda', ...args, '--endpoint-url', cli.url, '--output', 'json'], awsEnv);
  const awsOk = async (...args: string[]): Promise<Record<string, unknown>> => {
    const r = await aws(...args);
    assert.equal(r.code, 0, `aws lambda ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim() === '' ? {} : (JSON.parse(r.stdout) as Record<string, unknown>);
  };

  it('AWS CLI: create, wait, get, list, update code and configuration, errors, delete', async () => {
    const created = await awsOk('create-function', '--function-name', 'cli-fn', '--runtime', 'nodejs20.x', '--role', ROLE,
      '--handler', 'index.handler', '--zip-file', `fileb://${zipPath}`, '--description', 'from the cli');
    assert.equal(created['FunctionName'], 'cli-fn');
    assert.equal(created['State'], 'Pending');
    assert.equal(created['CodeSha256'], sha256b64(zip));
    assert.equal(created['FunctionArn'], 'arn:aws:lambda:us-east-1:000000000000:function:cli-fn');
    await awsOk('create-function', '--function-name', 'cli-fn-2', '--runtime', 'python3.12', '--role', ROLE,
      '--handler', 'app.handler', '--zip-file', `fileb://${zipPath}`);

    assert.deepEqual(await awsOk('wait', 'function-active-v2', '--function-name', 'cli-fn'), {});
    const got = await awsOk('get-function', '--function-name', 'cli-fn');
    const config = got['Configuration'] as Record<string, unknown>;
    assert.equal(config['State'], 'Active');
    assert.equal(config['LastUpdateStatus'], 'Successful');
    assert.equal(config['Description'], 'from the cli');
    const location = (got['Code'] as { Location: string }).Location;
    assert.deepEqual(Buffer.from(await (await fetch(location)).arrayBuffer()), zip);

    // --page-size 1 makes the CLI follow NextMarker page by page.
    const listed = await awsOk('list-functions', '--page-size', '1');
    assert.deepEqual((listed['Functions'] as { FunctionName: string }[]).map((f) => f.FunctionName).filter((n) => n.startsWith('cli-')), ['cli-fn', 'cli-fn-2']);

    const code = await awsOk('update-function-code', '--function-name', 'cli-fn', '--zip-file', `fileb://${zip2Path}`);
    assert.equal(code['CodeSha256'], sha256b64(zip2));
    assert.equal(code['LastUpdateStatus'], 'InProgress');
    await awsOk('wait', 'function-updated-v2', '--function-name', 'cli-fn');
    const conf = await awsOk('update-function-configuration', '--function-name', 'cli-fn', '--timeout', '10', '--memory-size', '256',
      '--environment', 'Variables={STAGE=dev}');
    assert.equal(conf['Timeout'], 10);
    assert.equal(conf['MemorySize'], 256);
    assert.deepEqual(conf['Environment'], { Variables: { STAGE: 'dev' } });
    await awsOk('wait', 'function-updated-v2', '--function-name', 'cli-fn');

    const missing = await aws('get-function', '--function-name', 'nope');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /An error occurred \(ResourceNotFoundException\) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/);
    const badTimeout = await aws('update-function-configuration', '--function-name', 'cli-fn', '--timeout', '901');
    assert.match(badTimeout.stderr, /An error occurred \(ValidationException\) when calling the UpdateFunctionConfiguration operation: 1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900/);
    const stale = await aws('update-function-configuration', '--function-name', 'cli-fn', '--timeout', '11', '--revision-id', 'stale');
    assert.match(stale.stderr, /An error occurred \(PreconditionFailedException\) when calling the UpdateFunctionConfiguration operation: The Revision Id provided does not match the latest Revision Id/);

    // botocore's model gives DeleteFunction a status-code member, so the CLI prints it.
    assert.deepEqual(await awsOk('delete-function', '--function-name', 'cli-fn'), { StatusCode: 204 });
    const gone = await aws('get-function-configuration', '--function-name', 'cli-fn');
    assert.match(gone.stderr, /ResourceNotFoundException/);
  });

  it('boto3: create, waiter, get, list with a paginator, errors, delete', async () => {
    const script = `
import json, sys
import boto3
from botocore.exceptions import ClientError
url, zip_path, role = sys.argv[1], sys.argv[2], sys.argv[3]
c = boto3.client('lambda', endpoint_url=url, region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
code = open(zip_path, 'rb').read()
out = {}
for i in range(5):
    r = c.create_function(FunctionName='py-%d' % i, Runtime='python3.12', Role=role, Handler='app.handler', Code={'ZipFile': code}, Tags={'via': 'boto3'})
    out.setdefault('create_status', r['ResponseMetadata']['HTTPStatusCode'])
    out.setdefault('created_state', r['State'])
c.get_waiter('function_active_v2').wait(FunctionName='py-0', WaiterConfig={'Delay': 1, 'MaxAttempts': 10})
g = c.get_function(FunctionName='py-0')
out['state'] = g['Configuration']['State']
out['memory'] = g['Configuration']['MemorySize']
out['code_sha'] = g['Configuration']['CodeSha256']
out['tags'] = g['Tags']
out['last_modified'] = g['Configuration']['LastModified']
pages = list(c.get_paginator('list_functions').paginate(PaginationConfig={'PageSize': 2}))
out['pages'] = len(pages)
out['listed'] = [f['FunctionName'] for p in pages for f in p['Functions'] if f['FunctionName'].startswith('py-')]
def error(call, **kw):
    try:
        call(**kw)
    except ClientError as e:
        body = {k: v for k, v in e.response.items() if k not in ('ResponseMetadata', 'Error')}
        return {'code': e.response['Error']['Code'], 'message': e.response['Error']['Message'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'modeled': body}
    return None
out['not_found'] = error(c.get_function, FunctionName='nope')
out['exists'] = error(c.create_function, FunctionName='py-0', Runtime='python3.12', Role=role, Handler='app.handler', Code={'ZipFile': code})
out['bad_runtime'] = error(c.create_function, FunctionName='py-x', Runtime='python2.7', Role=role, Handler='app.handler', Code={'ZipFile': code})
try:
    c.get_function(FunctionName='nope')
except c.exceptions.ResourceNotFoundException:
    out['modeled_exception_class'] = True
d = c.delete_function(FunctionName='py-0')
out['delete_status'] = d['ResponseMetadata']['HTTPStatusCode']
out['after_delete'] = error(c.get_function_configuration, FunctionName='py-0')['code']
print(json.dumps(out))
`;
    const r = await run('python3', ['-c', script, cli.url, zipPath, ROLE], cleanEnv({ AWS_CONFIG_FILE: path.join(work, 'no-config'), AWS_EC2_METADATA_DISABLED: 'true' }));
    assert.equal(r.code, 0, `python3 exited ${r.code}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out['create_status'], 201);
    assert.equal(out['created_state'], 'Pending');
    assert.equal(out['state'], 'Active');
    assert.equal(out['memory'], 128);
    assert.equal(out['code_sha'], sha256b64(zip));
    assert.deepEqual(out['tags'], { via: 'boto3' });
    assert.match(String(out['last_modified']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    assert.equal(out['pages'], 3, '5 functions in pages of 2');
    assert.deepEqual(out['listed'], ['py-0', 'py-1', 'py-2', 'py-3', 'py-4']);
    assert.deepEqual(out['not_found'], {
      code: 'ResourceNotFoundException', status: 404, message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
      // botocore copies modelled members whose body key matches the model's spelling: proof of `Message` and `Type`.
      modeled: { Type: 'User', Message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope' },
    });
    assert.deepEqual(out['exists'], {
      code: 'ResourceConflictException', status: 409, message: 'Function already exist: py-0',
      modeled: { Type: 'User', message: 'Function already exist: py-0' },
    });
    assert.deepEqual(out['bad_runtime'], {
      code: 'InvalidParameterValueException', status: 400,
      message: 'The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.',
      modeled: { Type: 'User', message: 'The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.' },
    });
    assert.equal(out['modeled_exception_class'], true);
    assert.equal(out['delete_status'], 204);
    assert.equal(out['after_delete'], 'ResourceNotFoundException');
  });
});
