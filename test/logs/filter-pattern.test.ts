// CloudWatch Logs filter pattern syntax, one behaviour per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilterPattern, FilterPatternError } from '../../src/logs/filter-pattern.js';

function matches(pattern: string, messages: string[]): string[] {
  const m = compileFilterPattern(pattern);
  return messages.filter((x) => m(x));
}

const lines = ['ERROR disk full', 'WARN slow request', 'INFO ok', 'ERROR Exiting now', 'error lower case', 'Failed Request id=7'];

test('an empty pattern matches every event', () => {
  assert.deepEqual(matches('', lines), lines);
  assert.deepEqual(matches('  ', lines), lines);
});

test('terms must all appear, case-sensitively', () => {
  assert.deepEqual(matches('ERROR', lines), ['ERROR disk full', 'ERROR Exiting now']);
  assert.deepEqual(matches('ERROR full', lines), ['ERROR disk full']);
});

test('quoted phrases match as a whole', () => {
  assert.deepEqual(matches('"Failed Request"', lines), ['Failed Request id=7']);
  assert.deepEqual(matches('"Request Failed"', lines), []);
  assert.deepEqual(matches('"id=7"', lines), ['Failed Request id=7']);
});

test('? terms: at least one must appear', () => {
  assert.deepEqual(matches('?ERROR ?WARN', lines), ['ERROR disk full', 'WARN slow request', 'ERROR Exiting now']);
});

test('- terms exclude', () => {
  assert.deepEqual(matches('ERROR -Exiting', lines), ['ERROR disk full']);
});

const json = [
  '{"level":"ERROR","message":"boom","latency":900,"user":{"id":"u-1"},"tags":["a","b"],"ok":false,"gone":null}',
  '{"level":"WARN","message":"meh","latency":120,"user":{"id":"u-2"},"tags":["c"],"ok":true}',
  '{"level":"INFO","message":"fine","latency":10}',
  'not json at all ERROR',
];

test('JSON patterns: equality on strings, with * wildcards', () => {
  assert.deepEqual(matches('{ $.level = "ERROR" }', json), [json[0]]);
  assert.deepEqual(matches('{ $.level = ERROR }', json), [json[0]]);
  assert.deepEqual(matches('{ $.user.id = "u-*" }', json), [json[0], json[1]]);
  assert.deepEqual(matches('{ $.level != "INFO" }', json), [json[0], json[1]]);
});

test('JSON patterns: numeric comparisons, arrays, && || and parentheses', () => {
  assert.deepEqual(matches('{ $.latency > 100 }', json), [json[0], json[1]]);
  assert.deepEqual(matches('{ $.latency <= 120 }', json), [json[1], json[2]]);
  assert.deepEqual(matches('{ $.tags[0] = "c" }', json), [json[1]]);
  assert.deepEqual(matches('{ ($.level = "ERROR") || ($.latency < 50) }', json), [json[0], json[2]]);
  assert.deepEqual(matches('{ $.level = "WARN" && $.latency > 100 }', json), [json[1]]);
});

test('JSON patterns: IS NULL, NOT EXISTS, IS TRUE, IS FALSE', () => {
  assert.deepEqual(matches('{ $.gone IS NULL }', json), [json[0]]);
  assert.deepEqual(matches('{ $.user NOT EXISTS }', json), [json[2]]);
  assert.deepEqual(matches('{ $.ok IS TRUE }', json), [json[1]]);
  assert.deepEqual(matches('{ $.ok IS FALSE }', json), [json[0]]);
});

test('space-delimited patterns: named fields, conditions and ...', () => {
  const access = ['127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534', '10.0.0.2 - - [10/Oct/2000:13:25:16 -0700] "GET /x HTTP/1.0" 404 12'];
  assert.deepEqual(matches('[ip, id, user, timestamp, request, status_code=4*, size]', access), [access[1]]);
  assert.deepEqual(matches('[ip, ..., size>1000]', access), [access[0]]);
  assert.deepEqual(matches('[ip=127.0.0.1, ...]', access), [access[0]]);
});

test('%regex% patterns', () => {
  assert.deepEqual(matches('%id=[0-9]+%', lines), ['Failed Request id=7']);
});

test('malformed patterns are refused', () => {
  for (const bad of ['{ $.level = }', '{ level = "x" }', '{ $.a = "x" ', '{ ($.a = 1 }', '[a b c]', '%(%']) {
    assert.throws(() => compileFilterPattern(bad), FilterPatternError, bad);
  }
});

test('hostile patterns cannot make matching slow: globs are linear, backtracking regexes are refused', () => {
  const long = 'a'.repeat(200_000);
  const glob = compileFilterPattern(`{ $.m = "${'a*'.repeat(50)}b" }`);
  assert.equal(glob(JSON.stringify({ m: long })), false);
  assert.equal(compileFilterPattern('{ $.m = "a*b*c" }')(JSON.stringify({ m: 'axxbyyc' })), true);
  assert.equal(compileFilterPattern('{ $.m = "a*b*c" }')(JSON.stringify({ m: 'acb' })), false);
  for (const evil of ['%(a+)+$%', '%(a*)*b%', '%(?=a)%', '%(a)\\1%']) {
    assert.throws(() => compileFilterPattern(evil), FilterPatternError, evil);
  }
});
