// One server per data dir. Two servers on one data dir would run each other's queued events twice,
// race on the SQLite file and remove each other's code, so the second one refuses to start and names
// the process that holds the lock. The lock is a file created atomically (link(2) of a complete
// temporary file, which fails if the lock exists) holding the owner's pid and its start time; a lock
// whose process is gone, or whose pid now belongs to another process (pid reuse after a SIGKILL), is
// stale and taken over. Without native code there is no flock(2) in Node; this is the portable form.
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './config.js';

interface LockContent {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  readonly started: string | undefined;
  readonly host: string;
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock if it is still ours. */
  release(): void;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Locks this process holds. One that names this process but is not here was left by a start-up that
 * failed half-way (the lock is process-wide state by nature, hence module-level).
 */
const heldHere = new Set<string>();

function alive(holder: LockContent, file: string): boolean {
  if (holder.host !== os.hostname()) return true;
  if (holder.pid === process.pid) return heldHere.has(file);
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startTime(holder.pid);
  return holder.started === undefined || started === undefined || started === holder.started;
}

function read(file: string): { raw: string; holder: LockContent | undefined } | undefined {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return { raw, holder: undefined };
    return { raw, holder: { pid: parsed.pid, host: parsed.host, started: typeof parsed.started === 'string' ? parsed.started : undefined } };
  } catch {
    return { raw, holder: undefined };
  }
}

/** Takes the data dir's lock or throws a ConfigError naming the process that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(path.resolve(dataDir), 'lock');
  const mine = JSON.stringify({ pid: process.pid, started: startTime(process.pid), host: os.hostname() } satisfies LockContent);
  const tmp = path.join(dataDir, `.lock-${randomUUID()}`);
  writeFileSync(tmp, mine, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, file);
        heldHere.add(file);
        return {
          file,
          release() {
            if (!heldHere.delete(file)) return;
            if (read(file)?.raw === mine) unlinkSync(file);
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const current = read(file);
      if (current === undefined) continue;
      // An unreadable lock (a crash while it was written cannot happen: it is linked complete) is
      // treated as held, so a damaged data dir is looked at by a person rather than shared.
      if (current.holder === undefined || alive(current.holder, file)) {
        const who = current.holder ? `process ${current.holder.pid}${current.holder.host !== os.hostname() ? ` on ${current.holder.host}` : ''}` : 'another process';
        throw new ConfigError(`the data dir ${dataDir} is in use by another lambdalite server (${who}, lock file ${file}); stop it or start with another --data-dir`);
      }
      // Stale: move it aside, then make sure what was moved is the stale lock and not a new one that
      // another starting server took in the meantime (put that one back).
      const aside = path.join(dataDir, `.lock-stale-${randomUUID()}`);
      try {
        renameSync(file, aside);
      } catch {
        continue;
      }
      if (read(aside)?.raw !== current.raw) {
        try {
          linkSync(aside, file);
        } catch {
          // A third server has it now; the loop reads and names it.
        }
      }
      unlinkSync(aside);
    }
    throw new ConfigError(`could not take the lock of the data dir ${dataDir} (${file})`);
  } finally {
    unlinkSync(tmp);
  }
}
