// How an execution environment's process tree is started and confined. Two backends:
//
// - BwrapSandbox: bubblewrap. A fresh root with read-only system dirs, the code at /var/task, the
//   runtime client at /var/runtime, merged layers at /opt, a private size-limited /tmp; own mount,
//   pid and ipc namespaces; the network namespace is shared so the runtime reaches its Runtime API on
//   127.0.0.1. The runtime runs as uid/gid 993 (AWS's sbx_user1051 uses 993 too) with no
//   capabilities, so even root-owned files bound into the sandbox are only readable if world-readable.
// - ProcessSandbox: plain child processes, for hosts without bwrap or user/mount namespaces. The
//   runtime sees the host's real paths (LAMBDA_TASK_ROOT is the code dir, TMPDIR a private dir) and
//   nothing is confined.
//
// Both start the process tree from a Launcher (launcher.ts), a shell already inside the
// environment's memory cgroup, so no process of the runtime ever runs outside it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { Readable } from 'node:stream';
import type { Launcher } from './launcher.js';
import { readdirOrEmpty } from '../shared/fs.js';

/** Paths of the sandbox as the runtime inside sees them. */
export interface SandboxView {
  readonly taskRoot: string;
  readonly runtimeDir: string;
  readonly optDir: string;
  readonly tmpDir: string;
  /** Whether `binds` are shown at their inside paths (bwrap); the process backend shows host paths. */
  readonly mapsPaths: boolean;
}

/** A host path shown read-only at another path inside the sandbox (/var/lang, /var/runtime/node_modules). */
export interface RuntimeBind {
  readonly host: string;
  readonly inside: string;
}

export interface SandboxMounts {
  readonly codeDir: string;
  readonly layerDirs: readonly string[];
  /** Host directory of the runtime client, shown at /var/runtime; undefined for provided runtimes. */
  readonly runtimeDir: string | undefined;
  readonly tmpSizeMb: number;
  /** A host directory to show at /tmp (disk-backed, already sized); undefined: a tmpfs of tmpSizeMb. */
  readonly tmpDir?: string | undefined;
  /** Host paths shown read-only at the same path (an interpreter installed outside /usr). */
  readonly readOnly: readonly string[];
  /** Paths inside `readOnly` covered by an empty directory (the host's site-packages). */
  readonly hidden: readonly string[];
  /** Runtime pieces at AWS's paths (under /var/lang or /var/runtime; with runtimeDir undefined for the latter). */
  readonly binds?: readonly RuntimeBind[];
}

