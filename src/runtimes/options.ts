// The server options that concern runtimes, turned into what the invoke engine and the registry take.
import path from 'node:path';
import { ConfigError, type ServerOptions } from '../shared/config.js';

export interface RuntimeSettings {
  readonly runtimeDir: string;
  readonly runtimePaths: Readonly<Record<string, string>>;
  readonly functionEnv: Readonly<Record<string, string>>;
}

/** `NAME=value` items into a record; later items win. */
function pairs(items: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${what} takes NAME=VALUE, not '${item}'`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function runtimeSettings(o: ServerOptions): RuntimeSettings {
  const runtimePaths = pairs(o.runtimePaths, '--runtime-path');
  for (const [runtime, interp] of Object.entries(runtimePaths)) {
    if (!/^(nodejs\d+\.x|python3\.\d+)$/.test(runtime)) throw new ConfigError(`--runtime-path: '${runtime}' is not a nodejsNN.x or python3.N runtime`);
    if (!path.isAbsolute(interp)) throw new ConfigError(`--runtime-path: ${runtime} needs an absolute path, not '${interp}'`);
  }
  const functionEnv = pairs(o.functionEnv, '--function-env');
  for (const name of Object.keys(functionEnv)) {
    // The same rule as the control plane's for function variables.
    if (!/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(name)) throw new ConfigError(`--function-env: '${name}' is not a valid variable name`);
  }
  return {
    runtimeDir: o.runtimeDir ?? process.env['LAMBDALITE_RUNTIME_DIR'] ?? path.join(o.dataDir, 'runtimes'),
    runtimePaths,
    functionEnv,
  };
}
