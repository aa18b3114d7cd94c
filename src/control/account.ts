// Account settings: AWS's limits (configurable) and the usage counted from the store.
import type { GetAccountSettingsResponse } from '../api/generated/types.js';
import { LambdaError } from '../shared/errors.js';
import type { Scope } from '../shared/arn.js';
import type { Store } from '../store/types.js';
import { limits as codeLimits } from './code-store.js';

export interface AccountLimits {
  readonly totalCodeSize: number;
  readonly concurrentExecutions: number;
}

export class AccountService {
  readonly #store: Store;
  readonly #limits: AccountLimits;

  readonly #unreserved: (scope: Scope) => number;

  constructor(store: Store, limits: AccountLimits, unreserved: (scope: Scope) => number) {
    this.#store = store;
    this.#limits = limits;
    this.#unreserved = unreserved;
  }

  settings(scope: Scope): GetAccountSettingsResponse {
    const usage = this.#store.codeUsage(scope.accountId, scope.region);
    return {
      AccountLimit: {
        TotalCodeSize: this.#limits.totalCodeSize,
        CodeSizeUnzipped: codeLimits.unzipped,
        CodeSizeZipped: codeLimits.zipped,
        ConcurrentExecutions: this.#limits.concurrentExecutions,
        UnreservedConcurrentExecutions: this.#unreserved(scope),
      },
      AccountUsage: { TotalCodeSize: usage.totalCodeSize, FunctionCount: usage.functionCount },
    };
  }

  /** Throws AWS's CodeStorageExceededException when `extraBytes` more would pass the account's limit. */
  checkCodeStorage(scope: Scope, extraBytes: number): void {
    const { totalCodeSize } = this.#store.codeUsage(scope.accountId, scope.region);
    if (totalCodeSize + extraBytes > this.#limits.totalCodeSize) {
      throw new LambdaError('CodeStorageExceededException', {});
    }
  }
}
