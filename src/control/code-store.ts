// Deployment packages, content-addressed under <dataDir>/code: the zip exactly as uploaded at
// <sha256-hex>.zip (served back unchanged by Code.Location) and unpacked once at <sha256-hex>/ for
// execution environments. Every package is hostile until checked: it must be a zip, stay under AWS's
// size limits, and no entry may land outside its directory.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, renameSync } from 'node:fs';
import { mkdir, rename, rm, writeFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { errors, LambdaError } from '../shared/errors.js';
import { extractZip } from './unzip.js';

export const limits = {
  /** Zipped package uploaded directly (in the request). */
  zipped: 52_428_800,
  /** All files of the function and its layers, unzipped. */
  unzipped: 262_144_000,
} as const;

export interface StoredPackage {
  /** Hex SHA-256; the key of the package on disk. */
  readonly hash: string;
  /** Base64 SHA-256, as AWS reports CodeSha256. */
  readonly sha256: string;
  readonly size: number;
  readonly unzippedSize: number;
}

const badZip = () => errors.invalidParameter('Could not unzip uploaded file. Please check your file, then try to upload again.');
const tooBigUnzipped = () => errors.invalidParameter(`Unzipped size must be smaller than ${limits.unzipped} bytes`);

/** A package's files on disk: `<hash>.zip`, `<hash>.json` and the unpacked `<hash>/`. */
function hashOf(name: string): string | undefined {
  const m = /^([0-9a-f]{64})(?:\.zip|\.json)?$/.exec(name);
  return m?.[1];
}

export class CodeStore {
  readonly #dir: string;
  /** Hashes that a version, layer version or alias of the store refers to. */
  readonly #referenced: () => ReadonlySet<string>;
  /** Unpacks in progress, so concurrent uploads of the same package share one. */
  readonly #inflight = new Map<string, Promise<StoredPackage>>();
  /** Packages in use by invocations and live execution environments: hash -> holders. */
  readonly #held = new Map<string, number>();
  #collectScheduled = false;
  #closed = false;
  #collecting: Promise<number> = Promise.resolve(0);

  constructor(dataDir: string, referenced: () => ReadonlySet<string> = () => new Set()) {
    this.#dir = path.join(dataDir, 'code');
    this.#referenced = referenced;
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    // Leftovers of a crash in the middle of an unpack or a removal.
    for (const name of await readdir(this.#dir)) if (name.startsWith('.tmp-')) await rm(path.join(this.#dir, name), { recursive: true, force: true });
  }

  zipPath(hash: string): string {
    return path.join(this.#dir, `${hash}.zip`);
  }

  /** The unzipped size recorded when the package was stored (0 when unknown). */
  unzippedSize(hash: string): number {
    try {
      return (JSON.parse(readFileSync(path.join(this.#dir, `${hash}.json`), 'utf8')) as { unzippedSize: number }).unzippedSize;
    } catch {
      return 0;
    }
  }

  unpackedDir(hash: string): string {
    return path.join(this.#dir, hash);
  }

  /**
   * Checks, stores and unpacks a zip; idempotent for the same bytes. The 50 MB zipped limit applies to
   * direct uploads only: a package from S3 is bounded by its unzipped size alone, as on AWS.
   */
  async put(zip: Buffer, options: { fromS3?: boolean } = {}): Promise<StoredPackage> {
    if (!options.fromS3 && zip.length > limits.zipped) {
      throw new LambdaError('RequestEntityTooLargeException', `Zipped size must be smaller than ${limits.zipped} bytes`, { status: 413 });
    }
    const digest = createHash('sha256').update(zip).digest();
    const hash = digest.toString('hex');
    const existing = this.#inflight.get(hash);
    if (existing) return existing;
    const work = this.#store(zip, hash, digest.toString('base64')).finally(() => this.#inflight.delete(hash));
    this.#inflight.set(hash, work);
    return work;
  }

  async #store(zip: Buffer, hash: string, sha256: string): Promise<StoredPackage> {
    // The metadata file is written last, so its presence means the package is complete. Read
    // synchronously: between this check and the caller recording its reference (both in the same
    // turn of the event loop) a collection cannot remove the package.
    const meta = path.join(this.#dir, `${hash}.json`);
    try {
      const { unzippedSize } = JSON.parse(readFileSync(meta, 'utf8')) as { unzippedSize: number };
      return { hash, sha256, size: zip.length, unzippedSize };
    } catch {
      // Not stored yet.
    }
    const tmp = path.join(this.#dir, `.tmp-${randomUUID()}`);
    await mkdir(tmp, { mode: 0o755 });
    try {
      let unzippedSize: number;
      try {
        unzippedSize = await extractZip(zip, tmp, limits.unzipped, tooBigUnzipped);
      } catch (e) {
        throw e instanceof LambdaError ? e : badZip();
      }
      await writeFile(`${tmp}.zip`, zip);
      await rename(`${tmp}.zip`, this.zipPath(hash));
      await rm(this.unpackedDir(hash), { recursive: true, force: true });
      await rename(tmp, this.unpackedDir(hash));
      await writeFile(`${tmp}.json`, JSON.stringify({ sha256, size: zip.length, unzippedSize }));
      await rename(`${tmp}.json`, meta);
      return { hash, sha256, size: zip.length, unzippedSize };
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      await rm(`${tmp}.zip`, { force: true });
      throw e;
    }
  }

  /**
   * Marks the packages unpacked at `dirs` as in use (by an invocation or an execution environment)
   * until the returned function is called; they are not removed meanwhile even if nothing in the
   * store refers to them any more.
   */
  hold(dirs: readonly string[]): () => void {
    const hashes = dirs.filter((d) => path.dirname(d) === this.#dir).map((d) => path.basename(d));
    for (const h of hashes) this.#held.set(h, (this.#held.get(h) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      let freed = false;
      for (const h of hashes) {
        const n = (this.#held.get(h) ?? 1) - 1;
        if (n > 0) this.#held.set(h, n);
        else {
          this.#held.delete(h);
          freed = true;
        }
      }
      if (freed) this.collectSoon();
    };
  }

  /** Removes unreferenced packages once the current turn of the event loop is over. */
  collectSoon(): void {
    if (this.#collectScheduled || this.#closed) return;
    this.#collectScheduled = true;
    setImmediate(() => {
      this.#collectScheduled = false;
      void this.collect();
    });
  }

  /**
   * Removes packages that nothing refers to: no function version, no layer version, no invocation or
   * environment holding them, no upload in progress. Which ones is decided and moved aside in one
   * synchronous step, so no reference can be recorded in between; the files go afterwards.
   * Resolves with the number of packages removed.
   */
  collect(): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    const referenced = this.#referenced();
    const victims: string[] = [];
    const hashes = new Set<string>();
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return Promise.resolve(0);
    }
    for (const name of names) {
      const hash = hashOf(name);
      if (hash === undefined || referenced.has(hash) || this.#inflight.has(hash) || this.#held.has(hash)) continue;
      const aside = path.join(this.#dir, `.tmp-gc-${randomUUID()}`);
      try {
        renameSync(path.join(this.#dir, name), aside);
      } catch {
        continue;
      }
      victims.push(aside);
      hashes.add(hash);
    }
    const previous = this.#collecting;
    this.#collecting = (async () => {
      await previous;
      for (const v of victims) await rm(v, { recursive: true, force: true });
      return hashes.size;
    })();
    return this.#collecting;
  }

  /** Resolves once every removal started so far is done. */
  async settled(): Promise<void> {
    await this.#collecting;
  }

  /** No more collections (the store they read is about to close); waits for the one under way. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#collecting;
  }
}
