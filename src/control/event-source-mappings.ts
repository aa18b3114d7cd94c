// Create/Get/Update/Delete/ListEventSourceMappings: the API's rules, defaults and AWS's texts (recorded
// against AWS in LocalStack's test_lambda_api snapshots and its event_source_mapping provider). This
// file only keeps mappings; src/events/manager.ts runs their pollers and moves them through the
// transient states (Creating, Enabling, Disabling, Updating, Deleting) to the stable ones.
import { randomUUID } from 'node:crypto';
import type {
  CreateEventSourceMappingRequest, DeleteEventSourceMappingRequest, EventSourceMappingConfiguration, GetEventSourceMappingRequest,
  ListEventSourceMappingsRequest, ListEventSourceMappingsResponse, UpdateEventSourceMappingRequest,
} from '../api/generated/types.js';
import { functionArn, resolveFunctionName, type Scope } from '../shared/arn.js';
import type { Clock } from '../shared/clock.js';
import { errors, LambdaError } from '../shared/errors.js';
import type { Store, StoredEventSourceMapping } from '../store/types.js';
import { FilterPatternError, INVALID_PATTERN, validateFilterCriteria } from '../events/filters.js';
import { sourceKind, type SourceKind } from '../events/registry.js';
import { resolveQualified } from './resolve.js';
import { pageOf } from './paging.js';
import { checkTagCount } from './tags.js';

const LIST_DEFAULT = 100;

/** AWS's defaults per source (the SQS ones are few: SQS mappings have no stream settings at all). */
const DEFAULT_BATCH: Record<SourceKind, number> = { sqs: 10, kinesis: 100, dynamodb: 100 };
const MAX_BATCH: Record<SourceKind, number> = { sqs: 10_000, kinesis: 10_000, dynamodb: 10_000 };

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

const notFound = () => errors.notFound('The resource you requested does not exist.');

function kindOf(arn: string | undefined): SourceKind {
  if (!arn) throw errors.invalidParameter('Unrecognized event source.');
  const kind = sourceKind(arn);
  if (kind) return kind;
  const service = arn.split(':')[2];
  if (service === 'kafka' || service === 'mq' || service === 'rds' || service === 'docdb') {
    // Deliberately differs from AWS, which polls these: lambdalite has no pollers for them.
    throw errors.invalidParameter(`lambdalite polls SQS queues, Kinesis streams and DynamoDB streams; ${arn} is none of them.`);
  }
  throw errors.invalidParameter('Unrecognized event source.');
}

/** The reason AWS gives for a user's change: SQS mappings say USER_INITIATED, stream mappings "User action". */
export function userReason(kind: SourceKind): string {
  return kind === 'sqs' ? 'USER_INITIATED' : 'User action';
}

export function mappingArn(region: string, accountId: string, uuid: string): string {
  return `arn:aws:lambda:${region}:${accountId}:event-source-mapping:${uuid}`;
}

/** The API's view of a stored mapping. */
export function presentMapping(m: StoredEventSourceMapping): EventSourceMappingConfiguration {
  const { Enabled: _enabled, LastModified, Tags: _tags, ...rest } = m.config as StoredMappingConfig & { LastModified: number; Tags?: unknown };
  return { ...(rest as EventSourceMappingConfiguration), LastModified: new Date(LastModified) };
}

