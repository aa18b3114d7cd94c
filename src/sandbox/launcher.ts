// Pre-started launchers: a /bin/sh that has already moved itself into a fresh memory cgroup and
// waits on stdin for the command that will become the environment's runtime.
//
// Why: attaching a process to a cgroup (writing cgroup.procs) waits for an RCU grace period in the
// kernel, about 10 ms here, longer than a bare `python3 -c 0`. The attach has to happen before the
// runtime forks anything, so it cannot overlap with the runtime's start; instead it happens ahead of
// time, off the cold-start path, for a few spare launchers the engine keeps ready.
//
// Protocol: when a launcher is started, the engine creates a private script file, unlinks it at once
// and hands the open file to the shell as fd 3 (so the script has no name anyone could open, and
// nothing is left to delete). To launch, the engine writes the script (env exports and an exec, every
// value single-quoted) into that file and sends one newline on stdin; the shell sources /dev/fd/3 and
// execs with fd 3 closed. The cold path is one pwrite and one write: no fork of `rm`, and the script
// is read in buffered chunks (stdin is a socketpair, which dash's `read` would take a byte per
// syscall and `.` cannot open at all).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MemoryCgroup } from './memory.js';
import { EnvironmentNetwork, isolatedLauncherCommand, type NetworkSupport } from './network.js';

const WAIT = ['read -r go || exit 0', '. /dev/fd/3'].join('\n');
const BOOT = ['for f in "$@"; do echo $$ > "$f" || exit 111; done', WAIT].join('\n');

/** For launchers in a network namespace of their own (network.ts). */
export interface LauncherNetwork {
  readonly support: NetworkSupport;
  /** Host ports pasta must not forward (the API's); known once the API listens. */
  readonly excludedPorts: () => Promise<readonly number[]>;
}

export class Launcher {
  readonly cgroup: MemoryCgroup;
  readonly child: ChildProcess;
  /** Our handle on the (already unlinked) script file the shell holds as fd 3. */
  #scriptFd: number | undefined;
  #used = false;
  /** The namespace's listeners once the helper has handed them over; undefined in the host's network. */
  readonly network: Promise<EnvironmentNetwork> | undefined;

  private constructor(cgroup: MemoryCgroup, child: ChildProcess, scriptFd: number, network: LauncherNetwork | undefined) {
    this.cgroup = cgroup;
    this.child = child;
    this.#scriptFd = scriptFd;
    if (network !== undefined) {
      this.network = EnvironmentNetwork.receive(child, network.support, network.excludedPorts);
      // Reported through the environment that awaits it; a spare disposed unused must not warn.
      this.network.catch(() => {});
    }
  }

  /**
   * Starts a launcher in `cgroup`; its script file is created (and unlinked at once) under
   * `scriptDir`, a directory only the server can read. With `network`, in a new network namespace.
   */
  static start(cgroup: MemoryCgroup, scriptDir: string, network?: LauncherNetwork): Launcher {
    const file = path.join(scriptDir, `launch-${randomBytes(8).toString('hex')}.sh`);
    const fd = fs.openSync(file, 'wx+', 0o600);
    fs.unlinkSync(file);
    let child: ChildProcess;
    try {
      const { file, args } = network
        ? isolatedLauncherCommand(network.support, WAIT, cgroup.procsFiles)
        : { file: '/bin/sh', args: ['-c', BOOT, 'launcher', ...cgroup.procsFiles] };
      child = spawn(file, args, {
        env: {},
        cwd: '/',
        stdio: network ? ['pipe', 'pipe', 'pipe', fd, 'ipc'] : ['pipe', 'pipe', 'pipe', fd],
        // Own process group, so the whole runtime tree can be killed at once.
        detached: true,
      });
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    child.on('error', () => {
      // Reported through the exit of the runtime it was meant to become.
    });
    child.stdin?.on('error', () => {});
    return new Launcher(cgroup, child, fd, network);
  }

  /** Turns the launcher into `argv` with exactly `env`, in `cwd`, stdin from /dev/null. */
  run(argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string): void {
    if (this.#used) throw new Error('launcher already used');
    this.#used = true;
    let script = '';
    for (const [k, v] of Object.entries(env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) continue; // not representable in a shell; AWS rejects such keys too
      script += `export ${k}=${quote(v)}\n`;
    }
    script += `cd ${quote(cwd)} || exit 127\n`;
    script += `exec ${argv.map(quote).join(' ')} </dev/null 3<&-\n`;
    const fd = this.#scriptFd as number;
    this.#scriptFd = undefined;
    try {
      fs.writeSync(fd, script, 0);
    } finally {
      fs.closeSync(fd);
    }
    this.child.stdin?.end('\n');
  }

  /** For a spare that was never used. */
  async dispose(): Promise<void> {
    if (this.#scriptFd !== undefined) {
      fs.closeSync(this.#scriptFd);
      this.#scriptFd = undefined;
    }
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    this.network?.then((n) => n.close(), () => {});
    await this.cgroup.dispose();
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
