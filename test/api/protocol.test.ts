// The protocol layer on its own: every model operation is routed, constraints answer AWS's texts, and the
// generated tables match the pinned model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { operations, shapes } from '../../src/api/generated/model.js';
import { Router } from '../../src/api/router.js';
import { constraintFailures, validationMessage } from '../../src/api/validate.js';
import { deserializeInput, serializeOutput } from '../../src/api/codec.js';
import { parseSigV4Authorization, identify } from '../../src/api/identity.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the generated API matches the pinned model', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'gen-api.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `generated files drifted from model/: ${r.stderr}`);
  assert.equal(operations.length, 85);
});

test('every model operation is routed to itself', () => {
  const router = new Router(operations);
  for (const op of operations) {
    const rawPath = op.path.replace(/\{([^}]+)\}/g, (_m, label: string) => encodeURIComponent(label === 'FunctionName' ? 'my-fn' : `x-${label}`));
    const query = new URLSearchParams(op.staticQuery);
    const m = router.match(op.method, rawPath, query);
    assert.ok(m, `${op.name} (${op.method} ${op.path}) is not routed`);
    assert.equal(m.op.name, op.name, `${op.method} ${rawPath}?${query} routed to ${m.op.name}, not ${op.name}`);
  }
});

test('query-discriminated routes need their fixed parameter', () => {
  const router = new Router(operations);
  assert.equal(router.match('GET', '/2018-10-31/layers', new URLSearchParams('find=LayerVersion'))?.op.name, 'GetLayerVersionByArn');
  assert.equal(router.match('GET', '/2018-10-31/layers', new URLSearchParams())?.op.name, 'ListLayers');
  assert.equal(router.match('GET', '/2019-09-30/functions/f/provisioned-concurrency', new URLSearchParams('List=ALL'))?.op.name, 'ListProvisionedConcurrencyConfigs');
  assert.equal(router.match('GET', '/2019-09-30/functions/f/provisioned-concurrency', new URLSearchParams())?.op.name, 'GetProvisionedConcurrencyConfig');
  assert.equal(router.match('GET', '/2015-03-31/functions/', new URLSearchParams())?.op.name, 'ListFunctions');
  assert.equal(router.match('GET', '/nope', new URLSearchParams()), undefined);
});

test('path labels are percent-decoded after splitting', () => {
  const router = new Router(operations);
  const m = router.match('GET', '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af', new URLSearchParams());
  assert.equal(m?.op.name, 'GetFunction');
  assert.equal(m?.labels['FunctionName'], 'arn:aws:lambda:us-east-1:000000000000:function:f');
});

test('constraint failures use AWS wording, camelCase paths and model order', () => {
  assert.deepEqual(constraintFailures('CreateFunctionRequest', { FunctionName: 'ok', Role: 'r1', Code: {} }), [
    "Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
  ]);
  assert.deepEqual(constraintFailures('CreateFunctionRequest', { FunctionName: 'f' }), [
    "Value null at 'role' failed to satisfy constraint: Member must not be null",
    "Value null at 'code' failed to satisfy constraint: Member must not be null",
  ]);
  const nested = constraintFailures('CreateFunctionRequest', { FunctionName: 'f', Role: 'arn:aws:iam::000000000000:role/r', Code: {}, MemorySize: 64, EphemeralStorage: { Size: 20000 } });
  assert.deepEqual(nested, [
    "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    "Value '20000' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value less than or equal to 10240",
  ]);
  assert.equal(validationMessage(nested), `2 validation errors detected: ${nested.join('; ')}`);
  assert.equal(validationMessage(['x']), '1 validation error detected: x');
});

test('lists name every constraint of their element, as AWS does', () => {
  assert.deepEqual(constraintFailures('CreateFunctionRequest', { FunctionName: 'f', Role: 'arn:aws:iam::000000000000:role/r', Code: {}, Architectures: ['X86_64'] }), [
    "Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]",
  ]);
  assert.deepEqual(constraintFailures('CreateFunctionRequest', { FunctionName: 'f', Role: 'arn:aws:iam::000000000000:role/r', Code: {}, Architectures: ['x86_64', 'arm64'] }), [
    "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1",
  ]);
});

