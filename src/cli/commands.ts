// The client commands of `lambdalite`: deploy, invoke, ls and dev, talking to a running server over its
// Lambda API with the AWS SDK. Each prints for people, or with --json one JSON document for scripts.
import fs from 'node:fs';
import path from 'node:path';
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { parseArgs, UsageError, type Parsed } from './args.js';
import { DEFAULT_ENDPOINT, describeError, lambdaClient, progressPrinter } from './client.js';
import { zipDirectory } from './zip-dir.js';

export const clientUsage = `       lambdalite deploy DIR [--name NAME] [--runtime RUNTIME] [--handler HANDLER] [--role ARN]
                         [--memory MB] [--timeout SECONDS] [--publish] [--progress]
       lambdalite invoke NAME [PAYLOAD | -] [--qualifier Q]
       lambdalite ls
       lambdalite dev DIR --name NAME --runtime RUNTIME [--handler HANDLER]

client options (deploy, invoke, ls, dev):
  --endpoint URL             LAMBDALITE_ENDPOINT          the server (default ${DEFAULT_ENDPOINT})
  --json                                                  one JSON document on stdout, for scripts
`;

const WAIT_SECONDS = 300;
const DEFAULT_HANDLER = 'index.handler';

interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

type Command = (args: Parsed, client: LambdaClient, io: Io, endpoint: string) => Promise<number>;

const commonValued = ['endpoint'];
const commonFlags = ['json'];

const specs: Record<string, { valued: string[]; flags: string[]; run: Command }> = {
  deploy: { valued: ['name', 'runtime', 'handler', 'role', 'memory', 'timeout'], flags: ['publish', 'progress'], run: deploy },
  invoke: { valued: ['qualifier'], flags: [], run: invoke },
  ls: { valued: [], flags: [], run: list },
};

/** Commands added by other modules (dev), with the same flag handling and error boundary. */
export function registerCommand(name: string, valued: string[], flags: string[], run: Command): void {
  specs[name] = { valued, flags, run };
}

export function isClientCommand(name: string): boolean {
  return Object.hasOwn(specs, name);
}

/** Runs a client command; every failure ends here as one line on stderr (no stack) and an exit code. */
export async function runClientCommand(name: string, argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const spec = specs[name]!;
  let endpoint = process.env['LAMBDALITE_ENDPOINT'] ?? DEFAULT_ENDPOINT;
  let client: LambdaClient | undefined;
  try {
    const args = parseArgs(argv, [...commonValued, ...spec.valued], [...commonFlags, ...spec.flags]);
    endpoint = args.values.get('endpoint') ?? endpoint;
    const showProgress = args.flags.has('progress') || (io.stderr.isTTY === true && !args.flags.has('json'));
    client = lambdaClient({ endpoint, ...(showProgress ? { onProgress: progressPrinter(io.stderr, 'uploading') } : {}) });
    return await spec.run(args, client, io, endpoint);
  } catch (err) {
    const { message, code } = describeError(err, endpoint);
    io.stderr.write(`lambdalite ${name}: ${message}\n`);
    return code;
  } finally {
    client?.destroy();
  }
}

function one(args: Parsed, what: string): string {
  const [first, ...extra] = args.positionals;
  if (first === undefined) throw new UsageError(`missing ${what}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return first;
}

function integer(args: Parsed, flag: string): number | undefined {
  const v = args.values.get(flag);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} must be a whole number, got '${v}'`);
  return Number(v);
}

function accountOf(): string {
  const key = process.env['AWS_ACCESS_KEY_ID'] ?? '';
  return /^\d{12}$/.test(key) ? key : '000000000000';
}

async function exists(client: LambdaClient, name: string): Promise<FunctionConfiguration | undefined> {
  try {
    return await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  } catch (e) {
    if ((e as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

const kb = (n: number | undefined) => `${((n ?? 0) / 1024).toFixed(1)} KB`;

export interface CodeSpec {
  readonly name: string;
  readonly runtime?: string | undefined;
  readonly handler?: string | undefined;
  readonly role?: string | undefined;
  readonly memory?: number | undefined;
  readonly timeout?: number | undefined;
  readonly publish?: boolean;
  readonly code: { ZipFile: Uint8Array } | { S3Bucket: string; S3Key: string };
}

/** Creates the function, or updates its code (and the configuration given); waits until it can be invoked. */
export async function createOrUpdate(client: LambdaClient, spec: CodeSpec): Promise<{ created: boolean; config: FunctionConfiguration }> {
  const waiter = { client, maxWaitTime: WAIT_SECONDS, minDelay: 1, maxDelay: 2 };
  const current = await exists(client, spec.name);
  if (current === undefined) {
    if (spec.runtime === undefined) throw new UsageError(`function ${spec.name} does not exist yet: --runtime is needed to create it (e.g. --runtime nodejs22.x)`);
    await client.send(new CreateFunctionCommand({
      FunctionName: spec.name,
      Runtime: spec.runtime as never,
      Handler: spec.handler ?? DEFAULT_HANDLER,
      Role: spec.role ?? `arn:aws:iam::${accountOf()}:role/lambda-role`,
      Code: spec.code,
      ...(spec.memory !== undefined ? { MemorySize: spec.memory } : {}),
      ...(spec.timeout !== undefined ? { Timeout: spec.timeout } : {}),
      Publish: spec.publish === true,
    }));
    await waitUntilFunctionActiveV2(waiter, { FunctionName: spec.name });
  } else {
    const changes = {
      ...(spec.runtime !== undefined ? { Runtime: spec.runtime as never } : {}),
      ...(spec.handler !== undefined ? { Handler: spec.handler } : {}),
      ...(spec.role !== undefined ? { Role: spec.role } : {}),
      ...(spec.memory !== undefined ? { MemorySize: spec.memory } : {}),
      ...(spec.timeout !== undefined ? { Timeout: spec.timeout } : {}),
    };
    if (Object.keys(changes).length > 0) {
      await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: spec.name, ...changes }));
      await waitUntilFunctionUpdatedV2(waiter, { FunctionName: spec.name });
    }
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: spec.name, ...spec.code, Publish: spec.publish === true }));
    await waitUntilFunctionUpdatedV2(waiter, { FunctionName: spec.name });
  }
  const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: spec.name }));
  return { created: current === undefined, config };
}

