// A server that cannot sandbox its functions says so in one loud line, and with --require-sandbox
// (LAMBDALITE_REQUIRE_SANDBOX) refuses to start. The host's bwrap is hidden from the server by running it
// inside a bwrap of its own that masks the binary with a non-executable file.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnUntilReady } from '../helpers/spawn.js';
import { skipUnless } from '../helpers/require.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = path.join(root, 'bin', 'lambdalite.js');
const BWRAP = '/usr/bin/bwrap';
const dataDirs: string[] = [];
after(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * `lambdalite start ...` on a host where no bwrap can be found, on a data dir of its own: a server killed
 * through its bwrap ends a moment later, and its data-dir lock with it, so no two starts share one.
 */
function withoutBwrap(args: readonly string[]): [string, string[]] {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lambdalite-nosandbox-'));
  dataDirs.push(dataDir);
  return [BWRAP, ['--die-with-parent', '--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--ro-bind', '/dev/null', BWRAP, '--', process.execPath, bin, 'start', '--port', '0', '--data-dir', dataDir, ...args]];
}

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LAMBDALITE_')) out[k] = v;
  return { ...out, ...extra };
};

describe('a host where functions cannot be sandboxed', { skip: skipUnless(existsSync(BWRAP), 'BWRAP', 'bwrap is needed to hide bwrap') }, () => {
  it('starts with one loud WARNING line on stderr', async () => {
    const [file, args] = withoutBwrap([]);
    const p = await spawnUntilReady(file, args, { env: env(), ready: /listening on /, timeoutMs: 30_000 });
    try {
      const warnings = p.stderr().split('\n').filter((l) => l.includes('WARNING'));
      assert.equal(warnings.length, 1, p.stderr());
      assert.match(warnings[0]!, / warn WARNING: functions run WITHOUT a sandbox and can read and change everything this user can \(sandbox: bwrap not found; .*\); start with --require-sandbox to refuse to run like this$/);
    } finally {
      // bwrap passes no signal on; its --die-with-parent ends the server with it.
      await p.stop('SIGKILL');
    }
  });

  for (const [how, args, extra] of [['--require-sandbox', ['--require-sandbox'], {}], ['LAMBDALITE_REQUIRE_SANDBOX=1', [], { LAMBDALITE_REQUIRE_SANDBOX: '1' }]] as const) {
    it(`refuses to start with ${how}: exit 1 and one line`, async () => {
      const [file, a] = withoutBwrap(args);
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(file, a, { env: env(extra), timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
      });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^lambdalite: a sandbox is required, and functions cannot be sandboxed here: sandbox: bwrap not found; [^\n]*\n$/);
    });
  }
});
