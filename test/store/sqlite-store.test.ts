import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeContract } from './store-contract.js';

storeContract('sqlite', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'lambdalite-store-')), 'db.sqlite');
  return { store: new SqliteStore(file), reopen: () => new SqliteStore(file) };
});
