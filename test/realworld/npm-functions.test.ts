// Real functions from npm, deployed as users deploy them (npm install, zip, CreateFunction) and
// invoked through the API: Powertools for AWS Lambda (logger, metrics, tracer) on Node.js 22 with
// X-Ray Active, a @middy/core handler, and an Express app behind serverless-http driven by an API
// Gateway HTTP API (payload 2.0) event. The packages come from the npm registry at test time.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Runtime } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ROLE } from '../helpers/zip.js';
import { functionLogLines } from '../helpers/logs.js';
import { npmFunctionZip } from './npm-package.js';
import { createActive, invokeOk } from './functions.js';
import { waitFor } from '../helpers/wait.js';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t?.close();
});

async function deploy(name: string, runtime: Runtime, zip: Buffer, extra: Record<string, unknown> = {}): Promise<void> {
  await createActive(t.client, { FunctionName: name, Runtime: runtime, Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip }, Timeout: 30, MemorySize: 256, ...extra });
}

const invoke = (name: string, payload: unknown): Promise<any> => invokeOk(t.client, name, payload);

describe('functions from npm', () => {
  it('Powertools logger, metrics and tracer on nodejs22.x with X-Ray Active', async () => {
    const zip = await npmFunctionZip(
      ['@aws-lambda-powertools/logger@2', '@aws-lambda-powertools/metrics@2', '@aws-lambda-powertools/tracer@2'],
      {
        'index.mjs': `import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
const logger = new Logger({ serviceName: 'orders' });
const metrics = new Metrics({ namespace: 'shop', serviceName: 'orders' });
const tracer = new Tracer({ serviceName: 'orders' });
export const handler = async (event, context) => {
  logger.addContext(context);
  logger.info('processing order', { orderId: event.orderId });
  metrics.addMetric('orderPlaced', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  const segment = tracer.getSegment();
  const sub = segment.addNewSubsegment('### charge card');
  sub.addAnnotation('orderId', event.orderId);
  sub.close();
  return { traceId: tracer.getRootXrayTraceId(), tracing: tracer.isTracingEnabled() };
};`,
      },
    );
    await deploy('powertools', 'nodejs22.x', zip, { TracingConfig: { Mode: 'Active' } });
    const body = await invoke('powertools', { orderId: 'o-17' });
    assert.equal(body.tracing, true);
    assert.match(body.traceId, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    const lines = functionLogLines(t.dataDir, 'powertools');
    const log = lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).filter((j) => j !== undefined);
    const info = log.find((j) => j.message === 'processing order');
    assert.ok(info, lines.join('\n'));
    assert.equal(info.service, 'orders');
    assert.equal(info.orderId, 'o-17');
    assert.equal(info.function_name, 'powertools');
    assert.equal(info.xray_trace_id, body.traceId);
    const emf = log.find((j) => j._aws?.CloudWatchMetrics);
    assert.ok(emf, 'an EMF metrics line');
    assert.equal(emf._aws.CloudWatchMetrics[0].Namespace, 'shop');
    assert.equal(emf.orderPlaced, 1);
    // REPORT and its XRAY line land in the stream just after the response.
    const xray = await waitFor(() => functionLogLines(t.dataDir, 'powertools').find((l) => l.startsWith('XRAY TraceId: ')), { message: 'REPORT\'s XRAY line' });
    assert.match(xray, new RegExp(`^XRAY TraceId: ${body.traceId}\tSegmentId: [0-9a-f]{16}\tSampled: true\t$`));
  });

  it('a @middy/core handler with middleware', async () => {
    const zip = await npmFunctionZip(['@middy/core'], {
      'index.mjs': `import middy from '@middy/core';
const base = async (event) => ({ doubled: event.n, by: 'middy' });
export const handler = middy(base).before(async (request) => { request.event.n *= 2; }).after(async (request) => { request.response.after = true; });`,
    });
    await deploy('middy', 'nodejs22.x', zip);
    assert.deepEqual(await invoke('middy', { n: 21 }), { doubled: 42, by: 'middy', after: true });
  });

  it('an Express app behind serverless-http answers an API Gateway v2 event', async () => {
    const zip = await npmFunctionZip(['express', 'serverless-http'], {
      'index.js': `const express = require('express');
const serverless = require('serverless-http');
const app = express();
app.use(express.json());
app.get('/hello/:name', (req, res) => res.json({ hi: req.params.name, q: req.query.x }));
app.post('/orders', (req, res) => res.status(201).set('x-order', 'made').json({ got: req.body }));
module.exports.handler = serverless(app);`,
    });
    await deploy('express', 'nodejs22.x', zip);
    const event = (method: string, rawPath: string, rawQueryString: string, body?: unknown) => ({
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString,
      headers: { host: 'abc123.execute-api.us-east-1.amazonaws.com', 'content-type': 'application/json', 'user-agent': 'curl/8' },
      requestContext: {
        accountId: '000000000000', apiId: 'abc123', domainName: 'abc123.execute-api.us-east-1.amazonaws.com', domainPrefix: 'abc123',
        http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl/8' },
        requestId: 'JKJaXmPLvHcESHA=', routeKey: '$default', stage: '$default', time: '10/Mar/2026:00:00:00 +0000', timeEpoch: 1773100800000,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      isBase64Encoded: false,
    });
    const get = await invoke('express', event('GET', '/hello/bob', 'x=1'));
    assert.equal(get.statusCode, 200);
    assert.deepEqual(JSON.parse(get.body), { hi: 'bob', q: '1' });
    assert.match(get.headers['content-type'], /^application\/json/);
    const post = await invoke('express', event('POST', '/orders', '', { item: 'tea' }));
    assert.equal(post.statusCode, 201);
    assert.equal(post.headers['x-order'], 'made');
    assert.deepEqual(JSON.parse(post.body), { got: { item: 'tea' } });
  });
});
