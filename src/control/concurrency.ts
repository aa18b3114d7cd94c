// Reserved and provisioned concurrency: the control plane's rules, persisted in the store and handed
// to the invoke engine, which enforces them (src/invoke/concurrency.ts).
import type {
  Concurrency, DeleteFunctionConcurrencyRequest, DeleteProvisionedConcurrencyConfigRequest, GetFunctionConcurrencyRequest,
  GetFunctionConcurrencyResponse, GetProvisionedConcurrencyConfigRequest, GetProvisionedConcurrencyConfigResponse,
  ListProvisionedConcurrencyConfigsRequest, ListProvisionedConcurrencyConfigsResponse, ProvisionedConcurrencyConfigListItem,
  PutFunctionConcurrencyRequest, PutProvisionedConcurrencyConfigRequest, PutProvisionedConcurrencyConfigResponse,
} from '../api/generated/types.js';
import { errors, LambdaError } from '../shared/errors.js';
import { functionArn, resolveFunctionName, type Scope } from '../shared/arn.js';
import { awsTimestamp, type Clock } from '../shared/clock.js';
import type { FunctionKey, Store, StoredFunction, StoredProvisioned } from '../store/types.js';
import type { Invoker, ProvisionedKey } from '../invoke/types.js';
import { functionNotFound, isVersionNumber, resolveQualified } from './resolve.js';
import type { FunctionService } from './functions.js';
import { pageOf } from './paging.js';

export interface ConcurrencyLimits {
  readonly concurrentExecutions: number;
  /** Concurrency that reservations must leave to functions without one (AWS: 100). */
  readonly unreservedMinimum: number;
}

const provisionedNotFound = () =>
  new LambdaError('ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function', { status: 404 });

/** AWS sends the account-limit refusals of both kinds of concurrency without a `Type` member. */
const limitExceeded = (message: string) => new LambdaError('InvalidParameterValueException', message, { status: 400, untyped: true });

export class ConcurrencyService {
  readonly #store: Store;
  readonly #invoker: Invoker;
  readonly #functions: FunctionService;
  readonly #clock: Clock;
  readonly #limits: ConcurrencyLimits;

  constructor(store: Store, invoker: Invoker, functions: FunctionService, clock: Clock, limits: ConcurrencyLimits) {
    this.#store = store;
    this.#invoker = invoker;
    this.#functions = functions;
    this.#clock = clock;
    this.#limits = limits;
  }

  /** Hands every stored reservation and provisioned configuration to the engine, at start-up. */
  restore(): void {
    for (const fn of this.#store.allFunctions()) {
      if (fn.reservedConcurrency !== undefined) this.#invoker.setReservedConcurrency(functionArn(fn.region, fn.accountId, fn.name), fn.reservedConcurrency);
    }
    for (const p of this.#store.allProvisioned()) this.#apply(p, p);
  }

  unreserved(scope: Scope): number {
    return this.#limits.concurrentExecutions - this.#store.reservedConcurrencyTotal(scope.accountId, scope.region);
  }

  /** `onMissing` is the qualifier AWS names when the function does not exist. */
  #function(name: string, scope: Scope, onMissing?: string): StoredFunction {
    const ref = resolveFunctionName(name, scope);
    if (ref.qualifier !== undefined) {
      throw errors.invalidParameter('This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.');
    }
    const fn = this.#store.getFunction({ accountId: scope.accountId, region: scope.region, name: ref.name });
    if (!fn) throw functionNotFound(scope, ref.name, onMissing);
    return fn;
  }

