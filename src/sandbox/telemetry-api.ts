// The Lambda Telemetry API (2022-07-01), served next to the Runtime API: a registered extension
// subscribes (PUT /2022-07-01/telemetry) to the `platform`, `function` and `extension` streams,
// and the platform POSTs batches of events (JSON arrays) to the subscriber's HTTP destination with
// the subscription's buffering: a batch goes out when it holds maxItems events or maxBytes bytes,
// or timeoutMs after its first event (AWS's limits and defaults below). `sandbox.localdomain` in a
// destination is the sandbox's own address.
//
// lambdalite only: the runtime's and the extensions' output share one stdout here, so all of it is
// sent as `function` events; HTTP destinations only (TCP answers ValidationError), and only to the
// sandbox itself (sandbox.localdomain, 127.0.0.1, localhost).

import http from 'node:http';
import type net from 'node:net';
import { fail, readSmallBody } from './extensions-api.js';

export const TELEMETRY_PREFIX = '/2022-07-01/telemetry';

const SCHEMA_VERSIONS = new Set(['2022-07-01', '2022-12-13', '2025-01-29']);
const TYPES = new Set(['platform', 'function', 'extension']);
/** AWS's buffering limits: [min, max, default]. */
const LIMITS = { maxItems: [1000, 10000, 10000], maxBytes: [262144, 1048576, 262144], timeoutMs: [25, 30000, 1000] } as const;

export type TelemetryCategory = 'platform' | 'function' | 'extension';

interface Subscription {
  readonly extensionId: string;
  readonly url: URL;
  readonly types: ReadonlySet<string>;
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  batch: string[];
  bytes: number;
  timer: NodeJS.Timeout | undefined;
  /** Deliveries in flight, so shutdown can wait for them. */
  sending: Promise<void>;
  /** The batch was due while deliveries were held. */
  due: boolean;
}

/** Opens a connection to a port of the sandbox's own loopback. */
export type SandboxConnector = (port: number) => Promise<net.Socket>;

export class TelemetryApi {
  readonly #subs = new Map<string, Subscription>();
  readonly #isExtension: (id: string) => boolean;
  /**
   * How deliveries reach the subscriber: from inside the environment's network namespace
   * (network.ts); undefined when the environment shares the server's network.
   */
  connect: SandboxConnector | undefined;
  #held = false;

  constructor(isExtension: (id: string) => boolean) {
    this.#isExtension = isExtension;
  }

  get active(): boolean {
    return this.#subs.size > 0;
  }

  route(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'PUT') {
      req.resume();
      res.writeHead(405, { 'Content-Length': 0 });
      return void res.end();
    }
    readSmallBody(req, (body) => {
      const raw = req.headers['lambda-extension-identifier'];
      const id = Array.isArray(raw) ? raw[0] : raw;
      if (id === undefined || id === '') return fail(res, 403, 'Extension.MissingHeader', 'Missing Lambda-Extension-Identifier header');
      if (!this.#isExtension(id)) return fail(res, 403, 'Extension.UnknownExtensionIdentifier', 'Unknown extension ' + id);
      let sub: Subscription;
      try {
        sub = parseSubscription(id, body.toString('utf8'));
      } catch (e) {
        return fail(res, 400, 'ValidationError', (e as Error).message);
      }
      const old = this.#subs.get(id);
      if (old?.timer !== undefined) clearTimeout(old.timer);
      this.#subs.set(id, sub);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 });
      res.end('OK');
    });
  }