export function codeSpecFlags(args: Parsed, name: string): Omit<CodeSpec, 'code'> {
  return {
    name,
    runtime: args.values.get('runtime'),
    handler: args.values.get('handler'),
    role: args.values.get('role'),
    memory: integer(args, 'memory'),
    timeout: integer(args, 'timeout'),
    publish: args.flags.has('publish'),
  };
}

export function folder(dir: string): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  return abs;
}

async function deploy(args: Parsed, client: LambdaClient, io: Io): Promise<number> {
  const dir = folder(one(args, 'DIR (the folder holding the function code)'));
  const name = args.values.get('name') ?? path.basename(dir);
  const zip = await zipDirectory(dir);
  const { created, config } = await createOrUpdate(client, { ...codeSpecFlags(args, name), code: { ZipFile: zip } });
  if (args.flags.has('json')) {
    io.stdout.write(`${JSON.stringify(stripMetadata(config), null, 2)}\n`);
  } else {
    io.stdout.write(`${created ? 'created' : 'updated'} ${config.FunctionName} (${config.Runtime}, ${config.Handler}, ${kb(config.CodeSize)}` +
      `${config.Version && config.Version !== '$LATEST' ? `, version ${config.Version}` : ''}): ${config.State}\n`);
  }
  return 0;
}

function stripMetadata<T extends object>(o: T): Omit<T, '$metadata'> {
  const { $metadata: _drop, ...rest } = o as T & { $metadata?: unknown };
  return rest;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function invoke(args: Parsed, client: LambdaClient, io: Io): Promise<number> {
  const [name, payloadArg, ...extra] = args.positionals;
  if (name === undefined) throw new UsageError('missing NAME (the function to invoke)');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  const payload = payloadArg === '-' ? await readStdin() : payloadArg ?? '{}';
  const qualifier = args.values.get('qualifier');
  const r = await client.send(new InvokeCommand({
    FunctionName: name,
    Payload: Buffer.from(payload),
    LogType: 'Tail',
    ...(qualifier !== undefined ? { Qualifier: qualifier } : {}),
  }));
  const result = Buffer.from(r.Payload ?? new Uint8Array()).toString();
  const log = r.LogResult ? Buffer.from(r.LogResult, 'base64').toString() : '';
  if (args.flags.has('json')) {
    let parsed: unknown = result;
    try {
      parsed = JSON.parse(result);
    } catch {
      // not JSON: kept as the text it is
    }
    io.stdout.write(`${JSON.stringify({
      StatusCode: r.StatusCode,
      ExecutedVersion: r.ExecutedVersion,
      ...(r.FunctionError ? { FunctionError: r.FunctionError } : {}),
      Payload: parsed,
      Log: log,
    }, null, 2)}\n`);
  } else {
    if (log) io.stderr.write(log.endsWith('\n') ? log : `${log}\n`);
    io.stdout.write(result.endsWith('\n') ? result : `${result}\n`);
    if (r.FunctionError) io.stderr.write(`lambdalite invoke: the function failed (${r.FunctionError})\n`);
  }
  return r.FunctionError ? 1 : 0;
}

async function list(args: Parsed, client: LambdaClient, io: Io): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const functions: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListFunctionsCommand({ ...(marker ? { Marker: marker } : {}) }));
    functions.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  if (args.flags.has('json')) {
    io.stdout.write(`${JSON.stringify(functions, null, 2)}\n`);
    return 0;
  }
  if (functions.length === 0) {
    io.stdout.write('no functions\n');
    return 0;
  }
  const rows = [['NAME', 'RUNTIME', 'HANDLER', 'MEMORY', 'TIMEOUT', 'CODE', 'LAST MODIFIED'],
    ...functions.map((f) => [f.FunctionName ?? '', f.Runtime ?? '', f.Handler ?? '', `${f.MemorySize ?? ''} MB`, `${f.Timeout ?? ''} s`, kb(f.CodeSize), f.LastModified ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return 0;
}
