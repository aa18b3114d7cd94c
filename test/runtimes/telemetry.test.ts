// The Telemetry API: an extension subscribes to the platform and function streams and receives them
// in batches at its HTTP listener (sandbox.localdomain), with AWS's record schemas; subscriptions are
// validated as AWS does.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { SandboxInvokeEngine } from '../../src/invoke/engine.js';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from '../invoke/fixtures.js';
import { waitFor } from '../helpers/wait.js';

// Each environment in its own network namespace (the server's default): deliveries are made from inside it.
const invoker = testInvoker({ network: 'egress' });
after(async () => {
  await invoker.close();
  cleanupTemp();
});

// Prints what it receives (skipping its own lines, which come back as function events).
const TELEMETRY_EXTENSION = `const http = require('node:http');
const base = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API;
const call = (method, p, headers, body) => new Promise((resolve, reject) => {
  const req = http.request(base + p, { method, headers }, (res) => { let d = ''; res.on('data', (c) => (d += c)); res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: d })); });
  req.on('error', reject);
  req.end(body);
});
const listener = http.createServer((req, res) => {
  let d = '';
  req.on('data', (c) => (d += c));
  req.on('end', () => {
    for (const e of JSON.parse(d)) {
      if (e.type === 'function' && String(e.record).startsWith('[tele]')) continue;
      console.log('[tele] ' + e.type + ' ' + JSON.stringify(e.record));
    }
    res.end();
  });
});
(async () => {
  const reg = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'tele' }, JSON.stringify({ events: ['INVOKE'] }));
  const id = reg.headers['lambda-extension-identifier'];
  await new Promise((r) => listener.listen(0, '127.0.0.1', r));
  const sub = (body) => call('PUT', '/2022-07-01/telemetry', { 'Lambda-Extension-Identifier': id }, JSON.stringify(body));
  const bad = await sub({ schemaVersion: '2022-12-13', destination: { protocol: 'HTTP', URI: 'http://169.254.169.254/' }, types: ['platform'] });
  console.log('[tele] elsewhere ' + bad.status + ' ' + bad.body.trim());
  const tooFast = await sub({ schemaVersion: '2022-12-13', destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:1/' }, types: ['platform'], buffering: { timeoutMs: 5 } });
  console.log('[tele] tooFast ' + tooFast.status + ' ' + tooFast.body.trim());
  const ok = await sub({ schemaVersion: '2022-12-13', destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:' + listener.address().port + '/' }, types: ['platform', 'function'], buffering: { timeoutMs: 25, maxItems: 1000, maxBytes: 262144 } });
  console.log('[tele] subscribed ' + ok.status + ' ' + ok.body);
  for (;;) await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
})();
`;

describe('Telemetry API', () => {
  it('delivers platform and function events to a subscribed extension', () => deliversEvents(invoker));

  it('delivers them as before in the host network mode', async () => {
    const hostInvoker = testInvoker({ network: 'host' });
    try {
      await deliversEvents(hostInvoker);
    } finally {
      await hostInvoker.close();
    }
  });
});

/** In its own network namespace the destination is the namespace's loopback; in `host` mode the host's. */
async function deliversEvents(invoker: SandboxInvokeEngine): Promise<void> {
  const cfg = fnConfig({
    runtime: 'nodejs22.x',
    layerDirs: [makeCode({ 'extensions/tele': { content: '#!/bin/bash\nexec node /opt/tele/index.js\n', mode: 0o755 }, 'tele/index.js': TELEMETRY_EXTENSION })],
    codeDir: makeCode({ 'index.js': "exports.handler = async (e) => { console.log('hello ' + e.n); return e.n; };" }),
  });
  const { result } = await invokeJson(invoker, cfg, { n: 1 });
  assert.equal(result.functionError, undefined);
  const id = result.requestId;
  const log = await pollLog(invoker, cfg, (t) => t.includes(`[tele] platform.report {"requestId":"${id}"`));
  assert.match(log, /\[tele\] elsewhere 400 \{"errorMessage":"destination.URI must address the sandbox \(sandbox.localdomain\)","errorType":"ValidationError"\}/);
  assert.match(log, /\[tele\] tooFast 400 \{"errorMessage":"buffering.timeoutMs must be an integer from 25 to 30000","errorType":"ValidationError"\}/);
  assert.match(log, /\[tele\] subscribed 200 OK/);
  assert.match(log, new RegExp(`\\[tele\\] platform.start \\{"requestId":"${id}","version":"\\$LATEST"\\}`));
  assert.match(log, new RegExp(`\\[tele\\] function "[^"]*\\\\t${id}\\\\tINFO\\\\thello 1"`));
  assert.match(log, new RegExp(`\\[tele\\] platform.runtimeDone \\{"requestId":"${id}","status":"success","metrics":\\{"durationMs":[\\d.]+,"producedBytes":1\\}\\}`));
  assert.match(log, new RegExp(`\\[tele\\] platform.report \\{"requestId":"${id}","status":"success","metrics":\\{"durationMs":[\\d.]+,"billedDurationMs":\\d+,"memorySizeMB":128,"maxMemoryUsedMB":\\d+,"initDurationMs":[\\d.]+\\}\\}`));
  // The environment sat frozen in between: the next invocation's events arrive all the same.
  const second = (await invokeJson(invoker, cfg, { n: 2 })).result.requestId;
  const next = await pollLog(invoker, cfg, (t) => t.includes(`[tele] platform.report {"requestId":"${second}"`));
  assert.match(next, new RegExp(`\\[tele\\] function "[^"]*\\\\t${second}\\\\tINFO\\\\thello 2"`));
}

async function pollLog(invoker: SandboxInvokeEngine, cfg: Parameters<typeof logText>[1], done: (text: string) => boolean): Promise<string> {
  let text = '';
  await waitFor(async () => done((text = await logText(invoker, cfg))), { message: 'the telemetry', timeoutMs: 10_000 })
    .catch((e: unknown) => assert.fail(`${(e as Error).message}; the log so far:\n${text}`));
  return text;
}
