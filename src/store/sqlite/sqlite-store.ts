// SQLite adapter of the Store: one file under the data dir, WAL, statements prepared once.
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { migrations } from './migrations.js';
import type { FunctionKey, LayerKey, ListPage, PolicyStatement, Store, StoredAlias, StoredConfig, StoredFunction, StoredLayerVersion, StoredPolicy, StoredProvisioned, StoredVersion } from '../types.js';
import type { NewQueuedEvent, QueuedEvent, QueuedEventCounts, QueuedEventUpdate, StoredEventInvokeConfig } from '../types.js';
import type { DocumentKey, StoredEventSourceMapping } from '../types.js';

interface FunctionRow extends VersionRow {
  account_id: string;
  region: string;
  name: string;
  created_at: string;
  tags: string;
  reserved_concurrency: number | null;
}

interface VersionRow {
  version: string;
  code_hash: string;
  config: string;
  layer_hashes: string;
}

function fromVersionRow(row: VersionRow): StoredVersion {
  const layerHashes = JSON.parse(row.layer_hashes) as string[];
  return { version: row.version, codeHash: row.code_hash, config: JSON.parse(row.config) as StoredConfig, ...(layerHashes.length ? { layerHashes } : {}) };
}

interface LayerVersionRow {
  version: number;
  code_hash: string;
  config: string;
}

function fromLayerRow(row: LayerVersionRow): StoredLayerVersion {
  return { ...(JSON.parse(row.config) as Omit<StoredLayerVersion, 'version' | 'codeHash'>), version: row.version, codeHash: row.code_hash };
}

interface ProvisionedRow {
  qualifier: string;
  requested: number;
  last_modified: string;
}

