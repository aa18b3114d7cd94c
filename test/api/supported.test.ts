// README's "Every operation" table is true: every model operation is listed once, and "supported" exactly
// when the server has a handler for it. An unimplemented operation answers ServiceException naming it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { operations } from '../../src/api/generated/model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let t: TestServer;

before(async () => { t = await startTestServer(); });
after(async () => t.close());

/** Operation -> status from the README table. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Every operation'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| ([A-Za-z]+) \| (supported|not yet) \|/.exec(line);
    if (!m) continue;
    assert.ok(!rows.has(m[1]!), `${m[1]} is listed twice`);
    rows.set(m[1]!, m[2]!);
  }
  return rows;
}

test('the README lists every operation with the status the server has', () => {
  const rows = readmeTable();
  assert.deepEqual([...rows.keys()].sort(), operations.map((o) => o.name).sort());
  for (const [op, status] of rows) {
    assert.equal(status === 'supported', t.server.implemented.has(op), `README says ${op} is ${status}`);
  }
});

test('the operations not implemented yet', () => {
  const missing = operations.map((o) => o.name).filter((n) => !t.server.implemented.has(n)).sort();
  // Function URLs, response streaming, scaling configs, capacity providers and durable executions.
  assert.deepEqual(missing, [
    'CheckpointDurableExecution', 'CreateCapacityProvider', 'CreateFunctionUrlConfig', 'DeleteCapacityProvider', 'DeleteFunctionUrlConfig',
    'GetCapacityProvider', 'GetDurableExecution', 'GetDurableExecutionHistory', 'GetDurableExecutionState', 'GetFunctionScalingConfig',
    'GetFunctionUrlConfig', 'InvokeWithResponseStream', 'ListCapacityProviders', 'ListDurableExecutionsByFunction', 'ListFunctionUrlConfigs',
    'ListFunctionVersionsByCapacityProvider', 'PutFunctionScalingConfig', 'SendDurableExecutionCallbackFailure',
    'SendDurableExecutionCallbackHeartbeat', 'SendDurableExecutionCallbackSuccess', 'StopDurableExecution', 'UpdateCapacityProvider',
    'UpdateFunctionUrlConfig',
  ]);
});
