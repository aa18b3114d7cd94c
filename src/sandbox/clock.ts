// The invoke engine's view of time. Deadlines (Lambda-Runtime-Deadline-Ms, timeouts, idle reclaim)
// and log timestamps come from here so tests can pin or skip time; durations use the monotonic
// `elapsed` so a wall-clock step never produces a negative Duration in a REPORT line.

export interface Clock {
  /** Wall-clock epoch milliseconds. */
  now(): number;
  /** Monotonic milliseconds, fractional; only differences are meaningful. */
  elapsed(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

export interface Timer {
  unref?(): unknown;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  elapsed: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): Timer => setTimeout(fn, ms),
  clearTimeout: (timer: Timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
});
