// TracingConfig Active: sampled trace headers, a local X-Ray daemon that takes the segments functions
// send, and the REPORT line's XRAY TraceId as AWS writes it.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeCode, fnConfig, testInvoker, invokeJson, logText, cleanupTemp } from '../invoke/fixtures.js';
import { waitFor } from '../helpers/wait.js';

// Each environment in its own network namespace (the server's default), where the daemon is the namespace's own.
const invoker = testInvoker({ network: 'egress' });
after(async () => {
  await invoker.close();
  cleanupTemp();
});

const SENDER = `
const dgram = require('node:dgram');
exports.handler = async () => {
  const header = process.env._X_AMZN_TRACE_ID;
  const root = header.match(/Root=([^;]+)/)[1];
  const parent = header.match(/Parent=([^;]+)/)[1];
  const [host, port] = process.env.AWS_XRAY_DAEMON_ADDRESS.split(':');
  const now = Date.now() / 1000;
  const doc = { trace_id: root, id: 'a1b2c3d4e5f60718', parent_id: parent, name: 'my-work', start_time: now, end_time: now, type: 'subsegment' };
  const sock = dgram.createSocket('udp4');
  await new Promise((r, j) => sock.send('{"format": "json", "version": 1}\\n' + JSON.stringify(doc), Number(port), host, (e) => (e ? j(e) : r())));
  sock.close();
  return { header, daemon: process.env.AWS_XRAY_DAEMON_ADDRESS, host: process.env._AWS_XRAY_DAEMON_ADDRESS, port: process.env._AWS_XRAY_DAEMON_PORT };
};`;

