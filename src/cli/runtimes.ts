// `lambdalite runtimes list|install`, and the start-up installs of `--install-runtimes`.
import { parseOptions, optionSpecs, ConfigError, type ServerOptions } from '../shared/config.js';
import { RuntimeRegistry } from '../runtimes/registry.js';
import { runtimeSettings } from '../runtimes/options.js';
import { LambdaError } from '../shared/errors.js';

/** The runtimes the README's table lists; `list` reports on each. */
const KNOWN = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14', 'provided.al2023', 'provided.al2'];

export const runtimesUsage = `usage: lambdalite runtimes list [options]
       lambdalite runtimes install RUNTIME... [options]

Installs Node.js builds (npm packages node-linux-<arch>) and the AWS SDK for JavaScript v3 into the
runtime directory, so no invoke waits for them; Python runtimes use an interpreter found on this
machine (pyenv, PATH, or --runtime-path). Options as for \`lambdalite start\` (--data-dir,
--runtime-dir, --runtime-path).
`;

function registryFor(options: ServerOptions, log: (line: string) => void): RuntimeRegistry {
  const s = runtimeSettings(options);
  return new RuntimeRegistry({ runtimeDir: s.runtimeDir, runtimePaths: s.runtimePaths, log });
}

/** Installs each runtime; one line per runtime. Throws on the first that cannot be provided. */
export async function installRuntimes(options: ServerOptions, runtimes: readonly string[], log: (line: string) => void): Promise<void> {
  if (runtimes.length === 0) return;
  const registry = registryFor(options, log);
  for (const runtime of runtimes) {
    try {
      const plan = await registry.install(runtime);
      log(`${runtime}: ready (${plan.runtimeVersion})`);
    } catch (e) {
      if (e instanceof LambdaError) throw new ConfigError(`${runtime}: ${e.message}`);
      throw e;
    }
  }
}

/** Runtime identifiers (positional) apart from options and their values. */
function splitArgs(args: readonly string[]): { runtimes: string[]; flags: string[] } {
  const runtimes: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      runtimes.push(a);
      continue;
    }
    flags.push(a);
    const spec = optionSpecs.find((s) => s.flag === a);
    if (spec !== undefined && spec.kind !== 'bool' && i + 1 < args.length) flags.push(args[++i] as string);
  }
  return { runtimes, flags };
}

export async function runtimesCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || (sub !== 'list' && sub !== 'install')) {
    (sub === undefined || sub.startsWith('-') ? process.stdout : process.stderr).write(runtimesUsage);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const { runtimes, flags } = splitArgs(rest);
  const options = parseOptions(flags, process.env);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (sub === 'install') {
    if (runtimes.length === 0) throw new ConfigError('runtimes install needs at least one runtime, e.g. nodejs22.x');
    await installRuntimes(options, runtimes, (line) => say(line));
    return 0;
  }
  const registry = registryFor(options, () => {});
  say(`runtime directory: ${registry.installer.dir}`);
  for (const runtime of runtimes.length ? runtimes : KNOWN) {
    try {
      const plan = registry.resolve(runtime);
      say(`${runtime.padEnd(16)} ${plan.runtimeVersion}`);
    } catch (e) {
      say(`${runtime.padEnd(16)} unavailable: ${(e as Error).message}`);
    }
  }
  return 0;
}
