// Attacks on the network isolation of execution environments, through the real server and
// @aws-sdk/client-lambda, with functions that really run: a function scanning for other
// environments' Runtime APIs, stealing another environment's event, reaching the API's port; and
// what the network modes give a function (egress: host loopback services; none: nothing).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';

// One module for every probe: the event names what to do.
const PROBE = `
const net = require('net');
const http = require('http');
const connect = (host, port, ms = 2000) => new Promise((resolve) => {
  const s = net.connect({ host, port });
  const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, ms);
  s.once('connect', () => { clearTimeout(t); s.destroy(); resolve('open'); });
  s.once('error', (e) => { clearTimeout(t); resolve(e.code); });
});
const get = (url, ms = 3000) => new Promise((resolve) => {
  const req = http.get(url, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve({ status: res.statusCode, body, requestId: res.headers['x-amzn-requestid'] ?? null }));
  });
  req.setTimeout(ms, () => { req.destroy(); resolve({ error: 'timeout' }); });
  req.on('error', (e) => resolve({ error: e.code }));
});
// Answers only from a Runtime API, and changes no state there: a response for an unknown request id.
const runtimeApiAnswer = (port) => new Promise((resolve) => {
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/2018-06-01/runtime/invocation/probe/response' }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve(/InvalidStateTransition|InvalidRequestID/.test(body) ? body : null));
  });
  req.setTimeout(1000, () => { req.destroy(); resolve(null); });
  req.on('error', () => resolve(null));
  req.end('{}');
});
async function scan() {
  const open = [];
  let next = 1;
  const worker = async () => {
    for (let port = next++; port <= 65535; port = next++) if ((await connect('127.0.0.1', port, 1000)) === 'open') open.push(port);
  };
  await Promise.all(Array.from({ length: 512 }, worker));
  const runtimeApis = [];
  for (const port of open.sort((a, b) => a - b)) if (await runtimeApiAnswer(port)) runtimeApis.push(port);
  return { open, runtimeApis };
}
// The attack: take the victim's pending GET /next over, tell the test, and wait for its event.
const steal = (address, signal) => new Promise((resolve) => {
  const [host, port] = address.split(':');
  const s = net.connect({ host, port: Number(port) });
  let data = '';
  const done = (how) => { clearTimeout(t); s.destroy(); resolve({ how, data }); };
  const t = setTimeout(() => done('no event within 5 s'), 5000);
  s.once('connect', () => {
    s.write('GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n');
    get(signal);
  });
  s.on('data', (c) => { data += c; if (/\\r\\n\\r\\n/.test(data)) done('answered'); });
  s.once('error', (e) => { get(signal); done(e.code); });
});
exports.handler = async (e) => {
  switch (e.op) {
    case 'whoami': return { runtimeApi: process.env.AWS_LAMBDA_RUNTIME_API, lambdaApi: process.env.AWS_ENDPOINT_URL_LAMBDA ?? null, event: e };
    case 'scan': return scan();
    case 'steal': return steal(e.address, e.signal);
    case 'connect': return Promise.all(e.targets.map(([h, p]) => connect(h, p)));
    case 'get': return get(e.url);
  }
};
`;

/** Listening TCP ports of this process (the server runs in it) in the host's network namespace. */
function ownHostListeners(): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is cols[1] (hex ip:port), st is cols[3] (0A = LISTEN), inode is cols[9].
      if (cols[3] === '0A' && inodes.has(cols[9] as string)) ports.push(parseInt((cols[1] as string).split(':')[1] as string, 16));
    }
  }
  return ports;
}

/** An HTTP server on the host's loopback standing in for a local AWS service (moto, LocalStack). */
async function hostService(): Promise<{ server: http.Server; port: number; hits: string[]; waitFor: (path: string) => Promise<void> }> {
  const hits: string[] = [];
  const waiters = new Map<string, () => void>();
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    waiters.get(req.url ?? '')?.();
    res.end('host service');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    hits,
    waitFor: (p) => new Promise((resolve) => waiters.set(p, resolve)),
  };
}

async function createProbe(lambda: LambdaClient, name: string): Promise<void> {
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Timeout: 120,
    Code: { ZipFile: await makeZip([{ name: 'index.js', content: PROBE }]) },
  }));
}

async function invoke(lambda: LambdaClient, name: string, event: unknown): Promise<any> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }));
  const text = Buffer.from(out.Payload ?? []).toString('utf8');
  assert.equal(out.FunctionError, undefined, `${name} failed: ${text}`);
  return JSON.parse(text);
}

