// Which host program runs a Lambda runtime identifier, and how. nodejs* runs on the host's Node.js,
// python3.* on a host Python of the same minor version when one is installed (else the default
// python3), provided* runs the function's own `bootstrap`. Everything else (java*, dotnet*, ruby*,
// container images) has no interpreter here: invoking it throws InvalidRuntimeException.
//
// Resolution happens once per runtime identifier and is cached; the result tells the sandbox what
// to mount and the environment what to exec.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LambdaError } from '../shared/errors.js';
import type { SandboxView } from '../sandbox/sandbox.js';

export type RuntimeFamily = 'nodejs' | 'python' | 'provided';

export interface RuntimePlan {
  readonly runtime: string;
  readonly family: RuntimeFamily;
  /** Host directory of our runtime client, mounted at /var/runtime (undefined for provided). */
  readonly clientDir: string | undefined;
  /** Host paths the interpreter needs that are not under /usr. */
  readonly readOnly: readonly string[];
  /** Host package dirs hidden from functions (the host's site-packages). */
  readonly hidden: readonly string[];
  /** AWS_EXECUTION_ENV; AWS sets none for provided runtimes. */
  readonly executionEnv: string | undefined;
  /** For INIT_START's "Runtime Version: ...". */
  readonly runtimeVersion: string;
  readonly runtimeVersionArn: (region: string) => string;
  /** Directory with the interpreter, first on PATH (AWS's /var/lang/bin). */
  readonly binDir: string | undefined;
  /** Command line inside the sandbox, or the AWS error that stops the environment from starting. */
  command(view: SandboxView, codeDir: string, layerDirs: readonly string[], memoryFallbackMb: number | undefined): string[] | EntrypointError;
  /** Runtime-specific variables (NODE_PATH, PYTHONPATH). */
  env(view: SandboxView): Record<string, string>;
}

export interface EntrypointError {
  readonly errorType: string;
  readonly errorMessage: string;
}

export function isEntrypointError(x: string[] | EntrypointError): x is EntrypointError {
  return !Array.isArray(x);
}

/** The package root (the directory holding lambdalite's package.json), found from this file. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'lambdalite') return dir;
      } catch {
        // keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('lambdalite package root not found');
    dir = up;
  }
}

export class RuntimeRegistry {
  readonly #plans = new Map<string, RuntimePlan>();
  readonly #root: string;

  constructor(root: string = packageRoot()) {
    this.#root = root;
  }

  /** Throws InvalidRuntimeException for runtimes this host cannot run. */
  resolve(runtime: string | undefined): RuntimePlan {
    const key = runtime ?? '';
    const cached = this.#plans.get(key);
    if (cached) return cached;
    const plan = this.#build(runtime);
    this.#plans.set(key, plan);
    return plan;
  }

  #build(runtime: string | undefined): RuntimePlan {
    if (runtime === undefined) {
      // Container image functions carry no runtime; running OCI images is out of scope.
      throw unsupported('Image', 'container image functions (PackageType Image) cannot be run by lambdalite');
    }
    if (/^nodejs\d+(\.x)?$/.test(runtime)) return this.#node(runtime);
    const py = runtime.match(/^python(3\.\d+)$/);
    if (py) return this.#python(runtime, py[1] as string);
    if (runtime === 'provided' || runtime === 'provided.al2' || runtime === 'provided.al2023') return providedPlan(runtime);
    const what = runtime.replace(/[\d.]+(\.x|\.al2)?$/, '');
    const names: Record<string, string> = { java: 'a Java', dotnet: 'a .NET', dotnetcore: 'a .NET', ruby: 'a Ruby', go: 'a Go' };
    throw unsupported(runtime, `${names[what] ?? 'an'} interpreter for it is not installed`);
  }

  #node(runtime: string): RuntimePlan {
    const exec = fs.realpathSync(process.execPath);
    const prefix = path.dirname(path.dirname(exec));
    const readOnly = exec.startsWith('/usr/') ? [] : [prefix];
    const major = runtime.replace(/^nodejs/, '').replace(/\.x$/, '');
    const hostVersion = process.versions.node;
    return {
      runtime,
      family: 'nodejs',
      clientDir: path.join(this.#root, 'src', 'runtimes', 'node'),
      readOnly,
      hidden: [],
      executionEnv: `AWS_Lambda_${runtime}`,
      runtimeVersion: `nodejs:${major}.v${hostVersion}`,
      runtimeVersionArn: (region) => versionArn(region, `node ${exec} ${hostVersion}`),
      binDir: path.dirname(exec),
      command: (view, _code, _layers, memoryFallbackMb) => {
        const args = [exec];
        // Without a memory cgroup, V8's heap limit is the only brake on a runaway function.
        if (memoryFallbackMb !== undefined) args.push(`--max-old-space-size=${Math.max(16, Math.floor(memoryFallbackMb * 0.9))}`);
        args.push(path.join(view.runtimeDir, 'index.cjs'));
        return args;
      },
      env: (view) => ({
        NODE_PATH: [
          `${view.optDir}/nodejs/node${major}/node_modules`,
          `${view.optDir}/nodejs/node_modules`,
          `${view.runtimeDir}/node_modules`,
          view.runtimeDir,
          view.taskRoot,
        ].join(':'),
      }),
    };
  }

  #python(runtime: string, minor: string): RuntimePlan {
    const interp = findPython(minor) ?? defaultPython();
    if (interp === undefined) throw unsupported(runtime, 'no Python 3 interpreter is installed');
    const clientDir = path.join(this.#root, 'src', 'runtimes', 'python');
    const info = describePython(interp, path.join(clientDir, 'lambdalite_runtime.py'));
    if (info === undefined) throw unsupported(runtime, `the Python interpreter ${interp} does not start`);
    const prefixes = [...new Set([info.prefix, info.base])].filter((p) => !p.startsWith('/usr/') && p !== '/usr');
    const binDir = path.dirname(interp);
    // The host's own site-packages are not part of a Lambda runtime; they are covered up.
    const hidden = info.site.filter((p) => fs.existsSync(p));
    return {
      runtime,
      family: 'python',
      clientDir,
      readOnly: prefixes,
      hidden,
      executionEnv: `AWS_Lambda_${runtime}`,
      runtimeVersion: `python:${minor}.v${info.version}`,
      runtimeVersionArn: (region) => versionArn(region, `python ${interp} ${info.version}`),
      binDir,
      // -S: the host's site-packages are hidden anyway and site costs milliseconds of every cold start.
      command: (view) => [interp, '-S', '-u', path.join(view.runtimeDir, 'bootstrap.py')],
      env: (view) => ({
        // AWS's sys.path order: task root (added by the client), layer packages, the runtime.
        PYTHONPATH: [`${view.optDir}/python/lib/python${info.minor}/site-packages`, `${view.optDir}/python`, view.runtimeDir].join(':'),
      }),
    };
  }
}

