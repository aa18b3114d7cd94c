// SQLite adapter of the Store: one file under the data dir, WAL, statements prepared once.
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { migrations } from './migrations.js';
import type { FunctionKey, ListPage, Store, StoredAlias, StoredConfig, StoredFunction, StoredVersion } from '../types.js';

interface FunctionRow {
  account_id: string;
  region: string;
  name: string;
  created_at: string;
  tags: string;
  version: string;
  code_hash: string;
  config: string;
}

interface VersionRow {
  version: string;
  code_hash: string;
  config: string;
}

function fromVersionRow(row: VersionRow): StoredVersion {
  return { version: row.version, codeHash: row.code_hash, config: JSON.parse(row.config) as StoredConfig };
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #stmts: {
    insertFunction: Statement;
    insertVersion: Statement;
    getFunction: Statement;
    listFunctions: Statement;
    updateLatest: Statement;
    deleteFunction: Statement;
    allFunctions: Statement;
    codeHashes: Statement;
    nextVersion: Statement;
    bumpVersion: Statement;
    getVersion: Statement;
    listVersions: Statement;
    deleteVersion: Statement;
    insertAlias: Statement;
    updateAlias: Statement;
    getAlias: Statement;
    listAliases: Statement;
    deleteAlias: Statement;
  };

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    const latestJoin = `SELECT f.account_id, f.region, f.name, f.created_at, f.tags, v.version, v.code_hash, v.config
      FROM functions f JOIN function_versions v
        ON v.account_id = f.account_id AND v.region = f.region AND v.name = f.name AND v.version = '$LATEST'`;
    this.#stmts = {
      insertFunction: this.#db.prepare('INSERT OR IGNORE INTO functions (account_id, region, name, created_at, tags) VALUES (?, ?, ?, ?, ?)'),
      insertVersion: this.#db.prepare('INSERT INTO function_versions (account_id, region, name, version, revision_id, code_hash, config) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      getFunction: this.#db.prepare(`${latestJoin} WHERE f.account_id = ? AND f.region = ? AND f.name = ?`),
      listFunctions: this.#db.prepare(`${latestJoin} WHERE f.account_id = ? AND f.region = ? AND f.name > ? ORDER BY f.name LIMIT ?`),
      updateLatest: this.#db.prepare(`UPDATE function_versions SET revision_id = ?, code_hash = ?, config = ?
        WHERE account_id = ? AND region = ? AND name = ? AND version = '$LATEST' AND revision_id = ?`),
      deleteFunction: this.#db.prepare('DELETE FROM functions WHERE account_id = ? AND region = ? AND name = ?'),
      allFunctions: this.#db.prepare(latestJoin),
      codeHashes: this.#db.prepare('SELECT DISTINCT code_hash FROM function_versions'),
      nextVersion: this.#db.prepare('SELECT next_version FROM functions WHERE account_id = ? AND region = ? AND name = ?'),
      bumpVersion: this.#db.prepare('UPDATE functions SET next_version = next_version + 1 WHERE account_id = ? AND region = ? AND name = ?'),
      getVersion: this.#db.prepare('SELECT version, code_hash, config FROM function_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      // $LATEST sorts as -1, published versions numerically.
      listVersions: this.#db.prepare(`SELECT version, code_hash, config FROM function_versions
        WHERE account_id = ? AND region = ? AND name = ?
          AND (CASE version WHEN '$LATEST' THEN -1 ELSE CAST(version AS INTEGER) END) > ?
        ORDER BY CASE version WHEN '$LATEST' THEN -1 ELSE CAST(version AS INTEGER) END LIMIT ?`),
      deleteVersion: this.#db.prepare('DELETE FROM function_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      insertAlias: this.#db.prepare('INSERT OR IGNORE INTO aliases (account_id, region, name, alias, revision_id, config) VALUES (?, ?, ?, ?, ?, ?)'),
      updateAlias: this.#db.prepare('UPDATE aliases SET revision_id = ?, config = ? WHERE account_id = ? AND region = ? AND name = ? AND alias = ? AND revision_id = ?'),
      getAlias: this.#db.prepare('SELECT config FROM aliases WHERE account_id = ? AND region = ? AND name = ? AND alias = ?'),
      listAliases: this.#db.prepare('SELECT config FROM aliases WHERE account_id = ? AND region = ? AND name = ? AND alias > ? ORDER BY alias LIMIT ?'),
      deleteAlias: this.#db.prepare('DELETE FROM aliases WHERE account_id = ? AND region = ? AND name = ? AND alias = ?'),
    };
  }

  #migrate(): void {
    const current = this.#db.pragma('user_version', { simple: true }) as number;
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.#db.transaction(() => {
        this.#db.exec(m.sql);
        this.#db.pragma(`user_version = ${m.version}`);
      })();
    }
  }

  #fromRow(row: FunctionRow): StoredFunction {
    return {
      accountId: row.account_id,
      region: row.region,
      name: row.name,
      createdAt: row.created_at,
      tags: JSON.parse(row.tags) as Record<string, string>,
      latest: { version: row.version, codeHash: row.code_hash, config: JSON.parse(row.config) as StoredConfig },
    };
  }

  createFunction(fn: StoredFunction): boolean {
    return this.#db.transaction(() => {
      const r = this.#stmts.insertFunction.run(fn.accountId, fn.region, fn.name, fn.createdAt, JSON.stringify(fn.tags));
      if (r.changes === 0) return false;
      this.#insertVersion(fn, fn.latest);
      return true;
    })();
  }

  #insertVersion(key: FunctionKey, v: StoredVersion): void {
    this.#stmts.insertVersion.run(key.accountId, key.region, key.name, v.version, v.config.RevisionId ?? '', v.codeHash, JSON.stringify(v.config));
  }

  getFunction(key: FunctionKey): StoredFunction | undefined {
    const row = this.#stmts.getFunction.get(key.accountId, key.region, key.name) as FunctionRow | undefined;
    return row && this.#fromRow(row);
  }

  listFunctions(accountId: string, region: string, after: string | undefined, limit: number): ListPage<StoredFunction> {
    const rows = this.#stmts.listFunctions.all(accountId, region, after ?? '', limit + 1) as FunctionRow[];
    const items = rows.slice(0, limit).map((r) => this.#fromRow(r));
    return { items, nextMarker: rows.length > limit ? items[items.length - 1]?.name : undefined };
  }

  replaceLatest(key: FunctionKey, expectedRevisionId: string, latest: StoredVersion): boolean {
    const r = this.#stmts.updateLatest.run(latest.config.RevisionId ?? '', latest.codeHash, JSON.stringify(latest.config), key.accountId, key.region, key.name, expectedRevisionId);
    return r.changes === 1;
  }

  deleteFunction(key: FunctionKey): boolean {
    return this.#stmts.deleteFunction.run(key.accountId, key.region, key.name).changes > 0;
  }

  publishVersion(key: FunctionKey, build: (version: string) => StoredVersion): StoredVersion | undefined {
    return this.#db.transaction(() => {
      const row = this.#stmts.nextVersion.get(key.accountId, key.region, key.name) as { next_version: number } | undefined;
      if (!row) return undefined;
      const v = build(String(row.next_version));
      this.#insertVersion(key, v);
      this.#stmts.bumpVersion.run(key.accountId, key.region, key.name);
      return v;
    })();
  }

  getVersion(key: FunctionKey, version: string): StoredVersion | undefined {
    const row = this.#stmts.getVersion.get(key.accountId, key.region, key.name, version) as VersionRow | undefined;
    return row && fromVersionRow(row);
  }

  listVersions(key: FunctionKey, after: string | undefined, limit: number): ListPage<StoredVersion> {
    const from = after === undefined ? -2 : after === '$LATEST' ? -1 : Number(after);
    const rows = this.#stmts.listVersions.all(key.accountId, key.region, key.name, from, limit + 1) as VersionRow[];
    const items = rows.slice(0, limit).map(fromVersionRow);
    return { items, nextMarker: rows.length > limit ? items[items.length - 1]?.version : undefined };
  }

  deleteVersion(key: FunctionKey, version: string): boolean {
    return this.#stmts.deleteVersion.run(key.accountId, key.region, key.name, version).changes > 0;
  }

  putAlias(key: FunctionKey, alias: StoredAlias, expectedRevisionId: string | null): boolean {
    const json = JSON.stringify(alias);
    if (expectedRevisionId === null) {
      return this.#stmts.insertAlias.run(key.accountId, key.region, key.name, alias.alias, alias.revisionId, json).changes === 1;
    }
    return this.#stmts.updateAlias.run(alias.revisionId, json, key.accountId, key.region, key.name, alias.alias, expectedRevisionId).changes === 1;
  }

  getAlias(key: FunctionKey, alias: string): StoredAlias | undefined {
    const row = this.#stmts.getAlias.get(key.accountId, key.region, key.name, alias) as { config: string } | undefined;
    return row && (JSON.parse(row.config) as StoredAlias);
  }

  listAliases(key: FunctionKey, after: string | undefined, limit: number): ListPage<StoredAlias> {
    const rows = this.#stmts.listAliases.all(key.accountId, key.region, key.name, after ?? '', limit + 1) as { config: string }[];
    const items = rows.slice(0, limit).map((r) => JSON.parse(r.config) as StoredAlias);
    return { items, nextMarker: rows.length > limit ? items[items.length - 1]?.alias : undefined };
  }

  deleteAlias(key: FunctionKey, alias: string): boolean {
    return this.#stmts.deleteAlias.run(key.accountId, key.region, key.name, alias).changes > 0;
  }

  *allFunctions(): Iterable<StoredFunction> {
    for (const row of this.#stmts.allFunctions.iterate() as IterableIterator<FunctionRow>) yield this.#fromRow(row);
  }

  referencedCodeHashes(): Set<string> {
    return new Set((this.#stmts.codeHashes.all() as { code_hash: string }[]).map((r) => r.code_hash));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
