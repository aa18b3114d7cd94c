// Tags on functions: TagResource merges, UntagResource removes, ListTags reads. Tags belong to the
// unqualified function; changing them gives $LATEST a new RevisionId, as on AWS.
import { randomUUID } from 'node:crypto';
import type { ListTagsRequest, ListTagsResponse, TagResourceRequest, UntagResourceRequest } from '../api/generated/types.js';
import { errors } from '../shared/errors.js';
import type { Scope } from '../shared/arn.js';
import { functionArn, parseFunctionRef } from '../shared/arn.js';
import type { Store, StoredFunction } from '../store/types.js';
import { accessDenied, functionNotFound, policyAllows } from './resolve.js';
import type { CodeSigningService } from './code-signing.js';

/** How a taggable resource kind reads and writes its tags. */
interface Taggable {
  read(): Record<string, string>;
  write(tags: Record<string, string>): void;
}

export const MAX_TAGS = 50;

export class TagService {
  readonly #store: Store;
  readonly #codeSigning: CodeSigningService | undefined;

  constructor(store: Store, codeSigning?: CodeSigningService) {
    this.#store = store;
    this.#codeSigning = codeSigning;
  }

  /** Functions, event source mappings and code signing configs, by the ARN the model's TaggableResource allows. */
  #resource(resource: string, scope: Scope, forWrite: boolean, action: string): Taggable {
    const m = /^arn:aws[a-zA-Z-]*:lambda:([^:]+):(\d{12}):(event-source-mapping|code-signing-config):(.+)$/.exec(resource);
    if (!m) {
      const fn = this.#function(resource, scope, forWrite, action);
      return { read: () => ({ ...fn.tags }), write: (tags) => this.#write(fn, tags) };
    }
    const [, region, accountId, kind, id] = m as unknown as [string, string, string, string, string];
    if (region !== scope.region || accountId !== scope.accountId) {
      throw kind === 'event-source-mapping' ? esmNotFound(resource) : errors.notFound(`The Lambda code signing configuration ${resource} can not be found.`);
    }
    if (kind === 'code-signing-config') {
      const csc = this.#codeSigning;
      if (!csc) throw errors.invalidParameter(`Resource ${resource} is not a taggable resource in lambdalite yet.`);
      csc.tagsOf(resource, scope);
      return { read: () => csc.tagsOf(resource, scope), write: (tags) => csc.setTags(resource, scope, tags) };
    }
    const mapping = this.#store.getEventSourceMapping(id);
    if (!mapping || mapping.accountId !== scope.accountId || mapping.region !== scope.region) throw esmNotFound(resource);
    return {
      read: () => ({ ...(mapping.config['Tags'] as Record<string, string> | undefined) }),
      // Re-read at write time: the poller changes the mapping's state concurrently.
      write: (tags) => {
        const current = this.#store.getEventSourceMapping(id);
        if (current) this.#store.putEventSourceMapping({ ...current, config: { ...current.config, Tags: tags } });
      },
    };
  }

  /** The function a taggable resource ARN names; other resource kinds arrive with their issues. */
  #function(resource: string, scope: Scope, forWrite: boolean, action: string): StoredFunction {
    const ref = parseFunctionRef(resource);
    if (!ref || ref.region === undefined) {
      throw errors.invalidParameter(`Resource ${resource} is not a taggable resource in lambdalite yet.`);
    }
    if (forWrite && ref.qualifier !== undefined) {
      throw errors.invalidParameter('Tags on function aliases and versions are not supported. Please specify a function ARN.');
    }
    if (ref.region !== scope.region) throw errors.notFound(`Functions from '${ref.region}' are not reachable in this region ('${scope.region}')`);
    const owner = { accountId: ref.accountId ?? scope.accountId, region: ref.region };
    const fn = this.#store.getFunction({ ...owner, name: ref.name });
    if (!fn) throw functionNotFound(owner, ref.name);
    // Another account's function is taggable where its resource policy allows the action.
    if (owner.accountId !== scope.accountId && !policyAllows(this.#store, fn, undefined, scope.accountId, action)) {
      throw accessDenied(scope.accountId, action, functionArn(fn.region, fn.accountId, fn.name));
    }
    return fn;
  }

  #write(fn: StoredFunction, tags: Record<string, string>): void {
    this.#store.setTags(fn, tags);
    const c = fn.latest.config;
    this.#store.replaceLatest(fn, c.RevisionId ?? '', { ...fn.latest, config: { ...c, RevisionId: randomUUID() } });
  }

  tag(input: TagResourceRequest, scope: Scope): void {
    const r = this.#resource(input.Resource, scope, true, 'lambda:TagResource');
    if (Object.keys(input.Tags).length === 0) throw errors.invalidParameter('An error occurred and the request cannot be processed.');
    const merged = { ...r.read(), ...input.Tags };
    if (Object.keys(merged).length > MAX_TAGS) throw errors.invalidParameter('Number of tags exceeds resource tag limit.');
    r.write(merged);
  }

  untag(input: UntagResourceRequest, scope: Scope): void {
    const r = this.#resource(input.Resource, scope, true, 'lambda:UntagResource');
    if (input.TagKeys.length === 0) {
      // AWS reads an empty key list as a missing one.
      throw errors.validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
    }
    r.write(Object.fromEntries(Object.entries(r.read()).filter(([k]) => !input.TagKeys.includes(k))));
  }

  list(input: ListTagsRequest, scope: Scope): ListTagsResponse {
    return { Tags: this.#resource(input.Resource, scope, false, 'lambda:ListTags').read() };
  }
}

const esmNotFound = (arn: string) => errors.notFound(`Event source mapping not found: ${arn}`);

/** The tag limit checked at CreateFunction. */
export function checkTagCount(tags: Readonly<Record<string, string>> | undefined): void {
  if (tags && Object.keys(tags).length > MAX_TAGS) throw errors.invalidParameter('Number of tags exceeds resource tag limit.');
}
