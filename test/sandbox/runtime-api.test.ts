// The Runtime API as a runtime sees it: status codes and bodies as AWS's RIE serves them.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { waitFor } from '../helpers/wait.js';
import { RuntimeApiServer, MAX_PAYLOAD_SIZE, type RuntimeApiHooks } from '../../src/sandbox/runtime-api.js';

interface Recorded {
  kind: string;
  id?: string;
  type?: string | undefined;
  body?: string;
  size?: number;
}

function recorder(): { hooks: RuntimeApiHooks; events: Recorded[] } {
  const events: Recorded[] = [];
  return {
    events,
    hooks: {
      onNext: () => events.push({ kind: 'next' }),
      onDeliver: (inv) => {
        events.push({ kind: 'deliver', id: inv.requestId });
        return {
          'Content-Type': 'application/json',
          'Lambda-Runtime-Aws-Request-Id': inv.requestId,
          'Lambda-Runtime-Deadline-Ms': '1700000000000',
          'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:f',
          'Lambda-Runtime-Trace-Id': 'Root=1-00000000-000000000000000000000000;Sampled=0',
        };
      },
      onResponse: (id, body) => events.push({ kind: 'response', id, body: body.toString() }),
      onError: (id, type, body) => events.push({ kind: 'error', id, type, body: body.toString() }),
      onResponseTooLarge: (id, size) => events.push({ kind: 'too-large', id, size }),
      onInitError: (type, body) => events.push({ kind: 'init-error', type, body: body.toString() }),
    },
  };
}

interface Fixture {
  readonly api: RuntimeApiServer;
  readonly rec: ReturnType<typeof recorder>;
  readonly base: string;
}

const open: RuntimeApiServer[] = [];
after(() => Promise.all(open.splice(0).map((a) => a.close())));

/** A Runtime API server of its own for each case, in the Started state (no next yet). */
async function fresh(): Promise<Fixture> {
  const api = await RuntimeApiServer.listen();
  open.push(api);
  const rec = recorder();
  api.attach(rec.hooks);
  return { api, rec, base: `http://${api.address}/2018-06-01/runtime` };
}

/** Parks a next, delivers `requestId` to it once it arrived, and returns the runtime's view of the event. */
async function deliver(f: Fixture, requestId: string, payload = '{}'): Promise<Response> {
  const arrived = f.rec.events.filter((e) => e.kind === 'next').length;
  const pending = fetch(`${f.base}/invocation/next`);
  // Deliver after the poll is parked (the hook records 'next' when it arrives).
  await waitFor(() => f.rec.events.filter((e) => e.kind === 'next').length > arrived, { message: 'the runtime\'s next request to arrive' });
  f.api.deliver({ requestId, payload: Buffer.from(payload) });
  return pending;
}

/** A fixture in the middle of invocation `requestId` (event delivered, no response yet). */
async function invoking(requestId: string): Promise<Fixture> {
  const f = await fresh();
  await (await deliver(f, requestId)).text();
  return f;
}

/** A fixture whose invocation `requestId` has been answered. */
async function answered(requestId: string): Promise<Fixture> {
  const f = await invoking(requestId);
  const res = await fetch(`${f.base}/invocation/${requestId}/response`, { method: 'POST', body: '"done"' });
  assert.equal(res.status, 202);
  await res.text();
  return f;
}

