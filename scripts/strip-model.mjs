#!/usr/bin/env node
// Copies AWS's Lambda model into the project without its documentation strings, so the project builds
// and regenerates without ../shared. Usage: node scripts/strip-model.mjs [path-to-service-2.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = process.argv[2] ?? path.join(root, '..', 'shared', 'aws-model', 'lambda-2015-03-31.service-2.json');
const model = JSON.parse(readFileSync(source, 'utf8'));

function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'documentation' || k === 'documentationUrl') continue;
      out[k] = strip(v);
    }
    return out;
  }
  return node;
}

const target = path.join(root, 'model', 'lambda-2015-03-31.json');
writeFileSync(target, JSON.stringify(strip(model), null, 1) + '\n');
console.log(`wrote ${path.relative(root, target)}`);
