// Put/Update/Get/Delete/ListFunctionEventInvokeConfigs: retry, event age and destination settings for
// asynchronous invocation, one per qualifier ($LATEST, a version or an alias), with AWS's texts
// (recorded against AWS in LocalStack's test_lambda_api snapshot, TestLambdaEventInvokeConfig). They
// belong to the qualifier they were put on and are not copied when a version is published.
import type {
  DeleteFunctionEventInvokeConfigRequest, DestinationConfig, FunctionEventInvokeConfig, GetFunctionEventInvokeConfigRequest,
  ListFunctionEventInvokeConfigsRequest, ListFunctionEventInvokeConfigsResponse, PutFunctionEventInvokeConfigRequest,
  UpdateFunctionEventInvokeConfigRequest,
} from '../api/generated/types.js';
import { functionArn, type Scope } from '../shared/arn.js';
import type { Clock } from '../shared/clock.js';
import { errors, isLambdaError } from '../shared/errors.js';
import type { FunctionKey, Store, StoredEventInvokeConfig } from '../store/types.js';
import { resolveFunctionName, resolveQualified } from './resolve.js';
import { pageOf } from './paging.js';

const LIST_DEFAULT = 50;

function atLeastOne(input: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number; DestinationConfig?: DestinationConfig }): void {
  if (input.MaximumRetryAttempts === undefined && input.MaximumEventAgeInSeconds === undefined && input.DestinationConfig === undefined) {
    throw errors.invalidParameter('You must specify at least one of error handling or destination setting.');
  }
}

/** Sorts $LATEST first, then versions by number, then aliases by name, as AWS lists them. */
function order(q: string): [number, number, string] {
  if (q === '$LATEST') return [0, 0, ''];
  if (/^[0-9]+$/.test(q)) return [1, Number(q), ''];
  return [2, 0, q];
}

export class EventInvokeConfigService {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** The function and qualifier a request names; AWS answers "The function doesn't exist." for either missing. */
  #target(name: string, qualifierParam: string | undefined, scope: Scope): { key: FunctionKey; qualifier: string } {
    try {
      const r = resolveQualified(this.#store, scope, name, qualifierParam);
      return { key: r.key, qualifier: r.qualifier ?? '$LATEST' };
    } catch (e) {
      if (isLambdaError(e) && e.code === 'ResourceNotFoundException') throw errors.notFound("The function doesn't exist.");
      throw e;
    }
  }

