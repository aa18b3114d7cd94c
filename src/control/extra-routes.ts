// The routes beside the Lambda API: code downloads and /metrics. GetFunction's Code.Location and
// GetLayerVersion's Content.Location point at /_lambdalite/code/<sha256>.zip, signed with a per-data-dir
// secret and valid for 10 minutes, as AWS presigns its S3 URLs.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ExtraRoute } from '../api/http-server.js';
import type { Clock } from '../shared/clock.js';
import type { CodeStore } from './code-store.js';

/** A per-data-dir secret that signs code download URLs, as AWS presigns its S3 URLs (and mints function credentials). */
export function loadSecret(dataDir: string): Buffer {
  const file = path.join(dataDir, 'secret');
  try {
    return readFileSync(file);
  } catch {
    const secret = randomBytes(32);
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

const CODE_URL_TTL_S = 600;

export class CodeUrls {
  readonly #secret: Buffer;
  readonly #clock: Clock;
  readonly #code: CodeStore;

  constructor(secret: Buffer, clock: Clock, code: CodeStore) {
    this.#secret = secret;
    this.#clock = clock;
    this.#code = code;
  }

  #sign(hash: string, expires: number): string {
    return createHmac('sha256', this.#secret).update(`${hash}:${expires}`).digest('base64url');
  }

  /** A download URL for a package, at the address the caller reached us by. */
  readonly url = (hash: string, baseUrl: string): string => {
    const expires = Math.floor(this.#clock.now() / 1000) + CODE_URL_TTL_S;
    return `${baseUrl}/_lambdalite/code/${hash}.zip?expires=${expires}&signature=${this.#sign(hash, expires)}`;
  };

  /** Serves a signed code download; undefined for any other request. */
  readonly route: ExtraRoute = (req, url) => {
    const m = /^\/_lambdalite\/code\/([0-9a-f]{64})\.zip$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return undefined;
    const hash = m[1]!;
    const expires = Number(url.searchParams.get('expires'));
    const given = Buffer.from(url.searchParams.get('signature') ?? '');
    const expected = Buffer.from(this.#sign(hash, expires));
    const denied = { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>AccessDenied</Code><Message>Request has expired or the signature does not match</Message></Error>' };
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || expires * 1000 < this.#clock.now()) return denied;
    const file = this.#code.zipPath(hash);
    try {
      statSync(file);
    } catch {
      return { status: 404, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>' };
    }
    return { status: 200, headers: { 'content-type': 'application/zip' }, body: readFileSync(file) };
  };
}

/** /metrics (the engine's Prometheus text) and the code downloads. */
export function extraRoutes(codeUrls: CodeUrls, metrics: () => string): ExtraRoute {
  return (req, url) => {
    if (url.pathname === '/metrics' && req.method === 'GET') {
      return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }, body: metrics() };
    }
    return codeUrls.route(req, url);
  };
}
