// Versioned schema migrations. Append only: a migration that has shipped is never edited.
export const migrations: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE functions (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (account_id, region, name)
      ) WITHOUT ROWID;
      CREATE TABLE function_versions (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        code_hash TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, version),
        FOREIGN KEY (account_id, region, name) REFERENCES functions (account_id, region, name) ON DELETE CASCADE
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    sql: `
      ALTER TABLE functions ADD COLUMN next_version INTEGER NOT NULL DEFAULT 1;
      CREATE TABLE aliases (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, alias),
        FOREIGN KEY (account_id, region, name) REFERENCES functions (account_id, region, name) ON DELETE CASCADE
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    sql: `
      -- Code hashes of the layer versions a function version was created with: they keep working after
      -- the layer version is deleted, as on AWS.
      ALTER TABLE function_versions ADD COLUMN layer_hashes TEXT NOT NULL DEFAULT '[]';
      CREATE TABLE function_policies (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        qualifier TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        statements TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, qualifier),
        FOREIGN KEY (account_id, region, name) REFERENCES functions (account_id, region, name) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE TABLE layers (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        next_version INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (account_id, region, name)
      ) WITHOUT ROWID;
      CREATE TABLE layer_versions (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        code_hash TEXT NOT NULL,
        config TEXT NOT NULL,
        statements TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (account_id, region, name, version),
        FOREIGN KEY (account_id, region, name) REFERENCES layers (account_id, region, name)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    sql: `
      ALTER TABLE functions ADD COLUMN reserved_concurrency INTEGER;
      CREATE TABLE provisioned_concurrency (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        qualifier TEXT NOT NULL,
        requested INTEGER NOT NULL,
        last_modified TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, qualifier),
        FOREIGN KEY (account_id, region, name) REFERENCES functions (account_id, region, name) ON DELETE CASCADE
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    sql: `
      -- Asynchronous invocation (src/queue/). Event invoke configs belong to one qualifier ($LATEST, a
      -- version or an alias) and go with the function.
      CREATE TABLE event_invoke_configs (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        qualifier TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name, qualifier),
        FOREIGN KEY (account_id, region, name) REFERENCES functions (account_id, region, name) ON DELETE CASCADE
      ) WITHOUT ROWID;
      -- The durable queue of Event invocations. No foreign key: an event of a deleted function is dropped
      -- by the worker with a log line, as the function is resolved again at delivery time.
      CREATE TABLE async_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        function_arn TEXT NOT NULL,
        qualifier TEXT,
        payload BLOB NOT NULL,
        client_context TEXT,
        enqueued_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        throttles INTEGER NOT NULL DEFAULT 0,
        stage TEXT NOT NULL DEFAULT 'invoke',
        state TEXT,
        lease_owner TEXT,
        lease_until INTEGER
      );
      CREATE INDEX async_events_due ON async_events (due_at);
    `,
  },
  {
    version: 6,
    sql: `
      -- Event source mappings (src/events/). No foreign key to functions: on AWS a mapping outlives its
      -- function (its LastProcessingResult then reports the problem).
      CREATE TABLE event_source_mappings (
        uuid TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        event_source_arn TEXT NOT NULL,
        function_arn TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        config TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX event_source_mappings_scope ON event_source_mappings (account_id, region, created_at);
      -- Where a stream mapping has read each shard up to (the last sequence number fully handled).
      CREATE TABLE stream_checkpoints (
        mapping_uuid TEXT NOT NULL,
        shard_id TEXT NOT NULL,
        sequence_number TEXT NOT NULL,
        PRIMARY KEY (mapping_uuid, shard_id),
        FOREIGN KEY (mapping_uuid) REFERENCES event_source_mappings (uuid) ON DELETE CASCADE
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    sql: `
      -- Small configuration documents of other resources (code signing configs) and per-function settings
      -- (code signing binding, recursion, runtime management). A document of a function (function_name
      -- set) goes with it; NULL there means an account-level resource.
      CREATE TABLE documents (
        kind TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        id TEXT NOT NULL,
        function_name TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, account_id, region, id),
        FOREIGN KEY (account_id, region, function_name) REFERENCES functions (account_id, region, name) ON DELETE CASCADE
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    sql: `
      -- The caller's X-Amzn-Trace-Id of an async event: recursive loop detection counts through it.
      ALTER TABLE async_events ADD COLUMN trace_header TEXT;
    `,
  },
];
