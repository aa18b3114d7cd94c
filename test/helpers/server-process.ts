// A lambdalite server in a child process, for tests that must SIGKILL it: the real server started as the
// CLI starts it (same options, same readiness line), but on a clock that skips long waits, so the async
// queue's throttle backoff (seconds to minutes) passes at once. Test-only: production has no such option.
import { parseOptions } from '../../src/shared/config.js';
import { startServer } from '../../src/server.js';
import { systemClock, type Clock, type Timer } from '../../src/shared/clock.js';

/** Timers fire after at most `maxRealMs`, and the clock jumps forward by what was skipped. */
class SkippingClock implements Clock {
  #offset = 0;
  constructor(private readonly maxRealMs: number) {}
  now(): number {
    return systemClock.now() + this.#offset;
  }
  elapsed(): number {
    return systemClock.elapsed() + this.#offset;
  }
  setTimeout(fn: () => void, ms: number): Timer {
    const real = Math.min(ms, this.maxRealMs);
    return systemClock.setTimeout(() => {
      this.#offset += ms - real;
      fn();
    }, real);
  }
  clearTimeout(timer: Timer): void {
    systemClock.clearTimeout(timer);
  }
}

const options = parseOptions(process.argv.slice(2), process.env);
const server = await startServer(options, { clock: new SkippingClock(200) });
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
process.stdout.write(`lambdalite listening on ${server.url} (data dir ${options.dataDir})\n`);
