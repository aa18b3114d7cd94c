// Holds functions in flight without sleeping: a function that must stay busy makes an HTTP request to a
// gate the test runs, and the gate answers only when the test releases it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { within } from './wait.js';

export interface Gate {
  /** What the function requests (GET); every request is held until release(). */
  readonly url: string;
  /** Requests that arrived so far. */
  arrived(): number;
  /** Resolves once n requests have arrived (bounded). */
  arrivals(n: number): Promise<void>;
  /** Answers every held request and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

export async function gate(): Promise<Gate> {
  const held: http.ServerResponse[] = [];
  const watchers: { n: number; resolve: () => void }[] = [];
  let open = false;
  let count = 0;
  const server = http.createServer((_req, res) => {
    count++;
    if (open) res.end('ok');
    else held.push(res);
    for (const w of [...watchers]) if (count >= w.n) (watchers.splice(watchers.indexOf(w), 1), w.resolve());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    arrived: () => count,
    arrivals: (n) => within(new Promise<void>((resolve) => (count >= n ? resolve() : watchers.push({ n, resolve }))), { message: `${n} invocation(s) in flight at the gate` }),
    release: () => {
      open = true;
      for (const res of held.splice(0)) res.end('ok');
    },
    close: () => {
      open = true;
      for (const res of held.splice(0)) res.end('ok');
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Node.js source for a function that waits on the gate whose URL the event's `gate` member names. */
export const WAIT_ON_GATE = `const waitOnGate = (url) => new Promise((resolve, reject) => require('http').get(url, (r) => { r.resume(); r.on('end', resolve); }).on('error', reject));`;