export interface SandboxLaunch {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** A shell already inside the environment's memory cgroup; without one, a plain spawn. */
  readonly launcher: Launcher | undefined;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SandboxProcess {
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the runtime's process tree has exited (never rejects). */
  readonly exit: Promise<ExitStatus>;
  /** SIGKILLs the whole tree. */
  kill(): void;
}

export interface PreparedSandbox {
  readonly view: SandboxView;
  spawn(launch: SandboxLaunch): SandboxProcess;
  /** Removes host-side scratch space. */
  cleanup(): void;
}

export interface Sandbox {
  readonly kind: 'bwrap' | 'process';
  /** One line for the server log. */
  readonly description: string;
  prepare(id: string, mounts: SandboxMounts): PreparedSandbox;
}

export const SANDBOX_UID = 993;

const AWS_VIEW: SandboxView = Object.freeze({
  taskRoot: '/var/task',
  runtimeDir: '/var/runtime',
  optDir: '/opt',
  tmpDir: '/tmp',
  mapsPaths: true,
});

export interface DetectOptions {
  /** Force a backend instead of probing. */
  readonly prefer?: 'bwrap' | 'process';
  /** Host scratch space for the process backend (private /tmp dirs, merged /opt). */
  readonly scratchDir: string;
}

/** Uses bwrap when it is installed and can create namespaces here, else plain processes. */
export function detectSandbox(options: DetectOptions): Sandbox {
  if (options.prefer === 'process') {
    return new ProcessSandbox(options.scratchDir, 'sandbox: plain child processes (chosen by configuration), no isolation');
  }
  const bwrap = findExecutable('bwrap');
  if (bwrap === undefined) {
    return new ProcessSandbox(options.scratchDir, 'sandbox: bwrap not found; functions run as plain child processes without isolation');
  }
  const probe = spawnSync(
    bwrap,
    ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--unshare-ipc', '/bin/true'],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 },
  );
  if (probe.status !== 0) {
    const why = probe.stderr?.toString().trim() || probe.error?.message || `exit ${probe.status}`;
    return new ProcessSandbox(
      options.scratchDir,
      `sandbox: bwrap cannot create namespaces here (${why}); functions run as plain child processes without isolation`,
    );
  }
  return new BwrapSandbox(bwrap, findExecutable('setpriv'), options.scratchDir);
}

export function findExecutable(name: string): string | undefined {
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin']) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function launch(argv: readonly string[], env: Readonly<Record<string, string>>, cwd: string, launcher: Launcher | undefined, signalOffset: boolean): SandboxProcess {
  let child: ChildProcess;
  if (launcher !== undefined) {
    launcher.run(argv, env, cwd);
    child = launcher.child;
  } else {
    child = spawn(argv[0] as string, argv.slice(1), {
      env: env as NodeJS.ProcessEnv,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so kill() reaches every process the runtime forked.
      detached: true,
    });
  }
  const pid = child.pid ?? -1;
  const killTree = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const exit = new Promise<ExitStatus>((resolve) => {
    child.once('error', () => resolve({ code: 127, signal: null }));
    child.once('exit', (code, signal) => {
      // Whatever the runtime left behind in its process group goes with it, so the stdio pipes close.
      killTree();
      let status: ExitStatus = { code, signal };
      // bwrap reports a child killed by signal N as exit status 128+N.
      if (signalOffset && code !== null && code > 128 && code < 128 + 65) {
        const name = Object.entries(os.constants.signals).find(([, n]) => n === code - 128)?.[0];
        if (name) status = { code: null, signal: name as NodeJS.Signals };
      }
      // 'close' comes after the stdio pipes are drained, so no output is lost after exit.
      child.once('close', () => resolve(status));
    });
  });
  return {
    pid,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    exit,
    kill: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killTree();
    },
  };
}

export class BwrapSandbox implements Sandbox {
  readonly kind = 'bwrap' as const;
  readonly description: string;
  readonly #bwrap: string;
  readonly #setpriv: string | undefined;
  readonly #systemArgs: readonly string[];
  readonly #optPlans = new Map<string, string[]>();

