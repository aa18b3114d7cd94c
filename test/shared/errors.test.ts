// The error registry against the AWS model and against the code that throws: every code the model knows
// is sent as the model's exception shape says (status, fault, `Type`, message key) unless the entry says
// why not; every code thrown in src/ is in the registry, and every entry is thrown somewhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shapes } from '../../src/api/generated/model.js';
import { errorResponse } from '../../src/api/errors.js';
import { errorRegistry, errors, LambdaError, type ErrorCode } from '../../src/shared/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const codes = Object.keys(errorRegistry) as ErrorCode[];
const spec = (code: ErrorCode): { type?: string; status: number; fault: string; typed: boolean; messageKey: string; deviation?: string } => errorRegistry[code];
const wireType = (code: ErrorCode) => spec(code).type ?? code;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return n === 'generated' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Codes named at throw sites: `new LambdaError('Code'` and the `errors.*` shorthands. */
function thrownCodes(): Map<ErrorCode | string, string[]> {
  const shorthand: Record<string, ErrorCode> = {
    validation: 'ValidationException', invalidParameter: 'InvalidParameterValueException', notFound: 'ResourceNotFoundException',
    conflict: 'ResourceConflictException', preconditionFailed: 'PreconditionFailedException', service: 'ServiceException',
  };
  const found = new Map<string, string[]>();
  const add = (code: string, where: string) => found.set(code, [...(found.get(code) ?? []), where]);
  for (const file of sources(path.join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const rel = path.relative(root, file);
    for (const m of text.matchAll(/new LambdaError\(\s*'(\w+)'/g)) add(m[1]!, rel);
    for (const m of text.matchAll(/\berrors\.(\w+)\(/g)) if (shorthand[m[1]!]) add(shorthand[m[1]!]!, rel);
  }
  return found;
}

describe('the error registry', () => {
  it('matches the model\'s exception shape wherever AWS models the error', () => {
    for (const code of codes) {
      const s = spec(code);
      const shape = shapes[wireType(code)];
      if (!shape?.exception) {
        // AWS's front end, not the Lambda model: such errors carry no Type.
        assert.equal(s.typed, false, `${code}: unmodelled errors have no Type`);
        continue;
      }
      const members = shape.members ?? {};
      assert.equal(s.messageKey, 'Message' in members ? 'Message' : 'message', `${code}: message key`);
      if (s.deviation !== undefined) continue;
      assert.equal(s.status, shape.error?.httpStatusCode, `${code}: status`);
      assert.equal(s.typed, 'Type' in members, `${code}: Type member`);
      assert.equal(s.fault, shape.error?.senderFault ? 'User' : 'Service', `${code}: fault`);
    }
  });

  it('holds every code thrown in src/, and each of its codes is thrown somewhere', () => {
    const thrown = thrownCodes();
    for (const [code, where] of thrown) assert.ok(code in errorRegistry, `${code} (thrown in ${where.join(', ')}) is not in the registry`);
    for (const code of codes) assert.ok(thrown.has(code), `${code} is in the registry but thrown nowhere`);
  });

  it('no throw site spells a status', () => {
    for (const file of sources(path.join(root, 'src'))) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /new LambdaError\([^)]*\bstatus\s*:/, path.relative(root, file));
    }
  });

  it('puts each entry on the wire as it says', () => {
    for (const code of codes) {
      const s = spec(code);
      const { response } = errorResponse(new LambdaError(code, { message: 'm', operation: 'Op', limit: 1, size: 2, runtime: 'r', reason: 'x' } as never), 'rid');
      assert.equal(response.status, s.status, code);
      assert.equal(response.headers['x-amzn-errortype'], wireType(code), code);
      const body = JSON.parse(String(response.body)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), [...(s.typed ? ['Type'] : []), s.messageKey].sort(), code);
      if (s.typed) assert.equal(body['Type'], s.fault, code);
    }
  });

  it('fills a template\'s placeholders, and keeps braces in a free-text message as they are', () => {
    assert.equal(new LambdaError('RequestTooLarge', { limit: 6291456, operation: 'InvokeFunction' }).message, 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    assert.equal(new LambdaError('TooManyRequestsException', {}).message, 'Rate Exceeded.');
    assert.equal(errors.invalidParameter('a {message} here').message, 'a {message} here');
  });

  it('answers an unexpected failure as ServiceException 500 and hands it to the log', () => {
    const boom = new Error('disk on fire');
    const { response, logged } = errorResponse(boom, 'rid');
    assert.equal(response.status, 500);
    assert.equal(response.headers['x-amzn-errortype'], 'ServiceException');
    assert.deepEqual(JSON.parse(String(response.body)), { Type: 'Service', Message: 'An internal error occurred in lambdalite.' });
    assert.equal(logged, boom);
  });
});
