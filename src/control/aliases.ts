// Aliases: named pointers to a version, optionally splitting traffic with one additional weighted
// version (RoutingConfig.AdditionalVersionWeights).
import { randomUUID } from 'node:crypto';
import type {
  AliasConfiguration, AliasRoutingConfiguration, CreateAliasRequest, DeleteAliasRequest, GetAliasRequest,
  ListAliasesRequest, ListAliasesResponse, UpdateAliasRequest,
} from '../api/generated/types.js';
import { functionArn, type Scope } from '../shared/arn.js';
import { errors, LambdaError } from '../shared/errors.js';
import type { FunctionKey, Store, StoredAlias, StoredFunction } from '../store/types.js';
import { resolveFunctionName, functionNotFound } from './resolve.js';
import { presentAlias } from './present.js';
import { revisionMismatch } from './versions.js';

export class AliasService {
  readonly #store: Store;
  readonly #random: () => number;

  constructor(store: Store, random: () => number = Math.random) {
    this.#store = store;
    this.#random = random;
  }

  #function(name: string, scope: Scope): { key: FunctionKey; fn: StoredFunction } {
    const ref = resolveFunctionName(name, scope);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    const fn = this.#store.getFunction(key);
    if (!fn) throw functionNotFound(scope, ref.name);
    return { key, fn };
  }

  #checkVersionExists(key: FunctionKey, version: string): void {
    if (version === '$LATEST') return;
    if (!this.#store.getVersion(key, version)) throw functionNotFound(key, key.name, version);
  }

  /**
   * Checks RoutingConfig in AWS's order: item count, the alias's own version, $LATEST, then that the
   * additional version exists. Weight range and key pattern are model constraints, checked earlier.
   */
  #weights(key: FunctionKey, functionVersion: string, routing: AliasRoutingConfiguration | undefined, checkExists: boolean): Record<string, number> {
    const entries = Object.entries(routing?.AdditionalVersionWeights ?? {});
    if (entries.length === 0) return {};
    if (entries.length > 1) throw errors.invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1');
    const [extra, weight] = entries[0]!;
    if (extra === functionVersion) {
      throw errors.invalidParameter(`Invalid function version ${extra}. Function version ${extra} is already included in routing configuration.`);
    }
    if (functionVersion === '$LATEST') {
      throw new LambdaError('InvalidParameterValueUntyped', { message: '$LATEST is not supported for an alias pointing to more than 1 version' });
    }
    if (checkExists) this.#checkVersionExists(key, extra);
    return { [extra]: weight };
  }

  create(input: CreateAliasRequest, scope: Scope): AliasConfiguration {
    const { key } = this.#function(input.FunctionName, scope);
    this.#weights(key, input.FunctionVersion, input.RoutingConfig, false);
    this.#checkVersionExists(key, input.FunctionVersion);
    const alias: StoredAlias = {
      alias: input.Name,
      functionVersion: input.FunctionVersion,
      description: input.Description ?? '',
      additionalVersionWeights: this.#weights(key, input.FunctionVersion, input.RoutingConfig, true),
      revisionId: randomUUID(),
    };
    if (!this.#store.putAlias(key, alias, null)) {
      throw errors.conflict(`Alias already exists: ${functionArn(key.region, key.accountId, key.name, input.Name)}`);
    }
    return presentAlias(key, alias);
  }

  /** AWS words a missing alias differently on GetAlias and UpdateAlias. */
  #load(key: FunctionKey, name: string, wording: 'get' | 'update'): StoredAlias {
    const alias = this.#store.getAlias(key, name);
    const arn = functionArn(key.region, key.accountId, key.name, name);
    if (!alias) throw errors.notFound(wording === 'get' ? `Cannot find alias arn: ${arn}` : `Alias not found: ${arn}`);
    return alias;
  }

  get(input: GetAliasRequest, scope: Scope): AliasConfiguration {
    const { key } = this.#function(input.FunctionName, scope);
    return presentAlias(key, this.#load(key, input.Name, 'get'));
  }

  update(input: UpdateAliasRequest, scope: Scope): AliasConfiguration {
    const { key } = this.#function(input.FunctionName, scope);
    const current = this.#load(key, input.Name, 'update');
    if (input.RevisionId !== undefined && input.RevisionId !== current.revisionId) throw revisionMismatch();
    const functionVersion = input.FunctionVersion ?? current.functionVersion;
    const routing = input.RoutingConfig ?? { AdditionalVersionWeights: current.additionalVersionWeights };
    this.#weights(key, functionVersion, routing, false);
    if (input.FunctionVersion !== undefined) this.#checkVersionExists(key, functionVersion);
    const weights = this.#weights(key, functionVersion, routing, true);
    const next: StoredAlias = {
      ...current,
      functionVersion,
      description: input.Description ?? current.description,
      additionalVersionWeights: weights,
      revisionId: randomUUID(),
    };
    if (!this.#store.putAlias(key, next, current.revisionId)) throw revisionMismatch();
    return presentAlias(key, next);
  }

  /** Idempotent, as AWS: deleting an alias that does not exist succeeds. */
  delete(input: DeleteAliasRequest, scope: Scope): void {
    const { key } = this.#function(input.FunctionName, scope);
    this.#store.deleteAlias(key, input.Name);
  }

  list(input: ListAliasesRequest, scope: Scope): ListAliasesResponse {
    const { key } = this.#function(input.FunctionName, scope);
    let after = input.Marker !== undefined ? Buffer.from(input.Marker, 'base64url').toString('utf8') : undefined;
    const limit = input.MaxItems ?? 50;
    const items: AliasConfiguration[] = [];
    // Filtering by version happens after paging in the store, so keep reading until the page is full.
    for (;;) {
      const page = this.#store.listAliases(key, after, limit);
      for (const a of page.items) {
        if (input.FunctionVersion === undefined || a.functionVersion === input.FunctionVersion) items.push(presentAlias(key, a));
        after = a.alias;
        if (items.length === limit) break;
      }
      if (items.length === limit) {
        const more = this.#store.listAliases(key, after, 1).items.length > 0;
        return { Aliases: items, ...(more ? { NextMarker: Buffer.from(after!).toString('base64url') } : {}) };
      }
      if (!page.nextMarker) return { Aliases: items };
    }
  }

  /** The version an invoke through this alias runs: the additional version with its weight's probability. */
  pickVersion(alias: StoredAlias): string {
    const [extra] = Object.entries(alias.additionalVersionWeights);
    if (extra && this.#random() < extra[1]) return extra[0];
    return alias.functionVersion;
  }

  /** Aliases that point at `version`, as primary or additional version. */
  referencing(key: FunctionKey, version: string): StoredAlias[] {
    const out: StoredAlias[] = [];
    let after: string | undefined;
    for (;;) {
      const page = this.#store.listAliases(key, after, 500);
      for (const a of page.items) if (a.functionVersion === version || version in a.additionalVersionWeights) out.push(a);
      if (!page.nextMarker) return out;
      after = page.nextMarker;
    }
  }
}
