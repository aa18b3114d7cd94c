// Pre-started launchers: a /bin/sh that has already moved itself into a fresh memory cgroup and
// waits on stdin for the command that will become the environment's runtime.
//
// Why: attaching a process to a cgroup (writing cgroup.procs) waits for an RCU grace period in the
// kernel, about 10 ms here, longer than a bare `python3 -c 0`. The attach has to happen before the
// runtime forks anything, so it cannot overlap with the runtime's start; instead it happens ahead of
// time, off the cold-start path, for a few spare launchers the engine keeps ready.
//
// Protocol: the engine writes the script (env exports and an exec, every value single-quoted) to a
// private file and sends its path as one line on the launcher's stdin; the shell sources it. (dash
// reads a pipe one byte per syscall, so the script itself does not go through stdin.)

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MemoryCgroup } from './memory.js';

const BOOT = ['echo $$ > "$0" || exit 111', 'read -r f || exit 0', '. "$f"'].join('\n');

export class Launcher {
  readonly cgroup: MemoryCgroup;
  readonly child: ChildProcess;
  readonly #scriptFile: string;
  #used = false;

  private constructor(cgroup: MemoryCgroup, child: ChildProcess, scriptFile: string) {
    this.cgroup = cgroup;
    this.child = child;
    this.#scriptFile = scriptFile;
  }

  /**
   * Starts a launcher in `cgroup` (which must have a procsFile); its script will be written under
   * `scriptDir` (a directory only the server can read).
   */
  static start(cgroup: MemoryCgroup, scriptDir: string): Launcher {
    const child = spawn('/bin/sh', ['-c', BOOT, cgroup.procsFile as string], {
      env: {},
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group, so the whole runtime tree can be killed at once.
      detached: true,
    });
    child.on('error', () => {
      // Reported through the exit of the runtime it was meant to become.
    });
    child.stdin?.on('error', () => {});
    return new Launcher(cgroup, child, path.join(scriptDir, `launch-${child.pid ?? randomBytes(4).toString('hex')}.sh`));
  }

  /** Turns the launcher into `argv` with exactly `env`, in `cwd`, stdin from /dev/null. */
  run(argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string): void {
    if (this.#used) throw new Error('launcher already used');
    this.#used = true;
    // The script removes itself first: it holds the function's environment variables.
    let script = `rm -f ${quote(this.#scriptFile)}\n`;
    for (const [k, v] of Object.entries(env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) continue; // not representable in a shell; AWS rejects such keys too
      script += `export ${k}=${quote(v)}\n`;
    }
    script += `cd ${quote(cwd)} || exit 127\n`;
    script += `exec ${argv.map(quote).join(' ')} </dev/null\n`;
    fs.writeFileSync(this.#scriptFile, script, { mode: 0o600 });
    this.child.stdin?.end(`${this.#scriptFile}\n`);
  }

  /** For a spare that was never used. */
  async dispose(): Promise<void> {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await this.cgroup.dispose();
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
