// Installs what managed runtimes need that the host may not have, into one runtime directory shared
// by every function (and, when the operator points several servers at it, by several servers):
//
//   <dir>/node<major>/   a Node.js build from the npm registry (the `node-linux-<arch>` package, which
//                        the registry checksums; npm verifies its integrity on install)
//   <dir>/aws-sdk-js/    the AWS SDK for JavaScript v3 clients AWS ships in its Node.js runtimes,
//                        shared by all Node.js majors (AWS's /var/runtime/node_modules)
//   <dir>/python-sdk/    boto3 and its dependencies for the Python runtimes, copied from the host's
//                        newest (pip's or Debian's `python3-boto3`; pure Python, any Python 3)
//
// Each is installed into a temporary sibling and renamed into place, so a half-done install is never
// used and two servers installing at once both end with a complete copy.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isExecutable } from '../shared/fs.js';

/** The clients most functions use, plus the DynamoDB document client and helpers built on them. */
export const NODE_SDK_PACKAGES: readonly string[] = [
  'client-s3', 'client-dynamodb', 'lib-dynamodb', 'util-dynamodb', 'client-sqs', 'client-sns', 'client-lambda',
  'client-secrets-manager', 'client-ssm', 'client-sts', 'client-kms', 'client-cloudwatch', 'client-cloudwatch-logs',
  'client-eventbridge', 'client-kinesis', 'client-firehose', 'client-sfn', 'client-ses', 'client-sesv2',
  'client-cognito-identity-provider', 'client-apigatewaymanagementapi', 'client-iam', 'client-ecs', 'client-athena',
  'client-glue', 'client-rekognition', 'client-textract', 'client-bedrock-runtime', 'client-appconfigdata',
  'client-scheduler', 'client-xray', 's3-request-presigner', 'lib-storage', 'credential-providers',
].map((p) => `@aws-sdk/${p}`);

/** The packages (and top-level modules) that make up boto3 in a site-packages directory. */
const PYTHON_SDK_MODULES = ['boto3', 'botocore', 's3transfer', 'jmespath', 'dateutil', 'urllib3', 'six.py', 'requests', 'certifi', 'idna', 'charset_normalizer', 'chardet'];
const DEBIAN_DIST_PACKAGES = '/usr/lib/python3/dist-packages';

export class InstallError extends Error {}

export interface InstallOptions {
  /** Bound on one npm run. */
  readonly timeoutMs?: number;
  /** Progress lines ("installing Node.js 22 ..."). */
  readonly log?: (line: string) => void;
}

const NODE_ARCH: Record<string, string> = { x64: 'x64', arm64: 'arm64' };

