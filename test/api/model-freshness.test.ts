// The project's stripped model is what scripts/strip-model.mjs wrote, and no older than AWS's shared
// model beside the project (../shared/aws-model, looked up from the project's parent directories).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface SourceRecord {
  readonly sources: Record<string, string>;
  readonly copies: Record<string, string>;
}
const record = JSON.parse(readFileSync(path.join(root, 'model', 'SOURCE.json'), 'utf8')) as SourceRecord;

/** The nearest `shared/aws-model` in a directory above the project, as the workspace lays it out. */
function sharedModelDir(): string | undefined {
  for (let dir = path.dirname(root); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'aws-model');
    if (existsSync(path.join(candidate, 'lambda-2015-03-31.service-2.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

test('the model copies are the ones strip-model recorded', () => {
  assert.ok(Object.keys(record.copies).length >= 3);
  for (const [file, hash] of Object.entries(record.copies)) {
    assert.equal(sha256(readFileSync(path.join(root, 'model', file))), hash, `model/${file} was edited by hand: regenerate it with node scripts/strip-model.mjs`);
  }
});

test('the project holds the newest shared AWS model', (t) => {
  const dir = sharedModelDir();
  if (!dir) {
    // A clean clone has no workspace around it: the copies check above is all there is to compare.
    t.diagnostic('no shared/aws-model above the project; nothing newer to compare with');
    return;
  }
  for (const [file, hash] of Object.entries(record.sources)) {
    const current = sha256(readFileSync(path.join(dir, file)));
    assert.equal(current, hash, `${path.join(dir, file)} differs from the copy in model/: run node scripts/strip-model.mjs ${dir} && npm run gen, then fix what breaks`);
  }
});
