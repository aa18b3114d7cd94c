// Functions: create, read, list, update and delete, with AWS's defaults, lifecycle (Pending -> Active,
// InProgress -> Successful), RevisionId preconditions and error texts.
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import type {
  CreateFunctionRequest, DeleteFunctionRequest, FunctionCode, FunctionConfiguration, GetFunctionConfigurationRequest,
  GetFunctionRequest, GetFunctionResponse, ListFunctionsRequest, ListFunctionsResponse, UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest, TEnvironmentVariables, CodeSigningConfig,
} from '../api/generated/types.js';
import { errors, LambdaError } from '../shared/errors.js';
import { shapes } from '../api/generated/model.js';
import { functionArn, type Scope } from '../shared/arn.js';
import { awsTimestamp, type Clock, type Timer } from '../shared/clock.js';
import type { FunctionKey, Store, StoredConfig, StoredFunction, StoredVersion } from '../store/types.js';
import type { CodeStore, StoredPackage } from './code-store.js';
import type { S3Fetcher } from './s3-fetch.js';
import { checkRuntime } from './runtimes.js';
import type { FunctionRuntimeConfig, InvokeEngine } from '../invoke/types.js';
import type { VersionService } from './versions.js';
import type { AliasService } from './aliases.js';
import type { LayerService, ResolvedLayers } from './layers.js';
import type { PolicyService } from './policies.js';
import type { CodeSigningService, SignatureInfo } from './code-signing.js';
import type { VpcResolver } from './vpc.js';
import { checkTagCount } from './tags.js';
import { resolveFunctionName, resolveQualified, functionNotFound, isAliasName, isVersionNumber } from './resolve.js';
import { presentListItem, presentVersion } from './present.js';
import { HOT_RELOAD_BUCKET, HotReloadWatcher, checkHotReloadFolder, hotReloadDir, hotReloadPackage } from './hot-reload.js';
import { recursiveLoopOf } from '../shared/recursion.js';

/** Variables the runtime sets itself; a function may not define them (AWS's reserved keys). */
const reservedEnvKeys = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);

const limits = {
  envBytes: 4096,
  maxMemory: 10240,
  maxTimeout: 900,
  listDefault: 50,
} as const;

export interface FunctionServiceDeps {
  readonly store: Store;
  readonly code: CodeStore;
  readonly s3: S3Fetcher;
  readonly clock: Clock;
  readonly engine: Pick<InvokeEngine, 'retire'>;
  readonly versions: VersionService;
  readonly layers: LayerService;
  readonly policies: PolicyService;
  /** Refuses a change that would take the account past its code storage limit. */
  readonly checkCodeStorage: (scope: Scope, extraBytes: number) => void;
  readonly aliases: AliasService;
  /** Completes VpcConfig through EC2. */
  readonly vpc?: VpcResolver;
  /** Verifies packages of functions that have a code signing config. */
  readonly codeSigning?: CodeSigningService;
  readonly settleDelayMs: number;
  /** Builds the Code.Location download URL for a package. */
  readonly codeUrl: (hash: string, baseUrl: string) => string;
}

export interface CallContext extends Scope {
  /** e.g. http://127.0.0.1:9001, for URLs handed back to the caller. */
  readonly baseUrl: string;
}

const notFound = functionNotFound;

function validationFailure(value: unknown, member: string, constraint: string): LambdaError {
  return errors.validation(`1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`);
}

/** Semantic checks AWS makes beyond the model's constraints. */
function checkLimits(input: { MemorySize?: number; Timeout?: number }): void {
  if (input.MemorySize !== undefined && input.MemorySize > limits.maxMemory) {
    throw validationFailure(input.MemorySize, 'memorySize', `Member must have value less than or equal to ${limits.maxMemory}`);
  }
  if (input.Timeout !== undefined && input.Timeout > limits.maxTimeout) {
    throw validationFailure(input.Timeout, 'timeout', `Member must have value less than or equal to ${limits.maxTimeout}`);
  }
}