  #provisionedTotal(key: FunctionKey): number {
    return this.#store.listProvisioned(key).reduce((n, p) => n + p.requested, 0);
  }

  putReserved(input: PutFunctionConcurrencyRequest, scope: Scope): Concurrency {
    const fn = this.#function(input.FunctionName, scope, '$LATEST');
    const n = input.ReservedConcurrentExecutions;
    const others = this.#store.reservedConcurrencyTotal(scope.accountId, scope.region, fn.name);
    const minimum = this.#limits.unreservedMinimum;
    if (this.#limits.concurrentExecutions - others - n < minimum) {
      throw limitExceeded(`Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${minimum}].`);
    }
    const provisioned = this.#provisionedTotal(fn);
    if (n < provisioned) {
      // AWS's text, stray spaces included.
      throw limitExceeded(` ReservedConcurrentExecutions  ${n} should not be lower than function's total provisioned concurrency [${provisioned}].`);
    }
    this.#store.setReservedConcurrency(fn, n);
    this.#invoker.setReservedConcurrency(functionArn(fn.region, fn.accountId, fn.name), n);
    return { ReservedConcurrentExecutions: n };
  }

  getReserved(input: GetFunctionConcurrencyRequest, scope: Scope): GetFunctionConcurrencyResponse {
    const fn = this.#function(input.FunctionName, scope);
    return fn.reservedConcurrency === undefined ? {} : { ReservedConcurrentExecutions: fn.reservedConcurrency };
  }

  deleteReserved(input: DeleteFunctionConcurrencyRequest, scope: Scope): void {
    const fn = this.#function(input.FunctionName, scope);
    this.#store.setReservedConcurrency(fn, undefined);
    this.#invoker.setReservedConcurrency(functionArn(fn.region, fn.accountId, fn.name), undefined);
  }

  /**
   * A version or alias of an existing function. AWS words a missing one by the kind of qualifier,
   * even when the function itself is missing, and refuses $LATEST with two wordings.
   */
  #qualified(name: string, qualifier: string, scope: Scope, forPut = false) {
    if (qualifier === '$LATEST') {
      throw errors.invalidParameter(forPut
        ? 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.'
        : 'The function resource provided must be an alias or a published version.');
    }
    const ref = resolveFunctionName(name, scope, qualifier);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    const fn = this.#store.getFunction(key);
    if (!fn || (isVersionNumber(qualifier) ? !this.#store.getVersion(key, qualifier) : !this.#store.getAlias(key, qualifier))) {
      throw isVersionNumber(qualifier)
        ? functionNotFound(scope, ref.name, qualifier)
        : errors.notFound(`Cannot find alias arn: ${functionArn(scope.region, scope.accountId, ref.name, qualifier)}`);
    }
    return resolveQualified(this.#store, scope, name, qualifier);
  }

  /** Starts (or stops, at 0) the engine's environments for a stored configuration. */
  #apply(key: FunctionKey, p: StoredProvisioned): void {
    const scope = { accountId: key.accountId, region: key.region };
    const arn = functionArn(key.region, key.accountId, key.name);
    try {
      const r = resolveQualified(this.#store, scope, key.name, p.qualifier);
      this.#invoker.setProvisionedConcurrency({ functionArn: arn, qualifier: p.qualifier }, this.#functions.runtimeConfig(r.fn, r.version), p.requested);
    } catch {
      // The version or alias is gone: its environments go too.
    }
  }

  putProvisioned(input: PutProvisionedConcurrencyConfigRequest, scope: Scope): PutProvisionedConcurrencyConfigResponse {
    const r = this.#qualified(input.FunctionName, input.Qualifier, scope, true);
    const n = input.ProvisionedConcurrentExecutions;
    const others = this.#store.listProvisioned(r.key).filter((p) => p.qualifier !== input.Qualifier).reduce((t, p) => t + p.requested, 0);
    const reserved = r.fn.reservedConcurrency;
    if (reserved !== undefined && others + n > reserved) {
      throw errors.invalidParameter('Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function');
    }
    const unreserved = this.unreserved(scope);
    if (reserved === undefined && others + n > unreserved) {
      throw limitExceeded(`Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${unreserved}].`);
    }
    if (reserved === undefined && unreserved - (others + n) < this.#limits.unreservedMinimum) {
      throw limitExceeded(`Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${this.#limits.unreservedMinimum}].`);
    }
    // An alias and the version it points to cannot both carry a configuration.
    const conflicting = this.#store.listProvisioned(r.key).find((p) => p.qualifier !== input.Qualifier && this.#resolvesTo(r.key, p.qualifier) === r.version.version);
    if (conflicting) {
      throw errors.conflict(isVersionNumber(input.Qualifier)
        ? 'Version is pointed by a Provisioned Concurrency alias'
        : "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
    }
    const stored: StoredProvisioned = { qualifier: input.Qualifier, requested: n, lastModified: awsTimestamp(this.#clock.now()) };
    this.#store.putProvisioned(r.key, stored);
    this.#apply(r.key, stored);
    return {
      RequestedProvisionedConcurrentExecutions: n,
      AvailableProvisionedConcurrentExecutions: 0,
      AllocatedProvisionedConcurrentExecutions: 0,
      Status: 'IN_PROGRESS',
      LastModified: stored.lastModified,
    };
  }

  /** Deleting an alias removes its provisioned concurrency, as on AWS: call before the alias goes. */
  removeForAlias(name: string, alias: string, scope: Scope): void {
    const ref = resolveFunctionName(name, scope);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    if (!this.#store.getProvisioned(key, alias)) return;
    const r = resolveQualified(this.#store, scope, ref.name, alias);
    this.#store.deleteProvisioned(key, alias);
    this.#invoker.setProvisionedConcurrency({ functionArn: functionArn(key.region, key.accountId, key.name), qualifier: alias }, this.#functions.runtimeConfig(r.fn, r.version), 0);
  }

  #resolvesTo(key: FunctionKey, qualifier: string): string | undefined {
    if (isVersionNumber(qualifier)) return qualifier;
    return this.#store.getAlias(key, qualifier)?.functionVersion;
  }

  #present(key: FunctionKey, p: StoredProvisioned): GetProvisionedConcurrencyConfigResponse {
    const status = this.#invoker.provisionedStatus({ functionArn: functionArn(key.region, key.accountId, key.name), qualifier: p.qualifier } satisfies ProvisionedKey);
    return {
      RequestedProvisionedConcurrentExecutions: p.requested,
      AvailableProvisionedConcurrentExecutions: status?.available ?? 0,
      AllocatedProvisionedConcurrentExecutions: status?.allocated ?? 0,
      Status: status?.status ?? 'IN_PROGRESS',
      ...(status?.statusReason ? { StatusReason: status.statusReason } : {}),
      LastModified: p.lastModified,
    };
  }

  getProvisioned(input: GetProvisionedConcurrencyConfigRequest, scope: Scope): GetProvisionedConcurrencyConfigResponse {
    const r = this.#qualified(input.FunctionName, input.Qualifier, scope);
    const p = this.#store.getProvisioned(r.key, input.Qualifier);
    if (!p) throw provisionedNotFound();
    return this.#present(r.key, p);
  }

  /** Idempotent, as AWS: a version or alias without a configuration answers 204 too. */
  deleteProvisioned(input: DeleteProvisionedConcurrencyConfigRequest, scope: Scope): void {
    const r = this.#qualified(input.FunctionName, input.Qualifier, scope);
    if (!this.#store.deleteProvisioned(r.key, input.Qualifier)) return;
    this.#invoker.setProvisionedConcurrency({ functionArn: functionArn(r.key.region, r.key.accountId, r.key.name), qualifier: input.Qualifier }, this.#functions.runtimeConfig(r.fn, r.version), 0);
  }

  list(input: ListProvisionedConcurrencyConfigsRequest, scope: Scope): ListProvisionedConcurrencyConfigsResponse {
    const fn = this.#function(input.FunctionName, scope);
    const page = pageOf(this.#store.listProvisioned(fn), input.Marker, input.MaxItems ?? 50, (p) => p.qualifier);
    const items: ProvisionedConcurrencyConfigListItem[] = page.items.map((p) => ({ FunctionArn: functionArn(fn.region, fn.accountId, fn.name, p.qualifier), ...this.#present(fn, p) }));
    return { ProvisionedConcurrencyConfigs: items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  }
}