export class EventSourceMappingService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #lifecycle: MappingLifecycle;

  constructor(store: Store, clock: Clock, lifecycle: MappingLifecycle) {
    this.#store = store;
    this.#clock = clock;
    this.#lifecycle = lifecycle;
  }

  /** The function a FunctionName names, as the mapping records it: qualified when a qualifier was given. */
  #functionArn(name: string, scope: Scope): { arn: string; name: string } {
    const ref = resolveFunctionName(name, scope);
    try {
      resolveQualified(this.#store, scope, name, undefined);
    } catch (e) {
      if (e instanceof LambdaError && e.code === 'ResourceNotFoundException') throw errors.invalidParameter('Function does not exist');
      throw e;
    }
    return { arn: functionArn(scope.region, scope.accountId, ref.name, ref.qualifier), name: ref.name };
  }

  #mapping(uuid: string, scope: Scope): StoredEventSourceMapping {
    const m = this.#store.getEventSourceMapping(uuid);
    if (!m || m.accountId !== scope.accountId || m.region !== scope.region) throw notFound();
    return m;
  }

  /** The checks Create and Update share, on the merged settings. */
  #validate(kind: SourceKind, c: Partial<CreateEventSourceMappingRequest>, arn: string): void {
    const batch = c.BatchSize ?? DEFAULT_BATCH[kind];
    if (batch > MAX_BATCH[kind]) {
      throw errors.invalidParameter(`BatchSize must be less than or equal to ${MAX_BATCH[kind]}.`);
    }
    const d = c.DestinationConfig;
    if (d && (kind === 'sqs' ? d.OnFailure?.Destination || d.OnSuccess?.Destination : d.OnSuccess?.Destination)) {
      throw errors.invalidParameter('Unsupported DestinationConfig parameter for given event source mapping type.');
    }
    if (kind === 'sqs') {
      if (arn.endsWith('.fifo') && batch > 10) {
        throw errors.invalidParameter('Batch size for FIFO queues must be less than or equal to 10.');
      }
      if (batch > 10 && !c.MaximumBatchingWindowInSeconds) {
        throw errors.invalidParameter('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
      }
    } else {
      if (!c.StartingPosition) {
        throw errors.invalidParameter("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.");
      }
      if (kind === 'dynamodb' && c.StartingPosition === 'AT_TIMESTAMP') {
        throw errors.invalidParameter(`Unsupported starting position for arn type: ${arn}`);
      }
    }
    try {
      validateFilterCriteria(c.FilterCriteria);
    } catch (e) {
      if (e instanceof FilterPatternError) throw errors.invalidParameter(INVALID_PATTERN);
      throw e;
    }
  }

  async create(input: CreateEventSourceMappingRequest, scope: Scope): Promise<EventSourceMappingConfiguration> {
    const arn = input.EventSourceArn;
    const kind = kindOf(arn);
    this.#validate(kind, input, arn!);
    const fn = this.#functionArn(input.FunctionName, scope);
    await this.#lifecycle.checkSource(kind, arn!);
    const existing = this.#store.listEventSourceMappings(scope.accountId, scope.region)
      .find((m) => m.config.EventSourceArn === arn && m.config.FunctionArn === fn.arn);
    if (existing) {
      throw errors.conflict(kind === 'sqs'
        ? `An event source mapping with SQS arn (" ${arn} ") and function (" ${fn.name} ") already exists. Please update or delete the existing mapping with UUID ${existing.uuid}`
        : `The event source arn (" ${arn} ") and function (" ${fn.name} ") provided mapping already exists. Please update or delete the existing mapping with UUID ${existing.uuid}`);
    }
    const uuid = randomUUID();
    const now = this.#clock.now();
    const enabled = input.Enabled ?? true;
    const opt = <K extends keyof CreateEventSourceMappingRequest>(k: K) => (input[k] !== undefined ? { [k]: input[k] } : {});
    // AWS leaves an empty FilterCriteria ({} or no filters) out of its answers.
    const filters = input.FilterCriteria?.Filters?.length ? { FilterCriteria: input.FilterCriteria } : {};
    // Members in the order AWS answers them.
    const config = kind === 'sqs'
      ? {
        UUID: uuid,
        BatchSize: input.BatchSize ?? DEFAULT_BATCH.sqs,
        MaximumBatchingWindowInSeconds: input.MaximumBatchingWindowInSeconds ?? 0,
        EventSourceArn: arn!,
        ...filters,
        FunctionArn: fn.arn,
        LastModified: now,
        State: 'Creating',
        StateTransitionReason: userReason(kind),
        FunctionResponseTypes: input.FunctionResponseTypes ?? [],
        ...opt('ScalingConfig'),
        ...opt('KMSKeyArn'),
        EventSourceMappingArn: mappingArn(scope.region, scope.accountId, uuid),
        ...opt('MetricsConfig'),
        ...opt('LoggingConfig'),
        Enabled: enabled,
      }
      : {
        UUID: uuid,
        StartingPosition: input.StartingPosition,
        ...(input.StartingPositionTimestamp !== undefined ? { StartingPositionTimestamp: input.StartingPositionTimestamp.getTime() / 1000 } : {}),
        BatchSize: input.BatchSize ?? DEFAULT_BATCH[kind],
        MaximumBatchingWindowInSeconds: input.MaximumBatchingWindowInSeconds ?? 0,
        ParallelizationFactor: input.ParallelizationFactor ?? 1,
        EventSourceArn: arn!,
        ...filters,
        FunctionArn: fn.arn,
        LastModified: now,
        LastProcessingResult: 'No records processed',
        State: 'Creating',
        StateTransitionReason: userReason(kind),
        DestinationConfig: { OnFailure: input.DestinationConfig?.OnFailure?.Destination ? { Destination: input.DestinationConfig.OnFailure.Destination } : {} },
        MaximumRecordAgeInSeconds: input.MaximumRecordAgeInSeconds ?? -1,
        BisectBatchOnFunctionError: input.BisectBatchOnFunctionError ?? false,
        MaximumRetryAttempts: input.MaximumRetryAttempts ?? -1,
        TumblingWindowInSeconds: input.TumblingWindowInSeconds ?? 0,
        FunctionResponseTypes: input.FunctionResponseTypes ?? [],
        ...opt('KMSKeyArn'),
        EventSourceMappingArn: mappingArn(scope.region, scope.accountId, uuid),
        ...opt('MetricsConfig'),
        ...opt('LoggingConfig'),
        Enabled: enabled,
      };
    checkTagCount(input.Tags);
    const stored: StoredEventSourceMapping = { uuid, accountId: scope.accountId, region: scope.region, createdAt: now, config: { ...config, ...(input.Tags ? { Tags: { ...input.Tags } } : {}) } };
    this.#store.putEventSourceMapping(stored);
    this.#lifecycle.changed(uuid);
    return presentMapping(stored);
  }

  get(input: GetEventSourceMappingRequest, scope: Scope): EventSourceMappingConfiguration {
    return presentMapping(this.#mapping(input.UUID, scope));
  }

  async update(input: UpdateEventSourceMappingRequest, scope: Scope): Promise<EventSourceMappingConfiguration> {
    const m = this.#mapping(input.UUID, scope);
    const old = m.config as StoredMappingConfig & Record<string, unknown>;
    if (old['State'] === 'Deleting') {
      throw errors.conflict(`The resource you are trying to update is in use: ${input.UUID}`);
    }
    const kind = kindOf(old.EventSourceArn);
    const { UUID: _uuid, FunctionName, Enabled, ...changes } = input;
    const next: Record<string, unknown> = { ...old };
    for (const [k, v] of Object.entries(changes)) if (v !== undefined) next[k] = v;
    if (kind !== 'sqs' && changes.DestinationConfig) {
      next['DestinationConfig'] = { OnFailure: changes.DestinationConfig.OnFailure?.Destination ? { Destination: changes.DestinationConfig.OnFailure.Destination } : {} };
    }
    // An empty FilterCriteria removes the filters.
    if (changes.FilterCriteria && !changes.FilterCriteria.Filters?.length) delete next['FilterCriteria'];
    this.#validate(kind, next as Partial<CreateEventSourceMappingRequest>, old.EventSourceArn);
    if (FunctionName !== undefined) next['FunctionArn'] = this.#functionArn(FunctionName, scope).arn;
    const stable = old['State'] === 'Enabled' || old['State'] === 'Enabling' || old['State'] === 'Creating' || old['State'] === 'Updating' ? old.Enabled : false;
    let state: string;
    if (Enabled === true && !stable) state = 'Enabling';
    else if (Enabled === false && stable) state = 'Disabling';
    else state = 'Updating';
    next['Enabled'] = Enabled ?? old.Enabled;
    next['State'] = state;
    next['StateTransitionReason'] = userReason(kind);
    next['LastModified'] = this.#clock.now();
    const stored: StoredEventSourceMapping = { ...m, config: next as StoredMappingConfig };
    this.#store.putEventSourceMapping(stored);
    this.#lifecycle.changed(m.uuid);
    return presentMapping(stored);
  }

  delete(input: DeleteEventSourceMappingRequest, scope: Scope): EventSourceMappingConfiguration {
    const m = this.#mapping(input.UUID, scope);
    const stored: StoredEventSourceMapping = { ...m, config: { ...m.config, State: 'Deleting' } };
    this.#store.putEventSourceMapping(stored);
    this.#lifecycle.deleted(m.uuid);
    return presentMapping(stored);
  }

  list(input: ListEventSourceMappingsRequest, scope: Scope): ListEventSourceMappingsResponse {
    let fnArn: string | undefined;
    if (input.FunctionName !== undefined) {
      const ref = resolveFunctionName(input.FunctionName, scope);
      fnArn = functionArn(scope.region, scope.accountId, ref.name, ref.qualifier);
    }
    const all = this.#store.listEventSourceMappings(scope.accountId, scope.region)
      .filter((m) => (input.EventSourceArn === undefined || m.config.EventSourceArn === input.EventSourceArn) && (fnArn === undefined || m.config.FunctionArn === fnArn));
    const page = pageOf(all, input.Marker, input.MaxItems ?? LIST_DEFAULT, (m) => m.uuid);
    return {
      EventSourceMappings: page.items.map(presentMapping),
      ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}),
    };
  }
}
