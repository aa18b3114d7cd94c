// The composition root: builds the store, services, invoke engine and HTTP endpoint from one options
// object, and tears them down in order.
import { mkdirSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { awsServices, ConfigError, type ServerOptions } from './shared/config.js';
import { createLogger, type Logger } from './shared/logger.js';
import { systemClock, type Clock } from './shared/clock.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/types.js';
import { CodeStore } from './control/code-store.js';
import { S3Fetcher } from './control/s3-fetch.js';
import { FunctionService, type CallContext } from './control/functions.js';
import { VersionService } from './control/versions.js';
import { AliasService } from './control/aliases.js';
import { AccountService } from './control/account.js';
import { LayerService } from './control/layers.js';
import { PolicyService } from './control/policies.js';
import { TagService } from './control/tags.js';
import { ConcurrencyService } from './control/concurrency-configs.js';
import { CodeSigningService } from './control/code-signing.js';
import { FunctionSettingsService } from './control/function-settings.js';
import { VpcResolver } from './control/vpc.js';
import type { Scope } from './shared/arn.js';
import { createApiServer } from './api/http-server.js';
import { createAuthenticator, loadCredentialsFile } from './api/identity.js';
import { FunctionCredentials } from './api/function-credentials.js';
import { CodeUrls, extraRoutes, loadSecret } from './control/extra-routes.js';
import type { Handlers, RequestContext } from './api/handlers.js';
import type { GetFunctionCodeSigningConfigResponse } from './api/generated/types.js';
import { createInvokeAsyncHandler, createInvokeHandler } from './control/invocations.js';
import { AsyncQueue } from './queue/async-queue.js';
import { consoleRoutes } from './console/routes.js';
import { EventInvokeConfigService } from './control/event-invoke-configs.js';
import type { InvokeEngine } from './invoke/types.js';
import { SandboxInvokeEngine } from './invoke/engine.js';
import { runtimeSettings } from './runtimes/options.js';
import { EventSourceMappingService } from './control/event-source-mappings.js';
import { EventSourceMappingManager } from './events/manager.js';
import { lockDataDir } from './shared/data-dir-lock.js';
import { LogStore } from './logs/store.js';
import { LogsService } from './logs/service.js';
import { markSandboxSocket, type SandboxOrigin } from './shared/sandbox-origin.js';
import type { Socket } from 'node:net';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly options: ServerOptions;
  readonly store: Store;
  readonly engine: InvokeEngine;
  /** The model operations this server has a handler for. */
  readonly implemented: ReadonlySet<string>;
  close(): Promise<void>;
}

export interface ServerDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly engine?: InvokeEngine;
  /** Draws in [0, 1) that route invocations of weighted aliases (tests pass a scripted source). */
  readonly random?: () => number;
}

/** The role name in an execution role ARN (`arn:aws:iam::123456789012:role/path/name`). */
function roleNameOf(roleArn: string | undefined): string {
  const name = roleArn?.slice(roleArn.lastIndexOf('/') + 1);
  return name || 'lambdalite-execution-role';
}