  /** Queues one event for every subscription to its category. */
  emit(category: TelemetryCategory, type: string, record: unknown, time = new Date()): void {
    if (this.#subs.size === 0) return;
    const text = JSON.stringify({ time: time.toISOString(), type, record });
    for (const sub of this.#subs.values()) {
      if (!sub.types.has(category)) continue;
      sub.batch.push(text);
      sub.bytes += Buffer.byteLength(text);
      if (sub.batch.length >= sub.maxItems || sub.bytes >= sub.maxBytes) this.#flush(sub);
      else sub.timer ??= setTimeout(() => this.#flush(sub), sub.timeoutMs);
    }
  }

  /** `function` events, one per line of output. */
  output(chunk: Buffer): void {
    if (this.#subs.size === 0) return;
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.emit('function', 'function', line);
  }

  /** Sends what is buffered now (before SHUTDOWN is delivered) and waits for it, bounded by `ms`. */
  async flushAll(ms: number): Promise<void> {
    for (const sub of this.#subs.values()) this.#flush(sub);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.#subs.values()].map((s) => s.sending)), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** While the environment is frozen its listener cannot answer: batches wait until release(). */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    for (const sub of this.#subs.values()) if (sub.due) this.#flush(sub);
  }

  close(): void {
    for (const sub of this.#subs.values()) if (sub.timer !== undefined) clearTimeout(sub.timer);
    this.#subs.clear();
  }

  #flush(sub: Subscription): void {
    if (sub.timer !== undefined) clearTimeout(sub.timer);
    sub.timer = undefined;
    sub.due = this.#held;
    if (sub.batch.length === 0 || this.#held) return;
    const body = `[${sub.batch.join(',')}]`;
    sub.batch = [];
    sub.bytes = 0;
    const previous = sub.sending;
    // One batch at a time per subscriber, in order, as AWS delivers them.
    sub.sending = previous.then(() => post(sub.url, body, this.connect));
  }
}

function parseSubscription(extensionId: string, text: string): Subscription {
  const body = JSON.parse(text) as {
    schemaVersion?: unknown;
    destination?: { protocol?: unknown; URI?: unknown };
    types?: unknown;
    buffering?: Record<string, unknown>;
  };
  if (typeof body.schemaVersion !== 'string' || !SCHEMA_VERSIONS.has(body.schemaVersion)) {
    throw new Error(`schemaVersion must be one of ${[...SCHEMA_VERSIONS].join(', ')}`);
  }
  if (body.destination?.protocol !== 'HTTP') throw new Error('destination.protocol must be HTTP (TCP is not supported by lambdalite)');
  let url: URL;
  try {
    url = new URL(String(body.destination.URI));
  } catch {
    throw new Error('destination.URI must be an http URL');
  }
  if (url.protocol !== 'http:') throw new Error('destination.URI must be an http URL');
  // Telemetry goes to the subscriber inside the sandbox, never to another host on the server's network.
  if (!['sandbox.localdomain', '127.0.0.1', 'localhost'].includes(url.hostname)) throw new Error('destination.URI must address the sandbox (sandbox.localdomain)');
  if (!Array.isArray(body.types) || body.types.length === 0 || body.types.some((t) => typeof t !== 'string' || !TYPES.has(t))) {
    throw new Error('types must be a non-empty list of platform, function, extension');
  }
  const buffering = body.buffering ?? {};
  const limit = (key: keyof typeof LIMITS): number => {
    const [min, max, fallback] = LIMITS[key];
    const v = buffering[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`buffering.${key} must be an integer from ${min} to ${max}`);
    return v;
  };
  return {
    extensionId,
    url,
    types: new Set(body.types as string[]),
    maxItems: limit('maxItems'),
    maxBytes: limit('maxBytes'),
    timeoutMs: limit('timeoutMs'),
    batch: [],
    bytes: 0,
    timer: undefined,
    sending: Promise.resolve(),
    due: false,
  };
}

/** POSTs one batch; a subscriber that is gone or slow loses it (AWS drops too), never blocks the platform. */
function post(url: URL, body: string, connect: SandboxConnector | undefined): Promise<void> {
  const host = url.hostname === 'sandbox.localdomain' ? '127.0.0.1' : url.hostname;
  const port = Number(url.port || 80);
  const options: http.RequestOptions = { host, port, path: `${url.pathname}${url.search}`, method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, timeout: 5000 };
  if (connect !== undefined) {
    // The listener is on the loopback of the sandbox's namespace, not the server's.
    options.createConnection = (_o, done) => {
      connect(port).then((socket) => done(null, socket), (e: Error) => done(e, undefined as unknown as net.Socket));
      return undefined as unknown as net.Socket;
    };
  }
  return new Promise((resolve) => {
    const req = http.request(
      options,
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', () => resolve());
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}