  constructor(bwrap: string, setpriv: string | undefined, scratchDir?: string) {
    this.#bwrap = bwrap;
    this.#setpriv = setpriv;
    this.description =
      `sandbox: bubblewrap (${bwrap}); read-only system, own mount/pid/ipc namespaces, ` +
      (setpriv ? `runtime as uid ${SANDBOX_UID} without capabilities` : 'runtime as root without capabilities (setpriv not found)');
    const args: string[] = ['--ro-bind', '/usr', '/usr'];
    // Merged-/usr hosts have /bin -> usr/bin and friends; others get them bound.
    for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
      const p = `/${top}`;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(p), p);
      else if (st.isDirectory()) args.push('--ro-bind', p, p);
    }
    args.push('--ro-bind', '/etc', '/etc', '--proc', '/proc', '--dev', '/dev');
    args.push(...amazonLinuxArgs(scratchDir));
    args.push('--unshare-pid', '--unshare-ipc', '--die-with-parent');
    this.#systemArgs = args;
  }

  prepare(_id: string, mounts: SandboxMounts): PreparedSandbox {
    const args = [...this.#systemArgs];
    const made = new Set<string>(['/', '/usr', '/etc', '/proc', '/dev', '/tmp', '/bin', '/sbin', '/lib', '/lib64']);
    // bwrap creates missing parents of a mount point 0700, which uid 993 could not traverse.
    const parents = (dest: string) => {
      const chain: string[] = [];
      for (let d = path.dirname(dest); !made.has(d); d = path.dirname(d)) chain.unshift(d);
      for (const d of chain) {
        args.push('--perms', '0755', '--dir', d);
        made.add(d);
      }
    };
    for (const p of mounts.readOnly) {
      if (p === '/usr' || p.startsWith('/usr/')) continue;
      parents(p);
      args.push('--ro-bind', p, p);
      made.add(p);
    }
    for (const p of mounts.hidden) {
      if (fs.existsSync(p)) args.push('--perms', '0755', '--tmpfs', p);
    }
    if (mounts.tmpDir !== undefined) args.push('--bind', mounts.tmpDir, '/tmp');
    else args.push('--perms', '1777', '--size', String(mounts.tmpSizeMb * 1024 * 1024), '--tmpfs', '/tmp');
    parents('/var/task');
    args.push('--ro-bind', mounts.codeDir, '/var/task');
    made.add('/var/task');
    if (mounts.runtimeDir !== undefined) args.push('--ro-bind', mounts.runtimeDir, '/var/runtime');
    else args.push('--perms', '0755', '--dir', '/var/runtime');
    made.add('/var/runtime');
    for (const b of mounts.binds ?? []) {
      parents(b.inside);
      args.push('--ro-bind', b.host, b.inside);
      made.add(b.inside);
    }
    args.push(...this.#optArgs(mounts.layerDirs));
    args.push('--chdir', '/var/task');
    const bwrap = this.#bwrap;
    const setpriv = this.#setpriv;
    return {
      view: AWS_VIEW,
      spawn: (l) => {
        const inner = setpriv
          ? [setpriv, '--reuid', String(SANDBOX_UID), '--regid', String(SANDBOX_UID), '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', ...l.argv]
          : [...l.argv];
        const capArgs = setpriv ? [] : ['--cap-drop', 'ALL'];
        return launch([bwrap, ...args, ...capArgs, '--', ...inner], l.env, '/', l.launcher, true);
      },
      cleanup: () => {},
    };
  }

  /** Layers merged into /opt, later layers winning, without overlayfs (bwrap 0.8 has none). */
  #optArgs(layers: readonly string[]): string[] {
    const key = layers.join('\0');
    const cached = this.#optPlans.get(key);
    if (cached) return cached;
    const out: string[] = [];
    if (layers.length === 0) out.push('--perms', '0755', '--dir', '/opt');
    else if (layers.length === 1) out.push('--ro-bind', layers[0] as string, '/opt');
    else {
      out.push('--perms', '0755', '--dir', '/opt');
      mergeInto('/opt', layers, out);
    }
    this.#optPlans.set(key, out);
    return out;
  }
}

// ---- an Amazon Linux-like root ----------------------------------------------------------------

/** AWS's sandbox user, and the /etc/passwd and /etc/group lines its runtimes see. */
const SANDBOX_PASSWD = `root:x:0:0:root:/root:/bin/bash\nsbx_user1051:x:${SANDBOX_UID}:${SANDBOX_UID}::/home/sbx_user1051:/sbin/nologin\nnobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin\n`;
const SANDBOX_GROUP = `root:x:0:\nsbx_user1051:x:${SANDBOX_UID}:\nnobody:x:65534:\n`;

/**
 * What makes the host's system look like Amazon Linux to a function: `/bin/sh` is bash (AL2023 has
 * no dash; shell bootstraps from AWS's docs use bash features under `#!/bin/sh`), and the sandbox
 * user exists in /etc/passwd, so `os.homedir()`, `getpwuid` and `id` answer as on AWS (the AWS SDKs
 * look up the home directory for their config files); `sandbox.localdomain` resolves, as on AWS.
 */
function amazonLinuxArgs(scratchDir: string | undefined): string[] {
  const args: string[] = [];
  const bash = ['/usr/bin/bash', '/bin/bash'].find((p) => fs.existsSync(p));
  // Bound over the file /bin/sh resolves to (dash on Debian): both names run bash.
  if (bash !== undefined && fs.existsSync('/bin/sh') && fs.realpathSync('/bin/sh') !== fs.realpathSync(bash)) args.push('--ro-bind', bash, '/bin/sh');
  if (scratchDir !== undefined) {
    const dir = path.join(scratchDir, 'etc');
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    // sandbox.localdomain names the sandbox itself (Telemetry API destinations use it).
    let hosts = '127.0.0.1\tlocalhost\n';
    try {
      hosts = fs.readFileSync('/etc/hosts', 'utf8');
    } catch {
      // no hosts file on the host
    }
    hosts = `${hosts.replace(/\n?$/, '\n')}127.0.0.1\tsandbox.localdomain\n`;
    for (const [name, text] of [['passwd', SANDBOX_PASSWD], ['group', SANDBOX_GROUP], ['hosts', hosts]] as const) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text, { mode: 0o644 });
      args.push('--ro-bind', file, `/etc/${name}`);
    }
  }
  return args;
}

