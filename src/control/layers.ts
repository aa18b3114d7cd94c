// Layers: versioned, immutable code packages that functions mount at /opt. Layer versions are
// numbered per layer and never reused; a function keeps the layer code it was created with even after
// the layer version is deleted, as on AWS.
import { createHash } from 'node:crypto';
import type {
  AddLayerVersionPermissionRequest, AddLayerVersionPermissionResponse, DeleteLayerVersionRequest,
  GetLayerVersionByArnRequest, GetLayerVersionPolicyRequest, GetLayerVersionPolicyResponse, GetLayerVersionRequest,
  GetLayerVersionResponse, Layer, LayerVersionsListItem, ListLayerVersionsRequest, ListLayerVersionsResponse,
  ListLayersRequest, ListLayersResponse, PublishLayerVersionRequest, PublishLayerVersionResponse,
  RemoveLayerVersionPermissionRequest,
} from '../api/generated/types.js';
import { errors, LambdaError } from '../shared/errors.js';
import { awsTimestamp, type Clock } from '../shared/clock.js';
import type { Scope } from '../shared/arn.js';
import type { LayerKey, PolicyStatement, Store, StoredLayerVersion } from '../store/types.js';
import { limits as codeLimits, type CodeStore } from './code-store.js';
import type { S3Fetcher } from './s3-fetch.js';
import { duplicateStatement, statementNotFound } from './policies.js';

const LAYER_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)$/;
const LAYER_VERSION_ARN = /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/;

export interface LayerServiceDeps {
  readonly store: Store;
  readonly code: CodeStore;
  readonly s3: S3Fetcher;
  readonly clock: Clock;
  readonly codeUrl: (hash: string, baseUrl: string) => string;
  /** Refuses a publish that would take the account past its code storage limit. */
  readonly checkCodeStorage: (scope: Scope, extraBytes: number) => void;
}

export interface ResolvedLayers {
  readonly layers: Layer[];
  readonly hashes: string[];
  readonly unzippedSize: number;
}

export function layerArn(key: LayerKey): string {
  return `arn:aws:lambda:${key.region}:${key.accountId}:layer:${key.name}`;
}

/** A resource that does not exist, as AWS words it for layers. */
const missing = () => errors.notFound('The resource you requested does not exist.');

function checkVersionNumber(version: number): void {
  if (version < 1) throw errors.invalidParameter('Layer Version Cannot be less than 1');
}

