// The Store interface: everything lambdalite keeps. The SQLite adapter (src/store/sqlite/) implements it
// now; a PostgreSQL adapter can later. Methods are synchronous on purpose for SQLite; a network-backed
// adapter will need an async variant, so callers go through control/ services, never SQL.
import type { FunctionConfiguration } from '../api/generated/types.js';

export interface FunctionKey {
  readonly accountId: string;
  readonly region: string;
  readonly name: string;
}

/**
 * What is stored of one function version: the configuration exactly as the API reports it (minus what is
 * derived at read time, such as ARNs), and the code's content hash which locates the package on disk.
 */
export interface StoredVersion {
  readonly version: string;
  readonly config: StoredConfig;
  /** Hex SHA-256 of the zip; the package lives at code/<hex>.zip. Empty for Image packages. */
  readonly codeHash: string;
  /** Code hashes of the layers in config.Layers, in order. */
  readonly layerHashes?: readonly string[];
}

export interface LayerKey {
  readonly accountId: string;
  readonly region: string;
  readonly name: string;
}

/** GetLayerVersionResponse without what is derived from the key (ARNs, Version, Content.Location). */
export interface StoredLayerVersion {
  readonly version: number;
  readonly codeHash: string;
  readonly description: string;
  readonly createdDate: string;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly unzippedSize: number;
  readonly compatibleRuntimes?: readonly string[];
  readonly compatibleArchitectures?: readonly string[];
  readonly licenseInfo?: string;
}

/** One statement of a resource policy, kept as the JSON object AWS renders. */
export type PolicyStatement = Readonly<Record<string, unknown>> & { readonly Sid: string };

export interface StoredPolicy {
  readonly revisionId: string;
  readonly statements: readonly PolicyStatement[];
}

/** FunctionConfiguration without the members derived from the key (FunctionName, FunctionArn, Version). */
export type StoredConfig = Omit<FunctionConfiguration, 'FunctionName' | 'FunctionArn' | 'Version'>;

export interface StoredFunction extends FunctionKey {
  readonly createdAt: string;
  readonly tags: Readonly<Record<string, string>>;
  /** PutFunctionConcurrency's ReservedConcurrentExecutions, when set. */
  readonly reservedConcurrency?: number;
  readonly latest: StoredVersion;
}

export interface StoredAlias {
  readonly alias: string;
  readonly functionVersion: string;
  readonly description: string;
  /** Extra version -> weight, AWS's RoutingConfig.AdditionalVersionWeights. */
  readonly additionalVersionWeights: Readonly<Record<string, number>>;
  readonly revisionId: string;
}

export interface StoredProvisioned {
  readonly qualifier: string;
  readonly requested: number;
  readonly lastModified: string;
}

export interface ListPage<T> {
  readonly items: readonly T[];
  /** Present when more items follow. */
  readonly nextMarker: string | undefined;
}

export interface Store {
  /** Returns false when a function of that name exists already. */
  createFunction(fn: StoredFunction): boolean;
  getFunction(key: FunctionKey): StoredFunction | undefined;
  listFunctions(accountId: string, region: string, after: string | undefined, limit: number): ListPage<StoredFunction>;
  /**
   * Replaces $LATEST when its RevisionId is still `expectedRevisionId`; returns false when it changed
   * meanwhile (or the function is gone), so a caller never overwrites a concurrent update.
   */
  replaceLatest(key: FunctionKey, expectedRevisionId: string, latest: StoredVersion): boolean;
  /** The same compare-and-swap for any version, e.g. to give a published version a new RevisionId. */
  replaceVersion(key: FunctionKey, expectedRevisionId: string, version: StoredVersion): boolean;
  deleteFunction(key: FunctionKey): boolean;
  /**
   * Publishes a version: `build` receives the next number (never reused, even after deletes) and returns
   * the version to store; both happen in one transaction. Undefined when the function is gone.
   */
  publishVersion(key: FunctionKey, build: (version: string) => StoredVersion): StoredVersion | undefined;
  getVersion(key: FunctionKey, version: string): StoredVersion | undefined;
  /** $LATEST first, then published versions in numeric order; `after` is the last version of the previous page. */
  listVersions(key: FunctionKey, after: string | undefined, limit: number): ListPage<StoredVersion>;
  deleteVersion(key: FunctionKey, version: string): boolean;
  /** Creates (expectedRevisionId null; false when it exists) or replaces (false when the revision changed). */
  putAlias(key: FunctionKey, alias: StoredAlias, expectedRevisionId: string | null): boolean;
  getAlias(key: FunctionKey, alias: string): StoredAlias | undefined;
  listAliases(key: FunctionKey, after: string | undefined, limit: number): ListPage<StoredAlias>;
  deleteAlias(key: FunctionKey, alias: string): boolean;
  setTags(key: FunctionKey, tags: Readonly<Record<string, string>>): boolean;

