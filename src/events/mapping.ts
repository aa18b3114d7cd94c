// A mapping as the store keeps it and as the API shows it, and the contract by which the API
// (src/control/event-source-mappings.ts) hands changed mappings to the manager (manager.ts). Both sides
// import this file; the events layer never imports the control plane.
import type { EventSourceMappingConfiguration } from '../api/generated/types.js';
import type { StoredEventSourceMapping } from '../store/types.js';
import type { SourceKind } from './sources.js';

/** What the manager does with a mapping the API changed. */
export interface MappingLifecycle {
  /** Checks through the source's own API that the queue or stream exists; throws AWS's error when not. */
  checkSource(kind: SourceKind, arn: string): Promise<void>;
  /** The mapping was created or updated: (re)start or stop its poller and settle its state. */
  changed(uuid: string): void;
  /** The mapping is `Deleting`: stop its poller, then forget it. */
  deleted(uuid: string): void;
}

/** Members kept with a mapping that the API does not show. */
interface Hidden {
  /** The desired state: Enabled=true/false as last given. */
  readonly Enabled: boolean;
}

export type StoredMappingConfig = StoredEventSourceMapping['config'] & Hidden;

/** The reason AWS gives for a user's change: SQS mappings say USER_INITIATED, stream mappings "User action". */
export function userReason(kind: SourceKind): string {
  return kind === 'sqs' ? 'USER_INITIATED' : 'User action';
}

/** The API's view of a stored mapping. */
export function presentMapping(m: StoredEventSourceMapping): EventSourceMappingConfiguration {
  const { Enabled: _enabled, LastModified, Tags: _tags, ...rest } = m.config as StoredMappingConfig & { LastModified: number; Tags?: unknown };
  return { ...(rest as EventSourceMappingConfiguration), LastModified: new Date(LastModified) };
}
