// Functions calling the Lambda API with the credentials their environment was given: a Node.js and a
// Python function invoke another function through the SDK with no configuration in their code; what
// else they may do is the operator's --function-api-access; forged, altered and expired session
// tokens are refused, in the open developer mode too; and a connection from inside an environment
// gets nothing without them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateFunctionCommand, GetFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, ListFunctionsCommand, PublishLayerVersionCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { makeZip, nodeHandlerZip, type ZipEntry } from '../helpers/zip.js';
import { FunctionCredentials, functionMayCall, type MintedCredentials } from '../../src/api/function-credentials.js';
import { createApiServer } from '../../src/api/http-server.js';
import { createAuthenticator } from '../../src/api/identity.js';
import type { Handlers } from '../../src/api/handlers.js';
import { markSandboxSocket } from '../../src/shared/sandbox-origin.js';
import { createLogger } from '../../src/shared/logger.js';

const ACCOUNT = '111111111111';
const KEY = { accessKeyId: 'AKIAOPERATOR00000000', secretAccessKey: 'operator-secret' };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/caller-role`;
const require = createRequire(import.meta.url);

function credentialsFile(dir: string): string {
  const file = path.join(dir, 'credentials');
  writeFileSync(file, `[operator]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\naws_account_id = ${ACCOUNT}\n`);
  return file;
}

/** Every file under `dir` as zip entries under `prefix`, except what `skip` rejects (relative paths). */
function dirEntries(dir: string, prefix: string, skip: (rel: string) => boolean = () => false): ZipEntry[] {
  const out: ZipEntry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile()) out.push({ name: `${prefix}/${r}`, content: readFileSync(path.join(dir, r)) });
    }
  };
  walk('');
  return out;
}

/** The directory of an installed npm package, found as node resolves it from here. */
function packageDir(name: string, from: string): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    try {
      if (statSync(path.join(candidate, 'package.json')).isFile()) return candidate;
    } catch {
      // not here; look further up
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package ${name} is not installed`);
    dir = up;
  }
}

/**
 * A layer with @aws-sdk/client-lambda and its dependencies under nodejs/node_modules (the Node
 * runtimes do not ship the SDK), JavaScript only.
 */
function nodeSdkLayer(): Promise<Buffer> {
  const start = path.dirname(require.resolve('@aws-sdk/client-lambda/package.json'));
  const seen = new Map<string, string>();
  const visit = (name: string, from: string) => {
    const dir = packageDir(name, from);
    if (seen.has(dir)) return;
    seen.set(dir, name);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir);
  };
  visit('@aws-sdk/client-lambda', path.dirname(path.dirname(start)));
  const entries: ZipEntry[] = [];
  // A package installed in two versions (one nested) goes in once, under its one name: the first
  // found, which is what the client itself resolves. A package may not name one entry twice.
  const named = new Set<string>();
  for (const [dir, name] of seen) {
    if (named.has(name)) continue;
    named.add(name);
    entries.push(...dirEntries(dir, `nodejs/node_modules/${name}`, (rel) => /^(dist-es|dist-types|node_modules)$|\.(map|d\.ts)$/.test(rel)));
  }
  return makeZip(entries);
}

/** A layer with boto3 and what it imports under python/, from the Python the tests run (the sandbox hides its site-packages). */
function pythonSdkLayer(): Promise<Buffer> {
  const where = JSON.parse(execFileSync('python3', ['-c', [
    'import json, os, boto3, botocore, jmespath, s3transfer, dateutil, urllib3, six',
    'print(json.dumps({m.__name__: m.__file__ for m in (boto3, botocore, jmespath, s3transfer, dateutil, urllib3, six)}))',
  ].join('\n')], { encoding: 'utf8' })) as Record<string, string>;
  const entries: ZipEntry[] = [];
  for (const [name, file] of Object.entries(where)) {
    if (!file.endsWith('__init__.py')) {
      entries.push({ name: `python/${path.basename(file)}`, content: readFileSync(file) });
      continue;
    }
    // botocore's data holds every service's model: the Lambda one and the shared files are enough.
    entries.push(...dirEntries(path.dirname(file), `python/${name}`, (rel) =>
      rel.includes('__pycache__') || (name === 'botocore' && /^data\/[^/]+$/.test(rel) && !rel.endsWith('.json') && rel !== 'data/lambda')));
  }
  return makeZip(entries);
}

