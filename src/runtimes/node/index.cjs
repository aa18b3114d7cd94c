// lambdalite's Node.js runtime client, mounted at /var/runtime/index.cjs. It behaves like AWS's
// (aws/aws-lambda-nodejs-runtime-interface-client): the same handler resolution (nested paths, CJS,
// ESM, .mjs/.cjs, "type": "module"), async and callback handlers with callbackWaitsForEmptyEventLoop,
// the same context object, error shapes {errorType, errorMessage, trace}, Runtime.* error types,
// and console lines as `<ISO time>\t<request id>\t<LEVEL>\t<message>` (or AWS's JSON records).
//
// Standard library only and kept small: this file is on every cold start. It is CommonJS because an
// ES module entry point costs ~6 ms more to start (the ESM loader is only set up when a handler
// needs it), and the Runtime API is spoken over one keep-alive connection (a raw libuv TCP handle,
// see below) with a minimal HTTP/1.1 client instead of node:http. src/sandbox/README.md ("Cold start
// budget") has the measurements behind these choices.

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { format } = require('node:util');

const env = process.env;
const [apiHost, apiPort] = (env.AWS_LAMBDA_RUNTIME_API ?? '127.0.0.1:9001').split(':');
const TASK_ROOT = env.LAMBDA_TASK_ROOT ?? '/var/task';

// ---- logging ---------------------------------------------------------------------------------

let currentRequestId = undefined;

function writeOut(text) {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off);
    } catch (e) {
      if (e.code !== 'EAGAIN') return;
    }
  }
}

