// Reads what a function logged, from the log store the server keeps in its data dir (logs.db).
import path from 'node:path';
import Database from 'better-sqlite3';

/** Every log line of a function (default group /aws/lambda/<name>), across all its log streams. */
export function functionLogLines(dataDir: string, fn: string): string[] {
  const db = new Database(path.join(dataDir, 'logs.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT e.message FROM log_events e JOIN log_groups g ON g.id = e.group_id WHERE g.name = ? ORDER BY e.ts, e.id')
      .all(`/aws/lambda/${fn}`) as { message: string }[];
    return rows.flatMap((r) => r.message.split('\n'));
  } finally {
    db.close();
  }
}
