// Resource policies of functions: one policy per qualifier (the unqualified function, each version,
// each alias), statements rendered as AWS renders them, and the check that lets another account
// invoke a function only when a statement allows it.
import { randomUUID } from 'node:crypto';
import type { AddPermissionRequest, AddPermissionResponse, GetPolicyRequest, GetPolicyResponse, RemovePermissionRequest } from '../api/generated/types.js';
import { errors, LambdaError } from '../shared/errors.js';
import { functionArn, resolveFunctionName, type Scope } from '../shared/arn.js';
import type { FunctionKey, PolicyStatement, Store, StoredFunction } from '../store/types.js';
import { functionNotFound, isAliasName, isVersionNumber } from './resolve.js';

/** AWS's errors for statements, shared by function and layer version policies. */
export const duplicateStatement = (sid: string) =>
  errors.conflict(`The statement id (${sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`);
/** A policy's RevisionId precondition failed: AWS points at GetPolicy, not GetFunction. */
const policyRevisionMismatch = () =>
  errors.preconditionFailed('The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id');
export const statementNotFound = (sid: string) => errors.notFound(`Statement ${sid} is not found in resource policy.`);

/** A principal AWS accepts: `*`, an account id, an IAM ARN, or a service principal. */
function renderPrincipal(principal: string): PolicyStatement['Principal'] {
  if (principal === '*') return '*';
  if (/^\d{12}$/.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (/^arn:aws[a-zA-Z-]*:iam::\d{12}:[^\s]+$/.test(principal)) return { AWS: principal };
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*\.(amazonaws\.com|amazon\.com)$/.test(principal)) return { Service: principal };
  throw errors.invalidParameter('The provided principal was invalid. Please check the principal and try again.');
}

/** Where a policy lives: the function's RevisionId (or the alias's) moves with every policy change. */
interface Target {
  readonly fn: StoredFunction;
  /** '' for the unqualified function. */
  readonly qualifier: string;
  revision(): string | undefined;
  bump(): void;
}

