#!/usr/bin/env node
// Makes sure the peers the test suite drives are there before `npm test` runs it:
// - moto_server (with its server extras), boto3 and the AWS CLI: used from PATH when present, else
//   installed with pip (from the user's configured index) into the project-local virtual environment
//   .venv-test/, whose bin/ scripts/run-tests.mjs puts first on PATH;
// - aws-lambda-ric (AWS's native runtime interface client): installed into .test-deps/ when the tools
//   to build it are on PATH; its test is skipped without it, except where LAMBDALITE_REQUIRE_RIC=1.
// Prints one line saying what it installed; exits 1 with the missing piece named when it cannot.
//   node scripts/ensure-test-deps.mjs [--require-ric]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const venvBin = path.join(root, '.venv-test', 'bin');
export const testDepsDir = path.join(root, '.test-deps');
export const ricDir = path.join(testDepsDir, 'node_modules', 'aws-lambda-ric');
const ricBuilt = () => existsSync(path.join(ricDir, 'dist', 'rapid-client.node'));

/** PATH with the test venv first, as the tests see it. */
export function testPath(env = process.env) {
  return [venvBin, env.PATH ?? ''].filter(Boolean).join(path.delimiter);
}

function which(cmd, PATH) {
  for (const dir of PATH.split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return undefined;
}

function run(file, args, env = process.env, timeoutMs = 600_000) {
  const r = spawnSync(file, args, { cwd: root, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** The last line that says something (npm's pointer to its debug log says nothing). */
const lastLine = (text) => text.trim().split('\n').filter((l) => l.trim() && !/complete log of this run/.test(l)).pop() ?? '';

function fail(message) {
  process.stderr.write(`npm test: ${message}\n`);
  process.exit(1);
}

/** Python peers: returns what was installed, or exits with what is missing. */
function ensurePython() {
  const env = { ...process.env, PATH: testPath() };
  const python = which('python3', env.PATH);
  const missing = () => {
    const out = [];
    if (!which('moto_server', env.PATH)) out.push('moto[server]');
    if (!which('python3', env.PATH) || !run('python3', ['-c', 'import boto3'], env).ok) out.push('boto3');
    if (!which('aws', env.PATH)) out.push('awscli');
    return out;
  };
  const needed = missing();
  if (needed.length === 0) return [];
  if (python === undefined) {
    fail(`python3 is missing: the tests need it for ${needed.join(', ')} (Debian: apt-get install python3 python3-venv)`);
  }
  if (!existsSync(path.join(venvBin, 'pip'))) {
    // System site packages stay visible, so only what the machine lacks is installed.
    const venv = run(python, ['-m', 'venv', '--system-site-packages', path.join(root, '.venv-test')]);
    if (!venv.ok) fail(`could not create .venv-test with \`python3 -m venv\` (Debian: apt-get install python3-venv): ${lastLine(venv.out)}`);
  }
  const pip = run(path.join(venvBin, 'pip'), ['install', '--disable-pip-version-check', '--retries', '1', '--timeout', '20', ...needed], env);
  const still = missing();
  if (!pip.ok || still.length > 0) {
    fail(`missing ${still.join(', ')} for the tests, and pip could not install them into .venv-test (${lastLine(pip.out)}). ` +
      `Install them with pip from an index you can reach (pip install ${still.map((p) => `'${p}'`).join(' ')}), ` +
      'or from Debian: apt-get install python3-boto3 awscli (Debian 12 has no moto package: moto_server still needs pip)');
  }
  return [`${needed.join(', ')} into .venv-test (pip)`];
}

/** aws-lambda-ric: returns what was installed (or why not), or exits when it is required and cannot be had. */
function ensureRic(required) {
  if (ricBuilt()) return [];
  const tools = { cmake: 'cmake', autoreconf: 'autoconf', automake: 'automake', libtoolize: 'libtool', make: 'make', 'g++': 'g++' };
  const absent = Object.keys(tools).filter((t) => !which(t, process.env.PATH ?? ''));
  if (absent.length > 0) {
    const why = `aws-lambda-ric not installed: building it needs ${absent.join(', ')} (Debian: apt-get install ${absent.map((t) => tools[t]).join(' ')})`;
    if (required) fail(why);
    return [`${why}; its test is skipped`];
  }
  const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).testDependencies['aws-lambda-ric'];
  process.stdout.write(`npm test: building aws-lambda-ric@${version} into .test-deps (takes minutes, once)\n`);
  // Its own project, so npm runs the package's build script (npm's allowScripts).
  mkdirSync(testDepsDir, { recursive: true });
  writeFileSync(path.join(testDepsDir, 'package.json'), `${JSON.stringify({ name: 'lambdalite-test-deps', private: true, allowScripts: { 'aws-lambda-ric': true } }, null, 2)}\n`);
  const r = run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', testDepsDir, `aws-lambda-ric@${version}`], process.env, 1_800_000);
  if (!r.ok || !ricBuilt()) {
    const why = `aws-lambda-ric could not be built: ${lastLine(r.out)}`;
    if (required) fail(why);
    return [`${why}; its test is skipped`];
  }
  return ['aws-lambda-ric into .test-deps (npm)'];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const required = process.argv.includes('--require-ric') || process.env.LAMBDALITE_REQUIRE_RIC === '1';
  const done = [...ensurePython(), ...ensureRic(required)];
  if (done.length > 0) process.stdout.write(`npm test: installed ${done.join('; ')}\n`);
}
