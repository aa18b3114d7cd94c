// Builds a function package the way users do: `npm install` of real packages from the npm registry
// into a fresh directory beside the handler, then a zip of the whole directory.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeZip, type ZipEntry } from '../helpers/zip.js';

function npmInstall(dir: string, packages: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--loglevel=error', ...packages], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm install ${packages.join(' ')} failed (${code}): ${err.slice(-2000)}`))));
  });
}

function entries(root: string): ZipEntry[] {
  const out: ZipEntry[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ name: path.relative(root, p), content: fs.readFileSync(p), mode: 0o100644 | (fs.statSync(p).mode & 0o111) });
    }
  };
  walk(root);
  return out;
}

/** A zip of `files` plus node_modules holding `packages` (and package.json with `type` when given). */
export async function npmFunctionZip(packages: readonly string[], files: Readonly<Record<string, string>>, type?: 'module'): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdalite-npm-fn-'));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fn', private: true, ...(type ? { type } : {}) }));
    await npmInstall(dir, packages);
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    fs.rmSync(path.join(dir, 'package-lock.json'), { force: true });
    return await makeZip(entries(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