describe('X-Ray', () => {
  it('samples Active functions, keeps the segments they send, and writes REPORT\'s XRAY line', async () => {
    const cfg = fnConfig({ tracingMode: 'Active', codeDir: makeCode({ 'index.js': SENDER }) });
    const { result, body } = await invokeJson(invoker, cfg);
    assert.equal(result.functionError, undefined, JSON.stringify(body));
    const m = body.header.match(/^Root=(1-[0-9a-f]{8}-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=1(;Lineage=.*)?$/);
    assert.ok(m, body.header);
    const [, root, parent] = m;
    assert.equal(body.daemon, `${body.host}:${body.port}`);
    const log = await logText(invoker, cfg);
    assert.match(log, new RegExp(`REPORT RequestId: [^\\n]*\\t\\nXRAY TraceId: ${root}\\tSegmentId: ${parent}\\tSampled: true\\t\\n`));
    const mine = await waitFor(() => invoker.traceSegments(cfg.functionArn).find((s) => s.name === 'my-work'), { message: 'the function\'s subsegment' });
    assert.equal(mine.trace_id, root);
    const platform = invoker.traceSegments(cfg.functionArn).find((s) => s.id === parent);
    assert.equal(platform?.origin, 'AWS::Lambda::Function');
  });

  it('keeps the caller\'s trace root, and leaves PassThrough functions unsampled without an XRAY line', async () => {
    const active = fnConfig({ tracingMode: 'Active', codeDir: makeCode({ 'index.js': SENDER }) });
    const root = '1-5759e988-bd862e3fe1be46a994272793';
    const { body } = await invokeJson(invoker, active, {}, { traceId: `Root=${root};Sampled=1` });
    assert.match(body.header, new RegExp(`^Root=${root};Parent=[0-9a-f]{16};Sampled=1`));
    const passive = fnConfig({ codeDir: makeCode({ 'index.js': 'exports.handler = async () => process.env._X_AMZN_TRACE_ID;' }) });
    const out = await invokeJson(invoker, passive);
    assert.match(out.body, /;Sampled=0;/);
    assert.doesNotMatch(await logText(invoker, passive), /XRAY TraceId/);
  });

  it('ignores datagrams that are not segments of its traces', async () => {
    const cfg = fnConfig({
      tracingMode: 'Active',
      codeDir: makeCode({
        'index.js': `const dgram = require('node:dgram');
exports.handler = async () => {
  const [host, port] = process.env.AWS_XRAY_DAEMON_ADDRESS.split(':');
  const sock = dgram.createSocket('udp4');
  const send = (m) => new Promise((r) => sock.send(m, Number(port), host, () => r()));
  await send('garbage');
  await send('{"format": "json", "version": 1}\\n{"trace_id": "1-00000000-000000000000000000000000", "id": "ffffffffffffffff", "name": "foreign"}');
  await send('{"format": "json", "version": 1}\\n' + JSON.stringify({ trace_id: process.env._X_AMZN_TRACE_ID.match(/Root=([^;]+)/)[1], id: '0123456789abcdef', name: 'last' }));
  sock.close();
  return 'sent';
};`,
      }),
    });
    await invokeJson(invoker, cfg);
    await waitFor(() => invoker.traceSegments(cfg.functionArn).find((s) => s.name === 'last'), { message: 'the last segment' });
    const names = invoker.traceSegments(cfg.functionArn).map((s) => s.name);
    assert.ok(!names.includes('foreign'), names.join(','));
  });

  it('takes segments from an environment only for its own function\'s traces', async () => {
    const victim = fnConfig({ tracingMode: 'Active', codeDir: makeCode({ 'index.js': SENDER }) });
    const { body } = await invokeJson(invoker, victim);
    const victimRoot = body.header.match(/Root=([^;]+)/)[1];
    // Another function that learnt the victim's trace id tries to add a segment to that trace.
    const attacker = fnConfig({
      tracingMode: 'Active',
      codeDir: makeCode({
        'index.js': `const dgram = require('node:dgram');
exports.handler = async (e) => {
  const [host, port] = process.env.AWS_XRAY_DAEMON_ADDRESS.split(':');
  const sock = dgram.createSocket('udp4');
  const send = (doc) => new Promise((r) => sock.send('{"format": "json", "version": 1}\\n' + JSON.stringify(doc), Number(port), host, () => r()));
  await send({ trace_id: e.root, id: '1111111111111111', name: 'forged' });
  await send({ trace_id: process.env._X_AMZN_TRACE_ID.match(/Root=([^;]+)/)[1], id: '2222222222222222', name: 'own' });
  sock.close();
  return process.env.AWS_XRAY_DAEMON_ADDRESS;
};`,
      }),
    });
    const out = await invokeJson(invoker, attacker, { root: victimRoot });
    // In its own network namespace, the daemon's address is the namespace's own.
    assert.equal(out.body, '127.0.0.1:2000');
    // Datagrams of one socket arrive in order: once 'own' is in, 'forged' has been judged.
    await waitFor(() => invoker.traceSegments(attacker.functionArn).find((s) => s.name === 'own'), { message: 'the attacker\'s own segment' });
    const names = [...invoker.traceSegments(victim.functionArn), ...invoker.traceSegments(attacker.functionArn)].map((s) => s.name);
    assert.ok(!names.includes('forged'), names.join(','));
  });

  it('works as before in the host network mode, through the daemon on the host\'s loopback', async () => {
    const hostInvoker = testInvoker({ network: 'host' });
    try {
      const cfg = fnConfig({ tracingMode: 'Active', codeDir: makeCode({ 'index.js': SENDER }) });
      const { result, body } = await invokeJson(hostInvoker, cfg);
      assert.equal(result.functionError, undefined, JSON.stringify(body));
      assert.notEqual(body.daemon, '127.0.0.1:2000');
      const mine = await waitFor(() => hostInvoker.traceSegments(cfg.functionArn).find((s) => s.name === 'my-work'), { message: 'the function\'s subsegment' });
      assert.equal(mine.trace_id, body.header.match(/Root=([^;]+)/)[1]);
    } finally {
      await hostInvoker.close();
    }
  });
});
