// The web console: a static page at /_lambdalite/console that drives the server's own Lambda REST API from
// the browser (same origin, unsigned, so the default account and region), plus the few JSON endpoints under
// /_lambdalite/api/ for what that API does not expose. The page's files are plain HTML, CSS and JavaScript
// in this folder, read from the package at run time: no build step, nothing fetched from elsewhere.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import { packageRoot } from '../runtimes/registry.js';
import type { QueuedEventCounts } from '../store/types.js';

export const CONSOLE_PATH = '/_lambdalite/console';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

// The page loads only its own files and talks only to this origin.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export interface ConsoleSources {
  /** Events waiting in the durable async queue (pending or waiting for a retry). */
  queuedEvents(): number;
  /** The same events by state. */
  queuedEventsByState(): QueuedEventCounts;
  /** Events given up since this process started (failed with nowhere to send them, function gone, record
   *  undeliverable): the store does not keep them, so this counter is all there is. */
  droppedEvents(): number;
}

interface Response {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Answers the console's paths; undefined for anything else (the caller's other routes). */
export function consoleRoutes(sources: ConsoleSources): (req: http.IncomingMessage, url: URL) => Response | undefined {
  const dir = path.join(packageRoot(), 'src', 'console');
  return (req, url): Response | undefined => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    if (url.pathname === CONSOLE_PATH || url.pathname.startsWith(`${CONSOLE_PATH}/`)) {
      const name = url.pathname.slice(CONSOLE_PATH.length + 1) || 'index.html';
      const type = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
      if (type === undefined) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found\n' };
      return { status: 200, headers: { 'content-type': type, ...SECURITY_HEADERS }, body: readFileSync(path.join(dir, name)) };
    }
    if (url.pathname === '/_lambdalite/api/queue') {
      return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify({ queuedEvents: sources.queuedEvents(), ...sources.queuedEventsByState(), droppedSinceStart: sources.droppedEvents() }) };
    }
    return undefined;
  };
}
