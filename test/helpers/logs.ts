// Reads what a function logged, from the log streams the server keeps under its data dir.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { readdirOrEmpty } from '../../src/shared/fs.js';

/** Every log line of a function (default group /aws/lambda/<name>), across all its log streams. */
export function functionLogLines(dataDir: string, fn: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirOrEmpty(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(...readFileSync(p, 'utf8').split('\n'));
    }
  };
  walk(path.join(dataDir, 'logs', 'aws', 'lambda', fn));
  return out;
}