const NODE_CALLER = `
const { LambdaClient, InvokeCommand, GetFunctionConfigurationCommand, GetFunctionCommand, CreateFunctionCommand } = require('@aws-sdk/client-lambda');
const lambda = new LambdaClient();
const attempt = async (f) => {
  try { return { ok: await f() }; } catch (e) { return { error: e.name, status: e.$metadata && e.$metadata.httpStatusCode, message: e.message }; }
};
exports.handler = async (event) => {
  switch (event.action) {
    case 'invoke': return attempt(async () => JSON.parse(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: event.target, Payload: JSON.stringify(event.payload) }))).Payload).toString()));
    case 'config': return attempt(async () => (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: event.target }))).FunctionArn);
    case 'code': return attempt(async () => (await lambda.send(new GetFunctionCommand({ FunctionName: event.target }))).Code.Location !== undefined);
    case 'create': return attempt(async () => (await lambda.send(new CreateFunctionCommand({ FunctionName: event.name, Runtime: 'nodejs20.x', Role: process.env.ROLE, Handler: 'index.handler', Code: { ZipFile: Buffer.from(event.zip, 'base64') } }))).FunctionArn);
    case 'env': return { key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN, endpoint: process.env.AWS_ENDPOINT_URL_LAMBDA };
  }
};
`;

const PYTHON_CALLER = `
import json, boto3, botocore.exceptions
lam = boto3.client('lambda')
def attempt(f):
    try:
        return {'ok': f()}
    except botocore.exceptions.ClientError as e:
        return {'error': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'message': e.response['Error']['Message']}
def handler(event, context):
    if event['action'] == 'invoke':
        return attempt(lambda: json.loads(lam.invoke(FunctionName=event['target'], Payload=json.dumps(event['payload']))['Payload'].read()))
    if event['action'] == 'delete':
        return attempt(lambda: lam.delete_function(FunctionName=event['target']) and None)
`;

const accessDenied = (caller: string, action: string, resource: string) =>
  `User: arn:aws:sts::${ACCOUNT}:assumed-role/caller-role/${caller} is not authorized to perform: lambda:${action} on resource: ${resource} because no identity-based policy allows the lambda:${action} action`;

interface Setup {
  readonly t: TestServer;
  readonly operator: LambdaClient;
  call(fn: string, event: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function setup(access: 'invoke' | 'read' | 'full', layers: { node: Buffer; python: Buffer }, python: boolean): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-fncreds-'));
  const t = await startTestServer({ credentialsFile: credentialsFile(dir), functionApiAccess: access });
  const operator = new LambdaClient({ endpoint: t.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
  const layer = async (name: string, zip: Buffer) => (await operator.send(new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: zip } }))).LayerVersionArn!;
  await operator.send(new CreateFunctionCommand({ FunctionName: 'target', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip('exports.handler = async (e) => ({ hello: e });') } }));
  await operator.send(new CreateFunctionCommand({
    FunctionName: 'node-caller', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Timeout: 30, MemorySize: 256,
    Code: { ZipFile: await nodeHandlerZip(NODE_CALLER) }, Layers: [await layer('node-sdk', layers.node)], Environment: { Variables: { ROLE } },
  }));
  if (python) {
    await operator.send(new CreateFunctionCommand({
      FunctionName: 'python-caller', Runtime: 'python3.12', Role: ROLE, Handler: 'app.handler', Timeout: 30, MemorySize: 256,
      Code: { ZipFile: await makeZip([{ name: 'app.py', content: PYTHON_CALLER }]) }, Layers: [await layer('python-sdk', layers.python)],
    }));
  }
  return {
    t,
    operator,
    async call(fn, event) {
      const r = await operator.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(event)), LogType: 'Tail' }));
      const text = Buffer.from(r.Payload!).toString();
      assert.equal(r.FunctionError, undefined, `${fn} failed: ${text}\n${Buffer.from(r.LogResult ?? '', 'base64').toString()}`);
      return JSON.parse(text) as Record<string, unknown>;
    },
    async close() {
      operator.destroy();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const sdk = (url: string, creds: MintedCredentials | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });

describe('functions calling the API with their environment credentials', () => {
  let layers: { node: Buffer; python: Buffer };
  let s: Setup;

  before(async () => {
    layers = { node: await nodeSdkLayer(), python: await pythonSdkLayer() };
    s = await setup('invoke', layers, true);
  });
  after(async () => {
    await s?.close();
  });

  it('gives each environment ASIA credentials, a session token and the endpoint', async () => {
    const env = await s.call('node-caller', { action: 'env' });
    assert.match(String(env['key']), /^ASIA[A-Z2-7]{16}$/);
    assert.equal(String(env['secret']).length, 40);
    assert.ok(String(env['token']).length > 100);
    // In its own network namespace (the default egress mode) an environment reaches the Lambda API at an
    // address of its own, never at the server's host port.
    assert.equal(env['endpoint'], 'http://127.0.0.1:9002');
    assert.notEqual(env['endpoint'], s.t.url);
  });

  it('lets a Node.js function invoke another through the SDK with no configuration', async () => {
    assert.deepEqual(await s.call('node-caller', { action: 'invoke', target: 'target', payload: { from: 'node' } }), { ok: { hello: { from: 'node' } } });
  });

  it('lets a Python function invoke another through boto3 with no configuration', async () => {
    assert.deepEqual(await s.call('python-caller', { action: 'invoke', target: 'target', payload: { from: 'python' } }), { ok: { hello: { from: 'python' } } });
  });

  it('lets a function read function configuration in the default mode', async () => {
    assert.deepEqual(await s.call('node-caller', { action: 'config', target: 'target' }), { ok: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:target` });
  });

  it('denies create, delete and code download with AccessDeniedException naming the assumed role', async () => {
    const zip = (await nodeHandlerZip()).toString('base64');
    assert.deepEqual(await s.call('node-caller', { action: 'create', name: 'made-by-fn', zip }), {
      error: 'AccessDeniedException', status: 403, message: accessDenied('node-caller', 'CreateFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:made-by-fn`),
    });
    assert.deepEqual(await s.call('python-caller', { action: 'delete', target: 'target' }), {
      error: 'AccessDeniedException', status: 403, message: accessDenied('python-caller', 'DeleteFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:target`),
    });
    assert.deepEqual(await s.call('node-caller', { action: 'code', target: 'target' }), {
      error: 'AccessDeniedException', status: 403, message: accessDenied('node-caller', 'GetFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:target`),
    });
    await s.operator.send(new GetFunctionConfigurationCommand({ FunctionName: 'target' }));
    await expectAwsError(s.operator.send(new GetFunctionConfigurationCommand({ FunctionName: 'made-by-fn' })), { name: 'ResourceNotFoundException', status: 404, message: /made-by-fn/ });
  });

  it('refuses the credentials once taken out of the function and altered, forged or expired', async () => {
    const env = await s.call('node-caller', { action: 'env' });
    const stolen = { accessKeyId: String(env['key']), secretAccessKey: String(env['secret']), sessionToken: String(env['token']) };
    // Used as they are, they carry the function's limits, not the operator's.
    const as = sdk(s.t.url, stolen);
    try {
      assert.ok((await as.send(new ListFunctionsCommand({}))).Functions!.length >= 2);
      await expectAwsError(as.send(new GetFunctionCommand({ FunctionName: 'target' })), { name: 'AccessDeniedException', status: 403, message: accessDenied('node-caller', 'GetFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:target`) });
    } finally {
      as.destroy();
    }
    const [prefix, payload, mac] = stolen.sessionToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const otherAccount = Buffer.from(JSON.stringify({ ...claims, a: '222222222222' })).toString('base64url');
    const secret = readFileSync(path.join(s.t.dataDir, 'secret'));
    const expired = new FunctionCredentials(secret, () => Date.now() - 13 * 60 * 60 * 1000).mint({ accountId: ACCOUNT, region: 'us-east-1', functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:node-caller`, environmentId: 'x', roleName: 'caller-role' });
    const forged = new FunctionCredentials(randomBytes(32), () => Date.now()).mint({ accountId: ACCOUNT, region: 'us-east-1', functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:node-caller`, environmentId: 'x', roleName: 'caller-role' });
    const invalid = { name: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.' };
    const cases: [string, { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, typeof invalid][] = [
      ['another account in the token', { ...stolen, sessionToken: `${prefix}.${otherAccount}.${mac}` }, invalid],
      ['a token signed with another secret', forged, invalid],
      ['a token with another access key id', { ...stolen, accessKeyId: forged.accessKeyId }, invalid],
      ['the token dropped', { accessKeyId: stolen.accessKeyId, secretAccessKey: stolen.secretAccessKey }, invalid],
      ['the wrong secret key', { ...stolen, secretAccessKey: forged.secretAccessKey }, { name: 'InvalidSignatureException', status: 403, message: /^The request signature we calculated does not match/ } as never],
      ['an expired token', expired, { name: 'ExpiredTokenException', status: 403, message: 'The security token included in the request is expired' }],
    ];
    for (const [what, creds, expected] of cases) {
      const c = sdk(s.t.url, creds);
      try {
        await expectAwsError(c.send(new ListFunctionsCommand({})), expected).catch((e: Error) => assert.fail(`${what}: ${e.message}`));
      } finally {
        c.destroy();
      }
    }
  });

  it('lets a function create functions with --function-api-access full', async () => {
    const full = await setup('full', layers, false);
    try {
      const zip = (await nodeHandlerZip()).toString('base64');
      assert.deepEqual(await full.call('node-caller', { action: 'create', name: 'made-by-fn', zip }), { ok: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:made-by-fn` });
      assert.equal((await full.operator.send(new GetFunctionConfigurationCommand({ FunctionName: 'made-by-fn' }))).Role, ROLE);
      assert.deepEqual(await full.call('node-caller', { action: 'code', target: 'target' }), { ok: true });
    } finally {
      await full.close();
    }
  });
});

describe('function access modes', () => {
  it('invoke: invoking and configuration reads; read: every Get and List; full: everything', () => {
    assert.ok(functionMayCall('invoke', 'Invoke') && functionMayCall('invoke', 'InvokeWithResponseStream') && functionMayCall('invoke', 'GetFunctionConfiguration'));
    for (const op of ['GetFunction', 'GetPolicy', 'GetLayerVersion', 'CreateFunction', 'UpdateFunctionCode', 'AddPermission', 'DeleteFunction'] as const) assert.ok(!functionMayCall('invoke', op), op);
    for (const op of ['GetFunction', 'GetPolicy', 'GetLayerVersion', 'ListLayers', 'Invoke'] as const) assert.ok(functionMayCall('read', op), op);
    for (const op of ['CreateFunction', 'PutFunctionConcurrency', 'AddPermission', 'TagResource'] as const) assert.ok(!functionMayCall('read', op), op);
    assert.ok(functionMayCall('full', 'DeleteFunction'));
  });
});

describe('connections from inside an environment', () => {
  let server: http.Server;
  let url: string;
  let minted: MintedCredentials;
  let another: MintedCredentials;
  const clients: LambdaClient[] = [];
  const client = (creds: Parameters<typeof sdk>[1]) => {
    const c = sdk(url, creds);
    clients.push(c);
    return c;
  };

  before(async () => {
    const functionCredentials = new FunctionCredentials(randomBytes(32), () => Date.now());
    const arn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:inside`;
    minted = functionCredentials.mint({ accountId: ACCOUNT, region: 'us-east-1', functionArn: arn, environmentId: 'env-1', roleName: 'r' });
    another = functionCredentials.mint({ accountId: ACCOUNT, region: 'us-east-1', functionArn: arn, environmentId: 'env-2', roleName: 'r' });
    const handlers = { ListFunctions: (_input: unknown, ctx: { identity: { accountId: string } }) => ({ Functions: [{ FunctionName: `seen-by-${ctx.identity.accountId}` }] }) } as unknown as Handlers;
    // The open developer mode: nothing is checked for connections from the host.
    server = createApiServer({
      handlers,
      identity: { accountId: '000000000000', region: 'us-east-1' },
      logger: createLogger(process.stderr, true),
      authenticate: createAuthenticator({ defaults: { accountId: '000000000000', region: 'us-east-1' }, keys: undefined, functionCredentials, functionApiAccess: 'invoke', now: () => Date.now() }),
    });
    // Connections to this port stand for ones the sandbox layer accepted inside an environment.
    server.prependListener('connection', (socket) => markSandboxSocket(socket, { environmentId: 'env-1', functionArn: arn, accountId: ACCOUNT, region: 'us-east-1' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  it('refuses unsigned requests and other keys even in the open developer mode', async () => {
    const unsigned = await fetch(`${url}/2015-03-31/functions/`);
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
    assert.deepEqual(await unsigned.json(), { message: 'The security token included in the request is invalid.' });
    await expectAwsError(client({ accessKeyId: '123456789012', secretAccessKey: 'x' }).send(new ListFunctionsCommand({})), {
      name: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.',
    });
  });

  it("serves the environment's own credentials, in the function's account, and not another environment's", async () => {
    const r = await client(minted).send(new ListFunctionsCommand({}));
    assert.deepEqual(r.Functions, [{ FunctionName: `seen-by-${ACCOUNT}` }]);
    await expectAwsError(client(another).send(new ListFunctionsCommand({})), {
      name: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.',
    });
  });
});