export class RuntimeInstaller {
  readonly dir: string;
  readonly #timeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(dir: string, options: InstallOptions = {}) {
    this.dir = path.resolve(dir);
    this.#timeoutMs = options.timeoutMs ?? 600_000;
    this.#log = options.log ?? (() => {});
  }

  /** The `node` binary of an installed major, or undefined. */
  installedNode(major: string): string | undefined {
    const bin = path.join(this.dir, `node${major}`, 'node_modules', nodePackage(), 'bin', 'node');
    return isExecutable(bin) ? bin : undefined;
  }

  /** The SDK's node_modules directory when the SDK is installed. */
  installedNodeSdk(): string | undefined {
    const nm = path.join(this.dir, 'aws-sdk-js', 'node_modules');
    return fs.existsSync(path.join(nm, '@aws-sdk', 'client-s3', 'package.json')) ? nm : undefined;
  }

  /** Installs the newest Node.js `major` from the npm registry (once; concurrent callers share it). */
  installNode(major: string): Promise<string> {
    const have = this.installedNode(major);
    if (have !== undefined) return Promise.resolve(have);
    return this.#once(`node${major}`, async () => {
      this.#log(`installing Node.js ${major} (npm package ${nodePackage()}@${major}) into ${this.dir}`);
      await this.#npmInstall(`node${major}`, [`${nodePackage()}@${major}`]);
      const bin = this.installedNode(major);
      if (bin === undefined) throw new InstallError(`the npm package ${nodePackage()}@${major} has no bin/node`);
      return bin;
    });
  }

  /** Installs the AWS SDK for JavaScript v3 clients into the shared SDK directory. */
  installNodeSdk(): Promise<string> {
    const have = this.installedNodeSdk();
    if (have !== undefined) return Promise.resolve(have);
    return this.#once('aws-sdk-js', async () => {
      this.#log(`installing the AWS SDK for JavaScript v3 (${NODE_SDK_PACKAGES.length} packages) into ${this.dir}`);
      await this.#npmInstall('aws-sdk-js', NODE_SDK_PACKAGES);
      return path.join(this.dir, 'aws-sdk-js', 'node_modules');
    });
  }

  /**
   * A directory holding boto3 and its dependencies, or undefined when this host has none. Made on
   * first use, from the newest copy found: the host python3's own boto3 (pip) or Debian's
   * python3-boto3. Both are pure Python and run on any Python 3 the runtimes use. A copy, not links:
   * the host's site-packages are hidden inside the sandbox.
   */
  pythonSdk(): string | undefined {
    const dest = path.join(this.dir, 'python-sdk');
    if (fs.existsSync(path.join(dest, 'boto3', '__init__.py'))) return dest;
    const sources = [hostPythonSitePackages(), DEBIAN_DIST_PACKAGES]
      .filter((d): d is string => d !== undefined && fs.existsSync(path.join(d, 'boto3', '__init__.py')) && fs.existsSync(path.join(d, 'botocore', '__init__.py')))
      .sort((a, b) => compareVersions(botocoreVersion(b), botocoreVersion(a)));
    const source = sources[0];
    if (source === undefined) return undefined;
    this.#log(`copying boto3 ${botocoreVersion(source)} from ${source} into ${dest}`);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { mode: 0o755 });
    for (const name of PYTHON_SDK_MODULES) {
      const from = path.join(source, name);
      if (!fs.existsSync(from)) continue;
      fs.cpSync(from, path.join(tmp, name), { recursive: true, dereference: true, filter: (f) => !f.endsWith('__pycache__') });
    }
    makeWorldReadable(tmp);
    try {
      fs.renameSync(tmp, dest);
    } catch {
      // another server made it first
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return dest;
  }

  #once(key: string, work: () => Promise<string>): Promise<string> {
    let p = this.#inFlight.get(key);
    if (p === undefined) {
      p = work().finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, p);
    }
    return p;
  }

  async #npmInstall(name: string, packages: readonly string[]): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const dest = path.join(this.dir, name);
    const tmp = path.join(this.dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
    fs.mkdirSync(tmp, { mode: 0o755 });
    try {
      // A package.json of its own, so npm treats tmp as the project root (not a parent's).
      fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: `lambdalite-runtime-${name}`, private: true }));
      const args = ['install', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', '--omit=dev', '--loglevel=error', ...packages];
      await run(npmCommand(), args, tmp, this.#timeoutMs);
      // Functions run as another user: everything must be world-readable.
      makeWorldReadable(tmp);
      try {
        fs.renameSync(tmp, dest);
      } catch (e) {
        // Someone else finished first; theirs is as good as ours.
        if (!fs.existsSync(dest)) throw e;
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/** The site-packages dir holding the host python3's boto3, if it has one. */
function hostPythonSitePackages(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import os, boto3; print(os.path.dirname(os.path.dirname(boto3.__file__)))'], { encoding: 'utf8', timeout: 20_000 });
  const dir = r.status === 0 ? r.stdout.trim() : '';
  return dir !== '' && path.isAbsolute(dir) ? dir : undefined;
}

function botocoreVersion(dir: string): string {
  const text = fs.readFileSync(path.join(dir, 'botocore', '__init__.py'), 'utf8');
  return text.match(/__version__\s*=\s*['"]([^'"]+)['"]/)?.[1] ?? '0';
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

function nodePackage(): string {
  const arch = NODE_ARCH[process.arch];
  if (arch === undefined) throw new InstallError(`no Node.js builds on npm for ${process.platform}-${process.arch}`);
  return `node-linux-${arch}`;
}

/** npm next to the Node.js running lambdalite, else the one on PATH. */
function npmCommand(): string {
  const beside = path.join(path.dirname(process.execPath), 'npm');
  return isExecutable(beside) ? beside : 'npm';
}

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4000) stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new InstallError(`cannot run ${cmd}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const why = signal === 'SIGKILL' ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exit ${code ?? signal}`;
        reject(new InstallError(`npm ${args.filter((a) => !a.startsWith('-')).join(' ')} failed (${why}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
      }
    });
  });
}

function makeWorldReadable(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) continue;
    const mode = fs.statSync(p).mode & 0o7777;
    const want = entry.isDirectory() || mode & 0o100 ? mode | 0o555 : mode | 0o444;
    if (want !== mode) fs.chmodSync(p, want);
  }
  fs.chmodSync(dir, 0o755);
}
