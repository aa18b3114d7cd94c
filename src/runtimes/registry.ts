// Which host program runs a Lambda runtime identifier, and how. Each identifier runs on its own
// interpreter version, never a stand-in:
// - nodejsNN.x on Node.js NN: the host's Node.js when its major is NN, else a build installed from
//   the npm registry into the runtime directory (install.ts), on first use or ahead of time;
//   the AWS SDK for JavaScript v3 from the runtime directory is on NODE_PATH as on AWS.
// - python3.X on a Python 3.X interpreter: `--runtime-path python3.X=/path`, else pyenv's newest
//   3.X.*, else python3.X on PATH; boto3 (Debian's python3-boto3) is on sys.path.
// - provided* runs the function's own `bootstrap`.
// Everything else (java*, dotnet*, ruby*, container images), and a runtime whose interpreter is
// missing, throws InvalidRuntimeException at invoke, saying how to provide one.
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
import { isExecutable } from '../shared/fs.js';
import type { RuntimeBind, SandboxView } from '../sandbox/sandbox.js';
import { RuntimeInstaller } from './install.js';

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
  /** Runtime pieces shown at AWS's paths: the Node.js build at /var/lang, the SDKs. */
  readonly binds: readonly RuntimeBind[];
  /** Directory with the interpreter, first on PATH (AWS's /var/lang/bin). */
  binDir(view: SandboxView): string | undefined;
  /** Command line inside the sandbox, or the AWS error that stops the environment from starting. */
  command(view: SandboxView, codeDir: string, layerDirs: readonly string[], memoryFallbackMb: number | undefined): string[] | EntrypointError;
  /** Runtime-specific variables (NODE_PATH, PYTHONPATH). */
  env(view: SandboxView): Record<string, string>;
}

export interface EntrypointError {
  readonly errorType: string;
  readonly errorMessage: string;
}

/**
 * AWS_LAMBDA_EXEC_WRAPPER (what OpenTelemetry and observability layers set): managed runtimes start
 * the wrapper with the runtime's own command line as its arguments, and the wrapper execs it. A
 * missing wrapper fails the exec, which the environment reports as Runtime.ExitError (exit status
 * 127) as AWS's bootstrap shell does. Custom runtimes ignore it, as on AWS.
 */
export function withExecWrapper(plan: RuntimePlan, command: string[] | EntrypointError, environment: Readonly<Record<string, string>>): string[] | EntrypointError {
  const wrapper = environment['AWS_LAMBDA_EXEC_WRAPPER'];
  if (plan.family === 'provided' || wrapper === undefined || wrapper === '' || isEntrypointError(command)) return command;
  return [wrapper, ...command];
}

/** Names of the external extensions the layers bring: executables in /opt/extensions/ (later layers win). */
export function externalExtensions(layerDirs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const dir of layerDirs) {
    const ext = path.join(dir, 'extensions');
    let entries: string[];
    try {
      entries = fs.readdirSync(ext);
    } catch {
      continue;
    }
    for (const name of entries) {
      const st = fs.statSync(path.join(ext, name), { throwIfNoEntry: false });
      if (st?.isFile() && (st.mode & 0o111) !== 0) names.add(name);
      else names.delete(name);
    }
  }
  return [...names].sort();
}

/**
 * Starts every external extension (each executable in /opt/extensions/) before the runtime, in the
 * same sandbox, as AWS does; they live as long as the environment.
 */