  /** For Get and Delete, which name the missing config (qualified, $LATEST when unqualified) whatever is missing. */
  #noConfig(name: string, qualifierParam: string | undefined, scope: Scope) {
    const ref = resolveFunctionName(name, scope, qualifierParam);
    return errors.notFound(`The function ${functionArn(scope.region, scope.accountId, ref.name, ref.qualifier ?? '$LATEST')} doesn't have an EventInvokeConfig`);
  }

  #checkDestinations(key: FunctionKey, d: DestinationConfig | undefined, scope: Scope): void {
    if (!d) return;
    const onSuccess = d.OnSuccess?.Destination;
    const onFailure = d.OnFailure?.Destination;
    let invalid = false;
    for (const arn of [onSuccess, onFailure]) {
      if (!arn) continue;
      const service = arn.split(':')[2];
      if (service === 'lambda') {
        let ref;
        try {
          ref = resolveFunctionName(arn, scope, undefined, { crossAccount: true });
        } catch {
          throw errors.invalidParameter(`The destination ARN ${arn} is invalid.`);
        }
        if (!this.#store.getFunction({ accountId: ref.accountId ?? scope.accountId, region: scope.region, name: ref.name })) {
          throw errors.invalidParameter(`The destination ARN ${arn} is invalid.`);
        }
        if (ref.name === key.name && (ref.accountId ?? scope.accountId) === key.accountId) {
          throw errors.invalidParameter("You can't specify the function as a destination for itself.");
        }
      } else if (service !== 'sqs' && service !== 'sns' && service !== 'events') {
        invalid = true;
      }
    }
    if (invalid) {
      const s = onSuccess ? `OnSuccess(destination=${onSuccess})` : 'null';
      const f = onFailure ? `OnFailure(destination=${onFailure})` : 'null';
      throw errors.invalidParameter(`The provided destination config DestinationConfig(onSuccess=${s}, onFailure=${f}) is invalid.`);
    }
  }

  #present(key: FunctionKey, c: StoredEventInvokeConfig): FunctionEventInvokeConfig {
    return {
      LastModified: new Date(c.lastModified),
      FunctionArn: functionArn(key.region, key.accountId, key.name, c.qualifier),
      ...(c.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: c.maximumRetryAttempts } : {}),
      ...(c.maximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: c.maximumEventAgeInSeconds } : {}),
      // AWS always answers both members, empty when unset.
      DestinationConfig: {
        OnSuccess: c.onSuccess ? { Destination: c.onSuccess } : {},
        OnFailure: c.onFailure ? { Destination: c.onFailure } : {},
      },
    };
  }

  put(input: PutFunctionEventInvokeConfigRequest, scope: Scope): FunctionEventInvokeConfig {
    atLeastOne(input);
    const { key, qualifier } = this.#target(input.FunctionName, input.Qualifier, scope);
    this.#checkDestinations(key, input.DestinationConfig, scope);
    // Put replaces the whole configuration; what is not given is unset.
    const c: StoredEventInvokeConfig = {
      qualifier,
      ...(input.MaximumRetryAttempts !== undefined ? { maximumRetryAttempts: input.MaximumRetryAttempts } : {}),
      ...(input.MaximumEventAgeInSeconds !== undefined ? { maximumEventAgeInSeconds: input.MaximumEventAgeInSeconds } : {}),
      ...(input.DestinationConfig?.OnSuccess?.Destination ? { onSuccess: input.DestinationConfig.OnSuccess.Destination } : {}),
      ...(input.DestinationConfig?.OnFailure?.Destination ? { onFailure: input.DestinationConfig.OnFailure.Destination } : {}),
      lastModified: this.#clock.now(),
    };
    this.#store.putEventInvokeConfig(key, c);
    return this.#present(key, c);
  }

  update(input: UpdateFunctionEventInvokeConfigRequest, scope: Scope): FunctionEventInvokeConfig {
    atLeastOne(input);
    const { key, qualifier } = this.#target(input.FunctionName, input.Qualifier, scope);
    const current = this.#store.getEventInvokeConfig(key, qualifier);
    if (!current) {
      throw errors.notFound(`The function ${functionArn(key.region, key.accountId, key.name, qualifier)} doesn't have an EventInvokeConfig`);
    }
    this.#checkDestinations(key, input.DestinationConfig, scope);
    // Update changes only what is given; a given destination member replaces that one.
    const d = input.DestinationConfig;
    const pick = (given: { Destination?: string } | undefined, old: string | undefined) => (given ? given.Destination || undefined : old);
    const onSuccess = pick(d?.OnSuccess, current.onSuccess);
    const onFailure = pick(d?.OnFailure, current.onFailure);
    const maxRetries = input.MaximumRetryAttempts ?? current.maximumRetryAttempts;
    const maxAge = input.MaximumEventAgeInSeconds ?? current.maximumEventAgeInSeconds;
    const c: StoredEventInvokeConfig = {
      qualifier,
      ...(maxRetries !== undefined ? { maximumRetryAttempts: maxRetries } : {}),
      ...(maxAge !== undefined ? { maximumEventAgeInSeconds: maxAge } : {}),
      ...(onSuccess ? { onSuccess } : {}),
      ...(onFailure ? { onFailure } : {}),
      lastModified: this.#clock.now(),
    };
    this.#store.putEventInvokeConfig(key, c);
    return this.#present(key, c);
  }

  /** Get and Delete answer a missing function or qualifier as a missing configuration, as AWS does. */
  #existingTarget(name: string, qualifier: string | undefined, scope: Scope) {
    try {
      return this.#target(name, qualifier, scope);
    } catch (e) {
      if (isLambdaError(e) && e.code === 'ResourceNotFoundException') throw this.#noConfig(name, qualifier, scope);
      throw e;
    }
  }

  get(input: GetFunctionEventInvokeConfigRequest, scope: Scope): FunctionEventInvokeConfig {
    const target = this.#existingTarget(input.FunctionName, input.Qualifier, scope);
    const c = this.#store.getEventInvokeConfig(target.key, target.qualifier);
    if (!c) throw this.#noConfig(input.FunctionName, input.Qualifier, scope);
    return this.#present(target.key, c);
  }

  delete(input: DeleteFunctionEventInvokeConfigRequest, scope: Scope): void {
    const target = this.#existingTarget(input.FunctionName, input.Qualifier, scope);
    if (!this.#store.deleteEventInvokeConfig(target.key, target.qualifier)) throw this.#noConfig(input.FunctionName, input.Qualifier, scope);
  }

  list(input: ListFunctionEventInvokeConfigsRequest, scope: Scope): ListFunctionEventInvokeConfigsResponse {
    const { key } = this.#target(input.FunctionName, undefined, scope);
    const all = this.#store.listEventInvokeConfigs(key).sort((a, b) => {
      const [x, y] = [order(a.qualifier), order(b.qualifier)];
      return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2]);
    });
    const page = pageOf(all, input.Marker, input.MaxItems ?? LIST_DEFAULT, (c) => c.qualifier);
    return {
      FunctionEventInvokeConfigs: page.items.map((c) => this.#present(key, c)),
      ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}),
    };
  }
}