  /** The resource policy of a function or one of its qualifiers ('' = unqualified). */
  getPolicy(key: FunctionKey, qualifier: string): StoredPolicy | undefined;
  /** Replaces the policy when its revision is still `expectedRevisionId` (null: none exists yet). */
  putPolicy(key: FunctionKey, qualifier: string, policy: StoredPolicy, expectedRevisionId: string | null): boolean;
  deletePolicy(key: FunctionKey, qualifier: string): void;

  /** Publishes the next layer version (numbers never reused), creating the layer if needed. */
  publishLayerVersion(key: LayerKey, build: (version: number) => StoredLayerVersion): StoredLayerVersion;
  getLayerVersion(key: LayerKey, version: number): StoredLayerVersion | undefined;
  /** Newest first; `before` is the last version of the previous page. */
  listLayerVersions(key: LayerKey, before: number | undefined, limit: number): ListPage<StoredLayerVersion>;
  /** Layers with at least one version, by name, each with its versions newest first. */
  listLayerNames(accountId: string, region: string, after: string | undefined, limit: number): ListPage<string>;
  deleteLayerVersion(key: LayerKey, version: number): boolean;
  getLayerVersionPolicy(key: LayerKey, version: number): PolicyStatement[] | undefined;
  putLayerVersionPolicy(key: LayerKey, version: number, statements: readonly PolicyStatement[]): boolean;
  /** Sum of CodeSize over all function versions and layer versions of an account and region. */
  codeUsage(accountId: string, region: string): { functionCount: number; totalCodeSize: number };

  setReservedConcurrency(key: FunctionKey, reserved: number | undefined): boolean;
  /** Sum of reserved concurrency over an account's functions in a region, leaving out `except`. */
  reservedConcurrencyTotal(accountId: string, region: string, except?: string): number;
  putProvisioned(key: FunctionKey, p: StoredProvisioned): void;
  getProvisioned(key: FunctionKey, qualifier: string): StoredProvisioned | undefined;
  listProvisioned(key: FunctionKey): StoredProvisioned[];
  deleteProvisioned(key: FunctionKey, qualifier: string): boolean;
  /** Every provisioned configuration, for restoring environments at start-up. */
  allProvisioned(): Array<FunctionKey & StoredProvisioned>;

  /** Every function in every account and region, for start-up work such as settling lifecycles. */
  allFunctions(): Iterable<StoredFunction>;
  /** Code hashes still referenced by any version; the rest can be removed from disk. */
  referencedCodeHashes(): Set<string>;
  close(): void;

  // Asynchronous invocation (src/queue/): event invoke configs and the durable event queue.
  putEventInvokeConfig(key: FunctionKey, config: StoredEventInvokeConfig): void;
  getEventInvokeConfig(key: FunctionKey, qualifier: string): StoredEventInvokeConfig | undefined;
  listEventInvokeConfigs(key: FunctionKey): StoredEventInvokeConfig[];
  deleteEventInvokeConfig(key: FunctionKey, qualifier: string): boolean;
  /** Stores events durably (fsync'd commit) before returning: an accepted event survives a crash. */
  enqueueEvents(events: readonly NewQueuedEvent[]): void;
  /**
   * Leases up to `limit` events due at `now` that nobody holds (or whose lease expired) to `owner`
   * until `leaseUntil`, oldest due first.
   */
  claimEvents(owner: string, now: number, leaseUntil: number, limit: number): QueuedEvent[];
  /** Frees leases held by any other owner (a previous, dead process); returns how many. */
  releaseForeignLeases(owner: string): number;
  /** Updates a leased event and frees its lease; false when `owner` no longer holds it. */
  rescheduleEvent(id: number, owner: string, next: QueuedEventUpdate): boolean;
  /** Removes a leased event once it is fully handled; false when `owner` no longer holds it. */
  deleteEvent(id: number, owner: string): boolean;
  /** When the earliest unleased event is due (epoch ms), or undefined when none waits. */
  nextEventDue(): number | undefined;
  countEvents(): number;
  /** The queue broken down by where each event stands (see QueuedEventCounts). */
  countEventsByState(): QueuedEventCounts;

