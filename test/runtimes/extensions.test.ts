// External extensions from layers (/opt/extensions/*), as AWS runs them: started before the runtime,
// registered through the Extensions API, INVOKE events for every invocation, SHUTDOWN when the
// environment stops; init/error fails init; API errors as AWS's.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LogStore } from '../../src/logs/store.js';
import { systemClock } from '../../src/shared/clock.js';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp, tempDir } from '../invoke/fixtures.js';
import { waitFor } from '../helpers/wait.js';

after(() => cleanupTemp());

const exe = (content: string) => ({ content, mode: 0o755 });

// A bash extension that logs every event it gets (as the AWS samples do, with curl).
const BASH_EXTENSION = `#!/bin/bash
set -euo pipefail
NAME=$(basename "$0")
API="http://\${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
H=$(mktemp)
curl -sS -D "$H" -X POST "$API/register" -H "Lambda-Extension-Name: $NAME" -d '{"events":["INVOKE","SHUTDOWN"]}' > "$H.body"
ID=$(grep -Fi Lambda-Extension-Identifier "$H" | tr -d '[:space:]' | cut -d: -f2)
echo "[$NAME] registered for $(cat "$H.body")"
while true; do
  EVENT=$(curl -sS "$API/event/next" -H "Lambda-Extension-Identifier: $ID")
  echo "[$NAME] event $EVENT"
  case "$EVENT" in *'"SHUTDOWN"'*) echo "[$NAME] bye"; exit 0;; esac
done
`;

// A Node.js extension (the usual layout: a launcher in extensions/, the code beside it).
const NODE_EXTENSION = `const http = require('node:http');
const base = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2020-01-01/extension';
const call = (method, p, headers, body) => new Promise((resolve, reject) => {
  const req = http.request(base + p, { method, headers }, (res) => { let d = ''; res.on('data', (c) => (d += c)); res.on('end', () => resolve({ headers: res.headers, body: d })); });
  req.on('error', reject);
  req.end(body);
});
(async () => {
  const reg = await call('POST', '/register', { 'Lambda-Extension-Name': 'node-ext' }, JSON.stringify({ events: ['INVOKE'] }));
  const id = reg.headers['lambda-extension-identifier'];
  for (;;) {
    const ev = JSON.parse((await call('GET', '/event/next', { 'Lambda-Extension-Identifier': id })).body);
    console.log('[node-ext] ' + ev.eventType + ' ' + ev.requestId);
  }
})();
`;

/**
 * Whether an environment of this process's engine is frozen now (cgroup v1 freezer or v2
 * cgroup.freeze); undefined where environments are not frozen at all.
 */
function frozenEnvironments(): boolean | undefined {
  const own = (controller: RegExp) => fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => controller.test(l))?.replace(/^[^:]*:[^:]*:/, '');
  const v1 = own(/^\d+:([^:]*,)?freezer(,[^:]*)?:/);
  const v2 = own(/^0::/);
  const candidates: [string, (dir: string) => boolean][] = [];
  if (v1 !== undefined) candidates.push([path.join('/sys/fs/cgroup/freezer', v1), (d) => fs.readFileSync(path.join(d, 'freezer.state'), 'utf8').trim() === 'FROZEN']);
  if (v2 !== undefined) {
    for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      for (const base of [v2, path.dirname(v2)]) candidates.push([path.join(root, base), (d) => /^frozen 1$/m.test(fs.readFileSync(path.join(d, 'cgroup.events'), 'utf8'))]);
    }
  }
  for (const [base, frozen] of candidates) {
    const parent = path.join(base, `lambdalite-${process.pid}`);
    let names: string[];
    try {
      names = fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      if (!fs.existsSync(path.join(parent, base.startsWith('/sys/fs/cgroup/freezer') ? 'freezer.state' : 'cgroup.freeze'))) continue;
    } catch {
      continue;
    }
    return names.some((n) => {
      try {
        return frozen(path.join(parent, n));
      } catch {
        return false;
      }
    });
  }
  return undefined;
}

function extensionLayer(): string {
  return makeCode({
    'extensions/bash-logger': exe(BASH_EXTENSION),
    'extensions/node-ext': exe('#!/bin/bash\nexec node /opt/node-ext/index.js\n'),
    'node-ext/index.js': NODE_EXTENSION,
  });
}