test('the runtime enum is left to the service check', () => {
  assert.deepEqual(constraintFailures('CreateFunctionRequest', { FunctionName: 'f', Role: 'arn:aws:iam::000000000000:role/r', Code: {}, Runtime: 'nodejs99' }), []);
  assert.ok(shapes['Runtime']?.enum?.includes('nodejs20.x'));
});

test('rest-json binding: uri, query, headers, raw payload and output headers', () => {
  const invoke = operations.find((o) => o.name === 'Invoke')!;
  const input = deserializeInput(invoke, { FunctionName: 'f' }, {
    method: 'POST',
    query: new URLSearchParams('Qualifier=1'),
    headers: { 'x-amz-invocation-type': 'DryRun', 'x-amz-log-type': 'Tail' },
    body: Buffer.from('{"a":1}'),
  });
  assert.equal(input['FunctionName'], 'f');
  assert.equal(input['Qualifier'], '1');
  assert.equal(input['InvocationType'], 'DryRun');
  assert.ok(Buffer.isBuffer(input['Payload']));
  const out = serializeOutput(invoke, { StatusCode: 200, ExecutedVersion: '$LATEST', FunctionError: 'Unhandled', Payload: Buffer.from('{}') });
  assert.equal(out.status, 200);
  assert.equal(out.headers['x-amz-executed-version'], '$LATEST');
  assert.equal(out.headers['x-amz-function-error'], 'Unhandled');
  assert.equal(String(out.body), '{}');

  const list = operations.find((o) => o.name === 'ListFunctions')!;
  assert.deepEqual(deserializeInput(list, {}, { method: 'GET', query: new URLSearchParams('MaxItems=5&Marker=abc'), headers: {}, body: Buffer.alloc(0) }), { MaxItems: 5, Marker: 'abc' });
  assert.throws(
    () => deserializeInput(list, {}, { method: 'GET', query: new URLSearchParams('MaxItems=five'), headers: {}, body: Buffer.alloc(0) }),
    (e: Error & { code?: string }) => e.code === 'InvalidRequestContentException',
  );
});

test('blobs in JSON bodies are base64 and a malformed body is InvalidRequestContentException', () => {
  const create = operations.find((o) => o.name === 'CreateFunction')!;
  const input = deserializeInput(create, {}, { method: 'POST', query: new URLSearchParams(), headers: {}, body: Buffer.from(JSON.stringify({ FunctionName: 'f', Code: { ZipFile: Buffer.from('PK').toString('base64') } })) });
  assert.deepEqual((input['Code'] as { ZipFile: Buffer }).ZipFile, Buffer.from('PK'));
  assert.throws(
    () => deserializeInput(create, {}, { method: 'POST', query: new URLSearchParams(), headers: {}, body: Buffer.from('{"FunctionName":') }),
    (e: Error & { code?: string }) => e.code === 'InvalidRequestContentException',
  );
  assert.throws(
    () => deserializeInput(create, {}, { method: 'POST', query: new URLSearchParams(), headers: {}, body: Buffer.from('{"MemorySize":"big"}') }),
    (e: Error & { code?: string }) => e.code === 'InvalidRequestContentException',
  );
});

test('identity comes from the SigV4 credential scope', () => {
  const header = 'AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc';
  const parsed = parseSigV4Authorization(header);
  assert.deepEqual(parsed, { accessKeyId: '123456789012', date: '20260101', region: 'eu-west-1', service: 'lambda', signedHeaders: ['host', 'x-amz-date'], signature: 'abc' });
  const defaults = { accountId: '000000000000', region: 'us-east-1' };
  assert.deepEqual(identify({ authorization: header }, new URLSearchParams(), defaults), { accessKeyId: '123456789012', accountId: '123456789012', region: 'eu-west-1' });
  assert.deepEqual(identify({ authorization: header.replace('123456789012', 'AKIDEXAMPLE') }, new URLSearchParams(), defaults), { accessKeyId: 'AKIDEXAMPLE', accountId: '000000000000', region: 'eu-west-1' });
  assert.deepEqual(identify({}, new URLSearchParams(), defaults), { accessKeyId: undefined, accountId: '000000000000', region: 'us-east-1' });
  assert.equal(parseSigV4Authorization('Basic abc'), undefined);
  assert.equal(parseSigV4Authorization('AWS4-HMAC-SHA256 Credential=a/b/c, Signature=x'), undefined);
});