describe('network isolation (default mode, egress)', () => {
  let t: TestServer;
  let service: Awaited<ReturnType<typeof hostService>>;
  before(async () => {
    // Before the server, so its pre-started environments' egress already knows this port.
    service = await hostService();
    t = await startTestServer();
    await createProbe(t.client, 'attacker');
    await createProbe(t.client, 'victim');
  });
  after(async () => {
    await t.close();
    service.server.close();
  });

  it('keeps every Runtime API off the host: only the API port listens there', async () => {
    const victim = await invoke(t.client, 'victim', { op: 'whoami' });
    assert.equal(victim.runtimeApi, '127.0.0.1:9001', 'the Runtime API is at AWS\'s address inside the environment');
    assert.deepEqual(ownHostListeners().filter((p) => p !== service.port), [t.server.port]);
  });

  it('a port scan from a function finds its own Runtime API only', async () => {
    await invoke(t.client, 'victim', { op: 'whoami' });
    const { open, runtimeApis } = await invoke(t.client, 'attacker', { op: 'scan' });
    assert.ok(open.includes(9001), `the scan sees the environment's own Runtime API (open: ${open.join(',')})`);
    // Other processes of this machine may run Runtime APIs on the host's loopback (forwarded in
    // egress mode); none may be this server's.
    const ours = new Set(ownHostListeners());
    assert.deepEqual(runtimeApis.filter((p: number) => p !== 9001 && ours.has(p)), []);
    assert.ok(!open.includes(t.server.port), 'the API port is not reachable');
  });

  it("a function cannot take over another environment's pending event", async () => {
    const victim = await invoke(t.client, 'victim', { op: 'whoami' });
    const signalled = service.waitFor('/parked');
    const attack = invoke(t.client, 'attacker', { op: 'steal', address: victim.runtimeApi, signal: `http://127.0.0.1:${service.port}/parked` });
    await Promise.race([signalled, attack]);
    // With a shared network, this event would go to the attacker's connection.
    const secret = { op: 'whoami', secret: 'for the victim only' };
    const answer = await invoke(t.client, 'victim', secret);
    assert.deepEqual(answer.event, secret);
    const stolen = await attack;
    assert.doesNotMatch(stolen.data, /for the victim only|Lambda-Runtime-Aws-Request-Id/i);
  });

  it('a function cannot reach the API port on the host; it reaches the Lambda API at AWS_ENDPOINT_URL_LAMBDA', async () => {
    const port = t.server.port;
    const reach = await invoke(t.client, 'attacker', { op: 'connect', targets: [['127.0.0.1', port], ['::1', port], ['localhost', port]] });
    for (const r of reach) assert.ok(r === 'ECONNREFUSED' || r === 'EADDRNOTAVAIL' || r === 'ENETUNREACH', `reached the API port: ${r}`);
    const { lambdaApi } = await invoke(t.client, 'attacker', { op: 'whoami' });
    assert.equal(lambdaApi, 'http://127.0.0.1:9002');
    const answer = await invoke(t.client, 'attacker', { op: 'get', url: `${lambdaApi}/2015-03-31/functions/` });
    assert.equal(typeof answer.status, 'number', `no answer from the Lambda API: ${JSON.stringify(answer)}`);
    assert.ok(answer.requestId, 'the answer comes from the Lambda API (x-amzn-RequestId)');
  });

  it('reaches a service on the host loopback at the same address and port', async () => {
    const answer = await invoke(t.client, 'attacker', { op: 'get', url: `http://127.0.0.1:${service.port}/from-function` });
    assert.deepEqual(answer, { status: 200, body: 'host service', requestId: null });
    assert.ok(service.hits.includes('/from-function'));
  });
});

describe('network isolation, a host service started after the environment', () => {
  it('becomes reachable from the (idle) environment', async () => {
    const t = await startTestServer();
    const late = await hostService();
    try {
      await createProbe(t.client, 'early');
      const first = await invoke(t.client, 'early', { op: 'get', url: `http://127.0.0.1:${late.port}/` });
      // Either the environment already saw the port (it was made after the service), or not yet.
      // The engine renews an idle environment's egress when the host's listening ports change:
      // bounded retries until it is reached.
      let answer = first;
      for (let attempt = 0; answer.status !== 200 && attempt < 500; attempt++) {
        answer = await invoke(t.client, 'early', { op: 'get', url: `http://127.0.0.1:${late.port}/late` });
      }
      assert.equal(answer.status, 200, `the late service was never reached: ${JSON.stringify(answer)}`);
    } finally {
      await t.close();
      late.server.close();
    }
  });
});

describe('network mode none', () => {
  let t: TestServer;
  let service: Awaited<ReturnType<typeof hostService>>;
  before(async () => {
    service = await hostService();
    t = await startTestServer({ functionNetwork: 'none' });
    await createProbe(t.client, 'sealed');
  });
  after(async () => {
    await t.close();
    service.server.close();
  });

  it('has its loopback only: no host service, no outside address, but the Lambda API', async () => {
    const reach = await invoke(t.client, 'sealed', { op: 'connect', targets: [['127.0.0.1', service.port], ['192.0.2.1', 80], ['127.0.0.1', t.server.port]] });
    assert.equal(reach[0], 'ECONNREFUSED');
    assert.ok(reach[1] === 'ENETUNREACH' || reach[1] === 'EHOSTUNREACH', `an outside address: ${reach[1]}`);
    assert.equal(reach[2], 'ECONNREFUSED');
    assert.deepEqual(service.hits, []);
    const { lambdaApi } = await invoke(t.client, 'sealed', { op: 'whoami' });
    const answer = await invoke(t.client, 'sealed', { op: 'get', url: `${lambdaApi}/2015-03-31/functions/` });
    assert.ok(answer.requestId, `the Lambda API answers inside: ${JSON.stringify(answer)}`);
  });
});

describe('network mode host', () => {
  it('shares the server\'s network (no isolation) and points AWS_ENDPOINT_URL_LAMBDA at the API', async () => {
    const t = await startTestServer({ functionNetwork: 'host' });
    try {
      await createProbe(t.client, 'shared');
      const who = await invoke(t.client, 'shared', { op: 'whoami' });
      assert.equal(who.lambdaApi, t.url);
      assert.match(who.runtimeApi, /^127\.0\.0\.1:\d+$/);
      assert.ok(ownHostListeners().includes(Number(who.runtimeApi.split(':')[1])), 'its Runtime API listens on the host');
    } finally {
      await t.close();
    }
  });
});
