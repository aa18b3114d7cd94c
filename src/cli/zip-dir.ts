// Zips a folder as a deployment package: regular files with their modes (an executable `bootstrap` stays
// executable), symbolic links as links, paths relative to the folder. VCS folders are left out.
import fs from 'node:fs';
import path from 'node:path';
import yazl from 'yazl';

const SKIP = new Set(['.git', '.hg', '.svn']);

export function zipDirectory(dir: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const walk = (abs: string, rel: string) => {
    for (const entry of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIP.has(entry.name)) continue;
      const p = path.join(abs, entry.name);
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) {
        zip.addBuffer(Buffer.from(fs.readlinkSync(p)), name, { mode: 0o120777 });
      } else if (entry.isDirectory()) {
        walk(p, name);
      } else if (entry.isFile()) {
        const st = fs.statSync(p);
        zip.addFile(p, name, { mode: st.mode, mtime: st.mtime });
      }
    }
  };
  walk(dir, '');
  return finishZip(zip);
}

/** Ends `zip` and collects its bytes. */
export function finishZip(zip: yazl.ZipFile): Promise<Buffer> {
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
