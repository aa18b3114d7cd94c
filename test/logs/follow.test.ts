// Following a function's logs: a line the function prints reaches a reader that polls FilterLogEvents
// with a startTime (as `aws logs tail --follow` does) and a StartLiveTail session, within a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CloudWatchLogsClient, FilterLogEventsCommand, StartLiveTailCommand, type StartLiveTailResponseStream } from '@aws-sdk/client-cloudwatch-logs';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';

let t: TestServer;
let logs: CloudWatchLogsClient;
const GROUP = '/aws/lambda/follow-me';

/** Resolves with `work`'s value, or fails naming `what` when it takes longer than `ms`. */
async function within<T>(ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new Error(`${what} did not happen within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(ac.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

before(async () => {
  t = await startTestServer();
  // The live tail operation carries AWS's `stream-` host prefix; against an IP endpoint it must be off.
  logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1, disableHostPrefix: true });
  const code = await makeZip([{ name: 'index.js', content: 'exports.handler = async (e) => { console.log("marker", e.marker); return 1; };' }]);
  await t.client.send(new CreateFunctionCommand({ FunctionName: 'follow-me', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: code } }));
  // The first invoke creates the group, as on AWS.
  await t.client.send(new InvokeCommand({ FunctionName: 'follow-me', Payload: Buffer.from('{"marker":"warm-up"}') }));
});
after(async () => {
  logs.destroy();
  await t.close();
});

test('a printed line reaches a FilterLogEvents follower (startTime polling) within 1 s', async () => {
  const since = Date.now() - 1000;
  const seen = new Set<string>();
  const poll = async () => {
    const out = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, startTime: since }));
    for (const e of out.events ?? []) seen.add(e.message ?? '');
  };
  await poll();
  assert.ok(![...seen].some((m) => m.includes('marker poll-me')));
  const invoked = t.client.send(new InvokeCommand({ FunctionName: 'follow-me', Payload: Buffer.from('{"marker":"poll-me"}') }));
  await within(1000, 'the printed line reaching the follower', async (signal) => {
    while (!signal.aborted) {
      await poll();
      if ([...seen].some((m) => m.endsWith('\tINFO\tmarker poll-me'))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  await invoked;
});

test('a printed line reaches a StartLiveTail session within 1 s', async () => {
  const session = await logs.send(new StartLiveTailCommand({ logGroupIdentifiers: [`arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`], logEventFilterPattern: 'marker' }));
  const stream = session.responseStream as AsyncIterable<StartLiveTailResponseStream>;
  const it = stream[Symbol.asyncIterator]();
  const first = await within(5000, 'the sessionStart event', () => it.next());
  assert.deepEqual(first.value?.sessionStart?.logGroupIdentifiers, [`arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`]);
  assert.equal(first.value?.sessionStart?.logEventFilterPattern, 'marker');
  await t.client.send(new InvokeCommand({ FunctionName: 'follow-me', Payload: Buffer.from('{"marker":"tail-me"}') }));
  const event = await within(1000, 'the line in a sessionUpdate', async () => {
    for (;;) {
      const next = await it.next();
      assert.ok(!next.done, 'the session stayed open');
      const hit = next.value.sessionUpdate?.sessionResults?.find((r) => r.message?.endsWith('marker tail-me'));
      if (hit) return hit;
    }
  });
  assert.equal(event.logGroupIdentifier, `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`);
  assert.match(event.logStreamName ?? '', /\[\$LATEST\]/);
  assert.equal(typeof event.timestamp, 'number');
  await it.return?.();
});
