// The log store: CloudWatch Logs' groups, streams and events in their own SQLite file (`logs.db` in
// the data dir, WAL), apart from the state database so that a chatty function never contends with
// the control plane for the write lock. Events are queued as they are produced and committed in one
// transaction per turn of the event loop, off the invoke's critical path. Retention is enforced by a
// sweep: each group's retention policy, else the server's default age, and a size bound for the file.

import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { Clock } from '../shared/clock.js';

export interface GroupScope {
  readonly accountId: string;
  readonly region: string;
}

export interface StreamKey extends GroupScope {
  readonly group: string;
  readonly stream: string;
}

export interface LogGroupRow {
  readonly id: number;
  readonly name: string;
  readonly created: number;
  readonly retentionDays: number | null;
  readonly storedBytes: number;
}

export interface LogStreamRow {
  readonly id: number;
  readonly name: string;
  readonly created: number;
  readonly firstTs: number | null;
  readonly lastTs: number | null;
  readonly lastIngest: number | null;
}

export interface LogEventRow {
  readonly id: number;
  readonly stream: string;
  readonly ts: number;
  readonly ingest: number;
  readonly message: string;
}

/** A position in a stream or group: events are ordered by timestamp, then by arrival. */
export interface Position {
  readonly ts: number;
  readonly id: number;
}

export interface EventQuery {
  readonly start?: number | undefined;
  /** Exclusive, as AWS's endTime. */
  readonly end?: number | undefined;
  /** Only events after (forward) or before (backward) this position. */
  readonly after?: Position | undefined;
  readonly before?: Position | undefined;
  readonly limit: number;
  /** Newest first (the rows are still returned oldest first). */
  readonly backward?: boolean;
}

export interface AppendedEvent {
  readonly key: StreamKey;
  readonly row: LogEventRow;
}

export interface LogStoreOptions {
  readonly clock: Clock;
  /** Groups without a retention policy keep events this long; 0 keeps them forever. */
  readonly retentionDays: number;
  /** Oldest events are dropped beyond this many bytes of messages; 0 means no bound. */
  readonly maxBytes: number;
  /** How often retention is enforced; default one minute. */
  readonly sweepIntervalMs?: number;
}

