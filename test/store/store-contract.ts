// The contract every Store adapter must pass. Run it with a factory for the adapter under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store, StoredFunction, StoredVersion } from '../../src/store/types.js';

function fn(name: string, revision = 'r1', region = 'us-east-1', accountId = '000000000000'): StoredFunction {
  return {
    accountId, region, name,
    createdAt: '2026-01-01T00:00:00.000+0000',
    tags: { team: 'a' },
    latest: { version: '$LATEST', codeHash: 'h1', config: { RevisionId: revision, MemorySize: 128, Runtime: 'nodejs22.x' } },
  };
}

export function storeContract(name: string, open: () => { store: Store; reopen: () => Store }): void {
  test(`${name}: create, read, conflict and scope`, () => {
    const { store } = open();
    assert.equal(store.createFunction(fn('a')), true);
    assert.equal(store.createFunction(fn('a')), false, 'a second create of the same name must fail');
    assert.equal(store.createFunction(fn('a', 'r1', 'eu-west-1')), true, 'regions are separate');
    assert.equal(store.createFunction(fn('a', 'r1', 'us-east-1', '111111111111')), true, 'accounts are separate');
    const got = store.getFunction({ accountId: '000000000000', region: 'us-east-1', name: 'a' });
    assert.deepEqual(got, fn('a'));
    assert.equal(store.getFunction({ accountId: '000000000000', region: 'us-east-1', name: 'b' }), undefined);
    store.close();
  });

  test(`${name}: replaceLatest is a compare-and-swap on RevisionId`, () => {
    const { store } = open();
    store.createFunction(fn('a'));
    const key = { accountId: '000000000000', region: 'us-east-1', name: 'a' };
    const next: StoredVersion = { version: '$LATEST', codeHash: 'h2', config: { RevisionId: 'r2', MemorySize: 256 } };
    assert.equal(store.replaceLatest(key, 'stale', next), false);
    assert.equal(store.replaceLatest(key, 'r1', next), true);
    assert.equal(store.replaceLatest(key, 'r1', next), false, 'the old revision no longer matches');
    assert.deepEqual(store.getFunction(key)?.latest, next);
    store.close();
  });

  test(`${name}: list pages in a stable order without gaps`, () => {
    const { store } = open();
    const names = Array.from({ length: 23 }, (_, i) => `f${String(i).padStart(2, '0')}`).reverse();
    for (const n of names) store.createFunction(fn(n));
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = store.listFunctions('000000000000', 'us-east-1', after, 5);
      seen.push(...page.items.map((f) => f.name));
      after = page.nextMarker;
      if (!after) break;
    }
    assert.deepEqual(seen, [...names].sort());
    store.close();
  });

  test(`${name}: version numbers are never reused`, () => {
    const { store } = open();
    store.createFunction(fn('a'));
    const key = { accountId: '000000000000', region: 'us-east-1', name: 'a' };
    const publish = () => store.publishVersion(key, (v) => ({ version: v, codeHash: 'h1', config: { RevisionId: `v${v}` } }))!.version;
    assert.equal(publish(), '1');
    assert.equal(publish(), '2');
    assert.equal(store.deleteVersion(key, '2'), true);
    assert.equal(publish(), '3');
    for (let i = 4; i <= 11; i++) publish();
    const versions = store.listVersions(key, undefined, 100).items.map((v) => v.version);
    assert.deepEqual(versions, ['$LATEST', '1', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    const page = store.listVersions(key, undefined, 2);
    assert.deepEqual(page.items.map((v) => v.version), ['$LATEST', '1']);
    assert.deepEqual(store.listVersions(key, page.nextMarker, 2).items.map((v) => v.version), ['3', '4']);
    store.close();
  });

  test(`${name}: aliases are created once and replaced by revision`, () => {
    const { store } = open();
    store.createFunction(fn('a'));
    const key = { accountId: '000000000000', region: 'us-east-1', name: 'a' };
    const alias = { alias: 'live', functionVersion: '1', description: '', additionalVersionWeights: {}, revisionId: 'a1' };
    assert.equal(store.putAlias(key, alias, null), true);
    assert.equal(store.putAlias(key, alias, null), false);
    assert.equal(store.putAlias(key, { ...alias, revisionId: 'a2' }, 'wrong'), false);
    assert.equal(store.putAlias(key, { ...alias, functionVersion: '2', revisionId: 'a2' }, 'a1'), true);
    assert.equal(store.getAlias(key, 'live')?.functionVersion, '2');
    assert.equal(store.listAliases(key, undefined, 10).items.length, 1);
    assert.equal(store.deleteAlias(key, 'live'), true);
    assert.equal(store.getAlias(key, 'live'), undefined);
    store.close();
  });

  test(`${name}: deleting a function removes its versions and aliases, and data survives reopening`, () => {
    const { store, reopen } = open();
    store.createFunction(fn('a'));
    store.createFunction(fn('b'));
    const key = { accountId: '000000000000', region: 'us-east-1', name: 'a' };
    store.publishVersion(key, (v) => ({ version: v, codeHash: 'h9', config: {} }));
    store.putAlias(key, { alias: 'x', functionVersion: '1', description: '', additionalVersionWeights: {}, revisionId: 'r' }, null);
    assert.equal(store.deleteFunction(key), true);
    assert.equal(store.deleteFunction(key), false);
    store.createFunction(fn('a'));
    assert.equal(store.getVersion(key, '1'), undefined, 'versions of a deleted function are gone');
    assert.equal(store.getAlias(key, 'x'), undefined, 'aliases of a deleted function are gone');
    assert.equal(store.referencedCodeHashes().has('h9'), false);
    store.close();
    const again = reopen();
    assert.ok(again.getFunction({ ...key, name: 'b' }));
    again.close();
  });

  test(`${name}: tags, policies, layer versions and code usage`, () => {
    const { store } = open();
    store.createFunction(fn('a'));
    const key = { accountId: '000000000000', region: 'us-east-1', name: 'a' };
    assert.equal(store.setTags(key, { x: '1' }), true);
    assert.deepEqual(store.getFunction(key)?.tags, { x: '1' });

    assert.equal(store.putPolicy(key, '', { revisionId: 'p1', statements: [{ Sid: 's' }] }, null), true);
    assert.equal(store.putPolicy(key, '', { revisionId: 'p2', statements: [] }, null), false, 'exists already');
    assert.equal(store.putPolicy(key, '', { revisionId: 'p2', statements: [{ Sid: 's' }, { Sid: 't' }] }, 'wrong'), false);
    assert.equal(store.putPolicy(key, '', { revisionId: 'p2', statements: [{ Sid: 's' }, { Sid: 't' }] }, 'p1'), true);
    assert.equal(store.getPolicy(key, '')?.statements.length, 2);
    assert.equal(store.getPolicy(key, '1'), undefined, 'policies are per qualifier');
    store.deletePolicy(key, '');
    assert.equal(store.getPolicy(key, ''), undefined);

    const layer = { accountId: '000000000000', region: 'us-east-1', name: 'lib' };
    const build = (v: number) => ({ version: v, codeHash: `lh${v}`, description: '', createdDate: 'd', codeSha256: 's', codeSize: 10, unzippedSize: 20 });
    assert.equal(store.publishLayerVersion(layer, build).version, 1);
    assert.equal(store.publishLayerVersion(layer, build).version, 2);
    assert.equal(store.deleteLayerVersion(layer, 2), true);
    assert.equal(store.publishLayerVersion(layer, build).version, 3, 'layer version numbers are never reused');
    assert.deepEqual(store.listLayerVersions(layer, undefined, 10).items.map((v) => v.version), [3, 1]);
    assert.deepEqual(store.listLayerNames('000000000000', 'us-east-1', undefined, 10).items, ['lib']);
    assert.equal(store.putLayerVersionPolicy(layer, 1, [{ Sid: 'x' }]), true);
    assert.deepEqual(store.getLayerVersionPolicy(layer, 1), [{ Sid: 'x' }]);
    assert.ok(store.referencedCodeHashes().has('lh1'), 'layer code is referenced');

    store.replaceLatest(key, 'r1', { version: '$LATEST', codeHash: 'h1', config: { RevisionId: 'r9', CodeSize: 100 }, layerHashes: ['lh3'] });
    assert.deepEqual(store.getFunction(key)?.latest.layerHashes, ['lh3']);
    assert.ok(store.referencedCodeHashes().has('lh3'));
    assert.deepEqual(store.codeUsage('000000000000', 'us-east-1'), { functionCount: 1, totalCodeSize: 100 + 20 });
    store.close();
  });

  test(`${name}: event invoke configs and the durable async queue (leases, reschedule, survival)`, () => {
    const { store, reopen } = open();
    const key = { accountId: '000000000000', region: 'us-east-1', name: 'a' };
    store.createFunction(fn('a'));
    store.putEventInvokeConfig(key, { qualifier: '$LATEST', maximumRetryAttempts: 1, lastModified: 1 });
    store.putEventInvokeConfig(key, { qualifier: '1', onSuccess: 'arn:aws:sqs:us-east-1:000000000000:q', lastModified: 2 });
    assert.equal(store.getEventInvokeConfig(key, '$LATEST')?.maximumRetryAttempts, 1);
    assert.equal(store.listEventInvokeConfigs(key).length, 2);
    assert.equal(store.deleteEventInvokeConfig(key, '1'), true);
    assert.equal(store.deleteEventInvokeConfig(key, '1'), false);

    const ev = (i: number, dueAt: number) => ({
      requestId: `r${i}`, accountId: '000000000000', region: 'us-east-1', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:a',
      qualifier: i % 2 ? 'live' : undefined, payload: Buffer.from(`{"i":${i}}`), clientContext: undefined, enqueuedAt: 100, dueAt,
    });
    store.enqueueEvents([ev(1, 100), ev(2, 100), ev(3, 500)]);
    assert.equal(store.countEvents(), 3);
    assert.equal(store.nextEventDue(), 100);
    const claimed = store.claimEvents('me', 200, 10_000, 10);
    assert.deepEqual(claimed.map((e) => e.requestId), ['r1', 'r2'], 'only due events are claimed');
    assert.deepEqual(claimed[0]!.payload, Buffer.from('{"i":1}'));
    assert.equal(claimed[0]!.qualifier, 'live');
    assert.deepEqual(store.claimEvents('other', 200, 10_000, 10), [], 'a leased event is not handed out twice');
    assert.equal(store.rescheduleEvent(claimed[0]!.id, 'other', { dueAt: 300, attempts: 1, throttles: 0, stage: 'invoke', state: undefined }), false, 'only the holder reschedules');
    assert.equal(store.rescheduleEvent(claimed[0]!.id, 'me', { dueAt: 300, attempts: 1, throttles: 0, stage: 'invoke', state: '{"x":1}' }), true);
    assert.deepEqual(store.countEventsByState(), { pending: 2, retrying: 1, delivering: 0 });
    assert.equal(store.deleteEvent(claimed[1]!.id, 'me'), true);
    assert.deepEqual(store.claimEvents('me', 20_000, 30_000, 10).map((e) => [e.requestId, e.attempts, e.state]), [['r1', 1, '{"x":1}'], ['r3', 0, undefined]]);
    store.close();

    // A new process frees the dead one's leases; nothing accepted is lost.
    const again = reopen();
    assert.equal(again.countEvents(), 2);
    assert.deepEqual(again.countEventsByState(), { pending: 1, retrying: 1, delivering: 0 });
    assert.deepEqual(again.claimEvents('next', 20_000, 30_000, 10), [], 'still leased by the dead owner');
    assert.equal(again.releaseForeignLeases('next'), 2);
    assert.equal(again.claimEvents('next', 20_000, 30_000, 10).length, 2);
    assert.equal(again.claimEvents('late', 40_000, 50_000, 10).length, 2, 'an expired lease is handed out again');
    again.close();
  });

  test(`${name}: event source mappings and stream checkpoints (scope, order, cascade, survival)`, () => {
    const { store, reopen } = open();
    const esm = (uuid: string, createdAt: number, region = 'us-east-1') => ({
      uuid, accountId: '000000000000', region, createdAt,
      config: { UUID: uuid, EventSourceArn: `arn:aws:kinesis:${region}:000000000000:stream/s`, FunctionArn: `arn:aws:lambda:${region}:000000000000:function:f`, BatchSize: 100, State: 'Enabled' },
    });
    store.putEventSourceMapping(esm('b', 2));
    store.putEventSourceMapping(esm('a', 3));
    store.putEventSourceMapping(esm('c', 1, 'eu-west-1'));
    assert.deepEqual(store.listEventSourceMappings('000000000000', 'us-east-1').map((m) => m.uuid), ['b', 'a'], 'creation order, one region');
    assert.deepEqual(store.allEventSourceMappings().map((m) => m.uuid), ['c', 'b', 'a']);
    store.putEventSourceMapping({ ...esm('b', 99), config: { ...esm('b', 2).config, BatchSize: 7 } });
    assert.deepEqual(store.getEventSourceMapping('b'), { ...esm('b', 2), config: { ...esm('b', 2).config, BatchSize: 7 } }, 'a replace keeps createdAt');
    store.putStreamCheckpoint('a', 'shardId-000', '49590338271490256608559692538361571095921575989136588898');
    store.putStreamCheckpoint('a', 'shardId-000', '49590338271490256608559692538361571095921575989136588899');
    store.putStreamCheckpoint('a', 'shardId-001', '1');
    store.putStreamCheckpoint('gone', 'shardId-000', '1');
    assert.equal(store.getStreamCheckpoint('a', 'shardId-000'), '49590338271490256608559692538361571095921575989136588899');
    assert.equal(store.getStreamCheckpoint('gone', 'shardId-000'), undefined, 'no checkpoint for a mapping that does not exist');
    store.close();

    const again = reopen();
    assert.equal(again.getStreamCheckpoint('a', 'shardId-001'), '1', 'checkpoints survive a restart');
    assert.equal(again.deleteEventSourceMapping('a'), true);
    assert.equal(again.deleteEventSourceMapping('a'), false);
    assert.equal(again.getEventSourceMapping('a'), undefined);
    assert.equal(again.getStreamCheckpoint('a', 'shardId-000'), undefined, 'checkpoints go with their mapping');
    again.close();
  });

  test(`${name}: documents by kind and id, scoped, surviving a restart, going with their function`, () => {
    const { store, reopen } = open();
    store.createFunction(fn('owner'));
    const doc = (id: string, accountId = '000000000000') => ({ kind: 'k', accountId, region: 'us-east-1', id });
    store.putDocument(doc('b'), { n: 2 });
    store.putDocument(doc('a'), { n: 1 });
    store.putDocument(doc('a', '111111111111'), { n: 9 });
    store.putDocument(doc('owned'), 'x', 'owner');
    store.putDocument(doc('a'), { n: 3 });
    assert.deepEqual(store.getDocument(doc('a')), { n: 3 }, 'a put replaces');
    assert.deepEqual(store.listDocuments('k', '000000000000', 'us-east-1').map((d) => d.id), ['a', 'b', 'owned']);
    assert.equal(store.getDocument({ ...doc('a'), kind: 'other' }), undefined, 'kinds are separate');
    store.close();
    const again = reopen();
    assert.deepEqual(again.getDocument(doc('b')), { n: 2 });
    assert.equal(again.deleteDocument(doc('b')), true);
    assert.equal(again.deleteDocument(doc('b')), false);
    again.deleteFunction({ accountId: '000000000000', region: 'us-east-1', name: 'owner' });
    assert.equal(again.getDocument(doc('owned')), undefined, 'a function\'s documents go with it');
    assert.deepEqual(again.getDocument(doc('a', '111111111111')), { n: 9 });
    again.close();
  });
}
