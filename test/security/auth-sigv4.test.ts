// Attacks on authentication with --credentials: unsigned, garbage, mis-signed, replayed, expired and
// tampered requests are refused with AWS's errors, while the AWS CLI, boto3 and @aws-sdk/client-lambda
// work unchanged with the right keys, each acting in its key's account. Without --credentials, the
// server will not listen on a non-loopback address unless told to.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SignatureV4 } from '@smithy/signature-v4';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectAwsError } from '../helpers/aws-error.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { NodeSha256 } from '../../src/api/sigv4.js';
import { parseCredentialsFile } from '../../src/api/identity.js';
import { parseOptions, ConfigError } from '../../src/shared/config.js';
import { startServer } from '../../src/server.js';
import { createLogger } from '../../src/shared/logger.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'bin', 'lambdalite.js');

const ALICE = { accessKeyId: 'AKIAALICE0000EXAMPLE', secretAccessKey: 'alice/secret+key=with/odd/chars00000000', accountId: '111111111111' };
const BOB = { accessKeyId: 'AKIABOB00000EXAMPLE0', secretAccessKey: 'bob-secret', accountId: '222222222222' };
const SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const credentialsFile = (dir: string) => {
  const file = path.join(dir, 'credentials');
  writeFileSync(file, [
    '# access keys of this server',
    '[alice]',
    `aws_access_key_id = ${ALICE.accessKeyId}`,
    `aws_secret_access_key = ${ALICE.secretAccessKey}`,
    `aws_account_id = ${ALICE.accountId}`,
    '',
    '[bob]',
    `aws_access_key_id=${BOB.accessKeyId}`,
    `aws_secret_access_key=${BOB.secretAccessKey}`,
    `aws_account_id=${BOB.accountId}`,
    '',
  ].join('\n'));
  return file;
};

/** The environment without anything lambdalite or AWS tools would pick up from the machine. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LAMBDALITE_') && !k.startsWith('AWS_')) env[k] = v;
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', ...extra };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

interface Raw {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Sends exactly these headers and body (node's http client adds nothing the signature covers). */
function send(url: string, method: string, target: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface SignOptions {
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly date?: Date;
  readonly presign?: boolean;
  readonly body?: string;
  readonly query?: Record<string, string>;
}

/** Signs a request with @smithy/signature-v4 as the SDKs do, and returns what to send. */
async function signed(url: string, method: string, pathname: string, o: SignOptions = {}) {
  const u = new URL(url);
  const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: o.credentials ?? ALICE, sha256: NodeSha256 });
  const request = {
    method,
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: pathname,
    query: o.query ?? {},
    headers: { host: u.host, ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}) } as Record<string, string>,
    body: o.body,
  };
  const out = o.presign
    ? await signer.presign(request, { signingDate: o.date ?? new Date(), expiresIn: 300 })
    : await signer.sign(request, { signingDate: o.date ?? new Date() });
  const qs = Object.entries(out.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
  return { target: qs ? `${out.path}?${qs}` : out.path, headers: out.headers as Record<string, string> };
}

const client = (url: string, creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, extra: Partial<ConstructorParameters<typeof LambdaClient>[0]> = {}) =>
  new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1, ...extra });

