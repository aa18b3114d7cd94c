// Every wait in the tests is bounded and says what it waited for. Tests wait for a condition or an event,
// never for time to pass: a slow machine makes a test slower, not wrong.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { EventEmitter } from 'node:events';

export interface WaitOptions {
  /** What is awaited, for the failure message. */
  readonly message: string;
  /** Default 30 s: generous, because a bound is only there to turn a hang into a clear failure. */
  readonly timeoutMs?: number;
}

export interface WaitForOptions extends WaitOptions {
  /** How often the condition is checked again (default 20 ms). */
  readonly intervalMs?: number;
  /** Also check again whenever this emitter emits this event. */
  readonly events?: readonly [EventEmitter, string];
}

const DEFAULT_TIMEOUT_MS = 30_000;

function timeoutError(options: WaitOptions): Error {
  return new Error(`timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms waiting for ${options.message}`);
}

/** Awaits `p`, failing with a clear message instead of hanging. */
export async function within<T>(p: Promise<T>, options: WaitOptions): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeoutError(options)), options.timeoutMs ?? DEFAULT_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves with the first truthy value of `condition` (which may be async, e.g. an AWS call); for
 * states no event announces (a file written by a sandboxed function, a peer's queue length).
 */
export async function waitFor<T>(condition: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: WaitForOptions): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const interval = options.intervalMs ?? 20;
  for (;;) {
    const v = await condition();
    if (v !== undefined && v !== null && v !== false) return v;
    const left = deadline - performance.now();
    if (left <= 0) throw timeoutError(options);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        options.events?.[0].off(options.events[1], done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(interval, left));
      options.events?.[0].once(options.events[1], done);
    });
  }
}

/**
 * Resolves with the next message published on a `node:diagnostics_channel` channel that `match`
 * accepts. Subscribe before causing the event: call this first, await it after.
 */
export function nextMessage<T>(channel: string, match: (message: T) => boolean, options: WaitOptions): Promise<T> {
  let listener: ((message: unknown) => void) | undefined;
  const p = new Promise<T>((resolve) => {
    listener = (message: unknown) => {
      if (match(message as T)) resolve(message as T);
    };
    diagnosticsChannel.subscribe(channel, listener);
  });
  return within(p, options).finally(() => diagnosticsChannel.unsubscribe(channel, listener!));
}

/** Records every message of a channel until stopped, for checks of what did (not) happen meanwhile. */
export function recordMessages<T>(channel: string): { readonly messages: T[]; stop(): void } {
  const messages: T[] = [];
  const listener = (m: unknown) => void messages.push(m as T);
  diagnosticsChannel.subscribe(channel, listener);
  return { messages, stop: () => void diagnosticsChannel.unsubscribe(channel, listener) };
}
