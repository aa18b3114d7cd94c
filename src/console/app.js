// lambdalite console: talks to this server's Lambda REST API (same origin, unsigned: the server's default
// account and region) and reads /metrics and /_lambdalite/api/. Everything shown is set as text, never as
// HTML: names, tags, results and logs come from functions and their callers.
'use strict';

const API = '/2015-03-31';
const POLL_MS = 5000;
const HISTORY = 24;
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

const LOGS_POLL_MS = 1000;
// As `aws logs tail`: start ten minutes back, then follow from the newest event seen.
const LOGS_BACK_MS = 10 * 60 * 1000;
const LOGS_MAX_ROWS = 500;

const state = { selected: undefined, history: new Map(), timer: undefined, logs: undefined };

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/** A Lambda API call; throws an Error whose message is AWS's `Type: message`. */
async function api(path, init = {}) {
  const res = await fetch(path, init);
  const text = await res.text();
  if (!res.ok) {
    let type = res.headers.get('x-amzn-errortype') || `HTTP ${res.status}`;
    let message = text;
    try {
      const body = JSON.parse(text);
      type = (type.split(':')[0]) || body.Type;
      message = body.Message ?? body.message ?? text;
    } catch { /* not JSON */ }
    throw new Error(`${type}: ${message}`);
  }
  return { res, text, json: () => (text ? JSON.parse(text) : {}) };
}

async function listFunctions() {
  const out = [];
  let marker;
  do {
    const r = (await api(`${API}/functions/${marker ? `?Marker=${enc(marker)}` : ''}`)).json();
    out.push(...(r.Functions ?? []));
    marker = r.NextMarker;
  } while (marker);
  return out.sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
}

/** Prometheus text -> [{ name, labels, value }]. */
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Per-function totals over all versions. */
function figuresByFunction(samples) {
  const by = new Map();
  const get = (fn) => {
    if (!by.has(fn)) by.set(fn, { invocations: 0, errors: 0, throttles: 0, coldStarts: 0, durationSum: 0, durationCount: 0 });
    return by.get(fn);
  };
  for (const s of samples) {
    const fn = s.labels.function_name;
    if (fn === undefined) continue;
    const f = get(fn);
    if (s.name === 'lambdalite_invocations_total') f.invocations += s.value;
    else if (s.name === 'lambdalite_errors_total') f.errors += s.value;
    else if (s.name === 'lambdalite_throttles_total') f.throttles += s.value;
    else if (s.name === 'lambdalite_cold_starts_total') f.coldStarts += s.value;
    else if (s.name === 'lambdalite_duration_seconds_sum') f.durationSum += s.value;
    else if (s.name === 'lambdalite_duration_seconds_count') f.durationCount += s.value;
  }
  return by;
}

