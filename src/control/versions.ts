// Published versions: immutable snapshots of $LATEST's code and configuration, numbered 1, 2, ... and
// never renumbered, even after a delete.
import { randomUUID } from 'node:crypto';
import type { FunctionConfiguration, ListVersionsByFunctionRequest, ListVersionsByFunctionResponse, PublishVersionRequest } from '../api/generated/types.js';
import { resolveFunctionName, functionArn, type Scope } from '../shared/arn.js';
import { errors } from '../shared/errors.js';
import { awsTimestamp, type Clock } from '../shared/clock.js';
import type { FunctionKey, Store, StoredConfig, StoredFunction, StoredVersion } from '../store/types.js';
import { functionNotFound } from './resolve.js';
import { presentListItem, presentVersion } from './present.js';

/** Members that differ between versions without the code or configuration having changed. */
const volatile = new Set(['RevisionId', 'LastModified', 'State', 'StateReason', 'StateReasonCode', 'LastUpdateStatus', 'LastUpdateStatusReason', 'LastUpdateStatusReasonCode', 'Description']);

function fingerprint(v: StoredVersion): string {
  const entries = Object.entries(v.config).filter(([k]) => !volatile.has(k)).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([v.codeHash, entries]);
}

export const revisionMismatch = () =>
  errors.preconditionFailed('The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id');

export class VersionService {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** The newest published version, when any. */
  #newest(key: FunctionKey): StoredVersion | undefined {
    let after: string | undefined;
    let last: StoredVersion | undefined;
    for (;;) {
      const page = this.#store.listVersions(key, after, 500);
      for (const v of page.items) if (v.version !== '$LATEST') last = v;
      if (!page.nextMarker) return last;
      after = page.nextMarker;
    }
  }

  /** Publishes $LATEST as a new version, or returns the newest version when nothing changed since. */
  publishFrom(fn: StoredFunction, description: string | undefined, duringUpdate = false): StoredVersion {
    const c = fn.latest.config;
    // Publish=true on create and update publishes the code being deployed; PublishVersion must wait.
    if (!duringUpdate && (c.State === 'Pending' || c.LastUpdateStatus === 'InProgress')) {
      throw errors.conflict(`The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(fn.region, fn.accountId, fn.name)}`);
    }
    const newest = this.#newest(fn);
    if (newest && fingerprint(newest) === fingerprint(fn.latest)) return newest;
    const published = this.#store.publishVersion(fn, (version) => {
      const { LastUpdateStatusReason: _a, LastUpdateStatusReasonCode: _b, StateReason: _c, StateReasonCode: _d, ...rest } = c;
      const config: StoredConfig = {
        ...rest,
        Description: description ?? c.Description ?? '',
        LastModified: awsTimestamp(this.#clock.now()),
        RevisionId: randomUUID(),
        // Published along with a deployment, the version is Pending until the deployment settles
        // (FunctionService settles it, with a new RevisionId, as AWS does).
        ...(duringUpdate
          ? { State: 'Pending' as const, StateReason: 'The function is being created.', StateReasonCode: 'Creating' as const, LastUpdateStatus: undefined }
          : { State: 'Active' as const, LastUpdateStatus: 'Successful' as const }),
      };
      if (config.LastUpdateStatus === undefined) delete config.LastUpdateStatus;
      return { version, codeHash: fn.latest.codeHash, config, ...(fn.latest.layerHashes ? { layerHashes: fn.latest.layerHashes } : {}) };
    });
    if (!published) throw functionNotFound(fn, fn.name);
    // Publishing also gives $LATEST a new RevisionId, as on AWS (during an update, the settle will).
    if (!duringUpdate) this.#store.replaceLatest(fn, c.RevisionId ?? '', { ...fn.latest, config: { ...c, RevisionId: randomUUID() } });
    return published;
  }

  publish(input: PublishVersionRequest, scope: Scope): FunctionConfiguration {
    const ref = resolveFunctionName(input.FunctionName, scope);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    const fn = this.#store.getFunction(key);
    if (!fn) throw functionNotFound(scope, ref.name);
    if (input.RevisionId !== undefined && input.RevisionId !== fn.latest.config.RevisionId) throw revisionMismatch();
    if (input.CodeSha256 !== undefined && input.CodeSha256 !== fn.latest.config.CodeSha256) {
      throw errors.invalidParameter(
        `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${fn.latest.config.CodeSha256 ?? ''}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    const v = this.publishFrom(fn, input.Description);
    return presentVersion(key, v, v.version);
  }

  list(input: ListVersionsByFunctionRequest, scope: Scope): ListVersionsByFunctionResponse {
    const ref = resolveFunctionName(input.FunctionName, scope);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    if (!this.#store.getFunction(key)) throw functionNotFound(scope, ref.name);
    let after: string | undefined;
    if (input.Marker !== undefined) {
      after = Buffer.from(input.Marker, 'base64url').toString('utf8');
      if (after !== '$LATEST' && !/^[0-9]+$/.test(after)) throw errors.invalidParameter(`Invalid marker: ${input.Marker}`);
    }
    const page = this.#store.listVersions(key, after, input.MaxItems ?? 50);
    return {
      Versions: page.items.map((v) => presentListItem(key, v, v.version)),
      ...(page.nextMarker ? { NextMarker: Buffer.from(page.nextMarker).toString('base64url') } : {}),
    };
  }
}