/** CloudWatch Logs counts an event's size as its UTF-8 message plus 26 bytes. */
export const EVENT_OVERHEAD = 26;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log_groups (
  id INTEGER PRIMARY KEY,
  account_id TEXT NOT NULL,
  region TEXT NOT NULL,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  retention_days INTEGER,
  stored_bytes INTEGER NOT NULL DEFAULT 0,
  UNIQUE (account_id, region, name)
);
CREATE TABLE IF NOT EXISTS log_streams (
  id INTEGER PRIMARY KEY,
  group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  first_ts INTEGER,
  last_ts INTEGER,
  last_ingest INTEGER,
  UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS log_events (
  id INTEGER PRIMARY KEY,
  group_id INTEGER NOT NULL,
  stream_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  ingest INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_stream ON log_events (stream_id, ts, id);
CREATE INDEX IF NOT EXISTS log_events_group ON log_events (group_id, ts, id);
`;

interface Pending {
  readonly key: StreamKey;
  readonly ts: number;
  readonly message: string;
}

interface Ids {
  readonly groupId: number;
  readonly streamId: number;
}

function scopeKey(s: GroupScope, group: string): string {
  return `${s.accountId}\0${s.region}\0${group}`;
}

export class LogStore {
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #retentionMs: number;
  readonly #maxBytes: number;
  readonly #s: Record<string, Statement>;
  /** Stream ids by account, region, group and stream, so a log write costs no lookup query. */
  readonly #ids = new Map<string, Ids>();
  /** Event queries by their SQL, prepared once. */
  readonly #queries = new Map<string, Statement>();
  #pending: Pending[] = [];
  #scheduled = false;
  readonly #listeners = new Set<(events: readonly AppendedEvent[]) => void>();
  readonly #sweeper: NodeJS.Timeout;
  #totalBytes: number;
  #closed = false;

  constructor(file: string, o: LogStoreOptions) {
    this.#clock = o.clock;
    this.#retentionMs = o.retentionDays * 86_400_000;
    this.#maxBytes = o.maxBytes;
    this.#db = new Database(file);
    // Freed pages go back to the file system after a sweep, so retention keeps the file small.
    this.#db.pragma('auto_vacuum = INCREMENTAL');
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    const p = (sql: string) => this.#db.prepare(sql);
    this.#s = {
      insertGroup: p('INSERT INTO log_groups (account_id, region, name, created) VALUES (?, ?, ?, ?)'),
      getGroup: p('SELECT id, name, created, retention_days AS retentionDays, stored_bytes AS storedBytes FROM log_groups WHERE account_id = ? AND region = ? AND name = ?'),
      listGroups: p(
        'SELECT id, name, created, retention_days AS retentionDays, stored_bytes AS storedBytes FROM log_groups WHERE account_id = ? AND region = ? AND name > ? AND substr(name, 1, length(?)) = ? ORDER BY name LIMIT ?',
      ),
      deleteGroup: p('DELETE FROM log_groups WHERE id = ?'),
      deleteGroupEvents: p('DELETE FROM log_events WHERE group_id = ?'),
      setRetention: p('UPDATE log_groups SET retention_days = ? WHERE id = ?'),
      addGroupBytes: p('UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?'),
      insertStream: p('INSERT INTO log_streams (group_id, name, created) VALUES (?, ?, ?)'),
      getStream: p('SELECT id, name, created, first_ts AS firstTs, last_ts AS lastTs, last_ingest AS lastIngest FROM log_streams WHERE group_id = ? AND name = ?'),
      streamsByName: p(
        'SELECT id, name, created, first_ts AS firstTs, last_ts AS lastTs, last_ingest AS lastIngest FROM log_streams WHERE group_id = ? AND substr(name, 1, length(?)) = ? ORDER BY name',
      ),
      deleteStream: p('DELETE FROM log_streams WHERE id = ?'),
      deleteStreamEvents: p('DELETE FROM log_events WHERE stream_id = ? RETURNING length(CAST(message AS BLOB)) AS bytes'),
      touchStream: p(
        'UPDATE log_streams SET first_ts = min(coalesce(first_ts, ?), ?), last_ts = max(coalesce(last_ts, ?), ?), last_ingest = ? WHERE id = ?',
      ),
      insertEvent: p('INSERT INTO log_events (group_id, stream_id, ts, ingest, message) VALUES (?, ?, ?, ?, ?)'),
      totalBytes: p('SELECT coalesce(sum(stored_bytes), 0) AS n FROM log_groups'),
      groupsForSweep: p('SELECT id, retention_days AS retentionDays FROM log_groups'),
      expire: p('DELETE FROM log_events WHERE group_id = ? AND ts < ? RETURNING length(CAST(message AS BLOB)) AS bytes'),
      oldest: p('SELECT id, group_id AS groupId, length(CAST(message AS BLOB)) AS bytes FROM log_events ORDER BY id LIMIT ?'),
      deleteEvent: p('DELETE FROM log_events WHERE id = ?'),
    };
    this.#totalBytes = (this.#s['totalBytes']!.get() as { n: number }).n;
    this.sweep();
    this.#sweeper = setInterval(() => this.sweep(), o.sweepIntervalMs ?? 60_000);
    this.#sweeper.unref();
  }

  #stmt(name: string): Statement {
    return this.#s[name]!;
  }

  // ---- writes from execution environments ------------------------------------------------------

  /** Queues one event; it is committed, with everything else queued in this turn, on the next. */
  append(key: StreamKey, ts: number, message: string): void {
    if (this.#closed) return;
    this.#pending.push({ key, ts, message });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits everything queued so far. */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0 || this.#closed) return;
    this.#pending = [];
    const ingest = this.#clock.now();
    const appended: AppendedEvent[] = [];
    try {
      this.#db.transaction(() => {
        const bytesByGroup = new Map<number, number>();
        const spans = new Map<number, { first: number; last: number }>();
        const insert = this.#stmt('insertEvent');
        for (const e of batch) {
          const ids = this.#ensure(e.key, ingest);
          const info = insert.run(ids.groupId, ids.streamId, e.ts, ingest, e.message);
          const span = spans.get(ids.streamId);
          if (span === undefined) spans.set(ids.streamId, { first: e.ts, last: e.ts });
          else {
            if (e.ts < span.first) span.first = e.ts;
            if (e.ts > span.last) span.last = e.ts;
          }
          const bytes = Buffer.byteLength(e.message) + EVENT_OVERHEAD;
          bytesByGroup.set(ids.groupId, (bytesByGroup.get(ids.groupId) ?? 0) + bytes);
          appended.push({ key: e.key, row: { id: Number(info.lastInsertRowid), stream: e.key.stream, ts: e.ts, ingest, message: e.message } });
        }
        // One update per stream and group per batch, not per event.
        for (const [streamId, span] of spans) this.#stmt('touchStream').run(span.first, span.first, span.last, span.last, ingest, streamId);
        for (const [groupId, bytes] of bytesByGroup) {
          this.#stmt('addGroupBytes').run(bytes, groupId);
          this.#totalBytes += bytes;
        }
      })();
    } catch {
      // A log write must never fail an invocation; the batch is lost, as AWS drops logs it cannot take.
      return;
    }
    if (this.#maxBytes > 0 && this.#totalBytes > this.#maxBytes) this.#trimToSize();
    for (const l of this.#listeners) l(appended);
  }

  /** Forgets a stream's cached ids once nothing writes to it any more (its environment is gone). */
  release(key: StreamKey): void {
    this.#ids.delete(`${scopeKey(key, key.group)}\0${key.stream}`);
  }

  /** Called after each commit with the events it added (live tail, followers, tests). */
  onAppend(listener: (events: readonly AppendedEvent[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #ensure(key: StreamKey, now: number): Ids {
    const k = `${scopeKey(key, key.group)}\0${key.stream}`;
    let ids = this.#ids.get(k);
    if (ids) return ids;
    // As Lambda does, the group and the stream are created by the first event written to them.
    const group = this.getGroup(key, key.group) ?? this.createGroup(key, key.group, now);
    const stream = this.getStream(group.id, key.stream) ?? this.createStream(group.id, key.stream, now);
    ids = { groupId: group.id, streamId: stream.id };
    this.#ids.set(k, ids);
    return ids;
  }

  // ---- groups and streams ----------------------------------------------------------------------

  getGroup(scope: GroupScope, name: string): LogGroupRow | undefined {
    return this.#stmt('getGroup').get(scope.accountId, scope.region, name) as LogGroupRow | undefined;
  }

  /** Throws SQLITE_CONSTRAINT_UNIQUE when it exists. */
  createGroup(scope: GroupScope, name: string, now = this.#clock.now()): LogGroupRow {
    const info = this.#stmt('insertGroup').run(scope.accountId, scope.region, name, now);
    return { id: Number(info.lastInsertRowid), name, created: now, retentionDays: null, storedBytes: 0 };
  }

  /** Groups named after `after` (exclusive) that start with `prefix`, by name. */
  listGroups(scope: GroupScope, prefix: string, after: string, limit: number): LogGroupRow[] {
    return this.#stmt('listGroups').all(scope.accountId, scope.region, after, prefix, prefix, limit) as LogGroupRow[];
  }

  deleteGroup(scope: GroupScope, group: LogGroupRow): void {
    this.flush();
    this.#db.transaction(() => {
      this.#stmt('deleteGroupEvents').run(group.id);
      this.#stmt('deleteGroup').run(group.id);
    })();
    this.#totalBytes -= group.storedBytes;
    this.#forget(scopeKey(scope, group.name) + '\0');
  }

  setRetention(groupId: number, days: number | null): void {
    this.#stmt('setRetention').run(days, groupId);
  }

  getStream(groupId: number, name: string): LogStreamRow | undefined {
    return this.#stmt('getStream').get(groupId, name) as LogStreamRow | undefined;
  }

  createStream(groupId: number, name: string, now = this.#clock.now()): LogStreamRow {
    const info = this.#stmt('insertStream').run(groupId, name, now);
    return { id: Number(info.lastInsertRowid), name, created: now, firstTs: null, lastTs: null, lastIngest: null };
  }

  /** Every stream of a group whose name starts with `prefix`, by name. */
  streams(groupId: number, prefix = ''): LogStreamRow[] {
    this.flush();
    return this.#stmt('streamsByName').all(groupId, prefix, prefix) as LogStreamRow[];
  }

  deleteStream(scope: GroupScope, group: LogGroupRow, stream: LogStreamRow): void {
    this.flush();
    this.#db.transaction(() => {
      const rows = this.#stmt('deleteStreamEvents').all(stream.id) as { bytes: number }[];
      const bytes = rows.reduce((n, r) => n + r.bytes + EVENT_OVERHEAD, 0);
      this.#stmt('addGroupBytes').run(-bytes, group.id);
      this.#totalBytes -= bytes;
      this.#stmt('deleteStream').run(stream.id);
    })();
    this.#forget(`${scopeKey(scope, group.name)}\0${stream.name}`);
  }

  #forget(prefix: string): void {
    for (const k of this.#ids.keys()) if (k === prefix || (prefix.endsWith('\0') && k.startsWith(prefix))) this.#ids.delete(k);
  }

  /** Adds events (PutLogEvents) at once, with the caller's timestamps. */
  put(key: StreamKey, events: readonly { ts: number; message: string }[]): void {
    for (const e of events) this.append(key, e.ts, e.message);
    this.flush();
  }

  // ---- reads -----------------------------------------------------------------------------------

  /**
   * Events of the given streams (or the whole group) in (timestamp, arrival) order within the query's
   * bounds. Backward queries return the newest `limit` events, still oldest first.
   */
  events(groupId: number, streamIds: readonly number[] | undefined, q: EventQuery): LogEventRow[] {
    this.flush();
    const where: string[] = [];
    const args: (number | string)[] = [];
    if (streamIds) {
      if (streamIds.length === 0) return [];
      where.push(`e.stream_id IN (${streamIds.map(() => '?').join(',')})`);
      args.push(...streamIds);
    } else {
      where.push('e.group_id = ?');
      args.push(groupId);
    }
    if (q.start !== undefined) {
      where.push('e.ts >= ?');
      args.push(q.start);
    }
    if (q.end !== undefined) {
      where.push('e.ts < ?');
      args.push(q.end);
    }
    if (q.after) {
      where.push('(e.ts > ? OR (e.ts = ? AND e.id > ?))');
      args.push(q.after.ts, q.after.ts, q.after.id);
    }
    if (q.before) {
      where.push('(e.ts < ? OR (e.ts = ? AND e.id < ?))');
      args.push(q.before.ts, q.before.ts, q.before.id);
    }
    const dir = q.backward ? 'DESC' : 'ASC';
    const sql =
      `SELECT e.id, s.name AS stream, e.ts, e.ingest, e.message FROM log_events e JOIN log_streams s ON s.id = e.stream_id ` +
      `WHERE ${where.join(' AND ')} ORDER BY e.ts ${dir}, e.id ${dir} LIMIT ?`;
    let stmt = this.#queries.get(sql);
    if (stmt === undefined) {
      stmt = this.#db.prepare(sql);
      // A handful of shapes (stream list lengths vary): bounded so hostile lists cannot grow it.
      if (this.#queries.size < 256) this.#queries.set(sql, stmt);
    }
    const rows = stmt.all(...args, q.limit) as LogEventRow[];
    return q.backward ? rows.reverse() : rows;
  }

  /** Every event of a group, oldest first, as one text per stream (tests and `readLogs`). */
  groupText(name: string): { stream: string; text: string }[] {
    this.flush();
    const rows = this.#db
      .prepare(
        `SELECT s.name AS stream, group_concat(e.message, char(10)) AS text, min(s.created) AS created FROM log_groups g JOIN log_streams s ON s.group_id = g.id ` +
          `LEFT JOIN (SELECT * FROM log_events ORDER BY ts, id) e ON e.stream_id = s.id WHERE g.name = ? GROUP BY s.id ORDER BY created, s.id`,
      )
      .all(name) as { stream: string; text: string | null }[];
    return rows.map((r) => ({ stream: r.stream, text: r.text === null ? '' : `${r.text}\n` }));
  }

  // ---- retention -------------------------------------------------------------------------------

  /** Drops events older than each group's retention (or the default) and beyond the size bound. */
  sweep(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    let freed = 0;
    this.#db.transaction(() => {
      for (const g of this.#stmt('groupsForSweep').all() as { id: number; retentionDays: number | null }[]) {
        const keepMs = g.retentionDays !== null ? g.retentionDays * 86_400_000 : this.#retentionMs;
        if (keepMs <= 0) continue;
        const rows = this.#stmt('expire').all(g.id, now - keepMs) as { bytes: number }[];
        if (rows.length === 0) continue;
        const bytes = rows.reduce((n, r) => n + r.bytes + EVENT_OVERHEAD, 0);
        this.#stmt('addGroupBytes').run(-bytes, g.id);
        this.#totalBytes -= bytes;
        freed += rows.length;
      }
    })();
    if (this.#maxBytes > 0 && this.#totalBytes > this.#maxBytes) freed += this.#trimToSize();
    if (freed > 0) this.#db.pragma('incremental_vacuum');
  }

  /** Drops the oldest events until a tenth below the bound, so trimming is not paid on every write. */
  #trimToSize(): number {
    const target = Math.floor(this.#maxBytes * 0.9);
    let dropped = 0;
    this.#db.transaction(() => {
      while (this.#totalBytes > target) {
        const rows = this.#stmt('oldest').all(1000) as { id: number; groupId: number; bytes: number }[];
        if (rows.length === 0) break;
        for (const r of rows) {
          if (this.#totalBytes <= target) break;
          this.#stmt('deleteEvent').run(r.id);
          this.#stmt('addGroupBytes').run(-(r.bytes + EVENT_OVERHEAD), r.groupId);
          this.#totalBytes -= r.bytes + EVENT_OVERHEAD;
          dropped++;
        }
      }
    })();
    return dropped;
  }

  /** Bytes of stored events, as CloudWatch counts them (for tests and the benchmark). */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#db.close();
  }
}
