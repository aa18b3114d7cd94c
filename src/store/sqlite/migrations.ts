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
];
