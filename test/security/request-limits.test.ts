// Request bodies are limited per operation while they are read: a client that declares or streams a
// body above the limit gets AWS's 413 before the server has taken the body in, so oversized requests
// cannot make the server buffer them.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, InvokeCommand, ListFunctionsCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';
import { expectAwsError } from '../helpers/aws-error.js';

interface RawResponse {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  /** Body bytes the client had sent when the response arrived. */
  readonly sent: number;
}

/** Bounded wait with a clear message. */
function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms); })]).finally(() => clearTimeout(timer));
}

/**
 * Sends a request's head, then (when `stream` is set) body chunks of 1 MiB until the response
 * arrives or `stream` bytes went out, never finishing the body: a server that waits for the whole
 * body never answers.
 */
function rawRequest(url: string, head: string, stream = 0): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    let sent = 0;
    let answered = false;
    socket.on('error', (e) => { if (!answered) reject(e); });
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers = received.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? '0');
      if (received.length < end + 4 + length) return;
      answered = true;
      resolve({ status: Number(headers.split(' ')[1]), headers, body: received.slice(end + 4, end + 4 + length), sent });
      socket.destroy();
    });
    socket.write(head);
    if (stream > 0) {
      const chunk = Buffer.alloc(1 << 20, 0x61);
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const pump = () => {
        if (answered || socket.destroyed || sent >= stream) return;
        sent += chunk.length;
        socket.write(frame, () => pump());
      };
      pump();
    }
  });
}

const invokePath = (name: string) => `/2015-03-31/functions/${name}/invocations`;

describe('request body limits', () => {
  let t: TestServer;
  const fn = `limits-${process.pid}`;

  before(async () => {
    t = await startTestServer();
    await t.client.send(new CreateFunctionCommand({ FunctionName: fn, Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: await nodeHandlerZip() } }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { FunctionName: fn });
  });
  after(async () => t?.close());

  it('Invoke: one byte over 6291456 through the SDK, which sends the whole body first', async () => {
    await expectAwsError(t.client.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.alloc(6_291_457, 0x20) })), {
      name: 'RequestEntityTooLargeException', status: 413, message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    });
    // Exactly at the limit the body is read (and judged as JSON by the handler).
    const ok = await t.client.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(`"${'x'.repeat(6_291_454)}"`) }));
    assert.equal(ok.StatusCode, 200);
  });

  it('8 concurrent Invokes declaring 60 MB get 413 before any of the body is sent', async () => {
    const head = `POST ${invokePath(fn)} HTTP/1.1\r\nHost: ${new URL(t.url).host}\r\nContent-Type: application/json\r\nContent-Length: ${60 * 1024 * 1024}\r\n\r\n`;
    const answers = await within('answers to 8 oversized invokes', 30_000, Promise.all(Array.from({ length: 8 }, () => rawRequest(t.url, head))));
    for (const r of answers) {
      assert.equal(r.status, 413);
      assert.match(r.headers, /x-amzn-errortype: RequestEntityTooLargeException/i);
      assert.deepEqual(JSON.parse(r.body), { Message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' });
    }
    await t.client.send(new ListFunctionsCommand({}));
  });

  it('an Invoke streaming a chunked body past the limit gets 413 although the body never ends', async () => {
    const head = `POST ${invokePath(fn)} HTTP/1.1\r\nHost: ${new URL(t.url).host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const r = await within('an answer to a streamed oversized invoke', 60_000, rawRequest(t.url, head, 60 * 1024 * 1024));
    assert.equal(r.status, 413);
    assert.deepEqual(JSON.parse(r.body), { Message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' });
  });

  it('CreateFunction declaring more than 70167211 bytes', async () => {
    const head = `POST /2015-03-31/functions HTTP/1.1\r\nHost: ${new URL(t.url).host}\r\nContent-Type: application/json\r\nContent-Length: 70167212\r\n\r\n`;
    const r = await within('an answer', 30_000, rawRequest(t.url, head));
    assert.equal(r.status, 413);
    assert.deepEqual(JSON.parse(r.body), { Message: 'Request must be smaller than 70167211 bytes for the CreateFunction operation' });
  });

  it('any other operation: a small limit, not the upload one', async () => {
    const head = `PUT /2015-03-31/functions/${fn}/configuration HTTP/1.1\r\nHost: ${new URL(t.url).host}\r\nContent-Type: application/json\r\nContent-Length: 6000000\r\n\r\n`;
    const r = await within('an answer', 30_000, rawRequest(t.url, head));
    assert.equal(r.status, 413);
    assert.deepEqual(JSON.parse(r.body), { Message: 'Request must be smaller than 262144 bytes for the UpdateFunctionConfiguration operation' });
  });
});