function fromProvisionedRow(row: ProvisionedRow): StoredProvisioned {
  return { qualifier: row.qualifier, requested: row.requested, lastModified: row.last_modified };
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #stmts: {
    insertFunction: Statement;
    insertVersion: Statement;
    getFunction: Statement;
    listFunctions: Statement;
    updateVersion: Statement;
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
    setTags: Statement;
    getPolicy: Statement;
    insertPolicy: Statement;
    updatePolicy: Statement;
    deletePolicy: Statement;
    ensureLayer: Statement;
    nextLayerVersion: Statement;
    bumpLayerVersion: Statement;
    insertLayerVersion: Statement;
    getLayerVersion: Statement;
    listLayerVersions: Statement;
    listLayerNames: Statement;
    deleteLayerVersion: Statement;
    getLayerPolicy: Statement;
    putLayerPolicy: Statement;
    functionCount: Statement;
    functionCodeSize: Statement;
    layerCodeSize: Statement;
    setReserved: Statement;
    reservedTotal: Statement;
    putProvisioned: Statement;
    getProvisioned: Statement;
    listProvisioned: Statement;
    deleteProvisioned: Statement;
    allProvisioned: Statement;
  };

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    const latestJoin = `SELECT f.account_id, f.region, f.name, f.created_at, f.tags, f.reserved_concurrency, v.version, v.code_hash, v.config, v.layer_hashes
      FROM functions f JOIN function_versions v
        ON v.account_id = f.account_id AND v.region = f.region AND v.name = f.name AND v.version = '$LATEST'`;
    this.#stmts = {
      insertFunction: this.#db.prepare('INSERT OR IGNORE INTO functions (account_id, region, name, created_at, tags) VALUES (?, ?, ?, ?, ?)'),
      insertVersion: this.#db.prepare('INSERT INTO function_versions (account_id, region, name, version, revision_id, code_hash, config, layer_hashes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      getFunction: this.#db.prepare(`${latestJoin} WHERE f.account_id = ? AND f.region = ? AND f.name = ?`),
      listFunctions: this.#db.prepare(`${latestJoin} WHERE f.account_id = ? AND f.region = ? AND f.name > ? ORDER BY f.name LIMIT ?`),
      updateVersion: this.#db.prepare(`UPDATE function_versions SET revision_id = ?, code_hash = ?, config = ?, layer_hashes = ?
        WHERE account_id = ? AND region = ? AND name = ? AND version = ? AND revision_id = ?`),
      deleteFunction: this.#db.prepare('DELETE FROM functions WHERE account_id = ? AND region = ? AND name = ?'),
      allFunctions: this.#db.prepare(latestJoin),
      codeHashes: this.#db.prepare(`SELECT code_hash FROM function_versions UNION SELECT value FROM function_versions, json_each(layer_hashes)
        UNION SELECT code_hash FROM layer_versions`),
      nextVersion: this.#db.prepare('SELECT next_version FROM functions WHERE account_id = ? AND region = ? AND name = ?'),
      bumpVersion: this.#db.prepare('UPDATE functions SET next_version = next_version + 1 WHERE account_id = ? AND region = ? AND name = ?'),
      getVersion: this.#db.prepare('SELECT version, code_hash, config, layer_hashes FROM function_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      // $LATEST sorts as -1, published versions numerically.
      listVersions: this.#db.prepare(`SELECT version, code_hash, config, layer_hashes FROM function_versions
        WHERE account_id = ? AND region = ? AND name = ?
          AND (CASE version WHEN '$LATEST' THEN -1 ELSE CAST(version AS INTEGER) END) > ?
        ORDER BY CASE version WHEN '$LATEST' THEN -1 ELSE CAST(version AS INTEGER) END LIMIT ?`),
      deleteVersion: this.#db.prepare('DELETE FROM function_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      insertAlias: this.#db.prepare('INSERT OR IGNORE INTO aliases (account_id, region, name, alias, revision_id, config) VALUES (?, ?, ?, ?, ?, ?)'),
      updateAlias: this.#db.prepare('UPDATE aliases SET revision_id = ?, config = ? WHERE account_id = ? AND region = ? AND name = ? AND alias = ? AND revision_id = ?'),
      getAlias: this.#db.prepare('SELECT config FROM aliases WHERE account_id = ? AND region = ? AND name = ? AND alias = ?'),
      listAliases: this.#db.prepare('SELECT config FROM aliases WHERE account_id = ? AND region = ? AND name = ? AND alias > ? ORDER BY alias LIMIT ?'),
      deleteAlias: this.#db.prepare('DELETE FROM aliases WHERE account_id = ? AND region = ? AND name = ? AND alias = ?'),
      setTags: this.#db.prepare('UPDATE functions SET tags = ? WHERE account_id = ? AND region = ? AND name = ?'),
      getPolicy: this.#db.prepare('SELECT revision_id, statements FROM function_policies WHERE account_id = ? AND region = ? AND name = ? AND qualifier = ?'),
      insertPolicy: this.#db.prepare('INSERT OR IGNORE INTO function_policies (account_id, region, name, qualifier, revision_id, statements) VALUES (?, ?, ?, ?, ?, ?)'),
      updatePolicy: this.#db.prepare('UPDATE function_policies SET revision_id = ?, statements = ? WHERE account_id = ? AND region = ? AND name = ? AND qualifier = ? AND revision_id = ?'),
      deletePolicy: this.#db.prepare('DELETE FROM function_policies WHERE account_id = ? AND region = ? AND name = ? AND qualifier = ?'),
      ensureLayer: this.#db.prepare('INSERT OR IGNORE INTO layers (account_id, region, name) VALUES (?, ?, ?)'),
      nextLayerVersion: this.#db.prepare('SELECT next_version FROM layers WHERE account_id = ? AND region = ? AND name = ?'),
      bumpLayerVersion: this.#db.prepare('UPDATE layers SET next_version = next_version + 1 WHERE account_id = ? AND region = ? AND name = ?'),
      insertLayerVersion: this.#db.prepare('INSERT INTO layer_versions (account_id, region, name, version, code_hash, config) VALUES (?, ?, ?, ?, ?, ?)'),
      getLayerVersion: this.#db.prepare('SELECT version, code_hash, config FROM layer_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      listLayerVersions: this.#db.prepare('SELECT version, code_hash, config FROM layer_versions WHERE account_id = ? AND region = ? AND name = ? AND version < ? ORDER BY version DESC LIMIT ?'),
      listLayerNames: this.#db.prepare('SELECT DISTINCT name FROM layer_versions WHERE account_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?'),
      deleteLayerVersion: this.#db.prepare('DELETE FROM layer_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      getLayerPolicy: this.#db.prepare('SELECT statements FROM layer_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      putLayerPolicy: this.#db.prepare('UPDATE layer_versions SET statements = ? WHERE account_id = ? AND region = ? AND name = ? AND version = ?'),
      functionCount: this.#db.prepare('SELECT count(*) AS n FROM functions WHERE account_id = ? AND region = ?'),
      functionCodeSize: this.#db.prepare("SELECT coalesce(sum(json_extract(config, '$.CodeSize')), 0) AS n FROM function_versions WHERE account_id = ? AND region = ?"),
      setReserved: this.#db.prepare('UPDATE functions SET reserved_concurrency = ? WHERE account_id = ? AND region = ? AND name = ?'),
      reservedTotal: this.#db.prepare('SELECT coalesce(sum(reserved_concurrency), 0) AS n FROM functions WHERE account_id = ? AND region = ? AND name != ?'),
      putProvisioned: this.#db.prepare(`INSERT INTO provisioned_concurrency (account_id, region, name, qualifier, requested, last_modified) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (account_id, region, name, qualifier) DO UPDATE SET requested = excluded.requested, last_modified = excluded.last_modified`),
      getProvisioned: this.#db.prepare('SELECT qualifier, requested, last_modified FROM provisioned_concurrency WHERE account_id = ? AND region = ? AND name = ? AND qualifier = ?'),
      listProvisioned: this.#db.prepare('SELECT qualifier, requested, last_modified FROM provisioned_concurrency WHERE account_id = ? AND region = ? AND name = ? ORDER BY qualifier'),
      deleteProvisioned: this.#db.prepare('DELETE FROM provisioned_concurrency WHERE account_id = ? AND region = ? AND name = ? AND qualifier = ?'),
      allProvisioned: this.#db.prepare('SELECT account_id, region, name, qualifier, requested, last_modified FROM provisioned_concurrency'),
      layerCodeSize: this.#db.prepare("SELECT coalesce(sum(json_extract(config, '$.codeSize')), 0) AS n FROM layer_versions WHERE account_id = ? AND region = ?"),
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
      ...(row.reserved_concurrency !== null ? { reservedConcurrency: row.reserved_concurrency } : {}),
      latest: fromVersionRow(row),
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
    this.#stmts.insertVersion.run(key.accountId, key.region, key.name, v.version, v.config.RevisionId ?? '', v.codeHash, JSON.stringify(v.config), JSON.stringify(v.layerHashes ?? []));
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
    return this.replaceVersion(key, expectedRevisionId, latest);
  }

  replaceVersion(key: FunctionKey, expectedRevisionId: string, v: StoredVersion): boolean {
    const r = this.#stmts.updateVersion.run(v.config.RevisionId ?? '', v.codeHash, JSON.stringify(v.config), JSON.stringify(v.layerHashes ?? []), key.accountId, key.region, key.name, v.version, expectedRevisionId);
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

  setTags(key: FunctionKey, tags: Readonly<Record<string, string>>): boolean {
    return this.#stmts.setTags.run(JSON.stringify(tags), key.accountId, key.region, key.name).changes === 1;
  }

  getPolicy(key: FunctionKey, qualifier: string): StoredPolicy | undefined {
    const row = this.#stmts.getPolicy.get(key.accountId, key.region, key.name, qualifier) as { revision_id: string; statements: string } | undefined;
    return row && { revisionId: row.revision_id, statements: JSON.parse(row.statements) as PolicyStatement[] };
  }

  putPolicy(key: FunctionKey, qualifier: string, policy: StoredPolicy, expectedRevisionId: string | null): boolean {
    const json = JSON.stringify(policy.statements);
    if (expectedRevisionId === null) {
      return this.#stmts.insertPolicy.run(key.accountId, key.region, key.name, qualifier, policy.revisionId, json).changes === 1;
    }
    return this.#stmts.updatePolicy.run(policy.revisionId, json, key.accountId, key.region, key.name, qualifier, expectedRevisionId).changes === 1;
  }

  deletePolicy(key: FunctionKey, qualifier: string): void {
    this.#stmts.deletePolicy.run(key.accountId, key.region, key.name, qualifier);
  }

  publishLayerVersion(key: LayerKey, build: (version: number) => StoredLayerVersion): StoredLayerVersion {
    return this.#db.transaction(() => {
      this.#stmts.ensureLayer.run(key.accountId, key.region, key.name);
      const { next_version } = this.#stmts.nextLayerVersion.get(key.accountId, key.region, key.name) as { next_version: number };
      const v = build(next_version);
      const { version: _v, codeHash, ...config } = v;
      this.#stmts.insertLayerVersion.run(key.accountId, key.region, key.name, next_version, codeHash, JSON.stringify(config));
      this.#stmts.bumpLayerVersion.run(key.accountId, key.region, key.name);
      return v;
    })();
  }

  getLayerVersion(key: LayerKey, version: number): StoredLayerVersion | undefined {
    const row = this.#stmts.getLayerVersion.get(key.accountId, key.region, key.name, version) as LayerVersionRow | undefined;
    return row && fromLayerRow(row);
  }

  listLayerVersions(key: LayerKey, before: number | undefined, limit: number): ListPage<StoredLayerVersion> {
    const rows = this.#stmts.listLayerVersions.all(key.accountId, key.region, key.name, before ?? Number.MAX_SAFE_INTEGER, limit + 1) as LayerVersionRow[];
    const items = rows.slice(0, limit).map(fromLayerRow);
    return { items, nextMarker: rows.length > limit ? String(items[items.length - 1]?.version) : undefined };
  }

  listLayerNames(accountId: string, region: string, after: string | undefined, limit: number): ListPage<string> {
    const rows = this.#stmts.listLayerNames.all(accountId, region, after ?? '', limit + 1) as { name: string }[];
    const items = rows.slice(0, limit).map((r) => r.name);
    return { items, nextMarker: rows.length > limit ? items[items.length - 1] : undefined };
  }

  deleteLayerVersion(key: LayerKey, version: number): boolean {
    return this.#stmts.deleteLayerVersion.run(key.accountId, key.region, key.name, version).changes > 0;
  }

  getLayerVersionPolicy(key: LayerKey, version: number): PolicyStatement[] | undefined {
    const row = this.#stmts.getLayerPolicy.get(key.accountId, key.region, key.name, version) as { statements: string } | undefined;
    return row && (JSON.parse(row.statements) as PolicyStatement[]);
  }

  putLayerVersionPolicy(key: LayerKey, version: number, statements: readonly PolicyStatement[]): boolean {
    return this.#stmts.putLayerPolicy.run(JSON.stringify(statements), key.accountId, key.region, key.name, version).changes === 1;
  }

  codeUsage(accountId: string, region: string): { functionCount: number; totalCodeSize: number } {
    const n = (s: Statement) => (s.get(accountId, region) as { n: number }).n;
    return { functionCount: n(this.#stmts.functionCount), totalCodeSize: n(this.#stmts.functionCodeSize) + n(this.#stmts.layerCodeSize) };
  }

  setReservedConcurrency(key: FunctionKey, reserved: number | undefined): boolean {
    return this.#stmts.setReserved.run(reserved ?? null, key.accountId, key.region, key.name).changes === 1;
  }

  reservedConcurrencyTotal(accountId: string, region: string, except = ''): number {
    return (this.#stmts.reservedTotal.get(accountId, region, except) as { n: number }).n;
  }

  putProvisioned(key: FunctionKey, p: StoredProvisioned): void {
    this.#stmts.putProvisioned.run(key.accountId, key.region, key.name, p.qualifier, p.requested, p.lastModified);
  }

  getProvisioned(key: FunctionKey, qualifier: string): StoredProvisioned | undefined {
    const row = this.#stmts.getProvisioned.get(key.accountId, key.region, key.name, qualifier) as ProvisionedRow | undefined;
    return row && fromProvisionedRow(row);
  }

  listProvisioned(key: FunctionKey): StoredProvisioned[] {
    return (this.#stmts.listProvisioned.all(key.accountId, key.region, key.name) as ProvisionedRow[]).map(fromProvisionedRow);
  }

  deleteProvisioned(key: FunctionKey, qualifier: string): boolean {
    return this.#stmts.deleteProvisioned.run(key.accountId, key.region, key.name, qualifier).changes > 0;
  }

  allProvisioned(): Array<FunctionKey & StoredProvisioned> {
    return (this.#stmts.allProvisioned.all() as Array<ProvisionedRow & { account_id: string; region: string; name: string }>).map((r) => ({
      accountId: r.account_id, region: r.region, name: r.name, ...fromProvisionedRow(r),
    }));
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

  // Asynchronous invocation: event invoke configs and the durable queue. Statements are prepared on
  // first use so this part stays apart from the constructor.
  #asyncStmts: Record<string, Statement> | undefined;

  #q(): Record<string, Statement> {
    this.#asyncStmts ??= {
      putConfig: this.#db.prepare(`INSERT INTO event_invoke_configs (account_id, region, name, qualifier, config) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (account_id, region, name, qualifier) DO UPDATE SET config = excluded.config`),
      getConfig: this.#db.prepare('SELECT config FROM event_invoke_configs WHERE account_id = ? AND region = ? AND name = ? AND qualifier = ?'),
      listConfigs: this.#db.prepare('SELECT config FROM event_invoke_configs WHERE account_id = ? AND region = ? AND name = ?'),
      deleteConfig: this.#db.prepare('DELETE FROM event_invoke_configs WHERE account_id = ? AND region = ? AND name = ? AND qualifier = ?'),
      insertEvent: this.#db.prepare(`INSERT OR IGNORE INTO async_events (request_id, account_id, region, function_arn, qualifier, payload, client_context, enqueued_at, due_at, trace_header)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      dueEvents: this.#db.prepare(`SELECT * FROM async_events WHERE due_at <= ? AND (lease_owner IS NULL OR lease_until < ?) ORDER BY due_at, id LIMIT ?`),
      lease: this.#db.prepare('UPDATE async_events SET lease_owner = ?, lease_until = ? WHERE id = ?'),
      releaseForeign: this.#db.prepare('UPDATE async_events SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND lease_owner != ?'),
      reschedule: this.#db.prepare(`UPDATE async_events SET due_at = ?, attempts = ?, throttles = ?, stage = ?, state = ?, lease_owner = NULL, lease_until = NULL
        WHERE id = ? AND lease_owner = ?`),
      deleteEvent: this.#db.prepare('DELETE FROM async_events WHERE id = ? AND lease_owner = ?'),
      nextDue: this.#db.prepare('SELECT min(due_at) AS t FROM async_events WHERE lease_owner IS NULL'),
      count: this.#db.prepare('SELECT count(*) AS n FROM async_events'),
      countByState: this.#db.prepare(`SELECT coalesce(sum(stage != 'deliver' AND attempts = 0), 0) AS pending,
        coalesce(sum(stage != 'deliver' AND attempts > 0), 0) AS retrying, coalesce(sum(stage = 'deliver'), 0) AS delivering FROM async_events`),
    };
    return this.#asyncStmts;
  }

  putEventInvokeConfig(key: FunctionKey, config: StoredEventInvokeConfig): void {
    this.#q()['putConfig']!.run(key.accountId, key.region, key.name, config.qualifier, JSON.stringify(config));
  }

  getEventInvokeConfig(key: FunctionKey, qualifier: string): StoredEventInvokeConfig | undefined {
    const row = this.#q()['getConfig']!.get(key.accountId, key.region, key.name, qualifier) as { config: string } | undefined;
    return row && (JSON.parse(row.config) as StoredEventInvokeConfig);
  }

  listEventInvokeConfigs(key: FunctionKey): StoredEventInvokeConfig[] {
    return (this.#q()['listConfigs']!.all(key.accountId, key.region, key.name) as { config: string }[]).map((r) => JSON.parse(r.config) as StoredEventInvokeConfig);
  }

  deleteEventInvokeConfig(key: FunctionKey, qualifier: string): boolean {
    return this.#q()['deleteConfig']!.run(key.accountId, key.region, key.name, qualifier).changes > 0;
  }

  enqueueEvents(events: readonly NewQueuedEvent[]): void {
    const insert = this.#q()['insertEvent']!;
    // WAL with synchronous=NORMAL survives a process crash but may lose the last commits on power
    // loss; an accepted event must not, so its commit is fsync'd (FULL). Callers batch events so one
    // fsync covers many.
    this.#db.pragma('synchronous = FULL');
    try {
      this.#db.transaction(() => {
        for (const e of events) {
          insert.run(e.requestId, e.accountId, e.region, e.functionArn, e.qualifier ?? null, e.payload, e.clientContext ?? null, e.enqueuedAt, e.dueAt, e.traceHeader ?? null);
        }
      })();
    } finally {
      this.#db.pragma('synchronous = NORMAL');
    }
  }

  claimEvents(owner: string, now: number, leaseUntil: number, limit: number): QueuedEvent[] {
    const q = this.#q();
    return this.#db.transaction(() => {
      const rows = q['dueEvents']!.all(now, now, limit) as QueuedEventRow[];
      for (const r of rows) q['lease']!.run(owner, leaseUntil, r.id);
      return rows.map(fromQueuedEventRow);
    })();
  }

  releaseForeignLeases(owner: string): number {
    return this.#q()['releaseForeign']!.run(owner).changes;
  }

  rescheduleEvent(id: number, owner: string, next: QueuedEventUpdate): boolean {
    return this.#q()['reschedule']!.run(next.dueAt, next.attempts, next.throttles, next.stage, next.state ?? null, id, owner).changes === 1;
  }

  deleteEvent(id: number, owner: string): boolean {
    return this.#q()['deleteEvent']!.run(id, owner).changes === 1;
  }

  nextEventDue(): number | undefined {
    const row = this.#q()['nextDue']!.get() as { t: number | null };
    return row.t ?? undefined;
  }

  countEvents(): number {
    return (this.#q()['count']!.get() as { n: number }).n;
  }

  countEventsByState(): QueuedEventCounts {
    return this.#q()['countByState']!.get() as QueuedEventCounts;
  }

  // Event source mappings and stream checkpoints, prepared on first use like the async queue's.
  #esmStmts: Record<string, Statement> | undefined;

  #e(): Record<string, Statement> {
    this.#esmStmts ??= {
      put: this.#db.prepare(`INSERT INTO event_source_mappings (uuid, account_id, region, event_source_arn, function_arn, created_at, config) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (uuid) DO UPDATE SET event_source_arn = excluded.event_source_arn, function_arn = excluded.function_arn, config = excluded.config`),
      get: this.#db.prepare('SELECT * FROM event_source_mappings WHERE uuid = ?'),
      list: this.#db.prepare('SELECT * FROM event_source_mappings WHERE account_id = ? AND region = ? ORDER BY created_at, uuid'),
      all: this.#db.prepare('SELECT * FROM event_source_mappings ORDER BY created_at, uuid'),
      delete: this.#db.prepare('DELETE FROM event_source_mappings WHERE uuid = ?'),
      getCheckpoint: this.#db.prepare('SELECT sequence_number FROM stream_checkpoints WHERE mapping_uuid = ? AND shard_id = ?'),
      putCheckpoint: this.#db.prepare(`INSERT INTO stream_checkpoints (mapping_uuid, shard_id, sequence_number)
        SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM event_source_mappings WHERE uuid = ?)
        ON CONFLICT (mapping_uuid, shard_id) DO UPDATE SET sequence_number = excluded.sequence_number`),
    };
    return this.#esmStmts;
  }

  #docStmts: Record<string, Statement> | undefined;

  #d(): Record<string, Statement> {
    this.#docStmts ??= {
      get: this.#db.prepare('SELECT body FROM documents WHERE kind = ? AND account_id = ? AND region = ? AND id = ?'),
      put: this.#db.prepare(`INSERT INTO documents (kind, account_id, region, id, function_name, body) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (kind, account_id, region, id) DO UPDATE SET function_name = excluded.function_name, body = excluded.body`),
      delete: this.#db.prepare('DELETE FROM documents WHERE kind = ? AND account_id = ? AND region = ? AND id = ?'),
      list: this.#db.prepare('SELECT id, body FROM documents WHERE kind = ? AND account_id = ? AND region = ? ORDER BY id'),
    };
    return this.#docStmts;
  }

  getDocument(key: DocumentKey): unknown {
    const row = this.#d()['get']!.get(key.kind, key.accountId, key.region, key.id) as { body: string } | undefined;
    return row ? JSON.parse(row.body) as unknown : undefined;
  }

  putDocument(key: DocumentKey, body: unknown, functionName?: string): void {
    this.#d()['put']!.run(key.kind, key.accountId, key.region, key.id, functionName ?? null, JSON.stringify(body));
  }

  deleteDocument(key: DocumentKey): boolean {
    return this.#d()['delete']!.run(key.kind, key.accountId, key.region, key.id).changes > 0;
  }

  listDocuments(kind: string, accountId: string, region: string): Array<{ readonly id: string; readonly body: unknown }> {
    return (this.#d()['list']!.all(kind, accountId, region) as Array<{ id: string; body: string }>).map((r) => ({ id: r.id, body: JSON.parse(r.body) as unknown }));
  }

  putEventSourceMapping(m: StoredEventSourceMapping): void {
    this.#e()['put']!.run(m.uuid, m.accountId, m.region, m.config.EventSourceArn, m.config.FunctionArn, m.createdAt, JSON.stringify(m.config));
  }

  getEventSourceMapping(uuid: string): StoredEventSourceMapping | undefined {
    const row = this.#e()['get']!.get(uuid) as EsmRow | undefined;
    return row && fromEsmRow(row);
  }

  listEventSourceMappings(accountId: string, region: string): StoredEventSourceMapping[] {
    return (this.#e()['list']!.all(accountId, region) as EsmRow[]).map(fromEsmRow);
  }

  allEventSourceMappings(): StoredEventSourceMapping[] {
    return (this.#e()['all']!.all() as EsmRow[]).map(fromEsmRow);
  }

  deleteEventSourceMapping(uuid: string): boolean {
    return this.#e()['delete']!.run(uuid).changes > 0;
  }

  getStreamCheckpoint(uuid: string, shardId: string): string | undefined {
    const row = this.#e()['getCheckpoint']!.get(uuid, shardId) as { sequence_number: string } | undefined;
    return row?.sequence_number;
  }

  putStreamCheckpoint(uuid: string, shardId: string, sequenceNumber: string): void {
    this.#e()['putCheckpoint']!.run(uuid, shardId, sequenceNumber, uuid);
  }
}

interface EsmRow {
  uuid: string;
  account_id: string;
  region: string;
  created_at: number;
  config: string;
}

function fromEsmRow(r: EsmRow): StoredEventSourceMapping {
  return { uuid: r.uuid, accountId: r.account_id, region: r.region, createdAt: r.created_at, config: JSON.parse(r.config) as StoredEventSourceMapping['config'] };
}

interface QueuedEventRow {
  id: number;
  request_id: string;
  account_id: string;
  region: string;
  function_arn: string;
  qualifier: string | null;
  payload: Buffer;
  client_context: string | null;
  trace_header: string | null;
  enqueued_at: number;
  due_at: number;
  attempts: number;
  throttles: number;
  stage: string;
  state: string | null;
}

function fromQueuedEventRow(r: QueuedEventRow): QueuedEvent {
  return {
    id: r.id, requestId: r.request_id, accountId: r.account_id, region: r.region, functionArn: r.function_arn,
    qualifier: r.qualifier ?? undefined, payload: r.payload, clientContext: r.client_context ?? undefined,
    ...(r.trace_header !== null ? { traceHeader: r.trace_header } : {}),
    enqueuedAt: r.enqueued_at, dueAt: r.due_at, attempts: r.attempts, throttles: r.throttles,
    stage: r.stage === 'deliver' ? 'deliver' : 'invoke', state: r.state ?? undefined,
  };
}
