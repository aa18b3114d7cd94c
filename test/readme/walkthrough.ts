// The README's AWS CLI walk-through, run as a reader would: the shell blocks marked `<!-- walkthrough -->`,
// top to bottom with bash and `set -euo pipefail`, against a real server (its port in place of 9001), with
// an AWS CLI of a given major version found on PATH. One test file per major version (each has its own
// time budget). A README that drifts from the server fails here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetFunctionCommand } from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const RUN_TIMEOUT_MS = 300_000;

/** The shell blocks that follow a `<!-- walkthrough -->` marker, in order. */
export function walkthroughBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/<!-- walkthrough -->\s*```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function run(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...opts, timeout: RUN_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (error && typeof error.code !== 'number' ? `\n${error.message}` : '') });
    });
  });
}

function onPath(cmd: string): string[] {
  const out: string[] = [];
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      out.push(p);
    } catch {
      // not here
    }
  }
  return out;
}

/** One `aws` executable per major version on PATH (the first of each), with the version line. */
async function awsClis(): Promise<{ path: string; major: string; version: string }[]> {
  const seen = new Set<string>();
  const found = new Map<string, { path: string; major: string; version: string }>();
  for (const p of onPath('aws')) {
    const real = realpathSync(p);
    if (seen.has(real)) continue;
    seen.add(real);
    const r = await run(p, ['--version']);
    const m = /aws-cli\/(\d+)\.\S+/.exec(r.stdout + r.stderr);
    if (m && !found.has(m[1]!)) found.set(m[1]!, { path: p, major: m[1]!, version: m[0] });
  }
  return [...found.values()];
}

/** The environment a reader's shell would have, without their AWS or lambdalite settings. */
function readerEnv(binDir: string, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('LAMBDALITE_')) env[k] = v;
  return {
    ...env,
    PATH: `${binDir}${path.delimiter}${process.env['PATH'] ?? ''}`,
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

/** Registers the walk-through test for AWS CLI `major`; `required` fails instead of skipping when it is absent. */
export function walkthroughSuite(major: string, required: boolean): void {
  describe(`README walk-through with AWS CLI v${major}`, async () => {
    const blocks = walkthroughBlocks(readFileSync(path.join(root, 'README.md'), 'utf8'));
    const cli = (await awsClis()).find((c) => c.major === major);
    const missing = cli === undefined && !required && `no AWS CLI v${major} on PATH`;

    it('has marked shell blocks, and zip, curl and bash to run them', () => {
      assert.ok(blocks.length >= 3, `expected the README's walk-through blocks marked <!-- walkthrough -->, found ${blocks.length}`);
      for (const tool of ['zip', 'curl', 'bash']) assert.ok(onPath(tool).length > 0, `${tool} is not on PATH (Debian: apt-get install ${tool})`);
    });

    it(`runs top to bottom with ${cli?.version ?? `aws-cli/${major}`}`, { skip: missing }, async () => {
      assert.ok(cli, `no AWS CLI v${major} on PATH (v1: pip install awscli, which npm test does into .venv-test; v2: apt-get install awscli on Debian 12)`);
      const work = mkdtempSync(path.join(tmpdir(), 'lambdalite-readme-'));
      const t = await startTestServer();
      try {
        const binDir = path.join(work, 'bin');
        mkdirSync(binDir);
        symlinkSync(cli.path, path.join(binDir, 'aws'));
        const cwd = path.join(work, 'cwd');
        mkdirSync(cwd);
        const hostPort = new URL(t.url).host;
        const script = ['set -euo pipefail', 'set -x', ...blocks].join('\n').replaceAll('127.0.0.1:9001', hostPort);
        const r = await run('bash', ['-c', script], { cwd, env: readerEnv(binDir, work) });
        const transcript = `--- stdout\n${r.stdout.slice(-6000)}\n--- stderr (commands and errors)\n${r.stderr.slice(-6000)}`;
        assert.equal(r.code, 0, `the walk-through stopped with exit code ${r.code}\n${transcript}`);
        assert.match(r.stdout, /\{"hello":"lambdalite"\}/, `the first invoke's out.json\n${transcript}`);
        assert.match(r.stderr, /An error occurred \(ResourceConflictException\) when calling the DeleteFunction operation/, transcript);
        assert.match(r.stdout, /lambdalite_invocations_total\{function_name="hello"/, transcript);
        await assert.rejects(t.client.send(new GetFunctionCommand({ FunctionName: 'hello' })), { name: 'ResourceNotFoundException' });
      } finally {
        await t.close();
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}
