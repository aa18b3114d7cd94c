// Tags on functions: TagResource merges, UntagResource removes, ListTags reads. Tags belong to the
// unqualified function; changing them gives $LATEST a new RevisionId, as on AWS.
import { randomUUID } from 'node:crypto';
import type { ListTagsRequest, ListTagsResponse, TagResourceRequest, UntagResourceRequest } from '../api/generated/types.js';
import { errors } from '../shared/errors.js';
import type { Scope } from '../shared/arn.js';
import { parseFunctionRef } from '../shared/arn.js';
import type { Store, StoredFunction } from '../store/types.js';
import { functionNotFound } from './resolve.js';

export const MAX_TAGS = 50;

export class TagService {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The function a taggable resource ARN names; other resource kinds arrive with their issues. */
  #function(resource: string, scope: Scope, forWrite: boolean): StoredFunction {
    const ref = parseFunctionRef(resource);
    if (!ref || ref.region === undefined) {
      throw errors.invalidParameter(`Resource ${resource} is not a taggable resource in lambdalite yet.`);
    }
    if (forWrite && ref.qualifier !== undefined) {
      throw errors.invalidParameter('Tags on function aliases and versions are not supported. Please specify a function ARN.');
    }
    if (ref.region !== scope.region) throw errors.notFound(`Functions from '${ref.region}' are not reachable in this region ('${scope.region}')`);
    const owner = { accountId: ref.accountId ?? scope.accountId, region: ref.region };
    const fn = ref.accountId === scope.accountId ? this.#store.getFunction({ ...owner, name: ref.name }) : undefined;
    if (!fn) throw functionNotFound(owner, ref.name);
    return fn;
  }

  #write(fn: StoredFunction, tags: Record<string, string>): void {
    this.#store.setTags(fn, tags);
    const c = fn.latest.config;
    this.#store.replaceLatest(fn, c.RevisionId ?? '', { ...fn.latest, config: { ...c, RevisionId: randomUUID() } });
  }

  tag(input: TagResourceRequest, scope: Scope): void {
    const fn = this.#function(input.Resource, scope, true);
    if (Object.keys(input.Tags).length === 0) throw errors.invalidParameter('An error occurred and the request cannot be processed.');
    const merged = { ...fn.tags, ...input.Tags };
    if (Object.keys(merged).length > MAX_TAGS) throw errors.invalidParameter('Number of tags exceeds resource tag limit.');
    this.#write(fn, merged);
  }

  untag(input: UntagResourceRequest, scope: Scope): void {
    const fn = this.#function(input.Resource, scope, true);
    if (input.TagKeys.length === 0) {
      // AWS reads an empty key list as a missing one.
      throw errors.validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
    }
    const remaining = Object.fromEntries(Object.entries(fn.tags).filter(([k]) => !input.TagKeys.includes(k)));
    this.#write(fn, remaining);
  }

  list(input: ListTagsRequest, scope: Scope): ListTagsResponse {
    return { Tags: { ...this.#function(input.Resource, scope, false).tags } };
  }
}

/** The tag limit checked at CreateFunction. */
export function checkTagCount(tags: Readonly<Record<string, string>> | undefined): void {
  if (tags && Object.keys(tags).length > MAX_TAGS) throw errors.invalidParameter('Number of tags exceeds resource tag limit.');
}