/** Addresses only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host) || /^::ffff:127(\.\d{1,3}){3}$/i.test(host);
}

export async function startServer(options: ServerOptions, deps: ServerDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? createLogger();
  const clock = deps.clock ?? systemClock;
  // Access keys are read before anything else starts, so that a mistake in the file stops the start.
  const accessKeys = options.credentialsFile === undefined ? undefined : loadCredentialsFile(options.credentialsFile);
  if (!accessKeys && !isLoopback(options.host) && !options.allowUnauthenticated) {
    throw new ConfigError(`refusing to listen on ${options.host} without authentication: give --credentials FILE, or --allow-unauthenticated to accept unsigned requests from the network`);
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  // Before anything in the data dir is opened: a second server on it refuses to start.
  const lock = lockDataDir(options.dataDir);
  const secret = loadSecret(options.dataDir);
  const store = new SqliteStore(path.join(options.dataDir, 'lambdalite.db'));
  const functionCredentials = new FunctionCredentials(secret, () => clock.now());
  const code = new CodeStore(options.dataDir, () => store.referencedCodeHashes());
  await code.init();
  const aws = awsServices(options, process.env);
  const s3 = new S3Fetcher(aws.s3);
  const logs = new LogStore(path.join(options.dataDir, 'logs.db'), { clock, retentionDays: options.logRetentionDays, maxBytes: options.logMaxBytes });
  // Functions reach the API from inside their network namespace; those connections are handed to
  // the API server marked with the environment they come from (src/shared/sandbox-origin.ts).
  let apiServer: http.Server | undefined;
  let apiListening!: (l: { port: number; url: string }) => void;
  const sandboxApi = {
    connect: (socket: Socket, origin: SandboxOrigin) => {
      if (apiServer === undefined || !apiServer.listening) return socket.destroy();
      markSandboxSocket(socket, origin);
      apiServer.emit('connection', socket);
    },
    listening: new Promise<{ port: number; url: string }>((resolve) => (apiListening = resolve)),
  };
  const engine: InvokeEngine = deps.engine ?? new SandboxInvokeEngine({
    network: options.functionNetwork,
    pidsLimit: options.functionPidsLimit,
    lambdaApi: sandboxApi,
    dataDir: options.dataDir,
    idleTimeoutMs: options.idleTimeoutMs,
    echoLogs: options.echoLogs,
    logs,
    log: (line) => logger.info(line),
    holdCode: (dirs) => code.hold(dirs),
    warn: (line) => logger.warn(line),
    sandbox: options.requireSandbox ? 'bwrap' : 'auto',
    accountConcurrency: options.concurrentExecutions,
    unreservedMinimum: options.unreservedMinimum,
    startsPerSecond: options.startsPerSecond,
    ...(options.memoryBudgetMb > 0 ? { memoryBudgetMb: options.memoryBudgetMb } : {}),
    ...(options.maxConcurrentStarts > 0 ? { maxConcurrentStarts: options.maxConcurrentStarts } : {}),
    credentials: (environmentId, config) => functionCredentials.mint({
      accountId: config.accountId,
      region: config.region,
      functionArn: config.functionArn,
      environmentId,
      roleName: roleNameOf(store.getFunction({ accountId: config.accountId, region: config.region, name: config.functionName })?.latest.config.Role),
    }),
    ...runtimeSettings(options),
  });

  const codeUrls = new CodeUrls(secret, clock, code);
  const codeUrl = codeUrls.url;

  const versions = new VersionService(store, clock);
  const aliases = new AliasService(store, deps.random);
  // Reserved concurrency is summed from the store; the account service reads it through this.
  let unreserved = (_s: Scope) => options.concurrentExecutions;
  const account = new AccountService(store, options, (s) => unreserved(s));
  const checkCodeStorage = (s: Scope, bytes: number) => account.checkCodeStorage(s, bytes);
  const layers = new LayerService({ store, code, s3, clock, codeUrl, checkCodeStorage });
  const policies = new PolicyService(store);
  const vpc = new VpcResolver(aws.ec2);
  const codeSigning = new CodeSigningService({ store, clock, logger, profilesFile: options.signingProfiles });
  const functionSettings = new FunctionSettingsService(store);
  const tags = new TagService(store, codeSigning);
  const functions = new FunctionService({ store, code, s3, clock, engine, versions, aliases, layers, policies, checkCodeStorage, settleDelayMs: options.settleDelayMs, codeUrl, codeSigning, vpc });
  functions.settleAll();
  const concurrency = new ConcurrencyService(store, engine, functions, clock, options);
  unreserved = (s) => concurrency.unreserved(s);
  concurrency.restore();
  const eventInvokeConfigs = new EventInvokeConfigService(store, clock);
  const queue = new AsyncQueue({ store, clock, logger, functions, engine, aws });
  const esmManager = new EventSourceMappingManager({ store, clock, logger, functions, engine, aws });
  const eventSourceMappings = new EventSourceMappingService(store, clock, esmManager);
  // Packages no version refers to (deleted functions, replaced code) are removed while nothing is in flight.
  const removed = await code.collect();
  if (removed) logger.info(`removed ${removed} unreferenced code files`);

  const scope = (ctx: RequestContext): CallContext => ({ accountId: ctx.identity.accountId, region: ctx.identity.region, baseUrl: ctx.baseUrl });
  const handlers: Handlers = {
    CreateFunction: (input, ctx) => functions.create(input, scope(ctx)),
    GetFunction: (input, ctx) => functions.get(input, scope(ctx)),
    GetFunctionConfiguration: (input, ctx) => functions.getConfiguration(input, scope(ctx)),
    ListFunctions: (input, ctx) => functions.list(input, scope(ctx)),
    UpdateFunctionCode: (input, ctx) => functions.updateCode(input, scope(ctx)),
    UpdateFunctionConfiguration: (input, ctx) => functions.updateConfiguration(input, scope(ctx)),
    DeleteFunction: (input, ctx) => functions.delete(input, scope(ctx)),
    Invoke: createInvokeHandler(functions, engine, queue),
    InvokeAsync: createInvokeAsyncHandler(functions, queue),
    PutFunctionEventInvokeConfig: (input, ctx) => eventInvokeConfigs.put(input, scope(ctx)),
    UpdateFunctionEventInvokeConfig: (input, ctx) => eventInvokeConfigs.update(input, scope(ctx)),
    GetFunctionEventInvokeConfig: (input, ctx) => eventInvokeConfigs.get(input, scope(ctx)),
    DeleteFunctionEventInvokeConfig: (input, ctx) => eventInvokeConfigs.delete(input, scope(ctx)),
    ListFunctionEventInvokeConfigs: (input, ctx) => eventInvokeConfigs.list(input, scope(ctx)),
    PublishVersion: (input, ctx) => versions.publish(input, scope(ctx)),
    ListVersionsByFunction: (input, ctx) => versions.list(input, scope(ctx)),
    CreateAlias: (input, ctx) => aliases.create(input, scope(ctx)),
    GetAlias: (input, ctx) => aliases.get(input, scope(ctx)),
    UpdateAlias: (input, ctx) => aliases.update(input, scope(ctx)),
    DeleteAlias: (input, ctx) => {
      concurrency.removeForAlias(input.FunctionName, input.Name, scope(ctx));
      aliases.delete(input, scope(ctx));
    },
    ListAliases: (input, ctx) => aliases.list(input, scope(ctx)),
    PublishLayerVersion: (input, ctx) => layers.publish(input, scope(ctx)),
    GetLayerVersion: (input, ctx) => layers.get(input, scope(ctx)),
    GetLayerVersionByArn: (input, ctx) => layers.getByArn(input, scope(ctx)),
    ListLayers: (input, ctx) => layers.list(input, scope(ctx)),
    ListLayerVersions: (input, ctx) => layers.listVersions(input, scope(ctx)),
    DeleteLayerVersion: (input, ctx) => layers.delete(input, scope(ctx)),
    AddLayerVersionPermission: (input, ctx) => layers.addPermission(input, scope(ctx)),
    RemoveLayerVersionPermission: (input, ctx) => layers.removePermission(input, scope(ctx)),
    GetLayerVersionPolicy: (input, ctx) => layers.getPolicy(input, scope(ctx)),
    AddPermission: (input, ctx) => policies.add(input, scope(ctx)),
    RemovePermission: (input, ctx) => policies.remove(input, scope(ctx)),
    GetPolicy: (input, ctx) => policies.get(input, scope(ctx)),
    TagResource: (input, ctx) => tags.tag(input, scope(ctx)),
    UntagResource: (input, ctx) => tags.untag(input, scope(ctx)),
    ListTags: (input, ctx) => tags.list(input, scope(ctx)),
    GetAccountSettings: (_input, ctx) => account.settings(scope(ctx)),
    PutFunctionConcurrency: (input, ctx) => concurrency.putReserved(input, scope(ctx)),
    GetFunctionConcurrency: (input, ctx) => concurrency.getReserved(input, scope(ctx)),
    DeleteFunctionConcurrency: (input, ctx) => concurrency.deleteReserved(input, scope(ctx)),
    PutProvisionedConcurrencyConfig: (input, ctx) => concurrency.putProvisioned(input, scope(ctx)),
    GetProvisionedConcurrencyConfig: (input, ctx) => concurrency.getProvisioned(input, scope(ctx)),
    DeleteProvisionedConcurrencyConfig: (input, ctx) => concurrency.deleteProvisioned(input, scope(ctx)),
    ListProvisionedConcurrencyConfigs: (input, ctx) => concurrency.list(input, scope(ctx)),
    CreateEventSourceMapping: (input, ctx) => eventSourceMappings.create(input, scope(ctx)),
    GetEventSourceMapping: (input, ctx) => eventSourceMappings.get(input, scope(ctx)),
    UpdateEventSourceMapping: (input, ctx) => eventSourceMappings.update(input, scope(ctx)),
    DeleteEventSourceMapping: (input, ctx) => eventSourceMappings.delete(input, scope(ctx)),
    ListEventSourceMappings: (input, ctx) => eventSourceMappings.list(input, scope(ctx)),
    CreateCodeSigningConfig: (input, ctx) => codeSigning.create(input, scope(ctx)),
    GetCodeSigningConfig: (input, ctx) => codeSigning.get(input, scope(ctx)),
    UpdateCodeSigningConfig: (input, ctx) => codeSigning.update(input, scope(ctx)),
    DeleteCodeSigningConfig: (input, ctx) => codeSigning.delete(input, scope(ctx)),
    ListCodeSigningConfigs: (input, ctx) => codeSigning.list(input, scope(ctx)),
    ListFunctionsByCodeSigningConfig: (input, ctx) => codeSigning.listFunctions(input, scope(ctx)),
    PutFunctionCodeSigningConfig: (input, ctx) => codeSigning.putForFunction(input, scope(ctx)),
    GetFunctionCodeSigningConfig: (input, ctx) => codeSigning.getForFunction(input, scope(ctx)) as GetFunctionCodeSigningConfigResponse,
    DeleteFunctionCodeSigningConfig: (input, ctx) => codeSigning.deleteForFunction(input, scope(ctx)),
    PutFunctionRecursionConfig: (input, ctx) => functionSettings.putRecursion(input, scope(ctx)),
    GetFunctionRecursionConfig: (input, ctx) => functionSettings.getRecursion(input, scope(ctx)),
    PutRuntimeManagementConfig: (input, ctx) => functionSettings.putRuntimeManagement(input, scope(ctx)),
    GetRuntimeManagementConfig: (input, ctx) => functionSettings.getRuntimeManagement(input, scope(ctx)),
  };

  // After these a package may have lost its last reference (or was stored and then refused): it is
  // removed from disk once no invocation or environment uses it either.
  for (const op of ['CreateFunction', 'UpdateFunctionCode', 'UpdateFunctionConfiguration', 'DeleteFunction', 'PublishLayerVersion', 'DeleteLayerVersion'] as const) {
    const handler = handlers[op] as ((input: unknown, ctx: RequestContext) => unknown) | undefined;
    if (!handler) continue;
    (handlers as Record<string, unknown>)[op] = async (input: unknown, ctx: RequestContext) => {
      try {
        return await handler(input, ctx);
      } finally {
        code.collectSoon();
      }
    };
  }

  const consoleRoute = consoleRoutes({
    queuedEvents: () => store.countEvents(),
    queuedEventsByState: () => store.countEventsByState(),
    droppedEvents: () => queue.stats.dropped,
  });
  const routes = extraRoutes(codeUrls, () => engine.metrics());
  const logsApi = new LogsService(logs, clock);
  const server: http.Server = (apiServer = createApiServer({
    handlers,
    identity: { accountId: options.accountId, region: options.region },
    logger,
    extraRoutes: (req, url) => consoleRoute(req, url) ?? routes(req, url),
    authenticate: createAuthenticator({
      defaults: { accountId: options.accountId, region: options.region },
      keys: accessKeys,
      functionCredentials,
      functionApiAccess: options.functionApiAccess,
      now: () => clock.now(),
    }),
    logs: logsApi,
  }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    lock.release();
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  // Events a previous run accepted (or was running when it died) are delivered from here on.
  queue.start();
  // Enabled mappings poll again; changes a previous run left half-done are finished.
  esmManager.start();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  logger.info(accessKeys
    ? `requests must be signed with one of ${accessKeys.size} access keys from ${options.credentialsFile}; functions may call the API: ${options.functionApiAccess}`
    : `open developer mode: requests are not authenticated (give --credentials FILE to require signatures); functions may call the API: ${options.functionApiAccess}`);
  // What functions in the host network call: a wildcard address is reached through loopback.
  apiListening({ port, url: `http://${options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : host}:${port}` });
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    options,
    store,
    engine,
    implemented: new Set(Object.keys(handlers)),
    close() {
      closing ??= (async () => {
        // Stop accepting, let in-flight requests finish, then stop environments and close the store.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        logsApi.close();
        server.closeIdleConnections();
        await closed;
        await esmManager.close();
        queue.close();
        functions.close();
        await engine.close();
        s3.close();
        await code.close();
        logs.close();
        vpc.close();
        store.close();
        lock.release();
      })();
      return closing;
    },
  };
}
