#!/usr/bin/env node
// Copies AWS's Lambda model into the project without its documentation strings, so the project builds
// and regenerates without ../shared, and records in model/SOURCE.json the hashes of the copied files,
// so test/api/model-freshness.test.ts can tell when the shared model has moved on.
// Usage: node scripts/strip-model.mjs [directory holding lambda-2015-03-31.*.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { strip } from './model-render.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const sourceDir = process.argv[2] ?? path.join(root, '..', 'shared', 'aws-model');

const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const files = [
  ['lambda-2015-03-31.service-2.json', 'lambda-2015-03-31.json'],
  ['lambda-2015-03-31.paginators-1.json', 'lambda-2015-03-31.paginators-1.json'],
  ['lambda-2015-03-31.waiters-2.json', 'lambda-2015-03-31.waiters-2.json'],
];
const record = { sources: {}, copies: {} };
for (const [from, to] of files) {
  const raw = readFileSync(path.join(sourceDir, from));
  const text = JSON.stringify(strip(JSON.parse(raw.toString('utf8'))), null, 1) + '\n';
  writeFileSync(path.join(root, 'model', to), text);
  record.sources[from] = sha256(raw);
  record.copies[to] = sha256(text);
  console.log(`wrote model/${to}`);
}
writeFileSync(path.join(root, 'model', 'SOURCE.json'), JSON.stringify(record, null, 1) + '\n');
console.log('wrote model/SOURCE.json');
