// Memory limits for execution environments. One cgroup per environment, limit = MemorySize, peak
// reported as "Max Memory Used". cgroup v2 (memory.max / memory.peak / memory.events oom_kill) and
// v1 (memory.limit_in_bytes / memory.max_usage_in_bytes / memory.oom_control oom_kill), whichever
// has a writable memory controller; otherwise no enforcement and the peak comes from /proc.
//
// Environments' cgroups are created under the server's own cgroup (so any limit placed on the server
// still applies to its functions), in a directory named after the server's pid.

import fs from 'node:fs';
import path from 'node:path';
import { readdirOrEmpty } from '../shared/fs.js';

export interface MemoryCgroup {
  /**
   * cgroup.procs files of this environment (one per v1 hierarchy: memory, pids, freezer; one in v2);
   * the sandbox launcher writes its own pid into each before exec. Empty without cgroups.
   */
  readonly procsFiles: readonly string[];
  /**
   * Sets the limit (MemorySize); cheap, unlike attaching a process, so it is done at assignment.
   * Writing the limit already set is skipped (spares are given the likeliest one ahead of time).
   */
  setLimit(limitMb: number): void;
  /** Peak bytes used since the environment started, or undefined when unknown. */
  peakBytes(): number | undefined;
  /** Whether the kernel OOM-killed a process of this environment. */
  oomKilled(): boolean;
  /** Stops every process of the environment (cgroup freezer) until thaw(); no-op without a freezer. */
  freeze(): void;
  thaw(): void;
  /** Kills every process still in the cgroup (best effort) and removes it. */
  dispose(): Promise<void>;
}

export interface MemoryController {
  readonly kind: 'cgroup2' | 'cgroup1' | 'none';
  /** The pids limit each environment gets, or undefined when the pids controller is not usable. */
  readonly pidsLimit: number | undefined;
  /** Whether environments can be frozen between invocations. */
  readonly freezer: boolean;
  /** One line for the server log describing the choice (and why, for the fallback). */
  readonly description: string;
  create(name: string): MemoryCgroup;
  /** Removes the controller's parent directory. */
  close(): Promise<void>;
}

export interface CgroupOptions {
  /** Most processes (threads included) an environment may have; AWS's limit is 1024. */
  readonly pidsLimit: number;
  /** Freeze environments between invocations (default true). */
  readonly freeze: boolean;
}

export const DEFAULT_PIDS_LIMIT = 1024;

export function detectMemoryController(options: CgroupOptions = { pidsLimit: DEFAULT_PIDS_LIMIT, freeze: true }): MemoryController {
  const reasons: string[] = [];
  for (const candidate of [tryV2, tryV1]) {
    try {
      const controller = candidate(options);
      if (controller) return controller;
    } catch (e) {
      reasons.push((e as Error).message);
    }
  }
  return noCgroup(reasons.length ? reasons.join('; ') : 'no writable memory cgroup found');
}

function ownCgroupPath(controller: string): string | undefined {
  // /proc/self/cgroup lines are "hierarchy-id:controllers:path"; the v2 line is "0::path".
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = line.match(/^\d+:([^:]*):(.*)$/);
    if (!m) continue;
    const controllers = m[1] as string;
    if (controller === '' ? controllers === '' : controllers.split(',').includes(controller)) return m[2];
  }
  return undefined;
}