describe('SigV4 with --credentials', () => {
  let work: string;
  let t: TestServer;
  let alice: LambdaClient;
  const clients: LambdaClient[] = [];
  const make = (...a: Parameters<typeof client>) => {
    const c = client(...a);
    clients.push(c);
    return c;
  };

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'lambdalite-auth-'));
    t = await startTestServer({ credentialsFile: credentialsFile(work) });
    alice = make(t.url, ALICE);
    await alice.send(new CreateFunctionCommand({ FunctionName: 'signed-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip('exports.handler = async (e) => ({ echo: e });') } }));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('accepts the SDK with the right keys, in the account of the key, paths with escaped characters included', async () => {
    const fn = await alice.send(new GetFunctionConfigurationCommand({ FunctionName: `arn:aws:lambda:us-east-1:${ALICE.accountId}:function:signed-fn:$LATEST` }));
    assert.equal(fn.FunctionArn, `arn:aws:lambda:us-east-1:${ALICE.accountId}:function:signed-fn:$LATEST`);
    const out = await alice.send(new InvokeCommand({ FunctionName: 'signed-fn', Qualifier: '$LATEST', Payload: Buffer.from('{"a":"b c+d/é"}') }));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { echo: { a: 'b c+d/é' } });
    const bob = make(t.url, BOB);
    const listed = await bob.send(new ListFunctionsCommand({}));
    assert.deepEqual(listed.Functions, [], "another key's account does not see alice's functions");
  });

  it('ignores a 12-digit access key id naming an account: an unknown key is refused', async () => {
    await expectAwsError(make(t.url, { accessKeyId: ALICE.accountId, secretAccessKey: 'x' }).send(new ListFunctionsCommand({})), {
      name: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a wrong secret key with InvalidSignatureException', async () => {
    await expectAwsError(make(t.url, { ...ALICE, secretAccessKey: BOB.secretAccessKey }).send(new ListFunctionsCommand({})), {
      name: 'InvalidSignatureException', status: 403, message: SIGNATURE_MISMATCH,
    });
  });

  it('refuses a long-term key presented with a session token', async () => {
    await expectAwsError(make(t.url, { ...ALICE, sessionToken: 'FwoGZXIvYXdzEXAMPLE' }).send(new ListFunctionsCommand({})), {
      name: 'UnrecognizedClientException', status: 403, message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a signature older than 15 minutes and one from the future', async () => {
    await expectAwsError(make(t.url, ALICE, { systemClockOffset: -16 * 60 * 1000 }).send(new ListFunctionsCommand({})), {
      name: 'InvalidSignatureException', status: 403, message: /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
    });
    await expectAwsError(make(t.url, ALICE, { systemClockOffset: 16 * 60 * 1000 }).send(new ListFunctionsCommand({})), {
      name: 'InvalidSignatureException', status: 403, message: /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/,
    });
    // Inside the window a skewed clock is fine, as on AWS.
    await make(t.url, ALICE, { systemClockOffset: -10 * 60 * 1000 }).send(new ListFunctionsCommand({}));
  });

  it('answers an unsigned request with MissingAuthenticationTokenException, before routing', async () => {
    for (const target of ['/2015-03-31/functions/', '/2015-03-31/functions/signed-fn/invocations', '/no/such/path']) {
      const r = await send(t.url, 'GET', target, {});
      assert.equal(r.status, 403, target);
      assert.equal(r.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
      assert.match(String(r.headers['x-amzn-requestid']), /^[0-9a-f-]{36}$/);
      assert.deepEqual(JSON.parse(r.body), { message: 'Missing Authentication Token' });
    }
  });

  it('answers garbage Authorization headers with IncompleteSignatureException', async () => {
    let r = await send(t.url, 'GET', '/2015-03-31/functions/', { authorization: 'garbage' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'IncompleteSignatureException');
    assert.deepEqual(JSON.parse(r.body), {
      message: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=garbage",
    });
    r = await send(t.url, 'GET', '/2015-03-31/functions/', { authorization: 'Bearer abc.def' });
    assert.equal(r.headers['x-amzn-errortype'], 'IncompleteSignatureException');
    assert.equal(JSON.parse(r.body).message, "'abc.def' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer abc.def'.");
    // Well-formed but for another service, or with a made-up signature.
    const good = await signed(t.url, 'GET', '/2015-03-31/functions/');
    r = await send(t.url, 'GET', good.target, { ...good.headers, authorization: good.headers['authorization']!.replace('/lambda/', '/s3/') });
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.equal(JSON.parse(r.body).message, "Credential should be scoped to correct service: 'lambda'. ");
    r = await send(t.url, 'GET', good.target, { ...good.headers, authorization: good.headers['authorization']!.replace(/Signature=\w+/, `Signature=${'0'.repeat(64)}`) });
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.equal(JSON.parse(r.body).message, SIGNATURE_MISMATCH);
    r = await send(t.url, 'GET', good.target, good.headers);
    assert.equal(r.status, 200, r.body);
  });

  it('refuses a signed request whose body, path, query or signed header was changed on the way', async () => {
    const body = '{"hello":"world"}';
    const target = '/2015-03-31/functions/signed-fn/invocations';
    const s = await signed(t.url, 'POST', target, { body });
    assert.equal((await send(t.url, 'POST', s.target, s.headers, body)).status, 200, 'as signed');
    const tampered = [
      await send(t.url, 'POST', s.target, s.headers, '{"hello":"World"}'),
      await send(t.url, 'POST', s.target, { ...s.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, '{"hello":"World"}'),
      await send(t.url, 'POST', '/2015-03-31/functions/other-fn/invocations', s.headers, body),
      await send(t.url, 'POST', `${s.target}?Qualifier=1`, s.headers, body),
      await send(t.url, 'POST', s.target, { ...s.headers, 'x-amz-date': s.headers['x-amz-date']!.replace(/\d\dZ$/, '00Z') === s.headers['x-amz-date'] ? s.headers['x-amz-date']!.replace(/\d\dZ$/, '01Z') : s.headers['x-amz-date']!.replace(/\d\dZ$/, '00Z') }, body),
    ];
    for (const [i, r] of tampered.entries()) {
      assert.equal(r.status, 403, `tampered request ${i}: ${r.body}`);
      assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException', `tampered request ${i}`);
    }
  });

  it('accepts the presigned query form, and refuses it tampered or expired', async () => {
    const p = await signed(t.url, 'GET', '/2015-03-31/functions/signed-fn/configuration', { presign: true, query: { Qualifier: '$LATEST' } });
    assert.match(p.target, /X-Amz-Signature=/);
    assert.equal(p.headers['authorization'], undefined);
    const ok = await send(t.url, 'GET', p.target, p.headers);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).FunctionName, 'signed-fn');
    const changed = await send(t.url, 'GET', p.target.replace('signed-fn', 'other-fn'), p.headers);
    assert.equal(changed.headers['x-amzn-errortype'], 'InvalidSignatureException');
    const old = await signed(t.url, 'GET', '/2015-03-31/functions/', { presign: true, date: new Date(Date.now() - 10 * 60 * 1000) });
    const expired = await send(t.url, 'GET', old.target, old.headers);
    assert.equal(expired.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.match(JSON.parse(expired.body).message, /^Signature expired: /);
    const wrongKey = await signed(t.url, 'GET', '/2015-03-31/functions/', { presign: true, credentials: { accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' } });
    assert.equal((await send(t.url, 'GET', wrongKey.target, wrongKey.headers)).headers['x-amzn-errortype'], 'UnrecognizedClientException');
  });

  it('holds CloudWatch Logs requests on the same port to the same keys, scoped to logs', async () => {
    const logs = (creds: typeof ALICE) => new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    const ok = logs(ALICE);
    const wrong = logs({ ...ALICE, secretAccessKey: 'wrong' });
    try {
      const groups = await ok.send(new DescribeLogGroupsCommand({}));
      assert.ok(Array.isArray(groups.logGroups));
      await expectAwsError(wrong.send(new DescribeLogGroupsCommand({})), { name: 'InvalidSignatureException', status: 403, message: SIGNATURE_MISMATCH });
    } finally {
      ok.destroy();
      wrong.destroy();
    }
    // A Lambda request signed for another service's scope is refused.
    const good = await signed(t.url, 'GET', '/2015-03-31/functions/');
    const r = await send(t.url, 'GET', good.target, { ...good.headers, authorization: good.headers['authorization']!.replace('/lambda/', '/logs/') });
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
  });

  it('works with the AWS CLI and fails with its keys wrong', async () => {
    const env = (secret: string) => cleanEnv({ AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'us-east-1' });
    const ok = await run('aws', ['lambda', 'list-functions', '--endpoint-url', t.url, '--output', 'json'], env(ALICE.secretAccessKey));
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).Functions.map((f: { FunctionArn: string }) => f.FunctionArn), [`arn:aws:lambda:us-east-1:${ALICE.accountId}:function:signed-fn`]);
    const qualified = await run('aws', ['lambda', 'get-function-configuration', '--function-name', `arn:aws:lambda:us-east-1:${ALICE.accountId}:function:signed-fn:$LATEST`, '--endpoint-url', t.url], env(ALICE.secretAccessKey));
    assert.equal(qualified.code, 0, qualified.stderr);
    const bad = await run('aws', ['lambda', 'list-functions', '--endpoint-url', t.url], env('wrong'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /\(InvalidSignatureException\) when calling the ListFunctions operation: The request signature we calculated does not match/);
  });

  it('works with boto3 and fails with its keys wrong', async () => {
    const script = `
import json, sys, boto3, botocore.exceptions
def client(key, secret):
    return boto3.client('lambda', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={'max_attempts': 0}))
def error(f, **kw):
    try:
        f(**kw)
        return None
    except botocore.exceptions.ClientError as e:
        return [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'], e.response['Error']['Message']]
good = client(sys.argv[2], sys.argv[3])
out = {
  'arns': [f['FunctionArn'] for f in good.list_functions()['Functions']],
  'qualified': good.get_function_configuration(FunctionName='arn:aws:lambda:us-east-1:${ALICE.accountId}:function:signed-fn:$LATEST')['FunctionName'],
  'invoke': json.loads(good.invoke(FunctionName='signed-fn', Qualifier='$LATEST', Payload=b'{"x": "a b"}')['Payload'].read()),
  'wrongSecret': error(client(sys.argv[2], 'wrong').list_functions),
  'unknownKey': error(client('AKIANOBODY0000000000', 'x').list_functions),
}
print(json.dumps(out))
`;
    const r = await run('python3', ['-c', script, t.url, ALICE.accessKeyId, ALICE.secretAccessKey], cleanEnv());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      arns: [`arn:aws:lambda:us-east-1:${ALICE.accountId}:function:signed-fn`],
      qualified: 'signed-fn',
      invoke: { echo: { x: 'a b' } },
      wrongSecret: ['InvalidSignatureException', 403, SIGNATURE_MISMATCH],
      unknownKey: ['UnrecognizedClientException', 403, 'The security token included in the request is invalid.'],
    });
  });
});

describe('the credentials file', () => {
  it('reads one key per section and names the line of each mistake', () => {
    const keys = parseCredentialsFile('[a]\naws_access_key_id = AKIA1\naws_secret_access_key = s\naws_account_id = 123456789012\nregion = eu-west-1\n', 'f');
    assert.deepEqual([...keys.values()], [{ name: 'a', accessKeyId: 'AKIA1', secretAccessKey: 's', accountId: '123456789012' }]);
    const bad: [string, RegExp][] = [
      ['[a]\naws_access_key_id = AKIA1\naws_secret_access_key = s\naws_account_id = 12345\n', /^f line 4: aws_account_id must be 12 digits, not '12345'$/],
      ['[a]\naws_access_key_id = AKIA1\naws_account_id = 123456789012\n', /^f line 1: section \[a\] has no aws_secret_access_key$/],
      ['aws_access_key_id = AKIA1\n', /^f line 1: 'aws_access_key_id' is outside any \[name\] section$/],
      ['[a]\nnonsense\n', /^f line 2: expected '\[name\]' or 'key = value'$/],
      ['[a]\naws_access_key_id=K\naws_secret_access_key=s\naws_account_id=123456789012\n[b]\naws_access_key_id=K\naws_secret_access_key=t\naws_account_id=123456789012\n', /^f line 6: access key K is already defined in section \[a\]$/],
      ['# nothing\n', /^f defines no access keys$/],
    ];
    for (const [text, message] of bad) assert.throws(() => parseCredentialsFile(text, 'f'), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  });

  it('stops the command at start-up with the line of a bad account id', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-auth-'));
    try {
      writeFileSync(path.join(dir, 'creds'), '[a]\naws_access_key_id = AKIA1\naws_secret_access_key = s\naws_account_id = 0000\n');
      const r = await run(process.execPath, [bin, 'start', '--port', '0', '--data-dir', path.join(dir, 'data'), '--credentials', path.join(dir, 'creds')], cleanEnv());
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `lambdalite: ${path.join(dir, 'creds')} line 4: aws_account_id must be 12 digits, not '0000'\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('open developer mode', () => {
  it('refuses to listen on a non-loopback address without --allow-unauthenticated', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-auth-'));
    try {
      const r = await run(process.execPath, [bin, 'start', '--host', '0.0.0.0', '--port', '0', '--data-dir', dir], cleanEnv());
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, 'lambdalite: refusing to listen on 0.0.0.0 without authentication: give --credentials FILE, or --allow-unauthenticated to accept unsigned requests from the network\n');
      await assert.rejects(startServer(parseOptions([], {}, { host: '0.0.0.0', port: 0, dataDir: dir }), { logger: createLogger(process.stderr, true) }), ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('listens there with --allow-unauthenticated and says it is unauthenticated', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-auth-'));
    const child = spawn(process.execPath, [bin, 'start', '--host', '0.0.0.0', '--port', '0', '--data-dir', dir, '--allow-unauthenticated'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no readiness line within 15 s; stderr: ${err}`)), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on http:\/\/0\.0\.0\.0:(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${err}`)); });
      });
      assert.match(err, /open developer mode: requests are not authenticated/);
      const r = await send(`http://127.0.0.1:${port}`, 'GET', '/2015-03-31/functions/', {});
      assert.equal(r.status, 200, 'unsigned requests are served in the open mode');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