function sparkline(values) {
  const w = 110;
  const h = 24;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('aria-hidden', 'true');
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(' ');
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', points || `0,${h - 2} ${w},${h - 2}`);
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#d45b07');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

function kvTable(table, rows) {
  table.replaceChildren(...rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', { class: 'mono' }, v))));
  if (!table.children.length) table.append(el('tr', {}, el('td', { class: 'muted' }, 'none')));
}

function listTable(table, headers, rows) {
  table.replaceChildren(el('tr', {}, ...headers.map((h) => el('th', {}, h))), ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', { class: 'mono' }, c ?? '')))));
  if (!rows.length) table.append(el('tr', {}, el('td', { class: 'muted', colspan: String(headers.length) }, 'none')));
}

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : 'muted';
}

async function refreshList() {
  const fns = await listFunctions();
  $('no-functions').hidden = fns.length > 0;
  $('functions').replaceChildren(...fns.map((f) => el('li', {},
    el('button', { type: 'button', 'data-name': f.FunctionName, 'aria-current': String(f.FunctionName === state.selected), onclick: () => select(f.FunctionName) },
      f.FunctionName, el('small', {}, `${f.Runtime ?? f.PackageType} · ${f.MemorySize} MB`)))));
  if (state.selected && !fns.some((f) => f.FunctionName === state.selected)) {
    state.selected = undefined;
    stopLogs();
    $('detail').hidden = true;
  }
}

async function refreshFigures() {
  const [metrics, queue] = await Promise.all([api('/metrics'), api('/_lambdalite/api/queue')]);
  const q = queue.json();
  $('queue').textContent = `async queue: ${q.queuedEvents}`;
  $('queue-pending').textContent = q.pending;
  $('queue-retrying').textContent = q.retrying;
  $('queue-delivering').textContent = q.delivering;
  $('queue-dropped').textContent = q.droppedSinceStart;
  const by = figuresByFunction(parseMetrics(metrics.text));
  for (const [fn, f] of by) {
    const h = state.history.get(fn) ?? [];
    h.push(f.invocations);
    if (h.length > HISTORY) h.shift();
    state.history.set(fn, h);
  }
  if (!state.selected) return;
  const f = by.get(state.selected) ?? { invocations: 0, errors: 0, throttles: 0, coldStarts: 0, durationSum: 0, durationCount: 0 };
  const h = state.history.get(state.selected) ?? [];
  const perInterval = h.map((v, i) => (i === 0 ? 0 : Math.max(0, v - h[i - 1])));
  const avg = f.durationCount ? `${((f.durationSum / f.durationCount) * 1000).toFixed(1)} ms` : '–';
  const fig = (id, label, value, extra) => el('div', { class: 'figure', 'data-figure': id }, el('b', {}, value), el('span', {}, label), ...(extra ? [extra] : []));
  $('figures').replaceChildren(
    fig('invocations', 'invocations', f.invocations, sparkline(perInterval)),
    fig('errors', 'errors', f.errors),
    fig('throttles', 'throttles', f.throttles),
    fig('duration', 'average duration', avg),
    fig('cold-starts', 'cold starts', f.coldStarts),
  );
}

async function refreshDetail() {
  const name = state.selected;
  if (!name) return;
  const [fn, versions, aliases, mappings, provisioned] = await Promise.all([
    api(`${API}/functions/${enc(name)}`).then((r) => r.json()),
    api(`${API}/functions/${enc(name)}/versions`).then((r) => r.json()),
    api(`${API}/functions/${enc(name)}/aliases`).then((r) => r.json()),
    api(`${API}/event-source-mappings/?FunctionName=${enc(name)}`).then((r) => r.json()),
    api(`/2019-09-30/functions/${enc(name)}/provisioned-concurrency?List=ALL`).then((r) => r.json()).catch(() => ({})),
  ]);
  if (name !== state.selected) return;
  const c = fn.Configuration ?? {};
  $('fn-name').textContent = c.FunctionName;
  $('fn-arn').textContent = c.FunctionArn;
  followLogs(logGroupOf(c));
  kvTable($('config'), [
    ['State', [c.State, c.LastUpdateStatus].filter(Boolean).join(' / ')],
    ['Runtime', c.Runtime], ['Handler', c.Handler], ['Memory', `${c.MemorySize} MB`], ['Timeout', `${c.Timeout} s`],
    ['Ephemeral storage', c.EphemeralStorage ? `${c.EphemeralStorage.Size} MB` : undefined],
    ['Architectures', (c.Architectures ?? []).join(', ')], ['Code size', `${c.CodeSize} bytes`], ['Code SHA-256', c.CodeSha256],
    ['Layers', (c.Layers ?? []).map((l) => l.Arn).join('\n')], ['Role', c.Role], ['Description', c.Description],
    ['Environment', Object.entries(c.Environment?.Variables ?? {}).map(([k, v]) => `${k}=${v}`).join('\n')],
    ['Last modified', c.LastModified], ['Revision', c.RevisionId],
  ]);
  kvTable($('concurrency'), [
    ['Reserved', fn.Concurrency?.ReservedConcurrentExecutions ?? 'unreserved'],
    ...(provisioned.ProvisionedConcurrencyConfigs ?? []).map((p) => [`Provisioned (${p.FunctionArn.split(':').pop()})`, `${p.AvailableProvisionedConcurrentExecutions ?? 0}/${p.RequestedProvisionedConcurrentExecutions} ${p.Status}`]),
  ]);
  kvTable($('tags'), Object.entries(fn.Tags ?? {}));
  listTable($('versions'), ['Version', 'Description', 'Code SHA-256', 'Last modified'],
    (versions.Versions ?? []).map((v) => [v.Version, v.Description, v.CodeSha256?.slice(0, 12), v.LastModified]));
  listTable($('aliases'), ['Alias', 'Version', 'Routing'],
    (aliases.Aliases ?? []).map((a) => [a.Name, a.FunctionVersion, Object.entries(a.RoutingConfig?.AdditionalVersionWeights ?? {}).map(([v, w]) => `${v}: ${Math.round(w * 100)}%`).join(', ')]));
  listTable($('mappings'), ['UUID', 'Source', 'State', 'Batch size', 'Last result'],
    (mappings.EventSourceMappings ?? []).map((m) => [m.UUID, m.EventSourceArn, m.State, m.BatchSize, m.LastProcessingResult]));
}

/** A CloudWatch Logs call (awsJson1_1 on this origin, unsigned). */
async function logsApi(operation, input) {
  const res = await fetch('/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Logs_20140328.${operation}` },
    body: JSON.stringify(input),
  });
  const text = await res.text();
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch { /* not JSON */ }
  if (!res.ok) return { error: `${String(body.__type ?? `HTTP ${res.status}`).split('#').pop()}: ${body.message ?? body.Message ?? text}` };
  return { body };
}

const LEVELS = /^(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)$/;

/** One log event -> { requestId, level, message }, for the text and JSON log formats. */
function parseLogLine(message) {
  const line = message.replace(/\n$/, '');
  const platform = /^(START|END|REPORT|INIT_START|INIT_REPORT)\b(?:.*?RequestId: ([\w-]+))?/.exec(line);
  if (platform) return { requestId: platform[2] ?? '', level: 'PLATFORM', message: line };
  const text = /^\S+\t([\w-]{8,})\t([A-Z]+)\t([\s\S]*)$/.exec(line);
  if (text && LEVELS.test(text[2])) return { requestId: text[1], level: text[2], message: text[3] };
  if (line.startsWith('{')) {
    try {
      const j = JSON.parse(line);
      if (j && typeof j === 'object') {
        if (typeof j.type === 'string' && j.type.startsWith('platform.')) return { requestId: String(j.record?.requestId ?? ''), level: 'PLATFORM', message: line };
        const level = j.level ?? j.log_level;
        if (typeof level === 'string') return { requestId: String(j.requestId ?? ''), level: level.toUpperCase(), message: typeof j.message === 'string' ? j.message : line };
      }
    } catch { /* not JSON: as written */ }
  }
  return { requestId: '', level: '', message: line };
}

function logGroupOf(config) {
  return config.LoggingConfig?.LogGroup || `/aws/lambda/${config.FunctionName}`;
}

/** Follows `group` as `aws logs tail --follow` does: FilterLogEvents from startTime, through every nextToken,
 *  then again from the newest timestamp seen, skipping the events already shown at that timestamp. */
function followLogs(group) {
  if (state.logs?.group === group) return;
  stopLogs();
  const follow = { group, since: Date.now() - LOGS_BACK_MS, seen: new Set(), timer: undefined, stopped: false };
  state.logs = follow;
  $('logs-group').textContent = group;
  $('logs').replaceChildren();
  $('logs-status').textContent = 'following…';
  const poll = async () => {
    follow.timer = undefined;
    if (follow.stopped) return;
    if (document.visibilityState === 'visible' && !$('detail').hidden) await pollLogs(follow);
    if (!follow.stopped) follow.timer = setTimeout(() => void poll(), LOGS_POLL_MS);
  };
  void poll();
}

function stopLogs() {
  if (!state.logs) return;
  state.logs.stopped = true;
  clearTimeout(state.logs.timer);
  state.logs = undefined;
}

async function pollLogs(follow) {
  let nextToken;
  const fresh = [];
  do {
    const r = await logsApi('FilterLogEvents', { logGroupName: follow.group, startTime: follow.since, interleaved: true, ...(nextToken ? { nextToken } : {}) });
    if (follow.stopped) return;
    if (r.error) {
      // The group appears with the function's first line.
      $('logs-status').textContent = /^ResourceNotFoundException/.test(r.error) ? 'waiting for the first log line…' : r.error;
      return;
    }
    for (const e of r.body.events ?? []) if (!follow.seen.has(e.eventId)) fresh.push(e);
    nextToken = r.body.nextToken;
  } while (nextToken);
  $('logs-status').textContent = `following · updated ${new Date().toLocaleTimeString()}`;
  if (!fresh.length) return;
  fresh.sort((a, b) => a.timestamp - b.timestamp || String(a.eventId).localeCompare(String(b.eventId)));
  const newest = fresh[fresh.length - 1].timestamp;
  if (newest > follow.since) {
    follow.since = newest;
    follow.seen.clear();
  }
  for (const e of fresh) if (e.timestamp === follow.since) follow.seen.add(e.eventId);
  const box = $('logs');
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  box.append(...fresh.map((e) => {
    const p = parseLogLine(String(e.message ?? ''));
    return el('div', { class: `logline level-${p.level.toLowerCase() || 'none'}`, 'data-request-id': p.requestId },
      el('span', { class: 'time' }, new Date(e.timestamp).toISOString().slice(11, 23)),
      el('span', { class: 'rid' }, p.requestId ? p.requestId.slice(0, 8) : '–'),
      el('span', { class: 'level' }, p.level || '–'),
      el('span', { class: 'msg' }, p.message));
  }));
  while (box.children.length > LOGS_MAX_ROWS) box.firstElementChild.remove();
  if (atBottom) box.scrollTop = box.scrollHeight;
}

async function refresh() {
  try {
    await refreshList();
    await Promise.all([refreshDetail(), refreshFigures()]);
    status(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    status(e.message, true);
  }
}

async function select(name) {
  if (name !== state.selected) stopLogs();
  state.selected = name;
  $('detail').hidden = false;
  $('invoke-out').hidden = true;
  $('invoke-error').textContent = '';
  for (const b of document.querySelectorAll('#functions button')) b.setAttribute('aria-current', String(b.dataset.name === name));
  await refresh();
}

function decodeBase64Utf8(b64) {
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

async function invoke() {
  const name = state.selected;
  $('invoke-error').textContent = '';
  const raw = $('payload').value;
  try {
    JSON.parse(raw);
  } catch (e) {
    $('invoke-error').textContent = `The event is not JSON: ${e.message}`;
    return;
  }
  const qualifier = $('qualifier').value.trim();
  $('invoke').disabled = true;
  const started = performance.now();
  try {
    const { res, text } = await api(`${API}/functions/${enc(name)}/invocations${qualifier ? `?Qualifier=${enc(qualifier)}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-log-type': 'Tail', 'x-amz-invocation-type': 'RequestResponse' },
      body: raw,
    });
    const roundTrip = performance.now() - started;
    const log = res.headers.get('x-amz-log-result') ? decodeBase64Utf8(res.headers.get('x-amz-log-result')) : '';
    const billed = /\tDuration: ([\d.]+) ms/.exec(log);
    const failed = res.headers.get('x-amz-function-error');
    let pretty = text;
    try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON: as sent */ }
    $('invoke-summary').textContent = `${failed ? `Failed (${failed})` : 'Succeeded'} · version ${res.headers.get('x-amz-executed-version') ?? '?'} · ` +
      `duration ${billed ? `${billed[1]} ms` : '–'} · round trip ${roundTrip.toFixed(0)} ms`;
    $('invoke-summary').className = `summary ${failed ? 'failed' : 'ok'}`;
    $('invoke-result').textContent = pretty;
    $('invoke-log').textContent = log || '(no log)';
    $('invoke-out').hidden = false;
  } catch (e) {
    $('invoke-error').textContent = e.message;
  } finally {
    $('invoke').disabled = false;
  }
  void refresh();
}

document.addEventListener('DOMContentLoaded', () => {
  $('refresh').addEventListener('click', () => void refresh());
  $('invoke').addEventListener('click', () => void invoke());
  $('payload').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void invoke();
  });
  $('scope').textContent = location.host;
  void refresh();
  state.timer = setInterval(() => void refresh(), POLL_MS);
});
