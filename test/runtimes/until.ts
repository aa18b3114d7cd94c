// A bounded wait for something that happens asynchronously (a datagram, a log line written just after
// a response): polls `probe` until it yields a value, failing with `what` after `ms`.
import assert from 'node:assert/strict';

export async function until<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
