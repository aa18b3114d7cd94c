// /tmp of execution environments on disk, sized by EphemeralStorage. As on AWS, /tmp is storage, not
// memory: a tmpfs would charge every byte written to /tmp to the environment's memory cgroup (a
// 128 MB function could not write 400 MB to a 512 MB /tmp). Each environment gets an ext4 image
// of exactly its EphemeralStorage, sparse (it takes disk space only as it is written), attached to
// a loop device with direct I/O (the image's own pages are not cached a second time) and mounted
// under the data dir; the sandbox binds that mount at /tmp. The filesystem is the quota: a write
// past it fails with ENOSPC inside the function.
//
// Making one takes ~100 ms (mkfs + losetup + mount), so the engine keeps spares of the latest
// size ready, off the cold path. Where this is not possible (not root, no loop devices, no
// mkfs.ext4) environments keep a tmpfs /tmp, sized the same but charged to their memory.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findExecutable } from './sandbox.js';

export interface ScratchDisk {
  /** Host directory to bind at /tmp. */
  readonly dir: string;
  readonly sizeMb: number;
  /** Unmounts and deletes it (its content with it). */
  dispose(): Promise<void>;
}

export interface ScratchDisks {
  readonly kind: 'loop' | 'tmpfs';
  readonly description: string;
  create(id: string, sizeMb: number): Promise<ScratchDisk>;
}

interface Tools {
  readonly mkfs: string;
  readonly losetup: string;
  readonly mount: string;
  readonly umount: string;
}

function run(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: {}, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Loop-mounted images under `baseDir` when the host allows it; else tmpfs (see above). */
export function detectScratchDisks(baseDir: string, enabled: boolean | 'no-sandbox'): ScratchDisks {
  const tmpfs = (why: string): ScratchDisks => ({
    kind: 'tmpfs',
    description: `/tmp: tmpfs sized by EphemeralStorage, counted against MemorySize (${why})`,
    create: () => Promise.reject(new Error('no disk-backed /tmp here')),
  });
  if (enabled === 'no-sandbox') return tmpfs('no sandbox to mount it in');
  if (!enabled) return tmpfs('disk-backed /tmp disabled by configuration');
  if (process.getuid?.() !== 0) return tmpfs('disk-backed /tmp needs root for loop mounts');
  if (!fs.existsSync('/dev/loop-control')) return tmpfs('no loop devices');
  const mkfs = findExecutable('mkfs.ext4');
  const losetup = findExecutable('losetup');
  const mount = findExecutable('mount');
  const umount = findExecutable('umount');
  if (!mkfs || !losetup || !mount || !umount) return tmpfs('mkfs.ext4, losetup, mount or umount not found');
  fs.mkdirSync(baseDir, { recursive: true, mode: 0o700 });
  removeStaleMounts(baseDir, umount);
  const tools: Tools = { mkfs, losetup, mount, umount };
  return {
    kind: 'loop',
    description: `/tmp: ext4 image of EphemeralStorage's size per environment, loop-mounted under ${baseDir} (disk, not memory)`,
    create: (id, sizeMb) => createDisk(tools, baseDir, id, sizeMb),
  };
}

async function createDisk(tools: Tools, baseDir: string, id: string, sizeMb: number): Promise<ScratchDisk> {
  const image = path.join(baseDir, `${id}.img`);
  const dir = path.join(baseDir, id);
  let device: string | undefined;
  let mounted = false;
  const dispose = async () => {
    if (mounted) {
      // Lazy: a process of the environment may still be exiting with a file open.
      await run(tools.umount, ['-l', dir]).catch(() => {});
      mounted = false;
    }
    if (device !== undefined) {
      await run(tools.losetup, ['-d', device]).catch(() => {});
      device = undefined;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(image, { force: true });
  };
  try {
    const fd = fs.openSync(image, 'wx', 0o600);
    try {
      fs.ftruncateSync(fd, sizeMb * 1024 * 1024);
    } finally {
      fs.closeSync(fd);
    }
    // No journal (the content dies with the environment), no reserved blocks (all of it is the
    // function's; with minixdf, statfs reports the full EphemeralStorage as on AWS),
    // no discard of a file that is sparse anyway.
    await run(tools.mkfs, ['-q', '-F', '-m', '0', '-O', '^has_journal', '-E', 'nodiscard,lazy_itable_init=1', image]);
    device = (await run(tools.losetup, ['--direct-io=on', '-f', '--show', image])).trim();
    fs.mkdirSync(dir, { mode: 0o700 });
    await run(tools.mount, ['-t', 'ext4', '-o', 'nosuid,nodev,minixdf', device, dir]);
    mounted = true;
    // Detaching a mounted loop device marks it to detach itself at unmount (the kernel's autoclear), and
    // the image needs no name once mounted: a server killed with SIGKILL leaves only the mount, which
    // the next start on this data dir unmounts, and nothing else.
    await run(tools.losetup, ['-d', device]);
    device = undefined;
    fs.rmSync(image, { force: true });
    fs.rmdirSync(path.join(dir, 'lost+found'));
    fs.chmodSync(dir, 0o1777);
    return { dir, sizeMb, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** Mounts a server that died left behind under `baseDir`. */
function removeStaleMounts(baseDir: string, umount: string): void {
  let mounts: string[];
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n');
  } catch {
    return;
  }
  const prefix = `${baseDir}/`;
  for (const line of mounts) {
    const target = line.split(' ')[1]?.replace(/\\040/g, ' ');
    if (target === undefined || !target.startsWith(prefix)) continue;
    // Synchronous on purpose: this runs once at start-up, before any environment exists.
    try {
      execFileSync(umount, ['-l', target], { stdio: 'ignore' });
    } catch {
      // left for the operator
    }
  }
  for (const name of fs.readdirSync(baseDir)) {
    fs.rmSync(path.join(baseDir, name), { recursive: true, force: true });
  }
}
