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

interface FakeTimer extends Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  readonly ms: number;
}

/**
 * A clock whose time moves only when told to (tests): timers fire, in order, while `advance` passes
 * their due time. Its wall clock starts at the real time so timestamps look like any other.
 */
export class FakeClock implements Clock {
  #wall: number;
  #elapsed = 0;
  #seq = 0;
  readonly #timers: FakeTimer[] = [];
  readonly #watchers: { match: (ms: number) => boolean; resolve: () => void }[] = [];

  constructor(startMs: number = Date.now()) {
    this.#wall = startMs;
  }

  now(): number {
    return this.#wall;
  }

  elapsed(): number {
    return this.#elapsed;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const delay = Math.max(0, ms);
    const timer: FakeTimer = { at: this.#elapsed + delay, seq: ++this.#seq, fn, ms: delay, unref: () => timer };
    this.#timers.push(timer);
    for (const w of [...this.#watchers]) {
      if (w.match(delay)) {
        this.#watchers.splice(this.#watchers.indexOf(w), 1);
        w.resolve();
      }
    }
    return timer;
  }

  clearTimeout(timer: Timer): void {
    const i = this.#timers.indexOf(timer as FakeTimer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (also ones they set) in due order. */
  advance(ms: number): void {
    const end = this.#elapsed + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (!next) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#wall += next.at - this.#elapsed;
      this.#elapsed = next.at;
      next.fn();
    }
    this.#wall += end - this.#elapsed;
    this.#elapsed = end;
  }

  /** Milliseconds until the earliest pending timer is due, or undefined when none is pending. */
  nextDelay(): number | undefined {
    let at: number | undefined;
    for (const t of this.#timers) if (at === undefined || t.at < at) at = t.at;
    return at === undefined ? undefined : at - this.#elapsed;
  }

  /**
   * Resolves once a timer whose delay `match` accepts is pending (at once if one is), so a test can
   * advance time exactly when the code under test has started waiting.
   */
  whenTimer(match: (ms: number) => boolean = () => true): Promise<void> {
    if (this.#timers.some((t) => match(t.ms))) return Promise.resolve();
    return new Promise((resolve) => this.#watchers.push({ match, resolve }));
  }
}
