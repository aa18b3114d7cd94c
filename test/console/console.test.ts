// The web console in headless Chromium: a function created through the SDK shows up, is invoked from the
// page's JSON editor, and the page shows the result, a log line, the duration, the updated figures, the live logs
// panel following the function's log group and the async queue by state.
// A screenshot is saved under test-artifacts/ for a person to look at.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CreateAliasCommand, CreateFunctionCommand, InvokeCommand, PublishVersionCommand, PutFunctionConcurrencyCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { nodeHandlerZip, ROLE } from '../helpers/zip.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const artifacts = path.join(root, 'test-artifacts');
const CHROMIUM = process.env['LAMBDALITE_CHROMIUM'] ?? '/usr/bin/chromium';
const WAIT_MS = 20_000;
const haveChromium = existsSync(CHROMIUM);
// CI installs Chromium (.ci/run); elsewhere the test says why it did not run.
const skip = !haveChromium && process.env['CI'] !== 'true' && `${CHROMIUM} is missing (Debian: apt-get install chromium)`;

describe('web console', { skip }, () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let profile: string;
  before(async () => {
    assert.ok(haveChromium, `${CHROMIUM} is missing (Debian: apt-get install chromium)`);
    t = await startTestServer();
    const zip = await nodeHandlerZip("exports.handler = async (event) => { console.log('console-test saw', event.name); return { hello: event.name, n: [1, 2] }; };");
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'greeter', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: zip }, Tags: { team: 'core' }, MemorySize: 256 }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'greeter' });
    await t.client.send(new PublishVersionCommand({ FunctionName: 'greeter' }));
    await t.client.send(new CreateAliasCommand({ FunctionName: 'greeter', Name: 'live', FunctionVersion: '1' }));
    await t.client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'greeter', ReservedConcurrentExecutions: 7 }));
    profile = mkdtempSync(path.join(tmpdir(), 'lambdalite-chromium-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const text = (selector: string) => page.$eval(selector, (e) => (e as unknown as { innerText: string }).innerText);

  it('lists functions, shows one, invokes it from the page and shows result, log and figures', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const res = await page.goto(`${t.url}/_lambdalite/console`, { waitUntil: 'load' });
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/);

    await page.waitForSelector('#functions button[data-name="greeter"]', { timeout: WAIT_MS });
    await page.click('#functions button[data-name="greeter"]');
    await page.waitForFunction(`document.getElementById('fn-name')?.textContent === 'greeter'`, { timeout: WAIT_MS });
    await page.waitForFunction(`document.getElementById('versions').innerText.includes('$LATEST')`, { timeout: WAIT_MS });
    assert.match(await text('#config'), /Memory\s+256 MB/);
    assert.match(await text('#tags'), /team\s+core/);
    assert.match(await text('#concurrency'), /Reserved\s+7/);
    assert.match(await text('#versions'), /^1\b/m);
    assert.match(await text('#aliases'), /live\s+1/);

    await page.$eval('#payload', (e) => { (e as unknown as { value: string }).value = ''; });
    await page.type('#payload', '{"name": "from the page"}');
    await page.click('#invoke');
    await page.waitForSelector('#invoke-out:not([hidden])', { timeout: WAIT_MS });
    assert.deepEqual(JSON.parse(await text('#invoke-result')), { hello: 'from the page', n: [1, 2] });
    assert.match(await text('#invoke-log'), /\tINFO\tconsole-test saw from the page/);
    assert.match(await text('#invoke-log'), /REPORT RequestId: /);
    assert.match(await text('#invoke-summary'), /^Succeeded · version \$LATEST · duration [\d.]+ ms · round trip \d+ ms$/);

    // The live logs panel follows /aws/lambda/greeter: the invoke's line shows up without a reload.
    assert.equal(await text('#logs-group'), '/aws/lambda/greeter');
    await page.waitForFunction(`[...document.querySelectorAll('#logs .logline')].some((r) => r.textContent.includes('console-test saw from the page'))`, { timeout: WAIT_MS })
      .catch(() => assert.fail('the invoke\'s log line did not appear in the live logs panel'));
    const row = await page.$$eval('#logs .logline', (rows) => rows.map((r) => ({
      rid: r.getAttribute('data-request-id'), cells: [...r.children].map((c) => c.textContent),
    })).find((r) => r.cells[3]?.includes('console-test saw from the page')));
    assert.ok(row, 'log row');
    assert.match(row.rid ?? '', /^[0-9a-f-]{36}$/, 'the row carries the request id');
    assert.match(row.cells[0] ?? '', /^\d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(row.cells[1], row.rid?.slice(0, 8));
    assert.equal(row.cells[2], 'INFO');
    const reqIds = await page.$$eval('#logs .logline', (rows) => rows.filter((r) => r.textContent.includes('START RequestId:')).map((r) => r.getAttribute('data-request-id')));
    assert.ok(reqIds.includes(row.rid), 'the START line carries the same request id');

    // A second invoke from elsewhere (the SDK) appears too, each line once.
    await t.client.send(new InvokeCommand({ FunctionName: 'greeter', Payload: Buffer.from('{"name":"from the sdk"}') }));
    await page.waitForFunction(`[...document.querySelectorAll('#logs .logline')].some((r) => r.textContent.includes('console-test saw from the sdk'))`, { timeout: WAIT_MS })
      .catch(() => assert.fail('a later invoke\'s log line did not appear in the live logs panel'));
    const lines = await page.$$eval('#logs .logline .msg', (cells) => cells.map((c) => c.textContent ?? ''));
    assert.equal(lines.filter((l) => l.includes('console-test saw from the page')).length, 1, 'no line is shown twice');

    // The figures come from /metrics once the page refreshes after the invoke.
    await page.waitForFunction(`document.querySelector('[data-figure="invocations"] b')?.textContent === '2'`, { timeout: WAIT_MS });
    assert.equal(await text('[data-figure="errors"] b'), '0');
    assert.match(await text('#queue'), /^async queue: 0$/);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'console.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });

  it('shows the async queue by state: a failing Event invoke waits as retrying', async () => {
    const zip = await nodeHandlerZip("exports.handler = async () => { throw new Error('always fails'); };");
    await t.client.send(new CreateFunctionCommand({ FunctionName: 'failer', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: zip } }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'failer' });
    const r = await t.client.send(new InvokeCommand({ FunctionName: 'failer', InvocationType: 'Event', Payload: Buffer.from('{}') }));
    assert.equal(r.StatusCode, 202);
    // The first attempt fails; the retry is a minute away, so the event waits as retrying. The page polls.
    await page.waitForFunction(`Number(document.getElementById('queue-retrying')?.textContent) >= 1`, { timeout: 60_000 })
      .catch(async () => assert.fail(`the queue panel never showed a retrying event (shows ${await text('#queue-states')})`));
    assert.equal(await text('#queue-pending'), '0');
    assert.equal(await text('#queue-delivering'), '0');
    assert.equal(await text('#queue-dropped'), '0');
    assert.match(await text('#queue'), /^async queue: 1$/);
    const api = await (await fetch(`${t.url}/_lambdalite/api/queue`)).json();
    assert.deepEqual(api, { queuedEvents: 1, pending: 0, retrying: 1, delivering: 0, droppedSinceStart: 0 });
  });

  it('follows a LoggingConfig log group in the JSON format, with each line\'s level and request id', async () => {
    const zip = await nodeHandlerZip("exports.handler = async () => { console.warn('careful now'); return 1; };");
    await t.client.send(new CreateFunctionCommand({
      FunctionName: 'jsonlogger', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: ROLE, Code: { ZipFile: zip },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: '/team/json-logs' },
    }));
    await waitUntilFunctionActiveV2({ client: t.client, maxWaitTime: 30 }, { FunctionName: 'jsonlogger' });
    await page.click('#refresh');
    await page.waitForSelector('#functions button[data-name="jsonlogger"]', { timeout: WAIT_MS });
    await page.click('#functions button[data-name="jsonlogger"]');
    await page.waitForFunction(`document.getElementById('logs-group')?.textContent === '/team/json-logs'`, { timeout: WAIT_MS })
      .catch(() => assert.fail('the Logs panel did not switch to the function\'s LoggingConfig.LogGroup'));
    assert.equal(await page.$$eval('#logs .logline', (rows) => rows.length), 0, 'the other function\'s lines are gone');
    const r = await t.client.send(new InvokeCommand({ FunctionName: 'jsonlogger', Payload: Buffer.from('{}') }));
    assert.equal(r.FunctionError, undefined);
    await page.waitForFunction(`[...document.querySelectorAll('#logs .logline .msg')].some((c) => c.textContent === 'careful now')`, { timeout: WAIT_MS })
      .catch(() => assert.fail('the JSON log line did not appear in the live logs panel'));
    const row = await page.$$eval('#logs .logline', (rows) => rows.map((x) => ({ rid: x.getAttribute('data-request-id'), cells: [...x.children].map((c) => c.textContent) }))
      .find((x) => x.cells[3] === 'careful now'));
    assert.equal(row?.cells[2], 'WARN');
    assert.match(row?.rid ?? '', /^[0-9a-f-]{36}$/);
  });

  it('shows AWS errors from the page, and refuses an event that is not JSON before sending it', async () => {
    await page.click('#functions button[data-name="greeter"]');
    await page.waitForFunction(`document.getElementById('fn-name')?.textContent === 'greeter'`, { timeout: WAIT_MS });
    await page.$eval('#payload', (e) => { (e as unknown as { value: string }).value = '{not json'; });
    await page.click('#invoke');
    await page.waitForFunction(`document.getElementById('invoke-error').textContent !== ''`, { timeout: WAIT_MS });
    assert.match(await text('#invoke-error'), /^The event is not JSON: /);
    await page.$eval('#payload', (e) => { (e as unknown as { value: string }).value = '{}'; });
    await page.$eval('#qualifier', (e) => { (e as unknown as { value: string }).value = 'nope'; });
    await page.click('#invoke');
    await page.waitForFunction(`/ResourceNotFoundException/.test(document.getElementById('invoke-error').textContent ?? '')`, { timeout: WAIT_MS });
    assert.match(await text('#invoke-error'), /^ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:greeter:nope$/);
  });

  it('serves only its own files', async () => {
    for (const p of ['/_lambdalite/console/../../README.md', '/_lambdalite/console/routes.js', '/_lambdalite/console/%2e%2e/server.js']) {
      const r = await fetch(`${t.url}${p}`);
      assert.notEqual(r.status, 200, p);
    }
    const js = await fetch(`${t.url}/_lambdalite/console/app.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  });
});