export function withExtensions(command: string[] | EntrypointError, optDir: string, count: number): string[] | EntrypointError {
  if (count === 0 || isEntrypointError(command)) return command;
  const script = 'd=$1; shift; for f in "$d"/*; do if [ -f "$f" ] && [ -x "$f" ]; then "$f" & fi; done; exec "$@"';
  return ['/bin/sh', '-c', script, 'lambdalite-extensions', `${optDir}/extensions`, ...command];
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

export interface RegistryOptions {
  /** Where Node.js builds and the SDKs are installed (install.ts). */
  readonly runtimeDir: string;
  /** Interpreters named by the operator: runtime identifier -> executable (`--runtime-path`). */
  readonly runtimePaths?: Readonly<Record<string, string>>;
  /** Progress of installs, and SDK installs that failed. */
  readonly log?: (line: string) => void;
  /** The lambdalite package root (for the runtime clients); found from this file by default. */
  readonly root?: string;
}

export class RuntimeRegistry {
  readonly #plans = new Map<string, RuntimePlan>();
  readonly #root: string;
  readonly #paths: Readonly<Record<string, string>>;
  readonly #log: (line: string) => void;
  readonly installer: RuntimeInstaller;
  /** Why the Node.js SDK could not be installed, once that has failed (not retried per cold start). */
  #sdkFailure: string | undefined;

  constructor(options: RegistryOptions) {
    this.#root = options.root ?? packageRoot();
    this.#paths = options.runtimePaths ?? {};
    this.#log = options.log ?? (() => {});
    this.installer = new RuntimeInstaller(options.runtimeDir, { log: this.#log });
  }

  /** Throws InvalidRuntimeException for runtimes this host cannot run (or has not installed yet). */
  resolve(runtime: string | undefined): RuntimePlan {
    const key = runtime ?? '';
    const cached = this.#plans.get(key);
    if (cached) return cached;
    const plan = this.#build(runtime);
    this.#plans.set(key, plan);
    return plan;
  }

  /**
   * resolve(), after installing what the runtime needs from the npm registry when it is missing:
   * the first invoke of a nodejs runtime waits for the install (bounded by the installer's timeout).
   */
  async prepare(runtime: string | undefined): Promise<RuntimePlan> {
    const cached = this.#plans.get(runtime ?? '');
    if (cached) return cached;
    const major = runtime === undefined ? undefined : nodeMajor(runtime);
    if (major !== undefined) await this.install(runtime as string);
    return this.resolve(runtime);
  }

  /** Installs a runtime's interpreter and SDK ahead of time (`lambdalite runtimes install`). */
  async install(runtime: string): Promise<RuntimePlan> {
    const major = nodeMajor(runtime);
    if (major !== undefined) {
      const needsNode = this.#paths[runtime] === undefined && hostNodeMajor() !== major;
      const node = needsNode ? this.installer.installNode(major) : Promise.resolve('');
      const sdk =
        this.#sdkFailure !== undefined
          ? Promise.resolve()
          : this.installer.installNodeSdk().then(
              () => undefined,
              (e: unknown) => {
                // Functions that bundle their own SDK still run; the rest fail at import, as on a
                // runtime without it. Said once, with the way out, and not retried per cold start.
                this.#sdkFailure = (e as Error).message;
                this.#log(`the AWS SDK for JavaScript could not be installed (${this.#sdkFailure}); run \`lambdalite runtimes install ${runtime}\` when the npm registry is reachable`);
              },
            );
      try {
        await node;
      } catch (e) {
        await sdk;
        throw unsupported(
          runtime,
          `Node.js ${major} is not installed and installing it from the npm registry failed (${(e as Error).message}); run \`lambdalite runtimes install ${runtime}\` where the registry is reachable, or point lambdalite at a Node.js ${major} with --runtime-path ${runtime}=/path/to/node`,
        );
      }
      await sdk;
    } else if (runtime.startsWith('python')) {
      this.installer.pythonSdk();
    }
    this.#plans.delete(runtime);
    return this.resolve(runtime);
  }

  #build(runtime: string | undefined): RuntimePlan {
    if (runtime === undefined) {
      // Container image functions carry no runtime; running OCI images is out of scope.
      throw unsupported('Image', 'container image functions (PackageType Image) cannot be run by lambdalite');
    }
    const major = nodeMajor(runtime);
    if (major !== undefined) return this.#node(runtime, major);
    const py = runtime.match(/^python(3\.\d+)$/);
    if (py) return this.#python(runtime, py[1] as string);
    if (runtime === 'provided' || runtime === 'provided.al2' || runtime === 'provided.al2023') return providedPlan(runtime);
    const what = runtime.replace(/[\d.]+(\.x|\.al2)?$/, '');
    const names: Record<string, string> = { java: 'a Java', dotnet: 'a .NET', dotnetcore: 'a .NET', ruby: 'a Ruby', go: 'a Go' };
    throw unsupported(runtime, `${names[what] ?? 'an'} interpreter for it is not installed`);
  }

  /** The node binary for a major: --runtime-path, the host's own when the major matches, else installed. */
  #nodeBinary(runtime: string, major: string): string {
    const configured = this.#paths[runtime];
    if (configured !== undefined) {
      if (!isExecutable(configured)) throw unsupported(runtime, `--runtime-path names ${configured}, which is not an executable file`);
      return fs.realpathSync(configured);
    }
    if (hostNodeMajor() === major) return fs.realpathSync(process.execPath);
    const installed = this.installer.installedNode(major);
    if (installed !== undefined) return installed;
    throw unsupported(
      runtime,
      `Node.js ${major} is not installed; run \`lambdalite runtimes install ${runtime}\` (or start with --install-runtimes ${runtime}), or point lambdalite at one with --runtime-path ${runtime}=/path/to/node`,
    );
  }

  #node(runtime: string, major: string): RuntimePlan {
    const exec = this.#nodeBinary(runtime, major);
    const version = nodeVersionOf(exec);
    if (version === undefined || version.split('.')[0] !== major) {
      throw unsupported(runtime, `${exec} is Node.js ${version ?? '(does not start)'}, not Node.js ${major}`);
    }
    const clientDir = path.join(this.#root, 'src', 'runtimes', 'node');
    const sdk = this.installer.installedNodeSdk();
    // As on AWS: Node.js at /var/lang (unless it is part of the host's /usr, which every sandbox
    // has), the runtime client and the SDK it ships at /var/runtime.
    const inUsr = exec.startsWith('/usr/');
    const binds: RuntimeBind[] = [{ host: path.join(clientDir, 'index.cjs'), inside: '/var/runtime/index.cjs' }];
    if (sdk !== undefined) binds.push({ host: sdk, inside: '/var/runtime/node_modules' });
    if (!inUsr) binds.push({ host: path.dirname(path.dirname(exec)), inside: '/var/lang' });
    const at = (view: SandboxView, inside: string, host: string) => (view.mapsPaths ? inside : host);
    const execIn = (view: SandboxView) => (inUsr ? exec : at(view, '/var/lang/bin/node', exec));
    return {
      runtime,
      family: 'nodejs',
      // Not one directory: /var/runtime is assembled from the binds.
      clientDir: undefined,
      readOnly: [],
      hidden: [],
      binds,
      executionEnv: `AWS_Lambda_${runtime}`,
      runtimeVersion: `nodejs:${major}.v${version}`,
      runtimeVersionArn: (region) => versionArn(region, runtime),
      binDir: (view) => path.dirname(execIn(view)),
      command: (view, _code, _layers, memoryFallbackMb) => {
        const args = [execIn(view)];
        // Without a memory cgroup, V8's heap limit is the only brake on a runaway function.
        if (memoryFallbackMb !== undefined) args.push(`--max-old-space-size=${Math.max(16, Math.floor(memoryFallbackMb * 0.9))}`);
        args.push(at(view, '/var/runtime/index.cjs', path.join(clientDir, 'index.cjs')));
        return args;
      },
      env: (view) => ({
        NODE_PATH: [
          `${view.optDir}/nodejs/node${major}/node_modules`,
          `${view.optDir}/nodejs/node_modules`,
          at(view, '/var/runtime/node_modules', sdk ?? path.join(clientDir, 'node_modules')),
          at(view, '/var/runtime', clientDir),
          view.taskRoot,
        ].join(':'),
      }),
    };
  }

  #python(runtime: string, minor: string): RuntimePlan {
    const configured = this.#paths[runtime];
    if (configured !== undefined && !isExecutable(configured)) {
      throw unsupported(runtime, `--runtime-path names ${configured}, which is not an executable file`);
    }
    const interp = configured !== undefined ? fs.realpathSync(configured) : findPython(minor);
    if (interp === undefined) {
      throw unsupported(
        runtime,
        `no Python ${minor} interpreter was found (looked for python${minor} in pyenv and on PATH); install one ` +
          `(e.g. \`pyenv install ${minor}\` or your distribution's python${minor} package) or point lambdalite at it with --runtime-path ${runtime}=/path/to/python${minor}`,
      );
    }
    const clientDir = path.join(this.#root, 'src', 'runtimes', 'python');
    const info = describePython(interp, path.join(clientDir, 'lambdalite_runtime.py'));
    if (info === undefined) throw unsupported(runtime, `the Python interpreter ${interp} does not start`);
    if (info.minor !== minor) throw unsupported(runtime, `${interp} is Python ${info.version}, not Python ${minor}`);
    const prefixes = [...new Set([info.prefix, info.base])].filter((p) => !p.startsWith('/usr/') && p !== '/usr');
    const binDir = path.dirname(interp);
    // The host's own site-packages are not part of a Lambda runtime; they are covered up.
    const hidden = info.site.filter((p) => fs.existsSync(p));
    const sdk = this.installer.pythonSdk();
    // boto3 where AWS's Python runtimes keep it.
    const sdkInside = `/var/lang/lib/python${minor}/site-packages`;
    return {
      runtime,
      family: 'python',
      clientDir,
      readOnly: prefixes,
      hidden,
      binds: sdk !== undefined ? [{ host: sdk, inside: sdkInside }] : [],
      executionEnv: `AWS_Lambda_${runtime}`,
      runtimeVersion: `python:${minor}.v${info.version}`,
      runtimeVersionArn: (region) => versionArn(region, runtime),
      binDir: () => binDir,
      // -S: the host's site-packages are hidden anyway and site costs milliseconds of every cold start.
      command: (view) => [interp, '-S', '-u', path.join(view.runtimeDir, 'bootstrap.py')],
      env: (view) => ({
        // AWS's sys.path order: task root (added by the client), layer packages, the runtime (and
        // the boto3 it ships).
        PYTHONPATH: [
          `${view.optDir}/python/lib/python${info.minor}/site-packages`,
          `${view.optDir}/python`,
          view.runtimeDir,
          ...(sdk !== undefined ? [view.mapsPaths ? sdkInside : sdk] : []),
        ].join(':'),
      }),
    };
  }
}

/** "22" for nodejs22.x, undefined for other runtimes. */
export function nodeMajor(runtime: string): string | undefined {
  return runtime.match(/^nodejs(\d+)(\.x)?$/)?.[1];
}

function hostNodeMajor(): string {
  return process.versions.node.split('.')[0] as string;
}

const nodeVersions = new Map<string, string | undefined>();

function nodeVersionOf(exec: string): string | undefined {
  if (exec === fs.realpathSync(process.execPath)) return process.versions.node;
  if (!nodeVersions.has(exec)) {
    const r = spawnSync(exec, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    nodeVersions.set(exec, r.status === 0 ? r.stdout.trim().replace(/^v/, '') : undefined);
  }
  return nodeVersions.get(exec);
}

function unsupported(runtime: string, why: string): LambdaError {
  // InvalidRuntimeException (502) is the model's error for "The runtime or runtime version specified
  // is not supported"; lambdalite uses it for runtimes the host has no interpreter for.
  return new LambdaError('InvalidRuntimeException', { runtime, reason: why });
}

/** Per runtime identifier, as GetFunction's RuntimeVersionConfig reports it (src/control/functions.ts). */
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
    binds: [],
    executionEnv: undefined,
    runtimeVersion: `${runtime === 'provided' ? 'provided:1' : runtime.replace('provided.', 'provided:')}.v1`,
    runtimeVersionArn: (region) => versionArn(region, runtime),
    binDir: () => undefined,
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