function checkEnvironment(vars: TEnvironmentVariables | undefined): void {
  if (!vars) return;
  const reserved = Object.keys(vars).filter((k) => reservedEnvKeys.has(k));
  if (reserved.length) {
    throw errors.invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const measured = JSON.stringify(vars);
  if (Buffer.byteLength(measured) > limits.envBytes) {
    throw errors.invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
}

/** A RuntimeVersionArn that is stable per runtime and region, shaped like AWS's. */
export function runtimeVersionArn(region: string, runtime: string): string {
  return `arn:aws:lambda:${region}::runtime:${createHash('sha256').update(runtime).digest('hex')}`;
}

export class FunctionService {
  readonly #d: FunctionServiceDeps;
  /** Pending lifecycle transitions, so shutdown does not leave timers behind. */
  readonly #settling = new Set<Timer>();
  readonly #hotReload = new HotReloadWatcher();

  constructor(deps: FunctionServiceDeps) {
    this.#d = deps;
  }

  /** On start-up, finish every transition a previous run left half way. */
  settleAll(): void {
    for (const fn of this.#d.store.allFunctions()) {
      this.#settle(fn, fn.latest.config.RevisionId ?? '');
      for (const v of this.#allVersions(fn)) {
        if (v.version !== '$LATEST' && v.config.State === 'Pending') this.#settleVersion(fn, v.version, v.config.RevisionId ?? '');
      }
    }
  }

  close(): void {
    for (const t of this.#settling) this.#d.clock.clearTimeout(t);
    this.#settling.clear();
    this.#hotReload.close();
  }

  /**
   * Fetches, checks and stores a package. With a code signing config the package is verified before it
   * is stored; the signature it carries (when trusted) is returned with it.
   */
  async #loadCode(code: FunctionCode, scope: Scope, signing?: { csc: CodeSigningConfig; functionName: string }): Promise<StoredPackage & { signature?: SignatureInfo }> {
    const sources = [code.ZipFile !== undefined, code.S3Bucket !== undefined || code.S3Key !== undefined, code.ImageUri !== undefined].filter(Boolean).length;
    if (sources === 0) throw errors.invalidParameter('Please provide a source for function code.');
    if (sources > 1) throw errors.invalidParameter('Please provide only one source for function code.');
    if (code.ImageUri !== undefined) {
      throw errors.invalidParameter('lambdalite does not run container images yet: use PackageType Zip.');
    }
    if (code.S3Bucket === HOT_RELOAD_BUCKET) {
      // The code store keeps packages at <data dir>/code/<hash>.
      const dir = checkHotReloadFolder(code.S3Key, path.dirname(path.dirname(this.#d.code.unpackedDir('x'))));
      this.#hotReload.generation(dir);
      return hotReloadPackage(dir);
    }
    let zip = code.ZipFile;
    if (zip === undefined) {
      if (!code.S3Bucket || !code.S3Key) throw errors.invalidParameter('Please provide a source for function code.');
      zip = await this.#d.s3.fetch(scope.region, code.S3Bucket, code.S3Key, code.S3ObjectVersion);
    }
    const signature = signing && this.#d.codeSigning ? this.#d.codeSigning.verify(zip, signing.csc, signing.functionName) : undefined;
    const pkg = await this.#d.code.put(zip, { fromS3: code.ZipFile === undefined });
    return signature ? { ...pkg, signature } : pkg;
  }

  async create(input: CreateFunctionRequest, ctx: CallContext): Promise<FunctionConfiguration> {
    const ref = resolveFunctionName(input.FunctionName, ctx, undefined, { forCreate: true });
    if (ref.qualifier !== undefined) {
      throw validationFailure(input.FunctionName, 'functionName', `Member must satisfy regular expression pattern: ${shapes['UnqualifiedFunctionName']?.pattern ?? ''}`);
    }
    const packageType = input.PackageType ?? 'Zip';
    if (packageType === 'Zip' && (!input.Runtime || !input.Handler)) {
      throw errors.invalidParameter('Runtime and Handler are mandatory parameters for functions created with deployment packages.');
    }
    if (input.Runtime) checkRuntime(input.Runtime);
    checkLimits(input);
    checkEnvironment(input.Environment?.Variables);
    checkTagCount(input.Tags);
    // Layer references are checked before the code is fetched, and again with its size below.
    this.#d.layers.resolveForFunction(input.Layers ?? [], ctx, 0);
    const key: FunctionKey = { accountId: ctx.accountId, region: ctx.region, name: ref.name };
    if (this.#d.store.getFunction(key)) throw errors.conflict(`Function already exist: ${ref.name}`);
    const csc = input.CodeSigningConfigArn !== undefined && this.#d.codeSigning ? this.#d.codeSigning.configForCreate(input.CodeSigningConfigArn, ctx) : undefined;

    const vpc = input.VpcConfig ? await this.#vpc(input.VpcConfig, ctx) : undefined;
    const pkg = await this.#loadCode(input.Code, ctx, csc && { csc, functionName: ref.name });
    const layers = this.#d.layers.resolveForFunction(input.Layers ?? [], ctx, pkg.unzippedSize);
    this.#d.checkCodeStorage(ctx, pkg.size);
    const config: StoredConfig = {
      Runtime: input.Runtime,
      Role: input.Role,
      Handler: input.Handler,
      CodeSize: pkg.size,
      ...pkg.signature,
      Description: input.Description ?? '',
      Timeout: input.Timeout ?? 3,
      MemorySize: input.MemorySize ?? 128,
      LastModified: awsTimestamp(this.#d.clock.now()),
      CodeSha256: pkg.sha256,
      ...(vpc ? { VpcConfig: vpc } : {}),
      ...(input.DeadLetterConfig ? { DeadLetterConfig: input.DeadLetterConfig } : {}),
      ...(input.Environment ? { Environment: { Variables: input.Environment.Variables ?? {} } } : {}),
      ...(input.KMSKeyArn ? { KMSKeyArn: input.KMSKeyArn } : {}),
      TracingConfig: { Mode: input.TracingConfig?.Mode ?? 'PassThrough' },
      ...(layers.layers.length ? { Layers: layers.layers } : {}),
      RevisionId: randomUUID(),
      State: 'Pending',
      StateReason: 'The function is being created.',
      StateReasonCode: 'Creating',
      PackageType: packageType,
      Architectures: input.Architectures ?? ['x86_64'],
      EphemeralStorage: { Size: input.EphemeralStorage?.Size ?? 512 },
      SnapStart: { ApplyOn: input.SnapStart?.ApplyOn ?? 'None', OptimizationStatus: 'Off' },
      ...(input.Runtime ? { RuntimeVersionConfig: { RuntimeVersionArn: runtimeVersionArn(ctx.region, input.Runtime) } } : {}),
      LoggingConfig: this.#loggingConfig(input.LoggingConfig, ref.name),
    };
    const fn: StoredFunction = {
      ...key,
      createdAt: config.LastModified!,
      tags: input.Tags ?? {},
      latest: { version: '$LATEST', codeHash: pkg.hash, config, ...(layers.hashes.length ? { layerHashes: layers.hashes } : {}) },
    };
    if (!this.#d.store.createFunction(fn)) throw errors.conflict(`Function already exist: ${ref.name}`);
    if (csc) this.#d.codeSigning?.bind(key, csc.CodeSigningConfigArn);
    const response = this.#present(fn, fn.latest, undefined);
    this.#settle(fn, config.RevisionId!);
    if (input.Publish) {
      // AWS answers with version 1 but the unqualified ARN and $LATEST's lifecycle state and RevisionId;
      // the version itself settles later with a RevisionId of its own.
      const published = this.#d.versions.publishFrom(fn, undefined, true);
      this.#settleVersion(fn, published.version, published.config.RevisionId ?? '');
      return { ...response, Version: published.version };
    }
    return response;
  }

  /**
   * AWS's defaults (Text, /aws/lambda/NAME; INFO levels with JSON), merged over the current settings on
   * update. Levels belong to the JSON format: asked for with Text they are refused, and switching to
   * Text drops them.
   */
  #loggingConfig(given: CreateFunctionRequest['LoggingConfig'], name: string, current?: StoredConfig['LoggingConfig']): StoredConfig['LoggingConfig'] {
    const format = given?.LogFormat ?? current?.LogFormat ?? 'Text';
    if (format === 'Text' && (given?.ApplicationLogLevel !== undefined || given?.SystemLogLevel !== undefined)) {
      throw errors.invalidParameter('LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or change the LogFormat to "Json" and try again.');
    }
    return {
      LogFormat: format,
      ...(format === 'JSON'
        ? {
            ApplicationLogLevel: given?.ApplicationLogLevel ?? current?.ApplicationLogLevel ?? 'INFO',
            SystemLogLevel: given?.SystemLogLevel ?? current?.SystemLogLevel ?? 'INFO',
          }
        : {}),
      LogGroup: given?.LogGroup ?? current?.LogGroup ?? `/aws/lambda/${name}`,
    };
  }

  /**
   * Completes Pending -> Active and InProgress -> Successful, which on AWS also issues a new RevisionId.
   * Runs after the response is built; with no delay it happens at once, so a client that waits (as the
   * SDK waiters do) never sees the intermediate state for long.
   */
  #settle(fn: FunctionKey, revision: string): void {
    const run = () => {
      const current = this.#d.store.getFunction(fn);
      if (!current || current.latest.config.RevisionId !== revision) return;
      const c = current.latest.config;
      if (c.State === 'Active' && c.LastUpdateStatus === 'Successful') return;
      const { StateReason: _sr, StateReasonCode: _src, LastUpdateStatusReason: _lr, LastUpdateStatusReasonCode: _lrc, ...rest } = c;
      const settled: StoredConfig = { ...rest, State: 'Active', LastUpdateStatus: 'Successful', RevisionId: randomUUID() };
      this.#d.store.replaceLatest(fn, revision, { ...current.latest, config: settled });
    };
    this.#later(run);
  }

  /** A VpcConfig as AWS stores it, with the VpcId looked up in EC2 (no lookup without a resolver). */
  async #vpc(config: NonNullable<CreateFunctionRequest['VpcConfig']>, scope: Scope): Promise<NonNullable<StoredConfig['VpcConfig']>> {
    if (this.#d.vpc) return this.#d.vpc.resolve(scope.region, config);
    return { SubnetIds: config.SubnetIds ?? [], SecurityGroupIds: config.SecurityGroupIds ?? [], Ipv6AllowedForDualStack: config.Ipv6AllowedForDualStack ?? false, VpcId: '' };
  }

  /** Pending -> Active of a version published with a deployment, with a new RevisionId as on AWS. */
  #settleVersion(fn: FunctionKey, version: string, revision: string): void {
    this.#later(() => {
      const v = this.#d.store.getVersion(fn, version);
      if (!v || v.config.RevisionId !== revision || v.config.State !== 'Pending') return;
      const { StateReason: _sr, StateReasonCode: _src, ...rest } = v.config;
      this.#d.store.replaceVersion(fn, revision, { ...v, config: { ...rest, State: 'Active', LastUpdateStatus: 'Successful', RevisionId: randomUUID() } });
    });
  }

  /** Runs a lifecycle transition after the response is built: at once, or after --settle-delay-ms. */
  #later(run: () => void): void {
    if (this.#d.settleDelayMs <= 0) {
      run();
      return;
    }
    const timer = this.#d.clock.setTimeout(() => {
      this.#settling.delete(timer);
      run();
    }, this.#d.settleDelayMs);
    timer.unref?.();
    this.#settling.add(timer);
  }

  /** The API's view of a stored version: ARNs and names derived from the key. */
  #present(fn: FunctionKey, v: StoredVersion, qualifier: string | undefined): FunctionConfiguration {
    return presentVersion(fn, v, qualifier);
  }

  get(input: GetFunctionRequest, ctx: CallContext): GetFunctionResponse {
    const { fn, qualifier, version } = resolveQualified(this.#d.store, ctx, input.FunctionName, input.Qualifier, undefined, { action: 'lambda:GetFunction' });
    const out: GetFunctionResponse = {
      Configuration: this.#present(fn, version, qualifier),
      Code: { RepositoryType: 'S3', Location: this.#d.codeUrl(version.codeHash, ctx.baseUrl) },
    };
    if (Object.keys(fn.tags).length && qualifier === undefined) out.Tags = { ...fn.tags };
    if (fn.reservedConcurrency !== undefined) out.Concurrency = { ReservedConcurrentExecutions: fn.reservedConcurrency };
    return out;
  }

  getConfiguration(input: GetFunctionConfigurationRequest, ctx: CallContext): FunctionConfiguration {
    const { fn, qualifier, version } = resolveQualified(this.#d.store, ctx, input.FunctionName, input.Qualifier, undefined, { action: 'lambda:GetFunctionConfiguration' });
    return this.#present(fn, version, qualifier);
  }

  list(input: ListFunctionsRequest, ctx: CallContext): ListFunctionsResponse {
    let after: string | undefined;
    if (input.Marker !== undefined) {
      after = Buffer.from(input.Marker, 'base64url').toString('utf8');
      if (!/^[a-zA-Z0-9-_]{1,64}$/.test(after)) throw errors.invalidParameter(`Invalid marker: ${input.Marker}`);
    }
    const limit = input.MaxItems ?? limits.listDefault;
    const page = this.#d.store.listFunctions(ctx.accountId, ctx.region, after, limit);
    const all = input.FunctionVersion === 'ALL';
    const item = presentListItem;
    // With FunctionVersion=ALL a page holds MaxItems functions, each with all its versions ($LATEST first).
    const Functions = page.items.flatMap((fn) =>
      all ? this.#allVersions(fn).map((v) => item(fn, v, v.version)) : [item(fn, fn.latest, undefined)],
    );
    return { Functions, ...(page.nextMarker ? { NextMarker: Buffer.from(page.nextMarker).toString('base64url') } : {}) };
  }

  /** Updates act on $LATEST: the name may carry no qualifier other than $LATEST. */
  #unqualified(name: string, ctx: Scope): StoredFunction {
    const r = resolveQualified(this.#d.store, ctx, name, undefined);
    if (r.qualifier !== undefined && r.qualifier !== '$LATEST') {
      throw errors.invalidParameter('Current operation does not support versions other than $LATEST. Please set the version to $LATEST or do not set a version in your request.');
    }
    return r.fn;
  }

  #allVersions(fn: FunctionKey): StoredVersion[] {
    const out: StoredVersion[] = [];
    let after: string | undefined;
    for (;;) {
      const page = this.#d.store.listVersions(fn, after, 500);
      out.push(...page.items);
      if (!page.nextMarker) return out;
      after = page.nextMarker;
    }
  }

  #checkUpdatable(fn: StoredFunction, revisionId: string | undefined): void {
    const c = fn.latest.config;
    if (c.State === 'Pending') {
      throw errors.conflict('The operation cannot be performed at this time. The function is currently in the following state: Pending');
    }
    if (c.LastUpdateStatus === 'InProgress') {
      throw errors.conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(fn.region, fn.accountId, fn.name)}`);
    }
    if (revisionId !== undefined && revisionId !== c.RevisionId) {
      throw errors.preconditionFailed('The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
    }
  }

  /** Writes a new $LATEST (InProgress), retires old environments, and schedules the settle. */
  #commitUpdate(fn: StoredFunction, config: StoredConfig, codeHash: string, layerHashes: readonly string[] | undefined): FunctionConfiguration {
    const { LastUpdateStatusReason: _a, LastUpdateStatusReasonCode: _b, ...rest } = config;
    const next: StoredConfig = {
      ...rest,
      LastModified: awsTimestamp(this.#d.clock.now()),
      RevisionId: randomUUID(),
      LastUpdateStatus: 'InProgress',
      LastUpdateStatusReason: 'The function is being created.',
      // AWS reports this code for updates too, although the model's enum lacks it.
      LastUpdateStatusReasonCode: 'Creating' as StoredConfig['LastUpdateStatusReasonCode'],
    };
    const version: StoredVersion = { version: '$LATEST', codeHash, config: next, ...(layerHashes?.length ? { layerHashes } : {}) };
    if (!this.#d.store.replaceLatest(fn, fn.latest.config.RevisionId ?? '', version)) {
      throw errors.preconditionFailed('The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');
    }
    const response = this.#present(fn, version, undefined);
    void this.#d.engine.retire(functionArn(fn.region, fn.accountId, fn.name), '$LATEST');
    this.#settle(fn, next.RevisionId!);
    return response;
  }

  async updateCode(input: UpdateFunctionCodeRequest, ctx: CallContext): Promise<FunctionConfiguration> {
    const fn = this.#unqualified(input.FunctionName, ctx);
    this.#checkUpdatable(fn, input.RevisionId);
    if (fn.latest.config.PackageType === 'Zip' && input.ImageUri !== undefined) {
      throw errors.invalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.");
    }
    const csc = this.#d.codeSigning?.configOf(fn);
    const pkg = await this.#loadCode({ ZipFile: input.ZipFile, S3Bucket: input.S3Bucket, S3Key: input.S3Key, S3ObjectVersion: input.S3ObjectVersion }, ctx, csc && { csc, functionName: fn.name });
    // The signing members describe the package deployed now: a new package replaces or drops them.
    const signing = (c: StoredConfig): StoredConfig => {
      const { SigningProfileVersionArn: _p, SigningJobArn: _j, ...rest } = c;
      return { ...rest, ...pkg.signature };
    };
    this.#d.layers.resolveForFunction((fn.latest.config.Layers ?? []).map((l) => l.Arn!), ctx, pkg.unzippedSize);
    this.#d.checkCodeStorage(ctx, pkg.size);
    const config: StoredConfig = {
      ...signing(fn.latest.config),
      CodeSha256: pkg.sha256,
      CodeSize: pkg.size,
      ...(input.Architectures ? { Architectures: input.Architectures } : {}),
    };
    if (input.DryRun) {
      return this.#present(fn, { ...fn.latest, codeHash: pkg.hash, config }, undefined);
    }
    // Re-read: the package upload may have taken a while, and the precondition must hold at write time.
    const current = this.#d.store.getFunction(fn);
    if (!current) throw notFound(ctx, fn.name);
    this.#checkUpdatable(current, input.RevisionId);
    const response = this.#commitUpdate(current, { ...signing(current.latest.config), CodeSha256: pkg.sha256, CodeSize: pkg.size, ...(input.Architectures ? { Architectures: input.Architectures } : {}) }, pkg.hash, current.latest.layerHashes);
    if (!input.Publish) return response;
    // AWS answers with the new version, qualified, still Pending and without LastUpdateStatus.
    const updated = this.#d.store.getFunction(current);
    if (!updated) throw notFound(ctx, fn.name);
    const published = this.#d.versions.publishFrom(updated, undefined, true);
    const answer = this.#present(fn, published, published.version);
    if (published.config.State === 'Pending') this.#settleVersion(fn, published.version, published.config.RevisionId ?? '');
    const { LastUpdateStatus: _a, LastUpdateStatusReason: _b, LastUpdateStatusReasonCode: _c, ...v } = answer;
    return { ...v, State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating' };
  }

  async updateConfiguration(input: UpdateFunctionConfigurationRequest, ctx: CallContext): Promise<FunctionConfiguration> {
    let fn = this.#unqualified(input.FunctionName, ctx);
    this.#checkUpdatable(fn, input.RevisionId);
    const vpc = input.VpcConfig !== undefined ? await this.#vpc(input.VpcConfig, ctx) : undefined;
    if (vpc) {
      // Re-read after the EC2 lookup: the precondition must hold at write time.
      fn = this.#unqualified(input.FunctionName, ctx);
      this.#checkUpdatable(fn, input.RevisionId);
    }
    if (input.Runtime !== undefined) checkRuntime(input.Runtime);
    checkLimits(input);
    checkEnvironment(input.Environment?.Variables);
    let layers: ResolvedLayers | undefined;
    if (input.Layers !== undefined) layers = this.#d.layers.resolveForFunction(input.Layers, ctx, hotReloadDir(fn.latest.codeHash) !== undefined ? 0 : this.#d.code.unzippedSize(fn.latest.codeHash));
    const c = fn.latest.config;
    const runtime = input.Runtime ?? c.Runtime;
    const config: StoredConfig = {
      ...c,
      ...(input.Role !== undefined ? { Role: input.Role } : {}),
      ...(input.Handler !== undefined ? { Handler: input.Handler } : {}),
      ...(input.Description !== undefined ? { Description: input.Description } : {}),
      ...(input.Timeout !== undefined ? { Timeout: input.Timeout } : {}),
      ...(input.MemorySize !== undefined ? { MemorySize: input.MemorySize } : {}),
      ...(input.Runtime !== undefined ? { Runtime: input.Runtime } : {}),
      ...(runtime ? { RuntimeVersionConfig: { RuntimeVersionArn: runtimeVersionArn(ctx.region, runtime) } } : {}),
      ...(input.Environment !== undefined ? { Environment: { Variables: input.Environment.Variables ?? {} } } : {}),
      ...(vpc ? { VpcConfig: vpc } : {}),
      // DeadLetterConfig={} changes nothing (AWS answers with the previous TargetArn); TargetArn '' removes it.
      ...(input.DeadLetterConfig?.TargetArn !== undefined ? { DeadLetterConfig: input.DeadLetterConfig } : {}),
      ...(input.KMSKeyArn !== undefined ? { KMSKeyArn: input.KMSKeyArn } : {}),
      ...(input.TracingConfig !== undefined ? { TracingConfig: { Mode: input.TracingConfig.Mode ?? 'PassThrough' } } : {}),
      ...(input.EphemeralStorage !== undefined ? { EphemeralStorage: { Size: input.EphemeralStorage.Size } } : {}),
      ...(input.SnapStart !== undefined ? { SnapStart: { ApplyOn: input.SnapStart.ApplyOn ?? 'None', OptimizationStatus: 'Off' } } : {}),
      ...(input.LoggingConfig !== undefined ? { LoggingConfig: this.#loggingConfig(input.LoggingConfig, fn.name, c.LoggingConfig) } : {}),
    };
    if (config.DeadLetterConfig?.TargetArn === '') delete config.DeadLetterConfig;
    if (layers) {
      if (layers.layers.length) config.Layers = layers.layers;
      else delete config.Layers;
    }
    return this.#commitUpdate(fn, config, fn.latest.codeHash, layers ? layers.hashes : fn.latest.layerHashes);
  }

  delete(input: DeleteFunctionRequest, ctx: CallContext): void {
    const ref = resolveFunctionName(input.FunctionName, ctx, input.Qualifier);
    // AWS refuses $LATEST and anything shaped like an alias name before it looks the function up.
    if (ref.qualifier === '$LATEST') throw errors.invalidParameter('$LATEST version cannot be deleted without deleting the function.');
    if (ref.qualifier !== undefined && isAliasName(ref.qualifier)) {
      throw errors.invalidParameter('Deletion of aliases is not currently supported.');
    }
    const key = { accountId: ctx.accountId, region: ctx.region, name: ref.name };
    const fn = this.#d.store.getFunction(key);
    // AWS names the unqualified function when it does not exist, whatever the qualifier.
    if (!fn) throw notFound(ctx, ref.name);
    const arn = functionArn(ctx.region, ctx.accountId, ref.name);
    if (ref.qualifier === undefined) {
      // Versions and aliases go with the function (the store cascades).
      this.#d.store.deleteFunction(key);
      void this.#d.engine.retire(arn);
      return;
    }
    // A qualifier neither a version nor an alias name (e.g. `$latest`) names no version: nothing to delete.
    if (!isVersionNumber(ref.qualifier)) throw notFound(ctx, ref.name);
    const referencing = this.#d.aliases.referencing(key, ref.qualifier);
    if (referencing.length) {
      throw errors.conflict(`Unable to delete version because the following aliases reference it: [${referencing.map((a) => a.alias).join(', ')}]`);
    }
    // Deleting a version that does not exist succeeds, as on AWS.
    if (this.#d.store.deleteVersion(key, ref.qualifier)) void this.#d.engine.retire(arn, ref.qualifier);
  }

  /** For a hot-reload folder, its change count: a saved file makes the next invoke start new environments. */
  #hotReloadRevision(codeHash: string): string {
    const dir = hotReloadDir(codeHash);
    return dir === undefined ? '' : `#${this.#hotReload.generation(dir)}`;
  }

  /** Everything an execution environment needs for this function's $LATEST, resolved ahead of the invoke. */
  runtimeConfig(fn: StoredFunction, version: StoredVersion): FunctionRuntimeConfig {
    const c = version.config;
    return {
      functionArn: functionArn(fn.region, fn.accountId, fn.name),
      functionName: fn.name,
      version: version.version,
      runtime: c.Runtime,
      handler: c.Handler,
      memorySize: c.MemorySize ?? 128,
      timeout: c.Timeout ?? 3,
      ephemeralStorage: c.EphemeralStorage?.Size ?? 512,
      architectures: c.Architectures ?? ['x86_64'],
      codeDir: hotReloadDir(version.codeHash) ?? this.#d.code.unpackedDir(version.codeHash),
      layerDirs: (version.layerHashes ?? []).map((h) => this.#d.code.unpackedDir(h)),
      environment: c.Environment?.Variables ?? {},
      region: fn.region,
      accountId: fn.accountId,
      logGroup: c.LoggingConfig?.LogGroup ?? `/aws/lambda/${fn.name}`,
      ...(c.LoggingConfig?.LogFormat === 'JSON'
        ? { logFormat: 'JSON' as const, applicationLogLevel: c.LoggingConfig.ApplicationLogLevel ?? 'INFO', systemLogLevel: c.LoggingConfig.SystemLogLevel ?? 'INFO' }
        : {}),
      revision: version.codeHash + this.#hotReloadRevision(version.codeHash) + ':' + JSON.stringify([version.layerHashes, c.Runtime, c.Handler, c.MemorySize, c.Timeout, c.EphemeralStorage, c.Environment, c.Architectures, c.LoggingConfig, c.TracingConfig]),
      ...(c.TracingConfig?.Mode !== undefined ? { tracingMode: c.TracingConfig.Mode } : {}),
      recursiveLoop: recursiveLoopOf(this.#d.store, { accountId: fn.accountId, region: fn.region, name: fn.name }),
    };
  }

  /**
   * Finds the function and version an invoke names, with AWS's errors; an alias with a routing
   * configuration picks its version by weight.
   */
  resolveForInvoke(name: string, qualifierParam: string | undefined, ctx: Scope): { fn: StoredFunction; version: StoredVersion; invokedArn: string; qualifier: string | undefined } {
    // AWS names the invoked version in "not found", $LATEST when unqualified. A function of another
    // account may be invoked by ARN when its resource policy allows the caller's account.
    const r = resolveQualified(this.#d.store, ctx, name, qualifierParam, (q) => q ?? '$LATEST', { action: 'lambda:InvokeFunction' });
    let version = r.version;
    if (r.alias && Object.keys(r.alias.additionalVersionWeights).length) {
      const picked = this.#d.aliases.pickVersion(r.alias);
      if (picked !== version.version) version = (picked === '$LATEST' ? r.fn.latest : this.#d.store.getVersion(r.key, picked)) ?? version;
    }
    if (version.config.State === 'Pending') {
      throw errors.conflict('The operation cannot be performed at this time. The function is currently in the following state: Pending');
    }
    return { fn: r.fn, version, invokedArn: functionArn(r.key.region, r.key.accountId, r.fn.name, r.qualifier), qualifier: r.qualifier };
  }
}