describe('Runtime API 2018-06-01', () => {
  it('init/error is allowed before the first next', async () => {
    const f = await fresh();
    const res = await fetch(`${f.base}/init/error`, {
      method: 'POST',
      headers: { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' },
      body: '{"errorMessage":"x","errorType":"Runtime.ImportModuleError"}',
    });
    assert.equal(res.status, 202);
    assert.equal(await res.text(), '{"status":"OK"}\n');
    assert.deepEqual(f.rec.events, [{ kind: 'init-error', type: 'Runtime.ImportModuleError', body: '{"errorMessage":"x","errorType":"Runtime.ImportModuleError"}' }]);
  });

  it('long-polls next and delivers the event with the Lambda-Runtime-* headers', async () => {
    const f = await fresh();
    const res = await deliver(f, 'req-1', '{"hello":"world"}');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('lambda-runtime-aws-request-id'), 'req-1');
    assert.equal(res.headers.get('lambda-runtime-deadline-ms'), '1700000000000');
    assert.equal(res.headers.get('lambda-runtime-invoked-function-arn'), 'arn:aws:lambda:us-east-1:123456789012:function:f');
    assert.match(res.headers.get('lambda-runtime-trace-id') ?? '', /^Root=1-/);
    assert.equal(await res.text(), '{"hello":"world"}');
  });

  it('answers 400 InvalidRequestID for another request id', async () => {
    const f = await invoking('req-1');
    const res = await fetch(`${f.base}/invocation/nope/response`, { method: 'POST', body: '1' });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
  });

  it('answers a second next during an invocation with 403 InvalidStateTransition', async () => {
    const f = await invoking('req-1');
    const res = await fetch(`${f.base}/invocation/next`);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      errorMessage: 'State transition from Running to Ready failed for runtime. Error: State transition is not allowed',
      errorType: 'InvalidStateTransition',
    });
  });

  it('accepts the response with 202 {"status":"OK"}', async () => {
    const f = await invoking('req-1');
    const res = await fetch(`${f.base}/invocation/req-1/response`, { method: 'POST', body: '"done"' });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(await res.text(), '{"status":"OK"}\n');
    assert.deepEqual(f.rec.events.at(-1), { kind: 'response', id: 'req-1', body: '"done"' });
  });

  it('answers a second response with 403 InvalidStateTransition', async () => {
    const f = await answered('req-1');
    const res = await fetch(`${f.base}/invocation/req-1/response`, { method: 'POST', body: '"again"' });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      errorMessage:
        'State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. Error: State transition is not allowed',
      errorType: 'InvalidStateTransition',
    });
    const err = await fetch(`${f.base}/invocation/req-1/error`, { method: 'POST', body: '{}' });
    assert.equal(err.status, 403);
    assert.equal(
      ((await err.json()) as { errorMessage: string }).errorMessage,
      'State transition from RuntimeResponseSentState to InvocationErrorResponse failed for runtime. Error: State transition is not allowed',
    );
  });

  it('answers init/error after init with 403', async () => {
    const f = await answered('req-1');
    const res = await fetch(`${f.base}/init/error`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 403);
    assert.equal(
      ((await res.json()) as { errorMessage: string }).errorMessage,
      'State transition from RuntimeResponseSentState to InitError failed for runtime. Error: State transition is not allowed',
    );
  });

  it('passes an error with its Lambda-Runtime-Function-Error-Type', async () => {
    const f = await invoking('req-2');
    const res = await fetch(`${f.base}/invocation/req-2/error`, {
      method: 'POST',
      headers: { 'Lambda-Runtime-Function-Error-Type': 'Error', 'Content-Type': 'application/json' },
      body: '{"errorType":"Error","errorMessage":"boom","trace":[]}',
    });
    assert.equal(res.status, 202);
    assert.deepEqual(f.rec.events.at(-1), { kind: 'error', id: 'req-2', type: 'Error', body: '{"errorType":"Error","errorMessage":"boom","trace":[]}' });
  });

  it(`answers a response over ${MAX_PAYLOAD_SIZE} bytes with 413 RequestEntityTooLarge`, async () => {
    const f = await invoking('req-3');
    const big = Buffer.alloc(MAX_PAYLOAD_SIZE + 1, 0x61);
    const res = await fetch(`${f.base}/invocation/req-3/response`, { method: 'POST', body: big });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), {
      errorMessage: `Exceeded maximum allowed payload size (${MAX_PAYLOAD_SIZE} bytes).`,
      errorType: 'RequestEntityTooLarge',
    });
    assert.deepEqual(f.rec.events.at(-1), { kind: 'too-large', id: 'req-3', size: MAX_PAYLOAD_SIZE + 1 });
  });

  it('takes a next pipelined behind the response on one connection', async () => {
    const f = await invoking('req-4');
    const [host, port] = f.api.address.split(':');
    const sock = net.connect({ host: host as string, port: Number(port) });
    let received = '';
    sock.on('data', (d) => {
      received += d.toString();
      // Deliver the next event once the 202 is through, as the engine would.
      if (received.includes('{"status":"OK"}') && !received.includes('req-5')) f.api.deliver({ requestId: 'req-5', payload: Buffer.from('{"n":5}') });
    });
    const body = '"four"';
    sock.write(
      `POST /2018-06-01/runtime/invocation/req-4/response HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await waitFor(() => received.includes('{"n":5}'), { message: 'the pipelined next to receive req-5', events: [sock, 'data'] });
    sock.destroy();
    assert.match(received, /^HTTP\/1\.1 202 Accepted\r\n[\s\S]*\{"status":"OK"\}\n(HTTP\/1\.1 200 OK\r\n[\s\S]*lambda-runtime-aws-request-id: req-5[\s\S]*\{"n":5\})$/i);
    assert.deepEqual(f.rec.events.find((e) => e.kind === 'response' && e.id === 'req-4'), { kind: 'response', id: 'req-4', body: '"four"' });
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    const f = await fresh();
    const res = await fetch(`${f.base}/nothing`);
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '404 page not found\n');
    const wrong = await fetch(`${f.base}/invocation/next`, { method: 'POST', body: '' });
    assert.equal(wrong.status, 405);
  });
});