describe('external extensions', () => {
  it('start before the runtime, register, see every INVOKE, and get SHUTDOWN when the environment stops', async () => {
    // A store of the test's own, so the lines written while the environment shuts down can be read after close.
    const logs = new LogStore(path.join(tempDir('ext-logs'), 'logs.db'), { clock: systemClock, retentionDays: 0, maxBytes: 0 });
    const invoker = testInvoker({ logs, network: 'egress' });
    const cfg = fnConfig({
      runtime: 'nodejs22.x',
      layerDirs: [extensionLayer()],
      codeDir: makeCode({ 'index.js': 'exports.handler = async (e) => ({ n: e.n });' }),
    });
    const ids: string[] = [];
    try {
      for (let n = 1; n <= 3; n++) {
        const { result, body } = await invokeJson(invoker, cfg, { n });
        assert.equal(result.functionError, undefined, JSON.stringify(body));
        assert.deepEqual(body, { n });
        ids.push(result.requestId);
      }
      const text = await logText(invoker, cfg);
      assert.match(text, /EXTENSION\tName: bash-logger\tState: Registered\tEvents: \[INVOKE,SHUTDOWN\]/);
      assert.match(text, /EXTENSION\tName: node-ext\tState: Registered\tEvents: \[INVOKE\]/);
      assert.match(text, /\[bash-logger\] registered for \{"functionName":"[^"]+","functionVersion":"\$LATEST","handler":"index.handler"\}/);
      // An invocation reaches the runtime only once the extensions are done with the one before.
      for (const [i, id] of ids.slice(0, -1).entries()) {
        const seen = text.search(new RegExp(`\\[bash-logger\\] event \\{"eventType":"INVOKE","deadlineMs":\\d+,"requestId":"${id}","invokedFunctionArn":"${cfg.functionArn}","tracing":\\{"type":"X-Amzn-Trace-Id","value":"Root=[^"]+"\\}\\}`));
        assert.ok(seen >= 0 && seen < text.indexOf(`START RequestId: ${ids[i + 1]}`), text);
        const node = text.indexOf(`[node-ext] INVOKE ${id}`);
        assert.ok(node >= 0 && node < text.indexOf(`START RequestId: ${ids[i + 1]}`), text);
      }
      // Once the extensions wait for their next event again the idle environment is frozen: the
      // SHUTDOWN below reaches them only if it is thawed first.
      const lastInvoke = new RegExp(`\\[bash-logger\\] event \\{"eventType":"INVOKE","deadlineMs":\\d+,"requestId":"${ids[2]}"`);
      await waitFor(async () => lastInvoke.test(await logText(invoker, cfg)), { message: 'the last INVOKE at the extension', timeoutMs: 10_000 });
      if (frozenEnvironments() !== undefined) await waitFor(() => frozenEnvironments(), { message: 'the idle environment frozen', timeoutMs: 10_000 });
    } finally {
      await invoker.close();
    }
    const all = logs.groupText(cfg.logGroup).map((s) => s.text).join('');
    logs.close();
    assert.match(all, new RegExp(`\\[bash-logger\\] event \\{"eventType":"INVOKE","deadlineMs":\\d+,"requestId":"${ids[2]}"`));
    assert.match(all, /\[bash-logger\] event \{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":\d+\}/);
    assert.match(all, /\[bash-logger\] bye/);
  });

  it('fail init when an extension reports init/error', async () => {
    const invoker = testInvoker();
    try {
      const layer = makeCode({
        'extensions/broken': exe(`#!/bin/bash
API="http://\${AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension"
H=$(mktemp)
curl -sS -D "$H" -X POST "$API/register" -H "Lambda-Extension-Name: broken" -d '{"events":["INVOKE"]}' > /dev/null
ID=$(grep -Fi Lambda-Extension-Identifier "$H" | tr -d '[:space:]' | cut -d: -f2)
curl -sS -X POST "$API/init/error" -H "Lambda-Extension-Identifier: $ID" -H "Lambda-Extension-Function-Error-Type: Extension.ConfigInvalid" -d '{"errorMessage":"no config","errorType":"Extension.ConfigInvalid"}' > /dev/null
sleep 30
`),
      });
      const cfg = fnConfig({ layerDirs: [layer], codeDir: makeCode({ 'index.js': 'exports.handler = async () => 1;' }) });
      const { result, body } = await invokeJson(invoker, cfg);
      assert.equal(result.functionError, 'Unhandled');
      assert.equal(body.errorType, 'Extension.ConfigInvalid');
      assert.match(await logText(invoker, cfg), /EXTENSION\tName: broken\tState: InitError\tError Type: Extension.ConfigInvalid/);
    } finally {
      await invoker.close();
    }
  });

  it('answer AWS\'s errors: late registration, unknown identifiers, bad event types', async () => {
    const invoker = testInvoker();
    try {
      const cfg = fnConfig({
        codeDir: makeCode({
          'index.js': `const http = require('node:http');
const base = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2020-01-01/extension';
const call = (method, p, headers, body) => new Promise((resolve, reject) => {
  const req = http.request(base + p, { method, headers }, (res) => { let d = ''; res.on('data', (c) => (d += c)); res.on('end', () => resolve({ status: res.statusCode, body: d ? JSON.parse(d) : null })); });
  req.on('error', reject);
  req.end(body);
});
exports.handler = async () => ({
  late: await call('POST', '/register', { 'Lambda-Extension-Name': 'late' }, '{"events":["INVOKE"]}'),
  unknown: await call('GET', '/event/next', { 'Lambda-Extension-Identifier': 'nope' }),
  missing: await call('GET', '/event/next', {}),
});`,
        }),
      });
      const { body } = await invokeJson(invoker, cfg);
      assert.deepEqual(body.late, { status: 403, body: { errorMessage: 'Extension registration closed already', errorType: 'Extension.RegistrationClosed' } });
      assert.equal(body.unknown.status, 403);
      assert.equal(body.unknown.body.errorType, 'Extension.UnknownExtensionIdentifier');
      assert.equal(body.missing.body.errorType, 'Extension.MissingHeader');
    } finally {
      await invoker.close();
    }
  });
});