function unsupported(runtime: string, why: string): LambdaError {
  // InvalidRuntimeException (502) is the model's error for "The runtime or runtime version specified
  // is not supported"; lambdalite uses it for runtimes the host has no interpreter for.
  return new LambdaError('InvalidRuntimeException', { runtime, reason: why });
}

function versionArn(region: string, seed: string): string {
  return `arn:aws:lambda:${region}::runtime:${createHash('sha256').update(seed).digest('hex')}`;
}

function providedPlan(runtime: string): RuntimePlan {
  return {
    runtime,
    family: 'provided',
    clientDir: undefined,
    readOnly: [],
    hidden: [],
    executionEnv: undefined,
    runtimeVersion: `${runtime === 'provided' ? 'provided:1' : runtime.replace('provided.', 'provided:')}.v1`,
    runtimeVersionArn: (region) => versionArn(region, runtime),
    binDir: undefined,
    command: (view, codeDir, layerDirs) => {
      // AWS looks for /var/task/bootstrap, then /opt/bootstrap (layers merged, later ones win).
      const candidates: [string, string][] = [[path.join(codeDir, 'bootstrap'), `${view.taskRoot}/bootstrap`]];
      for (let i = layerDirs.length - 1; i >= 0; i--) {
        candidates.push([path.join(layerDirs[i] as string, 'bootstrap'), `${view.optDir}/bootstrap`]);
      }
      for (const [host, inside] of candidates) {
        const st = fs.statSync(host, { throwIfNoEntry: false });
        if (!st || !st.isFile()) continue;
        if ((st.mode & 0o111) === 0) {
          return { errorType: 'Runtime.InvalidEntrypoint', errorMessage: `Error: fork/exec ${inside}: permission denied` };
        }
        return [inside];
      }
      return {
        errorType: 'Runtime.InvalidEntrypoint',
        errorMessage: `Error: Couldn't find valid bootstrap(s): [${view.taskRoot}/bootstrap ${view.optDir}/bootstrap]`,
      };
    },
    env: () => ({}),
  };
}

// --- finding Python interpreters ---------------------------------------------------------------

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A python3.X binary for this minor version, never a pyenv shim (a shell script that re-execs). */
function findPython(minor: string): string | undefined {
  const name = `python${minor}`;
  const pyenvRoot = process.env['PYENV_ROOT'] ?? path.join(os.homedir(), '.pyenv');
  const versionsDir = path.join(pyenvRoot, 'versions');
  try {
    const versions = fs
      .readdirSync(versionsDir)
      .filter((v) => v === minor || v.startsWith(`${minor}.`))
      .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
    for (const v of versions) {
      const p = path.join(versionsDir, v, 'bin', name);
      if (isExecutable(p)) return fs.realpathSync(p);
    }
  } catch {
    // no pyenv
  }
  const dirs = (process.env['PATH'] ?? '').split(':').filter((d) => d !== '' && !d.includes('shims'));
  for (const dir of [...dirs, '/usr/local/bin', '/usr/bin']) {
    const p = path.join(dir, name);
    if (isExecutable(p)) return fs.realpathSync(p);
  }
  return undefined;
}

function defaultPython(): string | undefined {
  // `python3` may be a pyenv shim; ask it where the real interpreter is.
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000 });
  const exe = r.status === 0 ? r.stdout.trim() : '';
  return exe !== '' && isExecutable(exe) ? fs.realpathSync(exe) : undefined;
}

interface PythonInfo {
  readonly prefix: string;
  readonly base: string;
  readonly minor: string;
  readonly version: string;
  readonly site: string[];
}

/**
 * Asks the interpreter where it lives and which site dirs it has, and byte-compiles the runtime
 * client into its __pycache__ (read-only inside the sandbox, so it cannot happen there).
 */
function describePython(interp: string, client: string): PythonInfo | undefined {
  const script =
    'import sys, site, json, py_compile\n' +
    'print(json.dumps({"prefix": sys.prefix, "base": sys.base_prefix, "minor": "%d.%d" % sys.version_info[:2], ' +
    '"version": sys.version.split()[0], "site": site.getsitepackages()}))\n' +
    'try:\n    py_compile.compile(sys.argv[1], doraise=True)\nexcept Exception:\n    pass\n';
  const r = spawnSync(interp, ['-c', script, client], { encoding: 'utf8', timeout: 10_000, env: { PATH: '/usr/bin:/bin' } });
  if (r.status !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as PythonInfo;
  } catch {
    return undefined;
  }
}
