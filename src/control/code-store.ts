// Deployment packages, content-addressed under <dataDir>/code: the zip exactly as uploaded at
// <sha256-hex>.zip (served back unchanged by Code.Location) and unpacked once at <sha256-hex>/ for
// execution environments. Every package is hostile until checked: it must be a zip, stay under AWS's
// size limits, and no entry may land outside its directory.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile, chmod, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import yauzl from 'yauzl';
import { errors, LambdaError } from '../shared/errors.js';

export const limits = {
  /** Zipped package uploaded directly or fetched from S3. */
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

function openZip(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip) reject(badZip());
      else resolve(zip);
    });
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(badZip()) : resolve(stream)));
  });
}

/** Unix mode bits of an entry, when the zip was made on a Unix system. */
function unixMode(entry: yauzl.Entry): number {
  const madeBy = entry.versionMadeBy >> 8;
  return madeBy === 3 ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** A path inside the package, or an error: absolute paths, `..` and drive letters are zip-slip. */
function safeRelative(name: string): string {
  const normalised = name.replace(/\\/g, '/');
  if (normalised.startsWith('/') || /^[a-zA-Z]:/.test(normalised) || normalised.split('/').includes('..') || normalised.includes('\0')) {
    throw badZip();
  }
  return normalised;
}

/** Extracts every entry below `dir`, refusing zip-slip, escaping symlinks and more than `budget` bytes. */
async function extract(buf: Buffer, dir: string, budget: number): Promise<number> {
  const zip = await openZip(buf);
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', () => reject(badZip()));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        (async () => {
          const rel = safeRelative(entry.fileName);
          const target = path.join(dir, rel);
          if (!target.startsWith(dir + path.sep) && target !== dir) throw badZip();
          const mode = unixMode(entry);
          const kind = mode & S_IFMT;
          if (rel.endsWith('/') || kind === S_IFDIR) {
            await mkdir(target, { recursive: true });
            return;
          }
          total += entry.uncompressedSize;
          if (total > budget) throw tooBigUnzipped();
          await mkdir(path.dirname(target), { recursive: true });
          if (kind === S_IFLNK) {
            const stream = await openEntry(zip, entry);
            const chunks: Buffer[] = [];
            for await (const c of stream) chunks.push(c as Buffer);
            const linkTarget = Buffer.concat(chunks).toString('utf8');
            const resolved = path.resolve(path.dirname(target), linkTarget);
            // A link may point anywhere inside the package (or into /opt, /tmp at run time), never
            // at the host: absolute targets outside the sandbox's view are refused.
            const allowedAbsolute = /^\/(opt|tmp|var\/task|var\/runtime)(\/|$)/.test(linkTarget);
            if (!allowedAbsolute && !resolved.startsWith(dir + path.sep)) throw badZip();
            await symlink(linkTarget, target);
            return;
          }
          const stream = await openEntry(zip, entry);
          let written = 0;
          const counter = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              written += chunk.length;
              // validateEntrySizes catches lying headers at the end; this stops a bomb early.
              if (written > entry.uncompressedSize) cb(badZip());
              else cb(null, chunk);
            },
          });
          await pipeline(stream, counter, createWriteStream(target, { flags: 'wx' }));
          // Files are readable by the function's user whatever the zip said; exec bits are kept.
          await chmod(target, ((mode & 0o777) || 0o644) | 0o444);
        })().then(() => zip.readEntry(), (e: unknown) => reject(e instanceof LambdaError ? e : badZip()));
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return total;
}

export class CodeStore {
  readonly #dir: string;
  /** Unpacks in progress, so concurrent uploads of the same package share one. */
  readonly #inflight = new Map<string, Promise<StoredPackage>>();

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'code');
  }

  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    // Leftovers of a crash in the middle of an unpack.
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

  /** Checks, stores and unpacks a zip; idempotent for the same bytes. */
  async put(zip: Buffer): Promise<StoredPackage> {
    if (zip.length > limits.zipped) {
      throw new LambdaError('ZipTooLarge', { limit: limits.zipped });
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
    // The metadata file is written last, so its presence means the package is complete.
    const meta = path.join(this.#dir, `${hash}.json`);
    try {
      const { unzippedSize } = JSON.parse(await readFile(meta, 'utf8')) as { unzippedSize: number };
      return { hash, sha256, size: zip.length, unzippedSize };
    } catch {
      // Not stored yet.
    }
    const tmp = path.join(this.#dir, `.tmp-${randomUUID()}`);
    await mkdir(tmp, { mode: 0o755 });
    try {
      const unzippedSize = await extract(zip, tmp, limits.unzipped);
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

  /** Removes packages no version refers to any more. */
  async collect(referenced: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.#dir)) {
      const hash = name.replace(/\.(zip|json)$/, '');
      if (name.startsWith('.') || referenced.has(hash) || this.#inflight.has(hash)) continue;
      await rm(path.join(this.#dir, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}
