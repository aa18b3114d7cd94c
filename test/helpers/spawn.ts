// Starts a long-running child process (the lambdalite command, moto_server) and resolves once it prints
// its readiness line: the line is raced against the process's exit and a bound, and either failure
// carries everything the child printed.
import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnedProcess {
  readonly child: ChildProcess;
  /** The readiness pattern's match. */
  readonly ready: RegExpExecArray;
  stdout(): string;
  stderr(): string;
  /** Sends a signal (unless it has exited) and resolves with the exit code (null after a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once it exits by itself. */
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Matched against stdout (and stderr when `readyOnStderr`) as it arrives. */
  readonly ready: RegExp;
  readonly readyOnStderr?: boolean;
  readonly timeoutMs?: number;
}

export async function spawnUntilReady(file: string, args: readonly string[], options: SpawnOptions): Promise<SpawnedProcess> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => {
    if (signal) err += `\n[killed by ${signal}]`;
    resolve(code);
  }));
  const describe = () => `${[file, ...args].join(' ')}\nstdout: ${out}\nstderr: ${err}`;
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no readiness line within ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    const check = (text: string) => {
      const m = options.ready.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    // Both pipes are always read, so a child never blocks on a full one.
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); check(out); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (options.readyOnStderr) check(err); });
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`could not start ${file}: ${e.message}`)); });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`exited with ${code} before it was ready: ${describe()}`)); });
  });
  return {
    child,
    ready,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