/** Binds each entry of the merged tree; a directory present in several sources is merged recursively. */
function mergeInto(dest: string, sources: readonly string[], out: string[]): void {
  const entries = new Map<string, { path: string; dir: boolean; link?: string }[]>();
  for (const src of sources) {
    const names = readdirOrEmpty(src);
    for (const name of names) {
      const p = path.join(src, name);
      let dir = false;
      let link: string | undefined;
      try {
        // A link from a package is made again inside the sandbox, never bound: bwrap resolves a bind's
        // source on the host, so `x -> /tmp` in a layer would bind the host's /tmp.
        const st = fs.lstatSync(p);
        if (st.isSymbolicLink()) link = fs.readlinkSync(p);
        else dir = st.isDirectory();
      } catch {
        continue;
      }
      const list = entries.get(name) ?? [];
      list.push({ path: p, dir, ...(link !== undefined ? { link } : {}) });
      entries.set(name, list);
    }
  }
  for (const [name, list] of entries) {
    const target = path.join(dest, name);
    const winner = list[list.length - 1] as { path: string; dir: boolean; link?: string };
    // Only directories after the last plain file take part in a merge.
    let firstDir = list.length - 1;
    while (firstDir > 0 && (list[firstDir - 1] as { dir: boolean }).dir && winner.dir) firstDir--;
    const dirs = list.slice(firstDir);
    if (winner.link !== undefined) {
      out.push('--symlink', winner.link, target);
    } else if (winner.dir && dirs.length > 1) {
      out.push('--perms', '0755', '--dir', target);
      mergeInto(target, dirs.map((d) => d.path), out);
    } else {
      out.push('--ro-bind', winner.path, target);
    }
  }
}

export class ProcessSandbox implements Sandbox {
  readonly kind = 'process' as const;
  readonly description: string;
  readonly #scratch: string;

  constructor(scratchDir: string, description: string) {
    this.#scratch = scratchDir;
    this.description = description;
  }

  prepare(id: string, mounts: SandboxMounts): PreparedSandbox {
    const root = path.join(this.#scratch, id);
    const tmpDir = path.join(root, 'tmp');
    fs.mkdirSync(tmpDir, { recursive: true });
    let optDir: string;
    if (mounts.layerDirs.length === 1) optDir = mounts.layerDirs[0] as string;
    else {
      optDir = path.join(root, 'opt');
      fs.mkdirSync(optDir, { recursive: true });
      if (mounts.layerDirs.length > 1) linkMerged(optDir, mounts.layerDirs);
    }
    let runtimeDir = mounts.runtimeDir;
    if (runtimeDir === undefined) {
      runtimeDir = path.join(root, 'runtime');
      fs.mkdirSync(runtimeDir, { recursive: true });
    }
    const view: SandboxView = { taskRoot: mounts.codeDir, runtimeDir, optDir, tmpDir, mapsPaths: false };
    return {
      view,
      spawn: (l) => launch(l.argv, { ...l.env, TMPDIR: tmpDir }, mounts.codeDir, l.launcher, false),
      cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
    };
  }
}

/** The process backend's /opt: a tree of symlinks, later layers winning. */
function linkMerged(dest: string, sources: readonly string[]): void {
  for (const src of sources) {
    const names = readdirOrEmpty(src);
    for (const name of names) {
      const from = path.join(src, name);
      const to = path.join(dest, name);
      const existing = fs.lstatSync(to, { throwIfNoEntry: false });
      const isDir = fs.statSync(from, { throwIfNoEntry: false })?.isDirectory() ?? false;
      if (existing && isDir) {
        if (existing.isSymbolicLink()) {
          const previous = fs.readlinkSync(to);
          if (!(fs.statSync(previous, { throwIfNoEntry: false })?.isDirectory() ?? false)) {
            fs.rmSync(to);
            fs.symlinkSync(from, to);
            continue;
          }
          fs.rmSync(to);
          fs.mkdirSync(to);
          linkMerged(to, [previous]);
        }
        linkMerged(to, [from]);
      } else {
        if (existing) fs.rmSync(to, { recursive: true, force: true });
        fs.symlinkSync(from, to);
      }
    }
  }
}