/** A policy's RevisionId: derived from its statements, so it changes with every change. */
function policyRevision(statements: readonly PolicyStatement[]): string {
  const h = createHash('sha256').update(JSON.stringify(statements)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class LayerService {
  readonly #d: LayerServiceDeps;

  constructor(deps: LayerServiceDeps) {
    this.#d = deps;
  }

  /** LayerName is a name or a layer ARN of the caller's region. */
  #key(layerName: string, scope: Scope): LayerKey {
    const m = LAYER_ARN.exec(layerName);
    if (!m) return { accountId: scope.accountId, region: scope.region, name: layerName };
    if (m[1] !== scope.region) throw missing();
    return { accountId: m[2]!, region: m[1]!, name: m[3]! };
  }

  #present(key: LayerKey, v: StoredLayerVersion, baseUrl: string): GetLayerVersionResponse {
    return {
      Content: { Location: this.#d.codeUrl(v.codeHash, baseUrl), CodeSha256: v.codeSha256, CodeSize: v.codeSize },
      LayerArn: layerArn(key),
      LayerVersionArn: `${layerArn(key)}:${v.version}`,
      Description: v.description,
      CreatedDate: v.createdDate,
      Version: v.version,
      // Present exactly when given at publish, even empty, as AWS answers.
      ...(v.compatibleRuntimes ? { CompatibleRuntimes: [...v.compatibleRuntimes] as GetLayerVersionResponse['CompatibleRuntimes'] } : {}),
      ...(v.licenseInfo !== undefined ? { LicenseInfo: v.licenseInfo } : {}),
      ...(v.compatibleArchitectures ? { CompatibleArchitectures: [...v.compatibleArchitectures] as GetLayerVersionResponse['CompatibleArchitectures'] } : {}),
    };
  }

  #listItem(key: LayerKey, v: StoredLayerVersion): LayerVersionsListItem {
    const { Content: _c, LayerArn: _a, ...item } = this.#present(key, v, '');
    return item;
  }

  async publish(input: PublishLayerVersionRequest, scope: Scope & { baseUrl: string }): Promise<PublishLayerVersionResponse> {
    const key = this.#key(input.LayerName, scope);
    if (key.accountId !== scope.accountId) throw new LambdaError('AccessDeniedException', '', { status: 403 });
    const c = input.Content;
    let pkg;
    if (c.ZipFile !== undefined) pkg = await this.#d.code.put(c.ZipFile);
    else if (c.S3Bucket && c.S3Key) pkg = await this.#d.code.put(await this.#d.s3.fetch(scope.region, c.S3Bucket, c.S3Key, c.S3ObjectVersion), { fromS3: true });
    else throw errors.invalidParameter('Please provide a source for layer content.');
    this.#d.checkCodeStorage(scope, pkg.size);
    const v = this.#d.store.publishLayerVersion(key, (version) => ({
      version,
      codeHash: pkg.hash,
      description: input.Description ?? '',
      createdDate: awsTimestamp(this.#d.clock.now()),
      codeSha256: pkg.sha256,
      codeSize: pkg.size,
      unzippedSize: pkg.unzippedSize,
      ...(input.CompatibleRuntimes ? { compatibleRuntimes: input.CompatibleRuntimes } : {}),
      ...(input.CompatibleArchitectures ? { compatibleArchitectures: input.CompatibleArchitectures } : {}),
      ...(input.LicenseInfo !== undefined ? { licenseInfo: input.LicenseInfo } : {}),
    }));
    return this.#present(key, v, scope.baseUrl);
  }

  #load(key: LayerKey, version: number): StoredLayerVersion {
    checkVersionNumber(version);
    const v = this.#d.store.getLayerVersion(key, version);
    if (!v) throw missing();
    return v;
  }

  /** Policy operations word a missing layer version differently from Get. */
  #loadForPolicy(key: LayerKey, version: number): StoredLayerVersion {
    checkVersionNumber(version);
    const v = this.#d.store.getLayerVersion(key, version);
    if (!v) throw errors.notFound(`Layer version ${layerArn(key)}:${version} does not exist.`);
    return v;
  }

  get(input: GetLayerVersionRequest, scope: Scope & { baseUrl: string }): GetLayerVersionResponse {
    const key = this.#key(input.LayerName, scope);
    return this.#present(key, this.#readable(key, input.VersionNumber, scope), scope.baseUrl);
  }

  getByArn(input: GetLayerVersionByArnRequest, scope: Scope & { baseUrl: string }): GetLayerVersionResponse {
    const m = LAYER_VERSION_ARN.exec(input.Arn);
    if (!m || m[1] !== scope.region) throw missing();
    const key = { accountId: m[2]!, region: m[1]!, name: m[3]! };
    return this.#present(key, this.#readable(key, Number(m[4]), scope), scope.baseUrl);
  }

  /** A layer version the caller may use: its own, or one whose policy grants its account. */
  #readable(key: LayerKey, version: number, scope?: Scope): StoredLayerVersion {
    const v = this.#load(key, version);
    if (scope && key.accountId !== scope.accountId && !this.#grants(key, version, scope.accountId)) {
      throw new LambdaError('AccessDeniedException', `User: arn:aws:iam::${scope.accountId}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${layerArn(key)}:${version}`, { status: 403 });
    }
    return v;
  }

  #grants(key: LayerKey, version: number, accountId: string): boolean {
    const statements = this.#d.store.getLayerVersionPolicy(key, version) ?? [];
    return statements.some((s) => {
      const p = (s['Principal'] as { AWS?: string } | string | undefined);
      const principal = typeof p === 'string' ? p : p?.AWS;
      return principal === '*' || principal === accountId || principal === `arn:aws:iam::${accountId}:root`;
    });
  }

  list(input: ListLayersRequest, scope: Scope): ListLayersResponse {
    const limit = input.MaxItems ?? 50;
    const Layers: NonNullable<ListLayersResponse['Layers']> = [];
    let after = input.Marker !== undefined ? Buffer.from(input.Marker, 'base64url').toString('utf8') : undefined;
    // A layer is listed when one of its versions matches the filters; its newest matching one is shown.
    for (;;) {
      const page = this.#d.store.listLayerNames(scope.accountId, scope.region, after, limit);
      for (const name of page.items) {
        after = name;
        const key = { accountId: scope.accountId, region: scope.region, name };
        const latest = this.#matching(key, input.CompatibleRuntime, input.CompatibleArchitecture, 1)[0];
        if (latest) Layers.push({ LayerName: name, LayerArn: layerArn(key), LatestMatchingVersion: this.#listItem(key, latest) });
        if (Layers.length === limit) {
          const more = this.#d.store.listLayerNames(scope.accountId, scope.region, after, 1).items.length > 0;
          return { Layers, ...(more ? { NextMarker: Buffer.from(after).toString('base64url') } : {}) };
        }
      }
      if (!page.nextMarker) return { Layers };
    }
  }

  #matching(key: LayerKey, runtime: string | undefined, arch: string | undefined, limit: number, before?: number): StoredLayerVersion[] {
    const out: StoredLayerVersion[] = [];
    let cursor = before;
    for (;;) {
      const page = this.#d.store.listLayerVersions(key, cursor, 100);
      for (const v of page.items) {
        cursor = v.version;
        if (runtime !== undefined && !v.compatibleRuntimes?.includes(runtime)) continue;
        if (arch !== undefined && !v.compatibleArchitectures?.includes(arch)) continue;
        out.push(v);
        if (out.length === limit) return out;
      }
      if (!page.nextMarker) return out;
    }
  }

  listVersions(input: ListLayerVersionsRequest, scope: Scope): ListLayerVersionsResponse {
    const key = this.#key(input.LayerName, scope);
    const limit = input.MaxItems ?? 50;
    const before = input.Marker !== undefined ? Number(Buffer.from(input.Marker, 'base64url').toString('utf8')) : undefined;
    if (before !== undefined && !Number.isInteger(before)) throw errors.invalidParameter(`Invalid marker: ${input.Marker}`);
    const items = this.#matching(key, input.CompatibleRuntime, input.CompatibleArchitecture, limit + 1, before);
    const page = items.slice(0, limit);
    return {
      LayerVersions: page.map((v) => this.#listItem(key, v)),
      ...(items.length > limit ? { NextMarker: Buffer.from(String(page[page.length - 1]!.version)).toString('base64url') } : {}),
    };
  }

  /** Idempotent, as AWS: deleting a version that does not exist succeeds. */
  delete(input: DeleteLayerVersionRequest, scope: Scope): void {
    checkVersionNumber(input.VersionNumber);
    const key = this.#key(input.LayerName, scope);
    this.#d.store.deleteLayerVersion(key, input.VersionNumber);
  }

  /** The statements of a layer version's policy, after AWS's checks for a change to it. */
  #policyFor(input: { LayerName: string; VersionNumber: number; RevisionId?: string }, scope: Scope): { key: LayerKey; statements: PolicyStatement[] } {
    const key = this.#key(input.LayerName, scope);
    this.#loadForPolicy(key, input.VersionNumber);
    const statements = this.#d.store.getLayerVersionPolicy(key, input.VersionNumber) ?? [];
    if (input.RevisionId !== undefined && input.RevisionId !== policyRevision(statements)) {
      throw errors.preconditionFailed('The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id');
    }
    return { key, statements };
  }

  addPermission(input: AddLayerVersionPermissionRequest, scope: Scope): AddLayerVersionPermissionResponse {
    const { key, statements } = this.#policyFor(input, scope);
    if (statements.some((s) => s.Sid === input.StatementId)) {
      throw duplicateStatement(input.StatementId);
    }
    const principal = /^\d{12}$/.test(input.Principal) ? `arn:aws:iam::${input.Principal}:root` : input.Principal;
    const statement: PolicyStatement = {
      Sid: input.StatementId,
      Effect: 'Allow',
      Principal: principal === '*' ? '*' : { AWS: principal },
      Action: input.Action,
      Resource: `${layerArn(key)}:${input.VersionNumber}`,
      ...(input.OrganizationId ? { Condition: { StringEquals: { 'aws:PrincipalOrgID': input.OrganizationId } } } : {}),
    };
    const next = [...statements, statement];
    this.#d.store.putLayerVersionPolicy(key, input.VersionNumber, next);
    return { Statement: JSON.stringify(statement), RevisionId: policyRevision(next) };
  }

  removePermission(input: RemoveLayerVersionPermissionRequest, scope: Scope): void {
    const { key, statements } = this.#policyFor(input, scope);
    if (!statements.some((s) => s.Sid === input.StatementId)) {
      throw statementNotFound(input.StatementId);
    }
    this.#d.store.putLayerVersionPolicy(key, input.VersionNumber, statements.filter((s) => s.Sid !== input.StatementId));
  }

  getPolicy(input: GetLayerVersionPolicyRequest, scope: Scope): GetLayerVersionPolicyResponse {
    const key = this.#key(input.LayerName, scope);
    this.#loadForPolicy(key, input.VersionNumber);
    const statements = this.#d.store.getLayerVersionPolicy(key, input.VersionNumber) ?? [];
    if (statements.length === 0) throw errors.notFound('No policy is associated with the given resource.');
    return { Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements }), RevisionId: policyRevision(statements) };
  }

  /**
   * Resolves a function's Layers list with AWS's rules: at most 5, all in the caller's region, one
   * version per layer, each existing and usable by the caller; with the function's own code they must
   * stay under the unzipped limit.
   */
  resolveForFunction(arns: readonly string[], scope: Scope, functionUnzipped: number): ResolvedLayers {
    if (arns.length > 5) throw errors.invalidParameter('Cannot reference more than 5 layers.');
    const layers: Layer[] = [];
    const hashes: string[] = [];
    const seen = new Map<string, string>();
    let unzippedSize = functionUnzipped;
    for (const arn of arns) {
      const m = LAYER_VERSION_ARN.exec(arn);
      if (!m) throw errors.invalidParameter(`Layer version ${arn} does not exist.`);
      const key = { accountId: m[2]!, region: m[1]!, name: m[3]! };
      if (key.region !== scope.region) {
        throw errors.invalidParameter(`Layers are not in the same region as the function. Layers are expected to be in region ${scope.region}.`);
      }
      const layer = layerArn(key);
      const other = seen.get(layer);
      if (other !== undefined) {
        throw errors.invalidParameter(`Two different versions of the same layer are not allowed to be referenced in the same function. ${other} and ${arn} are versions of the same layer.`);
      }
      seen.set(layer, arn);
      const v = this.#d.store.getLayerVersion(key, Number(m[4]));
      if (!v || (key.accountId !== scope.accountId && !this.#grants(key, v.version, scope.accountId))) {
        throw errors.invalidParameter(`Layer version ${arn} does not exist.`);
      }
      unzippedSize += v.unzippedSize;
      layers.push({ Arn: arn, CodeSize: v.codeSize });
      hashes.push(v.codeHash);
    }
    if (unzippedSize > codeLimits.unzipped) {
      throw errors.invalidParameter(`Function code combined with layers exceeds the maximum allowed size of ${codeLimits.unzipped} bytes. The actual size is ${unzippedSize} bytes.`);
    }
    return { layers, hashes, unzippedSize };
  }
}