// Advanced logging controls: with AWS_LAMBDA_LOG_FORMAT=JSON every console call is one JSON record
// {timestamp, level, requestId, message} (Error arguments as errorType/errorMessage/stackTrace), and
// levels below AWS_LAMBDA_LOG_LEVEL are dropped, as AWS's runtime client does.
const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const jsonFormat = env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
const minLevel = LEVELS[(env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase()] ?? LEVELS.TRACE;

function errorFields(e) {
  return { errorType: e?.constructor?.name ?? 'UnknownError', errorMessage: e.message, stackTrace: typeof e.stack === 'string' ? e.stack.split('\n') : [] };
}

function jsonRecord(level, args) {
  const record = { timestamp: new Date().toISOString(), level, requestId: currentRequestId };
  if (args.length === 1) {
    record.message = args[0];
    try {
      return JSON.stringify(record, (_k, v) => (v instanceof Error ? { ...errorFields(v), ...v } : v));
    } catch {
      record.message = format(args[0]);
      return JSON.stringify(record);
    }
  }
  record.message = format(...args);
  const err = args.find((a) => a instanceof Error);
  if (err) Object.assign(record, errorFields(err));
  return JSON.stringify(record);
}

function patchConsole() {
  const make = (level) => {
    if (LEVELS[level] < minLevel) return () => {};
    return jsonFormat
      ? (...args) => writeOut(`${jsonRecord(level, args)}\n`)
      : (...args) => writeOut(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${format(...args)}\n`);
  };
  console.log = make('INFO');
  console.info = make('INFO');
  console.warn = make('WARN');
  console.error = make('ERROR');
  console.debug = make('DEBUG');
  const trace = make('TRACE');
  console.trace = function (...args) {
    const err = { name: 'Trace', message: format(...args) };
    Error.captureStackTrace(err, console.trace);
    trace(err.stack);
  };
  console.fatal = make('FATAL');
}

// ---- errors ----------------------------------------------------------------------------------

class RuntimeError extends Error {
  constructor(type, message, cause) {
    super(message);
    this.name = type;
    if (typeof cause?.stack === 'string') {
      // The cause's frames under our own first line(s), as AWS's ExtendedError does.
      const head = `${cause.name}: ${cause.message}`;
      const frames = cause.stack.startsWith(head) ? cause.stack.slice(head.length).replace(/^\n/, '') : cause.stack.split('\n').slice(1).join('\n');
      this.stack = `${type}: ${message}\n${frames}`;
    }
  }
}

function isError(e) {
  return e instanceof Error || (e !== null && typeof e === 'object' && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string');
}

/** AWS's Errors.toRapidResponse. */
function toRapidResponse(error) {
  try {
    if (isError(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function logError(prefix, error) {
  const r = toRapidResponse(error);
  if (jsonFormat) {
    writeOut(`${JSON.stringify({ timestamp: new Date().toISOString(), level: 'ERROR', requestId: currentRequestId, message: { errorType: r.errorType, errorMessage: r.errorMessage, stackTrace: r.trace } })}\n`);
    return;
  }
  writeOut(
    `${new Date().toISOString()}\t${currentRequestId}\tERROR\t${prefix} \t${JSON.stringify({ errorType: r.errorType, errorMessage: r.errorMessage, stack: r.trace })}\n`,
  );
}

// ---- Runtime API client ----------------------------------------------------------------------

// The connection is a libuv TCP handle driven directly (process.binding('tcp_wrap')), not a
// net.Socket: loading node:net and its stream machinery and going through its connect path costs ~5 ms
// of every cold start, several times what the whole exchange with the Runtime API takes. node:net is
// the fallback wherever the raw handle is unavailable or would print something (process.binding is
// only runtime-deprecated under --pending-deprecation), so functions never see a difference.

let conn;
let inbox = Buffer.alloc(0);
/** Callers waiting for responses, in request order (a response and the next poll are pipelined). */
const waiters = [];

function onData(chunk) {
  inbox = inbox.length ? Buffer.concat([inbox, chunk]) : chunk;
  tryParse();
}

function onClosed(err) {
  conn = undefined;
  inbox = Buffer.alloc(0);
  for (const w of waiters.splice(0)) w.reject(err ?? new Error('Runtime API connection closed'));
}

function connect() {
  try {
    if (rawAllowed()) {
      conn = connectRaw();
      return;
    }
  } catch {
    // fall through to node:net
  }
  conn = connectNet();
}

function rawAllowed() {
  if (typeof process.binding !== 'function') return false;
  const flags = `${process.execArgv.join(' ')} ${env.NODE_OPTIONS ?? ''}`;
  return !flags.includes('deprecation') && !flags.includes('permission');
}

function connectRaw() {
  const { TCP, TCPConnectWrap, constants } = process.binding('tcp_wrap');
  const { WriteWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = process.binding('stream_wrap');
  if (typeof TCP !== 'function' || typeof WriteWrap !== 'function' || streamBaseState === undefined) throw new Error('no tcp_wrap');
  const handle = new TCP(constants.SOCKET);
  let connected = false;
  let closed = false;
  const queued = [];
  const close = (err) => {
    if (closed) return;
    closed = true;
    handle.close();
    onClosed(err);
  };
  const write = (buf) => {
    if (closed) return;
    const req = new WriteWrap();
    req.handle = handle;
    req.buffer = buf; // kept alive until the write completes
    req.oncomplete = (status) => {
      if (status < 0) close(uvError('write', status));
    };
    req.async = false;
    const err = handle.writeBuffer(req, buf);
    if (err < 0) close(uvError('write', err));
  };
  handle.onread = (arrayBuffer) => {
    const nread = streamBaseState[kReadBytesOrError];
    if (nread > 0) onData(Buffer.from(arrayBuffer, streamBaseState[kArrayBufferOffset], nread));
    else if (nread < 0) close(nread === -4095 /* UV_EOF */ ? undefined : uvError('read', nread));
  };
  const req = new TCPConnectWrap();
  req.oncomplete = (status) => {
    if (status < 0) return close(uvError('connect', status));
    connected = true;
    handle.setNoDelay(true);
    const err = handle.readStart();
    if (err < 0) return close(uvError('read', err));
    for (const buf of queued.splice(0)) write(buf);
  };
  req.address = apiHost;
  req.port = Number(apiPort);
  const err = apiHost.includes(':') ? handle.connect6(req, apiHost, Number(apiPort)) : handle.connect(req, apiHost, Number(apiPort));
  if (err < 0) {
    handle.close();
    throw uvError('connect', err);
  }
  return {
    write: (buf) => (connected ? write(buf) : queued.push(buf)),
    ref: () => handle.ref(),
    unref: () => handle.unref(),
  };
}

function uvError(op, status) {
  let name = String(status);
  try {
    name = require('node:util').getSystemErrorName(status);
  } catch {
    // keep the number
  }
  return new Error(`Runtime API ${op} failed: ${name}`);
}

function connectNet() {
  const socket = require('node:net').connect({ host: apiHost, port: Number(apiPort), noDelay: true });
  socket.on('data', onData);
  let done = false;
  const fail = (err) => {
    if (done) return;
    done = true;
    onClosed(err);
  };
  socket.on('error', fail);
  socket.on('close', () => fail());
  return { write: (buf) => socket.write(buf), ref: () => socket.ref(), unref: () => socket.unref() };
}

function tryParse() {
  while (waiters.length) {
    const end = inbox.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = inbox.toString('latin1', 0, end).split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers = {};
    for (let i = 1; i < head.length; i++) {
      const c = head[i].indexOf(':');
      headers[head[i].slice(0, c).trim().toLowerCase()] = head[i].slice(c + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (inbox.length < end + 4 + length) return;
    const body = inbox.subarray(end + 4, end + 4 + length);
    inbox = inbox.subarray(end + 4 + length);
    waiters.shift().resolve({ status, headers, body });
  }
}

function encode(method, urlPath, headers, body) {
  let head = `${method} /2018-06-01/runtime/${urlPath} HTTP/1.1\r\nHost: ${apiHost}:${apiPort}\r\n`;
  for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
  if (body !== undefined) head += `Content-Length: ${body.length}\r\n`;
  const h = Buffer.from(head + '\r\n', 'latin1');
  return body === undefined ? [h] : [h, body];
}

/** Sends requests back to back on the connection; resolves with their responses in order. */
function send(requests) {
  if (!conn) connect();
  conn.ref();
  const parts = requests.flatMap((r) => encode(...r));
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total < 65536) conn.write(parts.length === 1 ? parts[0] : Buffer.concat(parts, total));
  else for (const p of parts) conn.write(p);
  return Promise.all(requests.map(() => new Promise((resolve, reject) => waiters.push({ resolve, reject }))));
}

async function request(method, urlPath, headers, body) {
  return (await send([[method, urlPath, headers, body]]))[0];
}

function check(urlPath, res) {
  // 413 for an oversized response: the platform has already answered the invoke with an error.
  if (res.status !== 202 && res.status !== 413) {
    throw new Error(`Runtime API ${urlPath} answered ${res.status}: ${res.body.toString()}`);
  }
}

/** Posts a result and, pipelined behind it, polls for the next event (saves a round trip). */
async function postThenNext(urlPath, headers, body) {
  const [posted, next] = await send([['POST', urlPath, headers, body], ['GET', 'invocation/next', {}, undefined]]);
  check(urlPath, posted);
  return next;
}

function errorRequest(error) {
  const r = toRapidResponse(error);
  return [{ 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': r.errorType }, Buffer.from(JSON.stringify(r))];
}

async function postError(urlPath, error) {
  const res = await request('POST', urlPath, ...errorRequest(error));
  check(urlPath, res);
}

// ---- loading the handler (AWS UserFunction.js) -----------------------------------------------

function hasPackageJsonTypeModule(file) {
  let dir = path.dirname(file);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

// An ES module handler is loaded with require() where Node.js supports require(esm) without a warning
// (20.19+, 22.13+, 23.5+): its synchronous loader path costs ~1.5 ms where the first import() sets up
// the asynchronous loader (fs/promises, streams, ...) for ~5 ms. Same modules, same errors (codes and
// messages); a graph with top-level await is refused by require() before anything is evaluated, and
// goes through import() as it does on AWS.
const esmByRequire = (() => {
  if (process.features?.require_module !== true) return false;
  const [major, minor] = process.versions.node.split('.').map(Number);
  return (major === 20 && minor >= 19) || (major === 22 && minor >= 13) || (major === 23 && minor >= 5) || major >= 24;
})();

function importEsm(file) {
  if (esmByRequire) {
    try {
      const ns = require(file);
      // A module exporting 'module.exports' makes require() return that instead: ask import().
      if (require('node:util').types.isModuleNamespaceObject(ns)) return ns;
    } catch (e) {
      // Without in-thread hooks (Node.js 20), NODE_PATH reaches ES modules only through the
      // asynchronous loader's hooks, set up here, when a package is not found the usual way.
      const retry = e?.code === 'ERR_MODULE_NOT_FOUND' && esmNodePath === 'async-pending' && registerAsyncNodePathHook();
      if (!retry && e?.code !== 'ERR_REQUIRE_ASYNC_MODULE' && e?.code !== 'ERR_REQUIRE_ESM') throw e;
    }
  }
  return import(require('node:url').pathToFileURL(file).href);
}

// ---- NODE_PATH for ES modules ------------------------------------------------------------------

// Node.js ignores NODE_PATH when resolving `import` specifiers; AWS's runtimes (Node.js 18 and
// later) search its directories for ES modules too, which is how handlers import the SDK shipped in
// the runtime and packages from layers (/opt/nodejs/node_modules, /opt/nodejs/nodeNN/node_modules).
// A resolve hook falls back, for a bare specifier the usual lookup did not find, to resolving it as
// if imported from beside each NODE_PATH directory named node_modules: the function's own copies
// (found first by the usual lookup) keep precedence, as on AWS.

const nodePathDirs = (env.NODE_PATH ?? '').split(':').filter((d) => d !== '' && path.basename(d) === 'node_modules');
let esmNodePath = 'off';

function isBareSpecifier(s) {
  return !/^(\.|\/|#|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(s);
}

function installEsmNodePath() {
  if (nodePathDirs.length === 0) return;
  const mod = require('node:module');
  if (typeof mod.registerHooks === 'function') {
    // Node.js 22.15+, 23.5+: synchronous, in-thread hooks, which cover require(esm) and import() alike.
    const parents = nodePathDirs.map((d) => `file://${encodeURI(path.dirname(d))}/[lambdalite-node-path].mjs`);
    mod.registerHooks({
      resolve(specifier, context, nextResolve) {
        try {
          return nextResolve(specifier, context);
        } catch (e) {
          if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !isBareSpecifier(specifier)) throw e;
          for (const parentURL of parents) {
            try {
              return nextResolve(specifier, { ...context, parentURL });
            } catch {
              // next directory
            }
          }
          throw e;
        }
      },
    });
    esmNodePath = 'sync';
  } else if (typeof mod.register === 'function') {
    // Node.js 20: hooks run on a loader thread whose start costs milliseconds; set up on demand.
    esmNodePath = 'async-pending';
  }
}

function registerAsyncNodePathHook() {
  esmNodePath = 'async';
  const parents = JSON.stringify(nodePathDirs.map((d) => `file://${encodeURI(path.dirname(d))}/[lambdalite-node-path].mjs`));
  const source =
    `const parents = ${parents};\n` +
    `const bare = (s) => !/^(\\.|\\/|#|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(s);\n` +
    `export async function resolve(specifier, context, nextResolve) {\n` +
    `  try { return await nextResolve(specifier, context); } catch (e) {\n` +
    `    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !bare(specifier)) throw e;\n` +
    `    for (const parentURL of parents) { try { return await nextResolve(specifier, { ...context, parentURL }); } catch {} }\n` +
    `    throw e;\n  }\n}\n`;
  require('node:module').register(`data:text/javascript,${encodeURIComponent(source)}`);
  return true;
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  if (isFile(base)) return require(base);
  const typeModule = hasPackageJsonTypeModule(base);
  if (isFile(`${base}.js`)) return typeModule ? importEsm(`${base}.js`) : require(`${base}.js`);
  if (isFile(`${base}.mjs`)) return importEsm(`${base}.mjs`);
  if (isFile(`${base}.cjs`)) return require(`${base}.cjs`);
  // Node-style resolution, e.g. a handler in node_modules.
  const resolved = require.resolve(moduleName, { paths: [appRoot, path.resolve(appRoot, moduleRoot)] });
  return require(resolved);
}

async function loadHandler(fullHandler) {
  installEsmNodePath();
  if (esmNodePath === 'async-pending' && !esmByRequire) registerAsyncNodePathHook();
  if (fullHandler.includes('..')) {
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const slash = fullHandler.lastIndexOf('/');
  const moduleRoot = slash < 0 ? '' : fullHandler.slice(0, slash);
  const moduleAndHandler = fullHandler.slice(slash + 1);
  const match = moduleAndHandler.match(/^([^.]*)\.(.*)$/);
  if (!match) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  const [, moduleName, handlerPath] = match;
  let mod;
  try {
    mod = await loadModule(TASK_ROOT, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`, e);
    if (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new RuntimeError('Runtime.ImportModuleError', `${e.name}: ${e.message}`, e);
    }
    throw e;
  }
  const handler = handlerPath.split('.').reduce((obj, key) => (obj == null ? undefined : obj[key]), mod);
  if (handler === undefined) throw new RuntimeError('Runtime.HandlerNotFound', `${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new RuntimeError('Runtime.HandlerNotFound', `${fullHandler} is not a function`);
  return handler;
}

// ---- invocations -----------------------------------------------------------------------------

function parseJson(text, what) {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`Cannot parse ${what} as json: ${text}`);
  }
}

let pending;
process.on('beforeExit', () => {
  // The event loop is empty: a callback handler that asked to wait for it is done now; a handler
  // that never answered returns null, as AWS's does.
  const p = pending;
  if (p) {
    pending = undefined;
    p.finish(p.hasResult ? p.result : [null, null]);
  }
});

function invoke(handler, res) {
  const h = res.headers;
  const requestId = h['lambda-runtime-aws-request-id'];
  const deadline = Number(h['lambda-runtime-deadline-ms']);
  currentRequestId = requestId;
  if (h['lambda-runtime-trace-id'] !== undefined) env._X_AMZN_TRACE_ID = h['lambda-runtime-trace-id'];
  else delete env._X_AMZN_TRACE_ID;

  return new Promise((resolve) => {
    let waitsForEmptyLoop = true;
    let settled = false;
    const finish = ([err, result]) => {
      if (settled) return;
      settled = true;
      pending = undefined;
      resolve([err, result]);
    };
    const callback = (err, result) => {
      if (settled) return;
      const answer = err !== undefined && err !== null ? [err, undefined] : [null, result];
      if (!waitsForEmptyLoop) return finish(answer);
      // Wait for the event loop to drain (beforeExit); our own idle socket must not hold it open.
      pending = { finish, hasResult: true, result: answer };
      conn?.unref();
    };
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitsForEmptyLoop;
      },
      set callbackWaitsForEmptyEventLoop(v) {
        waitsForEmptyLoop = v;
      },
      succeed: (result) => callback(null, result),
      fail: (err) => callback(err ?? '', undefined),
      done: (err, result) => callback(err, result),
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: parseJson(h['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJson(h['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
      awsRequestId: requestId,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    let event;
    try {
      event = JSON.parse(res.body.length ? res.body.toString('utf8') : 'null');
    } catch (e) {
      return finish([e, undefined]);
    }
    try {
      const out = handler(event, context, callback);
      if (out !== null && typeof out === 'object' && typeof out.then === 'function') {
        out.then((r) => finish([null, r]), (e) => finish([e ?? new Error('Handler rejected with no reason'), undefined]));
      } else if (!settled && pending === undefined) {
        // Not a promise: wait for the callback or, failing that, for the event loop to drain, when
        // AWS answers null (a plain return value of a non-async handler is ignored, as in AWS).
        pending = { finish, hasResult: false };
        conn?.unref();
      }
    } catch (e) {
      finish([e, undefined]);
    }
  });
}

async function main() {
  patchConsole();
  // Connect now: the handshake and the server's accept overlap with loading the handler (the first
  // request, GET next, still goes out only once init is done).
  connect();
  let handler;
  try {
    handler = await loadHandler(env._HANDLER ?? '');
  } catch (e) {
    logError('Uncaught Exception', e);
    try {
      await postError('init/error', e);
    } finally {
      process.exit(129);
    }
  }

  process.on('uncaughtException', async (e) => {
    logError('Uncaught Exception', e);
    if (currentRequestId !== undefined) await postError(`invocation/${currentRequestId}/error`, e).catch(() => {});
    process.exit(129);
  });
  process.on('unhandledRejection', async (reason) => {
    const e = new RuntimeError('Runtime.UnhandledPromiseRejection', isError(reason) ? `${reason.name}: ${reason.message}` : String(reason), isError(reason) ? reason : undefined);
    logError('Unhandled Promise Rejection', e);
    if (currentRequestId !== undefined) await postError(`invocation/${currentRequestId}/error`, e).catch(() => {});
    process.exit(128);
  });

  let next = await request('GET', 'invocation/next', {});
  for (;;) {
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    const [err, result] = await invoke(handler, next);
    let answer;
    if (err !== null && err !== undefined) {
      logError('Invoke Error', err);
      answer = [`invocation/${requestId}/error`, ...errorRequest(err)];
    } else {
      try {
        answer = [`invocation/${requestId}/response`, { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify(result === undefined ? null : result))];
      } catch (e) {
        logError('Invoke Error', e);
        answer = [`invocation/${requestId}/error`, ...errorRequest(e)];
      }
    }
    currentRequestId = undefined;
    next = await postThenNext(...answer);
  }
}

main().catch((e) => {
  writeOut(`${new Date().toISOString()}\t${currentRequestId}\tERROR\tlambdalite runtime client failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