  // Event source mappings (src/events/) and the checkpoints of stream mappings.
  /** Creates or replaces a mapping. */
  putEventSourceMapping(m: StoredEventSourceMapping): void;
  getEventSourceMapping(uuid: string): StoredEventSourceMapping | undefined;
  /** An account's mappings in a region, oldest first. */
  listEventSourceMappings(accountId: string, region: string): StoredEventSourceMapping[];
  /** Every mapping, for resuming pollers at start-up. */
  allEventSourceMappings(): StoredEventSourceMapping[];
  /** Removes the mapping and its checkpoints. */
  deleteEventSourceMapping(uuid: string): boolean;
  getStreamCheckpoint(uuid: string, shardId: string): string | undefined;
  /** Ignored when the mapping is gone (deleted while a batch was in flight). */
  putStreamCheckpoint(uuid: string, shardId: string, sequenceNumber: string): void;

  // Configuration documents (src/control/code-signing.ts, function settings): JSON bodies by kind and id.
  getDocument(key: DocumentKey): unknown;
  /** With `functionName`, the document is deleted with that function. */
  putDocument(key: DocumentKey, body: unknown, functionName?: string): void;
  deleteDocument(key: DocumentKey): boolean;
  /** Every document of a kind in an account and region, by id. */
  listDocuments(kind: string, accountId: string, region: string): Array<{ readonly id: string; readonly body: unknown }>;
}

export interface DocumentKey {
  readonly kind: string;
  readonly accountId: string;
  readonly region: string;
  readonly id: string;
}

/** One event source mapping: the API's view (EventSourceMappingConfiguration) and its scope. */
export interface StoredEventSourceMapping {
  readonly uuid: string;
  readonly accountId: string;
  readonly region: string;
  /** Epoch ms; lists are in creation order. */
  readonly createdAt: number;
  /**
   * EventSourceMappingConfiguration as JSON-compatible data: LastModified in epoch ms, State the
   * current state (Creating, Enabled, Disabled, Enabling, Disabling, Updating, Deleting).
   */
  readonly config: Readonly<Record<string, unknown>> & { readonly EventSourceArn: string; readonly FunctionArn: string };
}

/** PutFunctionEventInvokeConfig's settings for one qualifier ($LATEST, a version or an alias). */
export interface StoredEventInvokeConfig {
  readonly qualifier: string;
  readonly maximumRetryAttempts?: number;
  readonly maximumEventAgeInSeconds?: number;
  readonly onSuccess?: string;
  readonly onFailure?: string;
  /** Epoch milliseconds. */
  readonly lastModified: number;
}

export interface NewQueuedEvent {
  readonly requestId: string;
  /** The caller's account and region, with which the function is resolved again at delivery. */
  readonly accountId: string;
  readonly region: string;
  /** Unqualified ARN of the function. */
  readonly functionArn: string;
  /** The version or alias invoked, when any. */
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  readonly clientContext: string | undefined;
  /** The caller's X-Amzn-Trace-Id: the recursion lineage the invocation continues. */
  readonly traceHeader?: string;
  /** Epoch ms; the event's age counts from here. */
  readonly enqueuedAt: number;
  readonly dueAt: number;
}

export interface QueuedEventUpdate {
  readonly dueAt: number;
  /** Invocations made so far (AWS's approximateInvokeCount). */
  readonly attempts: number;
  /** Throttled attempts so far; they drive the throttle backoff and do not count as invocations. */
  readonly throttles: number;
  /** `invoke` while the function still has to run; `deliver` once only records remain to be sent. */
  readonly stage: 'invoke' | 'deliver';
  /** JSON the worker keeps between attempts (last outcome, pending deliveries). */
  readonly state: string | undefined;
}

export interface QueuedEvent extends NewQueuedEvent, QueuedEventUpdate {
  readonly id: number;
}

/** Events kept in the async queue, by state. Events that failed for good are not kept: they are sent to
 *  their OnFailure destination or dead-letter queue (counted in `delivering` until sent), or dropped. */
export interface QueuedEventCounts {
  /** Not attempted yet (including events held back by throttling). */
  pending: number;
  /** Attempted at least once; waiting for a retry. */
  retrying: number;
  /** Handled; their records wait to reach a destination or dead-letter queue. */
  delivering: number;
}
