// Following a function's logs: a line the function prints reaches a reader that polls FilterLogEvents
// with a startTime (as `aws logs tail --follow` does) and a StartLiveTail session, within a second. The
// function holds on for a second after printing, so a line seen before its invocation returns was seen
// within a second of being printed: no clock is read to tell.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CloudWatchLogsClient, FilterLogEventsCommand, StartLiveTailCommand, type StartLiveTailResponseStream } from '@aws-sdk/client-cloudwatch-logs';
import { spawn } from 'node:child_process';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { makeZip, ROLE } from '../helpers/zip.js';

let t: TestServer;
let logs: CloudWatchLogsClient;
const GROUP = '/aws/lambda/follow-me';

/** Fails naming `what` if `invocation` (holding on a second after it printed) settles before `seen` does. */
async function beforeInvocationEnds<T>(what: string, invocation: Promise<unknown>, seen: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const ended = invocation.then(() => {
    throw new Error(`${what}: the line did not reach the reader within the second the function held on after printing it`);
  });
  try {
    return await Promise.race([seen(ac.signal), ended]);
  } finally {
    ac.abort();
    await invocation;
  }
}

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
  const code = await makeZip([{ name: 'index.js', content: 'exports.handler = async (e) => { console.log("marker", e.marker); if (e.hold) await new Promise((r) => setTimeout(r, e.hold)); return 1; };' }]);
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
  const invoked = t.client.send(new InvokeCommand({ FunctionName: 'follow-me', Payload: Buffer.from('{"marker":"poll-me","hold":1000}') }));
  await beforeInvocationEnds('FilterLogEvents polling', invoked, async (signal) => {
    while (!signal.aborted) {
      await poll();
      if ([...seen].some((m) => m.endsWith('\tINFO\tmarker poll-me'))) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});

test('a printed line reaches a StartLiveTail session within 1 s', async () => {
  const session = await logs.send(new StartLiveTailCommand({ logGroupIdentifiers: [`arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`], logEventFilterPattern: 'marker' }));
  const stream = session.responseStream as AsyncIterable<StartLiveTailResponseStream>;
  const it = stream[Symbol.asyncIterator]();
  const first = await within(5000, 'the sessionStart event', () => it.next());
  assert.deepEqual(first.value?.sessionStart?.logGroupIdentifiers, [`arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`]);
  assert.equal(first.value?.sessionStart?.logEventFilterPattern, 'marker');
  const invoked = t.client.send(new InvokeCommand({ FunctionName: 'follow-me', Payload: Buffer.from('{"marker":"tail-me","hold":1000}') }));
  const event = await beforeInvocationEnds('StartLiveTail', invoked, async () => {
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

test('boto3 reads the live tail event stream (botocore parses the frames)', async () => {
  const script = `
import boto3, json, sys
from botocore.config import Config
c = boto3.client('logs', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test',
                 config=Config(inject_host_prefix=False))
r = c.start_live_tail(logGroupIdentifiers=[sys.argv[2]], logEventFilterPattern='marker')
for event in r['responseStream']:
    if 'sessionStart' in event:
        print(json.dumps({'start': event['sessionStart']['logGroupIdentifiers']}), flush=True)
    for e in event.get('sessionUpdate', {}).get('sessionResults', []):
        print(json.dumps({'message': e['message'], 'group': e['logGroupIdentifier']}), flush=True)
        if 'boto-tail' in e['message']:
            sys.exit(0)
`;
  const arn = `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`;
  const py = spawn('python3', ['-c', script, t.url, arn], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let exited = false;
  const changed = new Set<() => void>();
  const notify = () => changed.forEach((f) => f());
  py.stdout.on('data', (d: Buffer) => ((out += d.toString()), notify()));
  py.stderr.on('data', (d: Buffer) => (err += d.toString()));
  py.once('exit', () => ((exited = true), notify()));
  const lineWith = (text: string) =>
    within(15_000, `boto3 printing ${text}`, () =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) resolve();
          else if (exited) reject(new Error(`python3 ended before printing ${text}: ${err}`));
          else return;
          changed.delete(check);
        };
        changed.add(check);
        check();
      }),
    );
  try {
    await lineWith('"start"');
    assert.deepEqual(JSON.parse(out.split('\n')[0]!), { start: [arn] });
    await t.client.send(new InvokeCommand({ FunctionName: 'follow-me', Payload: Buffer.from('{"marker":"boto-tail"}') }));
    await lineWith('boto-tail');
    const hit = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { message?: string; group?: string }).find((x) => x.message?.includes('boto-tail'));
    assert.equal(hit?.group, arn);
  } finally {
    py.kill();
  }
});