export class PolicyService {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  #target(fn: StoredFunction, qualifier: string | undefined, onMissing: (q: string) => LambdaError): Target {
    const store = this.#store;
    const q = qualifier ?? '';
    if (q === '') {
      return {
        fn, qualifier: q,
        revision: () => store.getFunction(fn)?.latest.config.RevisionId,
        bump: () => {
          const cur = store.getFunction(fn);
          if (cur) store.replaceLatest(fn, cur.latest.config.RevisionId ?? '', { ...cur.latest, config: { ...cur.latest.config, RevisionId: randomUUID() } });
        },
      };
    }
    if (isVersionNumber(q)) {
      if (!store.getVersion(fn, q)) throw onMissing(q);
      return {
        fn, qualifier: q,
        revision: () => store.getVersion(fn, q)?.config.RevisionId,
        bump: () => {
          const cur = store.getVersion(fn, q);
          if (cur) store.replaceVersion(fn, cur.config.RevisionId ?? '', { ...cur, config: { ...cur.config, RevisionId: randomUUID() } });
        },
      };
    }
    if (!store.getAlias(fn, q)) throw onMissing(q);
    return {
      fn, qualifier: q,
      revision: () => store.getAlias(fn, q)?.revisionId,
      bump: () => {
        const cur = store.getAlias(fn, q);
        if (cur) store.putAlias(fn, { ...cur, revisionId: randomUUID() }, cur.revisionId);
      },
    };
  }

  #missingQualifier(fn: FunctionKey) {
    // Only a qualifier shaped like an alias name is looked for as an alias; anything else as a version.
    return (q: string) => (isAliasName(q)
      ? errors.notFound(`Cannot find alias arn: ${functionArn(fn.region, fn.accountId, fn.name, q)}`)
      : functionNotFound(fn, fn.name, q));
  }

  add(input: AddPermissionRequest, scope: Scope): AddPermissionResponse {
    const ref = resolveFunctionName(input.FunctionName, scope, input.Qualifier);
    if (ref.qualifier === '$LATEST') throw errors.invalidParameter('We currently do not support adding policies for $LATEST.');
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    const fn = this.#store.getFunction(key);
    if (!fn) throw functionNotFound(scope, ref.name);
    const target = this.#target(fn, ref.qualifier, this.#missingQualifier(key));
    if (input.RevisionId !== undefined && input.RevisionId !== target.revision()) throw policyRevisionMismatch();
    const principal = renderPrincipal(input.Principal);
    const current = this.#store.getPolicy(key, target.qualifier);
    if (current?.statements.some((s) => s.Sid === input.StatementId)) {
      throw duplicateStatement(input.StatementId);
    }
    const stringEquals: Record<string, string> = {};
    if (input.FunctionUrlAuthType !== undefined) stringEquals['lambda:FunctionUrlAuthType'] = input.FunctionUrlAuthType;
    if (input.PrincipalOrgID !== undefined) stringEquals['aws:PrincipalOrgID'] = input.PrincipalOrgID;
    if (input.SourceAccount !== undefined) stringEquals['AWS:SourceAccount'] = input.SourceAccount;
    if (input.EventSourceToken !== undefined) stringEquals['lambda:EventSourceToken'] = input.EventSourceToken;
    const condition: Record<string, Record<string, string>> = {};
    if (Object.keys(stringEquals).length) condition['StringEquals'] = stringEquals;
    if (input.SourceArn !== undefined) condition['ArnLike'] = { 'AWS:SourceArn': input.SourceArn };
    const statement: PolicyStatement = {
      Sid: input.StatementId,
      Effect: 'Allow',
      Principal: principal,
      Action: input.Action,
      Resource: functionArn(scope.region, scope.accountId, ref.name, target.qualifier || undefined),
      ...(Object.keys(condition).length ? { Condition: condition } : {}),
    };
    const statements = [...(current?.statements ?? []), statement];
    target.bump();
    this.#store.putPolicy(key, target.qualifier, { revisionId: target.revision() ?? '', statements }, current ? current.revisionId : null);
    return { Statement: JSON.stringify(statement) };
  }

  get(input: GetPolicyRequest, scope: Scope): GetPolicyResponse {
    const ref = resolveFunctionName(input.FunctionName, scope, input.Qualifier);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    const nothing = () => errors.notFound('The resource you requested does not exist.');
    const fn = this.#store.getFunction(key);
    if (!fn) throw nothing();
    const target = this.#target(fn, ref.qualifier === '$LATEST' ? undefined : ref.qualifier, nothing);
    const policy = this.#store.getPolicy(key, target.qualifier);
    if (!policy || policy.statements.length === 0) throw nothing();
    return {
      Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: policy.statements }),
      RevisionId: target.revision() ?? '',
    };
  }

  remove(input: RemovePermissionRequest, scope: Scope): void {
    const ref = resolveFunctionName(input.FunctionName, scope, input.Qualifier);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    const fn = this.#store.getFunction(key);
    if (!fn) throw errors.notFound(`No policy found for: ${functionArn(scope.region, scope.accountId, ref.name)}`);
    const target = this.#target(fn, ref.qualifier === '$LATEST' ? undefined : ref.qualifier, this.#missingQualifier(key));
    if (input.RevisionId !== undefined && input.RevisionId !== target.revision()) throw policyRevisionMismatch();
    const policy = this.#store.getPolicy(key, target.qualifier);
    if (!policy || policy.statements.length === 0) throw errors.notFound('No policy is associated with the given resource.');
    if (!policy.statements.some((s) => s.Sid === input.StatementId)) {
      throw statementNotFound(input.StatementId);
    }
    const statements = policy.statements.filter((s) => s.Sid !== input.StatementId);
    target.bump();
    if (statements.length === 0) this.#store.deletePolicy(key, target.qualifier);
    else this.#store.putPolicy(key, target.qualifier, { revisionId: target.revision() ?? '', statements }, policy.revisionId);
  }
}
