// Unpacks a hostile zip into a fresh directory. The only files it creates are beneath that directory,
// and it never follows a link while doing so:
// - entry names are relative paths without `..` (zip-slip), checked after normalisation;
// - every parent of an entry is walked with lstat and must be a directory that this unpack created
//   (so a link entry `d` followed by `d/file` is refused instead of writing through the link);
// - files are created with O_CREAT|O_EXCL|O_NOFOLLOW, so nothing existing is opened or replaced
//   (a second entry of the same name is refused, not written over the first);
// - a link entry is created as a link, never followed; once everything is on disk each link is
//   resolved as the kernel would (links within links, `..` after a link) and refused if it leads out
//   of the package. Absolute targets are allowed only beneath the sandbox's own mounts (/var/task,
//   /opt, /var/runtime, /tmp), after normalisation, so `/tmp/../etc` or `/opt/../x` are refused.
// - zip has no hard-link entry type (Info-ZIP stores a hard link as a second regular file), and
//   device, FIFO and socket entries are refused; the unpacker never calls link(2).
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { LambdaError } from '../shared/errors.js';

/** Thrown for anything the unpacker refuses; the caller answers it as AWS does for a package it cannot unzip. */
export class UnzipRefused extends Error {}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/**
 * Where an absolute link target may point: the sandbox's own mounts. A link there is resolved inside
 * the execution environment, never on the host.
 */
const SANDBOX_MOUNTS = ['/var/task', '/opt', '/var/runtime', '/tmp'] as const;
/** Longest link target accepted (PATH_MAX). */
const MAX_LINK_TARGET = 4096;
/** Links followed while resolving one path, as the kernel's ELOOP limit. */
const MAX_HOPS = 40;

function openZip(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip) reject(new UnzipRefused(err?.message ?? 'not a zip'));
      else resolve(zip);
    });
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(new UnzipRefused(err?.message ?? 'unreadable entry')) : resolve(stream)));
  });
}

/** Unix mode bits of an entry, when the zip was made on a Unix system (0 otherwise). */
function unixMode(entry: yauzl.Entry): number {
  return entry.versionMadeBy >> 8 === 3 ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
}

/** The components of an entry name inside the package; refuses absolute names, drive letters and `..`. */
function entryComponents(name: string): string[] {
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed) || slashed.includes('\0')) throw new UnzipRefused(`absolute entry name ${name}`);
  const parts = slashed.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnzipRefused(`entry name with .. ${name}`);
  return parts;
}

/** Makes `parts` below `root` as real directories, refusing any component that exists as something else. */
async function ensureDirs(root: string, parts: readonly string[]): Promise<void> {
  let dir = root;
  for (const part of parts) {
    dir = path.join(dir, part);
    const st = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (st === undefined) await mkdir(dir, { mode: 0o755 });
    else if (!st.isDirectory()) throw new UnzipRefused(`entry beneath a non-directory ${dir}`);
  }
}

function isUnderMount(target: string): boolean {
  return SANDBOX_MOUNTS.some((m) => target === m || target.startsWith(`${m}/`));
}

/**
 * Resolves the link at `linkParts` (relative to `root`) as the kernel would, following links of the
 * package, and refuses it when the walk climbs above `root` or leaves through an absolute target and
 * then climbs (`x` -> `/opt`, `y` -> `x/../etc`). Targets that do not exist (yet) are fine: what does
 * not exist cannot lead anywhere.
 */
async function checkLink(root: string, linkParts: readonly string[]): Promise<void> {
  const at: string[] = linkParts.slice(0, -1);
  const queue: string[] = [];
  let hops = 0;
  const follow = async (target: string): Promise<boolean> => {
    if (++hops > MAX_HOPS) throw new UnzipRefused(`too many levels of links at ${linkParts.join('/')}`);
    if (target.startsWith('/')) {
      const normal = path.posix.normalize(target);
      // Anything after a jump to an absolute path is resolved outside the package: only plain names may follow.
      if (!isUnderMount(normal) || queue.includes('..')) throw new UnzipRefused(`link ${linkParts.join('/')} leads to ${normal}`);
      return false;
    }
    queue.unshift(...target.split('/'));
    return true;
  };
  const first = await readlink(path.join(root, ...linkParts));
  if (!(await follow(first))) return;
  while (queue.length) {
    const part = queue.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (at.length === 0) throw new UnzipRefused(`link ${linkParts.join('/')} leads out of the package`);
      at.pop();
      continue;
    }
    const here = path.join(root, ...at, part);
    const st = await lstat(here).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (!(await follow(await readlink(here)))) return;
    } else {
      at.push(part);
    }
  }
}

/**
 * Extracts every entry of `buf` into `dir` (an empty directory made for it), stopping once the unzipped
 * size passes `budget`. Returns the unzipped size.
 */
export async function extractZip(buf: Buffer, dir: string, budget: number, tooBig: () => LambdaError): Promise<number> {
  const zip = await openZip(buf);
  const links: string[][] = [];
  let total = 0;
  const one = async (entry: yauzl.Entry): Promise<void> => {
    const parts = entryComponents(entry.fileName);
    const mode = unixMode(entry);
    const kind = mode & S_IFMT;
    const isDir = entry.fileName.endsWith('/') || entry.fileName.endsWith('\\') || kind === S_IFDIR;
    if (isDir) {
      await ensureDirs(dir, parts);
      return;
    }
    if (parts.length === 0) throw new UnzipRefused('entry without a name');
    if (kind !== 0 && kind !== S_IFREG && kind !== S_IFLNK) throw new UnzipRefused(`special file ${entry.fileName}`);
    total += entry.uncompressedSize;
    if (total > budget) throw tooBig();
    await ensureDirs(dir, parts.slice(0, -1));
    const target = path.join(dir, ...parts);
    const stream = await openEntry(zip, entry);
    if (kind === S_IFLNK) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of stream) {
        size += (c as Buffer).length;
        if (size > MAX_LINK_TARGET) throw new UnzipRefused(`link target too long ${entry.fileName}`);
        chunks.push(c as Buffer);
      }
      const linkTarget = Buffer.concat(chunks).toString('utf8');
      if (linkTarget === '' || linkTarget.includes('\0')) throw new UnzipRefused(`empty link ${entry.fileName}`);
      // symlink(2) fails with EEXIST on anything already there, links included.
      await symlink(linkTarget, target);
      links.push(parts);
      return;
    }
    const file = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      // Readable by the function's user whatever the zip said; exec bits are kept.
      await file.chmod(((mode & 0o777) || 0o644) | 0o444);
    } catch (e) {
      await file.close();
      throw e;
    }
    let written = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        written += chunk.length;
        // validateEntrySizes catches lying headers at the end; this stops a bomb early.
        if (written > entry.uncompressedSize) cb(new UnzipRefused(`entry larger than declared ${entry.fileName}`));
        else cb(null, chunk);
      },
    });
    // The write stream closes the file, also when the pipeline fails.
    await pipeline(stream, counter, file.createWriteStream());
  };
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (e: Error) => reject(e instanceof LambdaError ? e : new UnzipRefused(e.message)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        one(entry).then(() => zip.readEntry(), reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  for (const parts of links) await checkLink(dir, parts);
  return total;
}
