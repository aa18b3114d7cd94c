// Memory limits for execution environments. One cgroup per environment, limit = MemorySize, peak
// reported as "Max Memory Used". cgroup v2 (memory.max / memory.peak / memory.events oom_kill) and
// v1 (memory.limit_in_bytes / memory.max_usage_in_bytes / memory.oom_control oom_kill), whichever
// has a writable memory controller; otherwise no enforcement and the peak comes from /proc.
//
// Environments' cgroups are created under the server's own cgroup (so any limit placed on the server
// still applies to its functions), in a directory named after the server's pid.

import fs from 'node:fs';
import path from 'node:path';

export interface MemoryCgroup {
  /** cgroup.procs of this environment; the sandbox launcher writes its own pid here before exec. */
  readonly procsFile: string | undefined;
  /** Peak bytes used since the environment started, or undefined when unknown. */
  peakBytes(): number | undefined;
  /** Whether the kernel OOM-killed a process of this environment. */
  oomKilled(): boolean;
  /** Kills every process still in the cgroup (best effort) and removes it. */
  dispose(): void;
}

export interface MemoryController {
  readonly kind: 'cgroup2' | 'cgroup1' | 'none';
  /** One line for the server log describing the choice (and why, for the fallback). */
  readonly description: string;
  create(name: string, limitMb: number): MemoryCgroup;
  /** Removes the controller's parent directory. */
  close(): void;
}

export function detectMemoryController(): MemoryController {
  const reasons: string[] = [];
  for (const candidate of [tryV2, tryV1]) {
    try {
      const controller = candidate();
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
  const dir = path.join(base, `lambdalite-${process.pid}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function tryV2(): MemoryController | undefined {
  const own = ownCgroupPath('');
  if (own === undefined) return undefined;
  // A pure v2 host mounts at /sys/fs/cgroup; hybrid hosts at /sys/fs/cgroup/unified.
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const ownDir = path.join(root, own);
    const controllers = path.join(ownDir, 'cgroup.controllers');
    if (!fs.existsSync(controllers)) continue;
    if (!fs.readFileSync(controllers, 'utf8').trim().split(/\s+/).includes('memory')) continue;
    // v2's "no internal processes" rule: our own cgroup holds the server, so it can only delegate
    // the memory controller if it is the root; otherwise environments go beside it, under our parent.
    let base = ownDir;
    try {
      fs.writeFileSync(path.join(ownDir, 'cgroup.subtree_control'), '+memory');
    } catch {
      base = path.dirname(ownDir);
    }
    const parent = makeParent(base);
    fs.writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+memory');
    return {
      kind: 'cgroup2',
      description: `memory limits: cgroup v2 at ${parent}`,
      create: (name, limitMb) => createV2(parent, name, limitMb),
      close: () => removeDir(parent),
    };
  }
  return undefined;
}

function createV2(parent: string, name: string, limitMb: number): MemoryCgroup {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'memory.max'), String(limitMb * 1024 * 1024));
  try {
    fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
  } catch {
    // No swap accounting on this host.
  }
  return {
    procsFile: path.join(dir, 'cgroup.procs'),
    peakBytes: () => readNumber(path.join(dir, 'memory.peak')),
    oomKilled: () => (readKeyed(path.join(dir, 'memory.events'), 'oom_kill') ?? 0) > 0,
    dispose: () => {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      } catch {
        killTasks(path.join(dir, 'cgroup.procs'));
      }
      removeDir(dir);
    },
  };
}

function tryV1(): MemoryController | undefined {
  const root = '/sys/fs/cgroup/memory';
  if (!fs.existsSync(path.join(root, 'memory.limit_in_bytes'))) return undefined;
  const own = ownCgroupPath('memory') ?? '/';
  const parent = makeParent(path.join(root, own));
  return {
    kind: 'cgroup1',
    description: `memory limits: cgroup v1 at ${parent}`,
    create: (name, limitMb) => createV1(parent, name, limitMb),
    close: () => removeDir(parent),
  };
}

function createV1(parent: string, name: string, limitMb: number): MemoryCgroup {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  const bytes = String(limitMb * 1024 * 1024);
  fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), bytes);
  try {
    // Without this, a host with swap would page instead of OOM-killing at MemorySize.
    fs.writeFileSync(path.join(dir, 'memory.memsw.limit_in_bytes'), bytes);
  } catch {
    // memsw accounting is off on this kernel.
  }
  return {
    procsFile: path.join(dir, 'cgroup.procs'),
    peakBytes: () => readNumber(path.join(dir, 'memory.max_usage_in_bytes')),
    oomKilled: () => (readKeyed(path.join(dir, 'memory.oom_control'), 'oom_kill') ?? 0) > 0,
    dispose: () => {
      killTasks(path.join(dir, 'cgroup.procs'));
      removeDir(dir);
    },
  };
}

function noCgroup(reason: string): MemoryController {
  return {
    kind: 'none',
    description: `memory limits: not enforced (${reason}); Max Memory Used is measured from /proc`,
    create: () => ({ procsFile: undefined, peakBytes: () => undefined, oomKilled: () => false, dispose: () => {} }),
    close: () => {},
  };
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

/** rmdir on a cgroup fails while it still has tasks; they die asynchronously after SIGKILL. */
function removeDir(dir: string): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
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
