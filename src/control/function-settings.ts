// Per-function settings without a lifecycle of their own: the recursion loop setting
// (Put/GetFunctionRecursionConfig) and runtime management (Put/GetRuntimeManagementConfig). They live
// in the store's documents and go when the function goes.
import type {
  GetFunctionRecursionConfigRequest, GetFunctionRecursionConfigResponse, GetRuntimeManagementConfigRequest,
  GetRuntimeManagementConfigResponse, PutFunctionRecursionConfigRequest, PutFunctionRecursionConfigResponse,
  PutRuntimeManagementConfigRequest, PutRuntimeManagementConfigResponse, TRecursiveLoop, TUpdateRuntimeOn,
} from '../api/generated/types.js';
import { errors } from '../shared/errors.js';
import { functionArn, type Scope } from '../shared/arn.js';
import type { FunctionKey, Store } from '../store/types.js';
import { resolveFunctionName, functionNotFound, resolveQualified } from './resolve.js';
import { runtimeVersionArn } from './functions.js';
import { RECURSION_KIND, recursiveLoopOf } from '../shared/recursion.js';

const RUNTIME_KIND = 'function-runtime-management';

interface StoredRuntimeManagement {
  readonly UpdateRuntimeOn: TUpdateRuntimeOn;
  readonly RuntimeVersionArn?: string;
}

export class FunctionSettingsService {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  #function(name: string, scope: Scope): FunctionKey {
    const ref = resolveFunctionName(name, scope);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    if (!this.#store.getFunction(key)) throw functionNotFound(scope, ref.name);
    return key;
  }

  putRecursion(input: PutFunctionRecursionConfigRequest, scope: Scope): PutFunctionRecursionConfigResponse {
    const fn = this.#function(input.FunctionName, scope);
    this.#store.putDocument({ kind: RECURSION_KIND, accountId: fn.accountId, region: fn.region, id: fn.name }, input.RecursiveLoop, fn.name);
    return { RecursiveLoop: input.RecursiveLoop };
  }

  recursionOf(fn: FunctionKey): TRecursiveLoop {
    return recursiveLoopOf(this.#store, fn);
  }

  getRecursion(input: GetFunctionRecursionConfigRequest, scope: Scope): GetFunctionRecursionConfigResponse {
    return { RecursiveLoop: this.recursionOf(this.#function(input.FunctionName, scope)) };
  }

  /** The version a runtime management setting belongs to: $LATEST, a version, or the version an alias points to. */
  #target(name: string, qualifier: string | undefined, scope: Scope) {
    const r = resolveQualified(this.#store, scope, name, qualifier);
    const version = r.version.version;
    return {
      key: r.key, runtime: r.version.config.Runtime, version,
      arn: functionArn(r.key.region, r.key.accountId, r.key.name, r.qualifier ?? '$LATEST'),
      doc: { kind: RUNTIME_KIND, accountId: r.key.accountId, region: r.key.region, id: `${r.key.name}:${version}` },
    };
  }

  putRuntimeManagement(input: PutRuntimeManagementConfigRequest, scope: Scope): PutRuntimeManagementConfigResponse {
    const t = this.#target(input.FunctionName, input.Qualifier, scope);
    // AWS's texts for these refusals are not recorded; they state the documented rules.
    if (!t.runtime) throw errors.invalidParameter('Runtime management configuration is not supported for functions without a managed runtime.');
    if (input.UpdateRuntimeOn === 'Manual') {
      if (input.RuntimeVersionArn === undefined) throw errors.invalidParameter('RuntimeVersionArn is required when UpdateRuntimeOn is Manual.');
      // The only runtime version lambdalite has for a runtime is the one it runs (RuntimeVersionConfig).
      if (input.RuntimeVersionArn !== runtimeVersionArn(t.key.region, t.runtime)) {
        throw errors.invalidParameter(`The runtime version ${input.RuntimeVersionArn} does not exist or is not compatible with runtime ${t.runtime}.`);
      }
    } else if (input.RuntimeVersionArn !== undefined) {
      throw errors.invalidParameter('RuntimeVersionArn can only be specified when UpdateRuntimeOn is Manual.');
    }
    const stored: StoredRuntimeManagement = { UpdateRuntimeOn: input.UpdateRuntimeOn, ...(input.RuntimeVersionArn !== undefined ? { RuntimeVersionArn: input.RuntimeVersionArn } : {}) };
    this.#store.putDocument(t.doc, stored, t.key.name);
    return { ...stored, FunctionArn: t.arn };
  }

  getRuntimeManagement(input: GetRuntimeManagementConfigRequest, scope: Scope): GetRuntimeManagementConfigResponse {
    const t = this.#target(input.FunctionName, input.Qualifier, scope);
    const stored = this.#store.getDocument(t.doc) as StoredRuntimeManagement | undefined;
    // Without a setting AWS reports Auto, its default, and no version ARN.
    return { UpdateRuntimeOn: stored?.UpdateRuntimeOn ?? 'Auto', FunctionArn: t.arn, ...(stored?.RuntimeVersionArn ? { RuntimeVersionArn: stored.RuntimeVersionArn } : {}) };
  }
}
