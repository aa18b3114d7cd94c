// Hot reload: a function whose code is a folder on this machine rather than a stored package, named with
// LocalStack's convention Code={S3Bucket: 'hot-reload', S3Key: '/absolute/path'} (and used by
// `lambdalite dev`). No zip is built: the folder itself becomes the code directory an environment mounts
// read-only at /var/task. A watcher counts changes under the folder; the count is part of the function's
// runtime revision, so the next invoke after a save retires environments of the old code through the
// engine's revision check and starts one that loads the new files.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { errors } from '../shared/errors.js';

export const HOT_RELOAD_BUCKET = 'hot-reload';
const PREFIX = 'hot-reload:';

/** The code hash recorded for a hot-reload function: the folder, marked so it is never a package hash. */
export function hotReloadHash(dir: string): string {
  return PREFIX + dir;
}

/** The folder of a hot-reload code hash, or undefined for a stored package. */
export function hotReloadDir(codeHash: string): string | undefined {
  return codeHash.startsWith(PREFIX) ? codeHash.slice(PREFIX.length) : undefined;
}

/** What CreateFunction / UpdateFunctionCode record for a folder: AWS's CodeSha256 shape over its path. */
export function hotReloadPackage(dir: string): { hash: string; sha256: string; size: number; unzippedSize: number } {
  return { hash: hotReloadHash(dir), sha256: createHash('sha256').update(dir).digest('base64'), size: 0, unzippedSize: 0 };
}

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/**
 * Checks an S3Key naming a folder: absolute, an existing directory, and neither the server's data dir nor
 * anything holding it or inside it (functions must not see other functions' code or the store).
 */
export function checkHotReloadFolder(key: string | undefined, dataDir: string): string {
  if (!key || !path.isAbsolute(key)) {
    throw errors.invalidParameter(`With S3Bucket '${HOT_RELOAD_BUCKET}', S3Key must be the absolute path of a folder on the server's machine.`);
  }
  let real: string;
  try {
    real = fs.realpathSync(key);
  } catch {
    throw errors.invalidParameter(`Hot-reload folder ${key} does not exist.`);
  }
  if (!fs.statSync(real).isDirectory()) throw errors.invalidParameter(`Hot-reload path ${key} is not a folder.`);
  const data = fs.existsSync(dataDir) ? fs.realpathSync(dataDir) : path.resolve(dataDir);
  if (inside(data, real) || inside(real, data)) {
    throw errors.invalidParameter(`Hot-reload folder ${key} holds or lies inside the server's data directory.`);
  }
  return real;
}

interface Watch {
  watcher: fs.FSWatcher | undefined;
  generation: number;
  readonly listeners: Set<() => void>;
}

/** Watches hot-reload folders (recursively, started on first use) and counts their changes. */
export class HotReloadWatcher {
  readonly #watches = new Map<string, Watch>();

  #watch(dir: string): Watch {
    const existing = this.#watches.get(dir);
    if (existing) return existing;
    const w: Watch = { watcher: undefined, generation: 0, listeners: new Set() };
    this.#watches.set(dir, w);
    try {
      w.watcher = fs.watch(dir, { recursive: true, persistent: false }, () => {
        w.generation++;
        for (const l of w.listeners) l();
      });
      // A folder that disappears ends its watcher; the next use starts a new one.
      w.watcher.on('error', () => {
        w.watcher?.close();
        if (this.#watches.get(dir) === w) this.#watches.delete(dir);
      });
    } catch {
      // Missing or unreadable: nothing to watch; the invoke reports the missing code as it would.
      this.#watches.delete(dir);
    }
    return w;
  }

  /** How many changes were seen under `dir` since it was first watched (starts watching). */
  generation(dir: string): number {
    return this.#watch(dir).generation;
  }

  /** Calls `listener` on each change under `dir`; returns the unsubscribe. */
  onChange(dir: string, listener: () => void): () => void {
    const w = this.#watch(dir);
    w.listeners.add(listener);
    return () => w.listeners.delete(listener);
  }

  close(): void {
    for (const w of this.#watches.values()) w.watcher?.close();
    this.#watches.clear();
  }
}
