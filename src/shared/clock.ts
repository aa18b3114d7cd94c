// Time comes from an injected clock so deadlines, lifecycles and retries can be tested without
// waiting. Durations use the monotonic `elapsed`, so a wall-clock step never yields a negative
// Duration in a REPORT line.
export interface Timer {
  unref?(): unknown;
}

export interface Clock {
  /** Wall-clock epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds, fractional; only differences are meaningful. */
  elapsed(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  elapsed: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): Timer => setTimeout(fn, ms),
  clearTimeout: (timer: Timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
});

/** AWS's LastModified format: 2024-03-27T09:14:35.123+0000 */
export function awsTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
