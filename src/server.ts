// The composition root: builds the store, services, invoke engine and HTTP endpoint from one options
// object, and tears them down in order.
import { mkdirSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { awsServices, type ServerOptions } from './shared/config.js';
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
import type { Scope } from './shared/arn.js';
import { createApiServer } from './api/http-server.js';
import { CodeUrls, extraRoutes } from './control/extra-routes.js';
import type { Handlers, RequestContext } from './api/handlers.js';
import { createInvokeAsyncHandler, createInvokeHandler } from './control/invocations.js';
import { AsyncQueue } from './queue/async-queue.js';
import { EventInvokeConfigService } from './control/event-invoke-configs.js';
import type { InvokeEngine } from './invoke/types.js';
import { SandboxInvokeEngine } from './invoke/engine.js';
import { EventSourceMappingService } from './control/event-source-mappings.js';
import { EventSourceMappingManager } from './events/manager.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly options: ServerOptions;
  readonly store: Store;
  readonly engine: InvokeEngine;
  close(): Promise<void>;
}

export interface ServerDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly engine?: InvokeEngine;
  /** Draws in [0, 1) that route invocations of weighted aliases (tests pass a scripted source). */
  readonly random?: () => number;
}

export async function startServer(options: ServerOptions, deps: ServerDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? createLogger();
  const clock = deps.clock ?? systemClock;
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const store = new SqliteStore(path.join(options.dataDir, 'lambdalite.db'));
  const code = new CodeStore(options.dataDir);
  await code.init();
  const aws = awsServices(options, process.env);
  const s3 = new S3Fetcher(aws.s3);
  const engine: InvokeEngine = deps.engine ?? new SandboxInvokeEngine({
    dataDir: options.dataDir,
    idleTimeoutMs: options.idleTimeoutMs,
    echoLogs: options.echoLogs,
    logDir: path.join(options.dataDir, 'logs'),
    log: (line) => logger.info(line),
    warn: (line) => logger.warn(line),
    sandbox: options.requireSandbox ? 'bwrap' : 'auto',
    accountConcurrency: options.concurrentExecutions,
    unreservedMinimum: options.unreservedMinimum,
    startsPerSecond: options.startsPerSecond,
    ...(options.memoryBudgetMb > 0 ? { memoryBudgetMb: options.memoryBudgetMb } : {}),
    ...(options.maxConcurrentStarts > 0 ? { maxConcurrentStarts: options.maxConcurrentStarts } : {}),
  });

  const codeUrls = new CodeUrls(options.dataDir, clock, code);
  const codeUrl = codeUrls.url;

  const versions = new VersionService(store, clock);
  const aliases = new AliasService(store, deps.random);
  // Reserved concurrency is summed from the store; the account service reads it through this.
  let unreserved = (_s: Scope) => options.concurrentExecutions;
  const account = new AccountService(store, options, (s) => unreserved(s));
  const checkCodeStorage = (s: Scope, bytes: number) => account.checkCodeStorage(s, bytes);
  const layers = new LayerService({ store, code, s3, clock, codeUrl, checkCodeStorage });
  const policies = new PolicyService(store);
  const tags = new TagService(store);
  const functions = new FunctionService({ store, code, s3, clock, engine, versions, aliases, layers, policies, checkCodeStorage, settleDelayMs: options.settleDelayMs, codeUrl });
  functions.settleAll();
  const concurrency = new ConcurrencyService(store, engine, functions, clock, options);
  unreserved = (s) => concurrency.unreserved(s);
  concurrency.restore();
  const eventInvokeConfigs = new EventInvokeConfigService(store, clock);
  const queue = new AsyncQueue({ store, clock, logger, functions, engine, aws });
  const esmManager = new EventSourceMappingManager({ store, clock, logger, functions, engine, aws });
  const eventSourceMappings = new EventSourceMappingService(store, clock, esmManager);
  // Packages no version refers to (deleted functions, replaced code) are removed while nothing is in flight.
  const removed = await code.collect(store.referencedCodeHashes());
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
  };

  const server: http.Server = createApiServer({
    handlers,
    identity: { accountId: options.accountId, region: options.region },
    logger,
    extraRoutes: extraRoutes(codeUrls, () => engine.metrics()),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // Events a previous run accepted (or was running when it died) are delivered from here on.
  queue.start();
  // Enabled mappings poll again; changes a previous run left half-done are finished.
  esmManager.start();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    options,
    store,
    engine,
    close() {
      closing ??= (async () => {
        // Stop accepting, let in-flight requests finish, then stop environments and close the store.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await closed;
        await esmManager.close();
        queue.close();
        functions.close();
        await engine.close();
        s3.close();
        store.close();
      })();
      return closing;
    },
  };
}
