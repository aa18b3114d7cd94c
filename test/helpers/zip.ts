// Builds zip packages in memory for tests.
import assert from 'node:assert/strict';
import yazl from 'yazl';
import { finishZip } from '../../src/cli/zip-dir.js';

export interface ZipEntry {
  readonly name: string;
  readonly content: string | Buffer;
  /** Unix mode, e.g. 0o755 for an executable bootstrap. */
  readonly mode?: number;
  /** false stores the entry uncompressed (a zip as large as its content). */
  readonly compress?: boolean;
}

export function makeZip(entries: readonly ZipEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    zip.addBuffer(typeof e.content === 'string' ? Buffer.from(e.content) : e.content, e.name, { mode: e.mode ?? 0o100644, mtime: new Date(0), compress: e.compress ?? true });
  }
  return finishZip(zip);
}

/** A Node.js handler package: index.handler returns what `body` computes from `event`. */
export function nodeHandlerZip(source = 'exports.handler = async (event) => event;'): Promise<Buffer> {
  return makeZip([{ name: 'index.js', content: source }]);
}

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

/** A zip whose single entry is named `name` exactly, even names yazl refuses to write (`../x`, `/x`). */
export async function zipWithEntryName(name: string, content = 'exports.handler = async () => 1;\n'): Promise<Buffer> {
  const placeholder = name.replace(/\.\./g, '__').replace(/^\//, '_');
  assert.equal(placeholder.length, name.length);
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(content), placeholder, { compress: false, mtime: new Date(0) });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  // The name appears in the local header and in the central directory; the CRC covers content only.
  const from = Buffer.from(placeholder);
  const to = Buffer.from(name);
  let replaced = 0;
  for (let i = buf.indexOf(from); i >= 0; i = buf.indexOf(from, i + from.length)) {
    to.copy(buf, i);
    replaced++;
  }
  assert.equal(replaced, 2, 'entry name patched in local header and central directory');
  return buf;
}
