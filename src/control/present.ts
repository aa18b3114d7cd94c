// The API's view of stored records: ARNs and names are derived from the key, never stored.
import type { AliasConfiguration, FunctionConfiguration } from '../api/generated/types.js';
import { functionArn } from '../shared/arn.js';
import type { FunctionKey, StoredAlias, StoredVersion } from '../store/types.js';

export function presentVersion(fn: FunctionKey, v: StoredVersion, qualifier: string | undefined): FunctionConfiguration {
  return {
    FunctionName: fn.name,
    FunctionArn: functionArn(fn.region, fn.accountId, fn.name, qualifier),
    ...v.config,
    Version: v.version,
  };
}

/**
 * A version as ListFunctions and ListVersionsByFunction list it: AWS leaves out the lifecycle members and
 * the runtime version there.
 */
export function presentListItem(fn: FunctionKey, v: StoredVersion, qualifier: string | undefined): FunctionConfiguration {
  const { State: _s, StateReason: _sr, StateReasonCode: _src, LastUpdateStatus: _l, LastUpdateStatusReason: _lr, LastUpdateStatusReasonCode: _lrc, RuntimeVersionConfig: _rv, ...c } =
    presentVersion(fn, v, qualifier);
  return c;
}

export function presentAlias(fn: FunctionKey, a: StoredAlias): AliasConfiguration {
  return {
    AliasArn: functionArn(fn.region, fn.accountId, fn.name, a.alias),
    Name: a.alias,
    FunctionVersion: a.functionVersion,
    Description: a.description,
    ...(Object.keys(a.additionalVersionWeights).length ? { RoutingConfig: { AdditionalVersionWeights: { ...a.additionalVersionWeights } } } : {}),
    RevisionId: a.revisionId,
  };
}