function makeParent(base: string): string {
  removeStale(base);
  const dir = path.join(base, `lambdalite-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function tryV2(options: CgroupOptions): MemoryController | undefined {
  const own = ownCgroupPath('');
  if (own === undefined) return undefined;
  // A pure v2 host mounts at /sys/fs/cgroup; hybrid hosts at /sys/fs/cgroup/unified.
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const ownDir = path.join(root, own);
    const controllers = path.join(ownDir, 'cgroup.controllers');
    if (!fs.existsSync(controllers)) continue;
    const available = fs.readFileSync(controllers, 'utf8').trim().split(/\s+/);
    if (!available.includes('memory')) continue;
    const wanted = available.includes('pids') ? '+memory +pids' : '+memory';
    // v2's "no internal processes" rule: our own cgroup holds the server, so it can only delegate
    // the memory controller if it is the root; otherwise environments go beside it, under our parent.
    let base = ownDir;
    try {
      fs.writeFileSync(path.join(ownDir, 'cgroup.subtree_control'), wanted);
    } catch {
      base = path.dirname(ownDir);
    }
    const parent = makeParent(base);
    fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), wanted);
    const pidsLimit = wanted.includes('pids') ? options.pidsLimit : undefined;
    // cgroup.freeze exists in every non-root cgroup since Linux 5.2.
    const freezer = options.freeze && fs.existsSync(path.join(parent, 'cgroup.freeze'));
    return {
      kind: 'cgroup2',
      pidsLimit,
      freezer,
      description: `memory limits: cgroup v2 at ${parent}; ${describeControls(pidsLimit, freezer)}`,
      create: (name) => createV2(parent, name, pidsLimit, freezer),
      close: () => removeDir(parent),
    };
  }
  return undefined;
}

function describeControls(pidsLimit: number | undefined, freezer: boolean): string {
  const pids = pidsLimit !== undefined ? `pids limit ${pidsLimit}` : 'no pids limit (pids controller unavailable)';
  return `${pids}; ${freezer ? 'frozen between invocations' : 'not frozen between invocations'}`;
}

function createV2(parent: string, name: string, pidsLimit: number | undefined, freezer: boolean): MemoryCgroup {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  let current: number | undefined;
  const peak = counterReader(path.join(dir, 'memory.peak'));
  try {
    fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
  } catch {
    // No swap accounting on this host.
  }
  if (pidsLimit !== undefined) fs.writeFileSync(path.join(dir, 'pids.max'), String(pidsLimit));
  const freeze = freezer ? stateWriter(path.join(dir, 'cgroup.freeze'), '1', '0') : NO_FREEZER;
  return {
    procsFiles: [path.join(dir, 'cgroup.procs')],
    setLimit: (limitMb) => {
      if (limitMb === current) return;
      fs.writeFileSync(path.join(dir, 'memory.max'), String(limitMb * 1024 * 1024));
      current = limitMb;
    },
    peakBytes: peak.read,
    oomKilled: () => (readKeyed(path.join(dir, 'memory.events'), 'oom_kill') ?? 0) > 0,
    freeze: freeze.on,
    thaw: freeze.off,
    dispose: () => {
      peak.close();
      try {
        // cgroup.kill reaches frozen processes too.
        fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      } catch {
        killTasks(path.join(dir, 'cgroup.procs'));
      }
      freeze.off();
      freeze.close();
      return removeDir(dir);
    },
  };
}

interface StateWriter {
  on(): void;
  off(): void;
  close(): void;
}

const NO_FREEZER: StateWriter = { on: () => {}, off: () => {}, close: () => {} };

/**
 * Writes one of two values into a cgroup file through a descriptor kept open: freezing and thawing
 * happen on every invocation, and open/write/close each time would triple the system calls.
 */
function stateWriter(file: string, onValue: string, offValue: string): StateWriter {
  let fd: number | undefined;
  let state: boolean | undefined;
  const set = (on: boolean) => {
    if (state === on) return;
    try {
      fd ??= fs.openSync(file, 'w');
      fs.writeSync(fd, on ? onValue : offValue, 0);
      state = on;
    } catch {
      // The cgroup is gone (environment disposed).
    }
  };
  return {
    on: () => set(true),
    off: () => set(false),
    close: () => {
      if (fd === undefined) return;
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
      fd = undefined;
    },
  };
}

/**
 * v1 keeps pids and freezer in hierarchies of their own: the environment gets a cgroup of the same
 * name in each (under the server's own cgroup there, in `lambdalite-<pid>`), and its launcher joins
 * all of them. A hierarchy that is missing or not writable is skipped (and reported).
 */
function v1Sibling(controller: 'pids' | 'freezer'): string | undefined {
  const root = `/sys/fs/cgroup/${controller}`;
  const probe = controller === 'pids' ? 'pids.max' : 'freezer.state';
  try {
    const own = ownCgroupPath(controller) ?? '/';
    const parent = makeParent(path.join(root, own));
    if (!fs.existsSync(path.join(parent, probe))) {
      fs.rmdirSync(parent);
      return undefined;
    }
    return parent;
  } catch {
    return undefined;
  }
}

function tryV1(options: CgroupOptions): MemoryController | undefined {
  const root = '/sys/fs/cgroup/memory';
  if (!fs.existsSync(path.join(root, 'memory.limit_in_bytes'))) return undefined;
  const own = ownCgroupPath('memory') ?? '/';
  const parent = makeParent(path.join(root, own));
  const pidsParent = v1Sibling('pids');
  const freezerParent = options.freeze ? v1Sibling('freezer') : undefined;
  const pidsLimit = pidsParent !== undefined ? options.pidsLimit : undefined;
  const parents = [parent, pidsParent, freezerParent].filter((p): p is string => p !== undefined);
  return {
    kind: 'cgroup1',
    pidsLimit,
    freezer: freezerParent !== undefined,
    description: `memory limits: cgroup v1 at ${parent}; ${describeControls(pidsLimit, freezerParent !== undefined)}`,
    create: (name) => createV1(parent, name, pidsParent, pidsLimit, freezerParent),
    close: async () => {
      await Promise.all(parents.map((p) => removeDir(p)));
    },
  };
}

function createV1(parent: string, name: string, pidsParent: string | undefined, pidsLimit: number | undefined, freezerParent: string | undefined): MemoryCgroup {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  const procsFiles = [path.join(dir, 'cgroup.procs')];
  let pidsDir: string | undefined;
  if (pidsParent !== undefined && pidsLimit !== undefined) {
    pidsDir = path.join(pidsParent, name);
    fs.mkdirSync(pidsDir);
    fs.writeFileSync(path.join(pidsDir, 'pids.max'), String(pidsLimit));
    procsFiles.push(path.join(pidsDir, 'cgroup.procs'));
  }
  let freezerDir: string | undefined;
  let freeze = NO_FREEZER;
  if (freezerParent !== undefined) {
    freezerDir = path.join(freezerParent, name);
    fs.mkdirSync(freezerDir);
    freeze = stateWriter(path.join(freezerDir, 'freezer.state'), 'FROZEN', 'THAWED');
    procsFiles.push(path.join(freezerDir, 'cgroup.procs'));
  }
  let current: number | undefined;
  const peak = counterReader(path.join(dir, 'memory.max_usage_in_bytes'));
  return {
    procsFiles,
    setLimit: (limitMb) => {
      if (limitMb === current) return;
      const bytes = String(limitMb * 1024 * 1024);
      const limitFile = path.join(dir, 'memory.limit_in_bytes');
      const memswFile = path.join(dir, 'memory.memsw.limit_in_bytes');
      // The kernel keeps limit <= memsw limit: raise memsw first, lower it last.
      const raising = current !== undefined && limitMb > current;
      if (raising) writeMemsw(memswFile, bytes);
      fs.writeFileSync(limitFile, bytes);
      // Without this, a host with swap would page instead of OOM-killing at MemorySize.
      if (!raising) writeMemsw(memswFile, bytes);
      current = limitMb;
    },
    peakBytes: peak.read,
    oomKilled: () => (readKeyed(path.join(dir, 'memory.oom_control'), 'oom_kill') ?? 0) > 0,
    freeze: freeze.on,
    thaw: freeze.off,
    dispose: async () => {
      peak.close();
      // A v1-frozen process does not act on SIGKILL until it is thawed.
      killTasks(path.join(dir, 'cgroup.procs'));
      freeze.off();
      freeze.close();
      await removeDir(dir);
      if (pidsDir !== undefined) await removeDir(pidsDir);
      if (freezerDir !== undefined) await removeDir(freezerDir);
    },
  };
}

function writeMemsw(file: string, bytes: string): void {
  try {
    fs.writeFileSync(file, bytes);
  } catch {
    // memsw accounting is off on this kernel.
  }
}

function noCgroup(reason: string): MemoryController {
  return {
    kind: 'none',
    pidsLimit: undefined,
    freezer: false,
    description: `memory limits: not enforced (${reason}); Max Memory Used is measured from /proc; no pids limit; not frozen between invocations`,
    create: () => ({
      procsFiles: [],
      setLimit: () => {},
      peakBytes: () => undefined,
      oomKilled: () => false,
      freeze: () => {},
      thaw: () => {},
      dispose: async () => {},
    }),
    close: async () => {},
  };
}

/**
 * Reads a cgroup counter with one pread on a descriptor kept open (it is read after every
 * invocation; open/read/close each time showed up in profiles). The descriptor is closed when
 * the read fails, which happens once the cgroup is removed.
 */
function counterReader(file: string): { read: () => number | undefined; close: () => void } {
  let fd: number | undefined;
  const buf = Buffer.alloc(32);
  const close = () => {
    if (fd === undefined) return;
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fd = undefined;
  };
  const read = () => {
    try {
      fd ??= fs.openSync(file, 'r');
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      const v = Number(buf.toString('latin1', 0, n).trim());
      return Number.isFinite(v) ? v : undefined;
    } catch {
      close();
      return readNumber(file);
    }
  };
  return { read, close };
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function readKeyed(file: string, key: string): number | undefined {
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k === key) return Number(v);
    }
  } catch {
    // gone already
  }
  return undefined;
}

function killTasks(procsFile: string): void {
  try {
    for (const pid of fs.readFileSync(procsFile, 'utf8').split('\n')) {
      if (pid === '') continue;
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // cgroup already removed
  }
}

/** Cgroups left behind by a lambdalite server that died without closing its engine. */
function removeStale(base: string): void {
  const names = readdirOrEmpty(base);
  for (const name of names) {
    const m = name.match(/^lambdalite-(\d+)$/);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // that server is alive
    } catch {
      // dead: clean up below
    }
    const dir = path.join(base, name);
    try {
      for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
        if (!child.isDirectory()) continue;
        killTasks(path.join(dir, child.name, 'cgroup.procs'));
        try {
          // Frozen (v1) processes only die once thawed.
          fs.writeFileSync(path.join(dir, child.name, 'freezer.state'), 'THAWED');
        } catch {
          // not a freezer cgroup
        }
        try {
          fs.rmdirSync(path.join(dir, child.name));
        } catch {
          // still busy; a later start will retry
        }
      }
      fs.rmdirSync(dir);
    } catch {
      // best effort
    }
  }
}

/** rmdir on a cgroup fails (EBUSY) while it still has tasks; they die shortly after SIGKILL. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EBUSY') return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/**
 * Peak resident memory of a process tree from /proc (VmHWM summed over the tree), for hosts
 * without a writable memory cgroup.
 */
export function procTreePeakBytes(rootPid: number): number | undefined {
  let total = 0;
  let found = false;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const m = status.match(/^VmHWM:\s+(\d+) kB/m);
      if (m?.[1]) {
        total += Number(m[1]) * 1024;
        found = true;
      }
      for (const child of fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ')) {
        if (child.trim() !== '') stack.push(Number(child));
      }
    } catch {
      // exited
    }
  }
  return found ? total : undefined;
}
