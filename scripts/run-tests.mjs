#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.mjs [filter-substring ...]
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { testPath } from './ensure-test-deps.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const testDir = path.join(root, 'dist', 'test');
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = walk(testDir).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// One runtime directory (Node.js builds, SDKs) for every test server, filled once by
// `node bin/lambdalite.js runtimes install ...` (.ci/run), so no test downloads mid-test.
process.env.LAMBDALITE_RUNTIME_DIR ??= path.join(homedir(), '.cache', 'lambdalite', 'runtimes');
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=180000', ...files], { stdio: 'inherit', cwd: root, env: { ...process.env, PATH: testPath() } });
process.exit(r.status ?? 1);
