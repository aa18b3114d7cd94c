#!/usr/bin/env node
// Compiles src/ and test/ to dist/ with the TypeScript compiler, when it is installed.
//   node scripts/build.mjs               build; fails when typescript is missing
//   node scripts/build.mjs --if-possible build when typescript is installed, else say so and succeed
//                                        (npm's `prepare`: installs without dev dependencies still work)
// bin/lambdalite.js uses ensureBuilt() so that `npm start` rebuilds a missing or stale dist/.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const entry = path.join(root, 'dist', 'src', 'cli', 'main.js');
// Written after each successful build: tsc leaves outputs untouched when a source's content did not change.
const stamp = path.join(root, 'dist', '.build-stamp');
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** The path of tsc's script, or undefined when typescript is not installed (a production install). */
export function findTsc() {
  try {
    return createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield p;
  }
}

/** Why dist/ needs a build (a sentence), or undefined when every src/**.ts is older than its output or the last build. */
export function staleness() {
  if (!existsSync(entry)) return 'dist/ is missing';
  const srcDir = path.join(root, 'src');
  if (!existsSync(srcDir) || !existsSync(path.join(root, 'tsconfig.json'))) return undefined;
  const built = mtime(stamp);
  for (const file of sources(srcDir)) {
    const out = path.join(root, 'dist', path.relative(root, file)).replace(/\.ts$/, '.js');
    if (!existsSync(out)) return `${path.relative(root, out)} is missing`;
    if (statSync(file).mtimeMs > Math.max(statSync(out).mtimeMs, built)) return `${path.relative(root, file)} changed`;
  }
  return undefined;
}

/** Runs tsc; returns its exit status. */
export function build(tsc = findTsc()) {
  if (tsc === undefined) throw new Error('typescript is not installed');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
  if (r.status === 0) writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return r.status ?? 1;
}

/** Builds when dist/ is missing or older than src/; throws with what to do when it cannot. */
export function ensureBuilt() {
  const why = staleness();
  if (why === undefined) return;
  const tsc = findTsc();
  if (tsc === undefined) {
    if (existsSync(entry)) return; // an installed package: its dist/ is what it ships
    throw new Error(`${why} and typescript is not installed: run \`npm install\` (with dev dependencies), then \`npm run build\``);
  }
  process.stderr.write(`lambdalite: building (${why})\n`);
  if (build(tsc) !== 0) throw new Error('the build failed (tsc errors above)');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tsc = findTsc();
  if (tsc === undefined) {
    if (process.argv.includes('--if-possible')) {
      process.stdout.write('lambdalite: typescript is not installed, skipping the build (dist/ is built by `npm start` or `npm run build` once it is)\n');
      process.exit(0);
    }
    process.stderr.write('lambdalite: typescript is not installed: run `npm install` with dev dependencies\n');
    process.exit(1);
  }
  process.exit(build(tsc));
}
