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
