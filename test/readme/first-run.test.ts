// What `npm test` does first on a machine that lacks its Python peers (scripts/ensure-test-deps.mjs): it
// tries a project-local virtual environment and pip, and when that cannot work it fails naming the missing
// pieces and what to install. Run on a copy of the script, with a PATH that hides the machine's tools and
// a pip index nothing listens on, so the real project and the network are untouched.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SYSTEM_PYTHON = '/usr/bin/python3';

function run(cwd: string, PATH: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(cwd, 'scripts', 'ensure-test-deps.mjs')], {
      cwd,
      timeout: 120_000,
      // A closed port: pip fails at once, wherever the test runs.
      env: { HOME: cwd, PATH, PIP_INDEX_URL: 'http://127.0.0.1:9/simple', PIP_CONFIG_FILE: '/dev/null', PIP_NO_INPUT: '1' },
    }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout: String(stdout), stderr: String(stderr) }));
  });
}

describe('npm test on a machine without its Python peers', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'lambdalite-first-run-'));
    mkdirSync(path.join(work, 'scripts'));
    copyFileSync(path.join(root, 'scripts', 'ensure-test-deps.mjs'), path.join(work, 'scripts', 'ensure-test-deps.mjs'));
    copyFileSync(path.join(root, 'package.json'), path.join(work, 'package.json'));
    mkdirSync(path.join(work, 'bin'));
    symlinkSync(process.execPath, path.join(work, 'bin', 'node'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('names python3 when there is no Python at all', async () => {
    const r = await run(work, path.join(work, 'bin'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'npm test: python3 is missing: the tests need it for moto[server], boto3, awscli (Debian: apt-get install python3 python3-venv)\n');
  });

  it('creates .venv-test, and when pip reaches no index names what is missing and what to install', { skip: !existsSync(SYSTEM_PYTHON) && process.env['CI'] !== 'true' && `${SYSTEM_PYTHON} is missing` }, async () => {
    const bin = path.join(work, 'bin');
    symlinkSync(SYSTEM_PYTHON, path.join(bin, 'python3'));
    try {
      const r = await run(work, bin);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(existsSync(path.join(work, '.venv-test', 'bin', 'pip')), `the virtual environment was not created: ${r.stderr}`);
      assert.match(r.stderr, /^npm test: missing moto\[server\], .*awscli for the tests, and pip could not install them into \.venv-test \(.+\)\. /);
      assert.match(r.stderr, /Install them with pip from an index you can reach \(pip install 'moto\[server\]' .*'awscli'\), or from Debian: apt-get install python3-boto3 awscli \(Debian 12 has no moto package: moto_server still needs pip\)\n$/);
    } finally {
      rmSync(path.join(bin, 'python3'));
    }
  });
});

describe('an install without dev dependencies (no typescript)', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'lambdalite-no-dev-'));
    for (const dir of ['scripts', 'bin', 'src']) mkdirSync(path.join(work, dir));
    copyFileSync(path.join(root, 'scripts', 'build.mjs'), path.join(work, 'scripts', 'build.mjs'));
    copyFileSync(path.join(root, 'bin', 'lambdalite.js'), path.join(work, 'bin', 'lambdalite.js'));
    copyFileSync(path.join(root, 'package.json'), path.join(work, 'package.json'));
    copyFileSync(path.join(root, 'tsconfig.json'), path.join(work, 'tsconfig.json'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const node = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { cwd: work, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout: String(stdout), stderr: String(stderr) }));
  });

  it("npm's prepare succeeds and says it skipped the build", async () => {
    const r = await node([path.join(work, 'scripts', 'build.mjs'), '--if-possible']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /typescript is not installed, skipping the build/);
    const strict = await node([path.join(work, 'scripts', 'build.mjs')]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /typescript is not installed: run `npm install` with dev dependencies/);
  });

  it('lambdalite without dist/ says what to run instead of a stack trace', async () => {
    const r = await node([path.join(work, 'bin', 'lambdalite.js'), 'start']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'lambdalite: dist/ is missing and typescript is not installed: run `npm install` (with dev dependencies), then `npm run build`\n');
  });
});
