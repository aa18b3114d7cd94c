// The log store on its own: batching per turn, survival across reopen, retention by age (default and
// per-group policy) and by size, and the generated Logs model staying in step with model/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogStore, EVENT_OVERHEAD, type StreamKey } from '../../src/logs/store.js';
import { operations } from '../../src/logs/generated/model.js';
import type { Clock } from '../../src/shared/clock.js';
import { parseOptions } from '../../src/shared/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'lambdalite-logstore-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
let now = Date.UTC(2026, 0, 10);
const clock: Clock = { now: () => now, elapsed: () => now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout) };
const scope = { accountId: '000000000000', region: 'us-east-1' };
const key = (group: string, stream = 's'): StreamKey => ({ ...scope, group, stream });
let n = 0;
const open = (o: Partial<{ retentionDays: number; maxBytes: number }> = {}) =>
  new LogStore(path.join(dir, `logs-${o.maxBytes ?? 0}-${o.retentionDays ?? 0}-${n++}.db`), { clock, retentionDays: o.retentionDays ?? 0, maxBytes: o.maxBytes ?? 0 });

function messages(store: LogStore, group: string): string[] {
  const g = store.getGroup(scope, group);
  return g ? store.events(g.id, undefined, { limit: 1000 }).map((e) => e.message) : [];
}

test('the generated Logs model matches model/logs-2014-03-28.json', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'gen-logs-api.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `generated files drifted from model/: ${r.stderr}`);
  for (const op of ['DescribeLogGroups', 'DescribeLogStreams', 'GetLogEvents', 'FilterLogEvents', 'StartLiveTail', 'PutLogEvents', 'PutRetentionPolicy']) {
    assert.ok(operations.some((o) => o.name === op), op);
  }
});

test('appends are committed together on the next turn, creating group and stream on first use', async () => {
  const store = open();
  const seen: number[] = [];
  store.onAppend((events) => seen.push(events.length));
  store.append(key('/aws/lambda/a'), now, 'one');
  store.append(key('/aws/lambda/a'), now, 'two');
  assert.equal(store.getGroup(scope, '/aws/lambda/a'), undefined, 'nothing is written inside the turn');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, [2]);
  assert.deepEqual(messages(store, '/aws/lambda/a'), ['one', 'two']);
  assert.equal(store.totalBytes, 6 + 2 * EVENT_OVERHEAD);
  store.close();
});

test('events survive closing and reopening the store', () => {
  const file = path.join(dir, 'reopen.db');
  const a = new LogStore(file, { clock, retentionDays: 0, maxBytes: 0 });
  a.put(key('g'), [{ ts: now, message: 'kept' }]);
  a.close();
  const b = new LogStore(file, { clock, retentionDays: 0, maxBytes: 0 });
  assert.deepEqual(messages(b, 'g'), ['kept']);
  assert.equal(b.totalBytes, 4 + EVENT_OVERHEAD);
  b.close();
});

test('retention: the default age, and a group retention policy that overrides it', () => {
  const store = open({ retentionDays: 7 });
  store.put(key('default'), [{ ts: now - 8 * DAY, message: 'old' }, { ts: now - 6 * DAY, message: 'recent' }]);
  store.put(key('policy'), [{ ts: now - 8 * DAY, message: 'old' }, { ts: now - 2 * DAY, message: 'two days' }, { ts: now, message: 'today' }]);
  store.setRetention(store.getGroup(scope, 'policy')!.id, 1);
  store.sweep();
  assert.deepEqual(messages(store, 'default'), ['recent']);
  assert.deepEqual(messages(store, 'policy'), ['today']);
  now += 7 * DAY;
  store.sweep();
  assert.deepEqual(messages(store, 'default'), [], 'a week later the rest is gone too');
  assert.equal(store.getGroup(scope, 'default')!.storedBytes, 0);
  store.close();
});

test('retention: beyond the size bound the oldest events go first', () => {
  const store = open({ maxBytes: 10 * (100 + EVENT_OVERHEAD) });
  for (let i = 0; i < 20; i++) store.put(key('big'), [{ ts: now + i, message: String(i).padStart(100, '.') }]);
  const kept = messages(store, 'big');
  assert.ok(store.totalBytes <= 10 * (100 + EVENT_OVERHEAD));
  assert.ok(kept.length < 20 && kept.length > 0);
  assert.equal(kept[kept.length - 1]!.trim(), '.'.repeat(98) + '19', 'the newest event stays');
  assert.equal(kept[0], String(20 - kept.length).padStart(100, '.'), 'what stays is the newest, contiguous');
  store.close();
});

test('deleting a group removes its events and a later write recreates it', async () => {
  const store = open();
  store.put(key('gone'), [{ ts: now, message: 'x' }]);
  store.deleteGroup(scope, store.getGroup(scope, 'gone')!);
  assert.equal(store.getGroup(scope, 'gone'), undefined);
  assert.equal(store.totalBytes, 0);
  store.append(key('gone'), now, 'again');
  store.flush();
  assert.deepEqual(messages(store, 'gone'), ['again']);
  store.close();
});

test('retention is configured by --log-retention-days and --log-max-bytes (default 7 days, 1 GiB)', () => {
  const d = parseOptions([], {});
  assert.equal(d.logRetentionDays, 7);
  assert.equal(d.logMaxBytes, 1_073_741_824);
  const o = parseOptions(['--log-retention-days', '30', '--log-max-bytes=5000000'], { LAMBDALITE_LOG_RETENTION_DAYS: '3' });
  assert.equal(o.logRetentionDays, 30);
  assert.equal(o.logMaxBytes, 5_000_000);
  assert.equal(parseOptions([], { LAMBDALITE_LOG_RETENTION_DAYS: '3' }).logRetentionDays, 3);
  assert.throws(() => parseOptions(['--log-retention-days', 'week'], {}), /whole number/);
});
