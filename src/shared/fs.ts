import fs from 'node:fs';

/** The names in a directory, or none when it cannot be read (missing, not a directory, no access). */
export function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
