// Code signing configs (which signing profiles a function trusts, and what happens to untrusted code),
// their binding to functions, and the check of a deployment package against them.
//
// A signed package follows AWS Signer's platform AWSLambda-SHA384-ECDSA where it can be followed: an
// ECDSA P-384 signature over SHA-384 of the package. AWS Signer's own envelope is not published, so
// lambdalite carries the signature in the zip's end-of-central-directory comment:
//
//   lambdalite-signature/1 <signing profile version ARN> <signing job ARN> <base64 DER signature>
//
// signed over the same zip with an empty comment (scripts/sign-package.mjs writes it). The public key of
// each trusted profile version comes from the --signing-profiles file.
import { createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type {
  CodeSigningConfig, CreateCodeSigningConfigRequest, CreateCodeSigningConfigResponse, DeleteCodeSigningConfigRequest,
  DeleteFunctionCodeSigningConfigRequest, GetCodeSigningConfigRequest, GetCodeSigningConfigResponse,
  GetFunctionCodeSigningConfigRequest, GetFunctionCodeSigningConfigResponse, ListCodeSigningConfigsRequest,
  ListCodeSigningConfigsResponse, ListFunctionsByCodeSigningConfigRequest, ListFunctionsByCodeSigningConfigResponse,
  PutFunctionCodeSigningConfigRequest, PutFunctionCodeSigningConfigResponse, UpdateCodeSigningConfigRequest,
  UpdateCodeSigningConfigResponse,
} from '../api/generated/types.js';
import { errors, LambdaError } from '../shared/errors.js';
import { functionArn, resolveFunctionName, type Scope } from '../shared/arn.js';
import { awsTimestamp, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { FunctionKey, Store } from '../store/types.js';
import { functionNotFound } from './resolve.js';
import { pageOf } from './paging.js';

const CSC_KIND = 'code-signing-config';
const BINDING_KIND = 'function-code-signing';
const SIGNATURE_PREFIX = 'lambdalite-signature/1 ';

interface StoredCsc {
  readonly config: CodeSigningConfig;
  readonly tags: Record<string, string>;
}

/** What a verified package was signed with: FunctionConfiguration's SigningProfileVersionArn and SigningJobArn. */
export interface SignatureInfo {
  readonly SigningProfileVersionArn: string;
  readonly SigningJobArn: string;
}

export function codeSigningConfigArn(scope: Scope, id: string): string {
  return `arn:aws:lambda:${scope.region}:${scope.accountId}:code-signing-config:${id}`;
}

/** AWS answers a missing config on its own operations with an untyped ResourceNotFoundException. */
const cscNotFound = (arn: string) =>
  new LambdaError('ResourceNotFoundException', `The Lambda code signing configuration ${arn} can not be found.`, { status: 404, untyped: true });

/** ... and with CodeSigningConfigNotFoundException where a function refers to it. */
const cscNotFoundForFunction = (arn: string) =>
  new LambdaError('CodeSigningConfigNotFoundException', `The code signing configuration cannot be found. Check that the provided configuration is not deleted: ${arn}.`, { status: 404 });

/** The signature a package carries, and the bytes it was made over. */
interface Embedded {
  readonly profileVersionArn: string;
  readonly jobArn: string;
  readonly signature: Buffer;
  readonly signed: Buffer;
}

/**
 * Reads the signature from the zip's end-of-central-directory comment. undefined: the package carries
 * none; 'malformed': it carries something that is not a well-formed signature.
 */
export function embeddedSignature(zip: Buffer): Embedded | 'malformed' | undefined {
  // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, at the end of the file.
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) !== 0x06054b50) continue;
    const commentLength = zip.readUInt16LE(i + 20);
    if (i + 22 + commentLength !== zip.length) continue;
    const comment = zip.subarray(i + 22).toString('utf8');
    if (!comment.startsWith(SIGNATURE_PREFIX)) return undefined;
    const parts = comment.slice(SIGNATURE_PREFIX.length).split(' ');
    if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return 'malformed';
    const signed = Buffer.concat([zip.subarray(0, i + 20), Buffer.from([0, 0])]);
    return { profileVersionArn: parts[0], jobArn: parts[1], signature: Buffer.from(parts[2], 'base64'), signed };
  }
  return undefined;
}

/**
 * Signs a package in lambdalite's format (scripts/sign-package.mjs): any comment the zip had is replaced
 * by the signature line. `privateKey` is an EC P-384 key, as AWS Signer's AWSLambda-SHA384-ECDSA uses.
 */
export function signPackage(zip: Buffer, privateKey: Parameters<typeof sign>[2], profileVersionArn: string, jobArn: string): Buffer {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50 && i + 22 + zip.readUInt16LE(i + 20) === zip.length) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory record');
  const unsigned = Buffer.concat([zip.subarray(0, eocd + 20), Buffer.from([0, 0])]);
  const signature = sign('sha384', unsigned, privateKey).toString('base64');
  const comment = Buffer.from(`${SIGNATURE_PREFIX}${profileVersionArn} ${jobArn} ${signature}`);
  const length = Buffer.alloc(2);
  length.writeUInt16LE(comment.length);
  return Buffer.concat([zip.subarray(0, eocd + 20), length, comment]);
}

export interface CodeSigningDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The --signing-profiles file, when configured. */
  readonly profilesFile: string | undefined;
}

export class CodeSigningService {
  readonly #d: CodeSigningDeps;
  #trusted: Map<string, KeyObject> | undefined;

  constructor(deps: CodeSigningDeps) {
    this.#d = deps;
  }

  /** Profile version ARN -> public key, read once from the --signing-profiles file. */
  #keys(): Map<string, KeyObject> {
    if (!this.#trusted) {
      this.#trusted = new Map();
      if (this.#d.profilesFile) {
        const entries = JSON.parse(readFileSync(this.#d.profilesFile, 'utf8')) as Record<string, string>;
        for (const [arn, pem] of Object.entries(entries)) this.#trusted.set(arn, createPublicKey(pem));
      }
    }
    return this.#trusted;
  }

  #load(arn: string, scope: Scope, notFound: (arn: string) => LambdaError): StoredCsc {
    const id = /:code-signing-config:(csc-[a-z0-9]{17})$/.exec(arn)?.[1];
    const owned = arn === (id && codeSigningConfigArn(scope, id));
    const stored = owned && id ? this.#d.store.getDocument({ kind: CSC_KIND, accountId: scope.accountId, region: scope.region, id }) as StoredCsc | undefined : undefined;
    if (!stored) throw notFound(arn);
    return stored;
  }

  #save(scope: Scope, stored: StoredCsc): void {
    this.#d.store.putDocument({ kind: CSC_KIND, accountId: scope.accountId, region: scope.region, id: stored.config.CodeSigningConfigId }, stored);
  }

  create(input: CreateCodeSigningConfigRequest, scope: Scope): CreateCodeSigningConfigResponse {
    const id = `csc-${[...randomBytes(17)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('')}`;
    const config: CodeSigningConfig = {
      CodeSigningConfigId: id,
      CodeSigningConfigArn: codeSigningConfigArn(scope, id),
      Description: input.Description ?? '',
      AllowedPublishers: { SigningProfileVersionArns: [...input.AllowedPublishers.SigningProfileVersionArns] },
      CodeSigningPolicies: { UntrustedArtifactOnDeployment: input.CodeSigningPolicies?.UntrustedArtifactOnDeployment ?? 'Warn' },
      LastModified: awsTimestamp(this.#d.clock.now()),
    };
    this.#save(scope, { config, tags: { ...input.Tags } });
    return { CodeSigningConfig: config };
  }

  get(input: GetCodeSigningConfigRequest, scope: Scope): GetCodeSigningConfigResponse {
    return { CodeSigningConfig: this.#load(input.CodeSigningConfigArn, scope, cscNotFound).config };
  }

  update(input: UpdateCodeSigningConfigRequest, scope: Scope): UpdateCodeSigningConfigResponse {
    const stored = this.#load(input.CodeSigningConfigArn, scope, cscNotFound);
    const changed = input.Description !== undefined || input.AllowedPublishers !== undefined || input.CodeSigningPolicies !== undefined;
    if (!changed) return { CodeSigningConfig: stored.config };
    const config: CodeSigningConfig = {
      ...stored.config,
      ...(input.Description !== undefined ? { Description: input.Description } : {}),
      ...(input.AllowedPublishers !== undefined ? { AllowedPublishers: { SigningProfileVersionArns: [...input.AllowedPublishers.SigningProfileVersionArns] } } : {}),
      ...(input.CodeSigningPolicies?.UntrustedArtifactOnDeployment !== undefined ? { CodeSigningPolicies: { UntrustedArtifactOnDeployment: input.CodeSigningPolicies.UntrustedArtifactOnDeployment } } : {}),
      LastModified: awsTimestamp(this.#d.clock.now()),
    };
    this.#save(scope, { ...stored, config });
    return { CodeSigningConfig: config };
  }

  delete(input: DeleteCodeSigningConfigRequest, scope: Scope): void {
    const stored = this.#load(input.CodeSigningConfigArn, scope, cscNotFound);
    if (this.#boundFunctions(scope, stored.config.CodeSigningConfigArn).length) {
      // AWS's wording for a config still in use is not recorded; this states the documented rule.
      throw errors.conflict(`The code signing configuration ${stored.config.CodeSigningConfigArn} cannot be deleted because it is used by one or more functions.`);
    }
    this.#d.store.deleteDocument({ kind: CSC_KIND, accountId: scope.accountId, region: scope.region, id: stored.config.CodeSigningConfigId });
  }

  list(input: ListCodeSigningConfigsRequest, scope: Scope): ListCodeSigningConfigsResponse {
    const all = this.#d.store.listDocuments(CSC_KIND, scope.accountId, scope.region).map((d) => (d.body as StoredCsc).config);
    const page = pageOf(all, input.Marker, input.MaxItems ?? 50, (c) => c.CodeSigningConfigId);
    return { CodeSigningConfigs: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  }

  #boundFunctions(scope: Scope, arn: string): string[] {
    return this.#d.store.listDocuments(BINDING_KIND, scope.accountId, scope.region)
      .filter((d) => d.body === arn)
      .map((d) => functionArn(scope.region, scope.accountId, d.id));
  }

  listFunctions(input: ListFunctionsByCodeSigningConfigRequest, scope: Scope): ListFunctionsByCodeSigningConfigResponse {
    const stored = this.#load(input.CodeSigningConfigArn, scope, cscNotFound);
    const page = pageOf(this.#boundFunctions(scope, stored.config.CodeSigningConfigArn), input.Marker, input.MaxItems ?? 50, (a) => a);
    return { FunctionArns: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  }

  #function(name: string, scope: Scope): FunctionKey {
    const ref = resolveFunctionName(name, scope);
    const key = { accountId: scope.accountId, region: scope.region, name: ref.name };
    if (!this.#d.store.getFunction(key)) throw functionNotFound(scope, ref.name);
    return key;
  }

  /** Binds a config to a function; checks the config exists first, as AWS does. */
  bind(fn: FunctionKey, arn: string): void {
    this.#d.store.putDocument({ kind: BINDING_KIND, accountId: fn.accountId, region: fn.region, id: fn.name }, arn, fn.name);
  }

  /** The config a function's deployments are checked against, if any. */
  configOf(fn: FunctionKey): CodeSigningConfig | undefined {
    const arn = this.#d.store.getDocument({ kind: BINDING_KIND, accountId: fn.accountId, region: fn.region, id: fn.name }) as string | undefined;
    if (!arn) return undefined;
    const stored = this.#d.store.getDocument({ kind: CSC_KIND, accountId: fn.accountId, region: fn.region, id: arn.slice(arn.lastIndexOf(':') + 1) }) as StoredCsc | undefined;
    return stored?.config;
  }

  /** The config CreateFunction names, with the error AWS gives when it does not exist. */
  configForCreate(arn: string, scope: Scope): CodeSigningConfig {
    return this.#load(arn, scope, cscNotFoundForFunction).config;
  }

  putForFunction(input: PutFunctionCodeSigningConfigRequest, scope: Scope): PutFunctionCodeSigningConfigResponse {
    const csc = this.#load(input.CodeSigningConfigArn, scope, cscNotFoundForFunction);
    const fn = this.#function(input.FunctionName, scope);
    this.bind(fn, csc.config.CodeSigningConfigArn);
    return { CodeSigningConfigArn: csc.config.CodeSigningConfigArn, FunctionName: fn.name };
  }

  /** A function without a config answers 200 with an empty body, as AWS does. */
  getForFunction(input: GetFunctionCodeSigningConfigRequest, scope: Scope): GetFunctionCodeSigningConfigResponse | Record<string, never> {
    const fn = this.#function(input.FunctionName, scope);
    const arn = this.#d.store.getDocument({ kind: BINDING_KIND, accountId: fn.accountId, region: fn.region, id: fn.name }) as string | undefined;
    return arn ? { CodeSigningConfigArn: arn, FunctionName: fn.name } : {};
  }

  deleteForFunction(input: DeleteFunctionCodeSigningConfigRequest, scope: Scope): void {
    const fn = this.#function(input.FunctionName, scope);
    this.#d.store.deleteDocument({ kind: BINDING_KIND, accountId: fn.accountId, region: fn.region, id: fn.name });
  }

  /** Tags of a code signing config (TagResource, UntagResource, ListTags). */
  tagsOf(arn: string, scope: Scope): Record<string, string> {
    return { ...this.#load(arn, scope, cscNotFound).tags };
  }

  setTags(arn: string, scope: Scope, tags: Record<string, string>): void {
    const stored = this.#load(arn, scope, cscNotFound);
    this.#save(scope, { ...stored, tags });
  }

  /**
   * Checks a package against a config before it is deployed. A signature that does not match the package
   * fails the integrity check whatever the policy (InvalidCodeSignatureException); a package that is not
   * signed by an allowed, known publisher is refused under Enforce (CodeVerificationFailedException) and
   * deployed with a warning under Warn.
   */
  verify(zip: Buffer, csc: CodeSigningConfig, functionName: string): SignatureInfo | undefined {
    const embedded = embeddedSignature(zip);
    if (embedded === 'malformed') throw invalidSignature();
    const key = embedded ? this.#keys().get(embedded.profileVersionArn) : undefined;
    if (embedded && key) {
      if (!verify('sha384', embedded.signed, key, embedded.signature)) throw invalidSignature();
    }
    const allowed = embedded !== undefined && key !== undefined && csc.AllowedPublishers.SigningProfileVersionArns.includes(embedded.profileVersionArn);
    if (allowed) return { SigningProfileVersionArn: embedded.profileVersionArn, SigningJobArn: embedded.jobArn };
    if (csc.CodeSigningPolicies.UntrustedArtifactOnDeployment === 'Enforce') {
      throw new LambdaError('CodeVerificationFailedException', `Lambda cannot deploy the function. The function or layer might be signed using a signature that the client is not configured to accept. Check the provided signature for ${functionName}.`, { status: 400 });
    }
    this.#d.logger.warn(`code signing: deploying ${functionName} with a package not signed by a publisher ${csc.CodeSigningConfigArn} allows (UntrustedArtifactOnDeployment: Warn)`);
    return undefined;
  }
}

/** The documented meaning of InvalidCodeSignatureException; AWS's exact text is not recorded. */
const invalidSignature = () =>
  new LambdaError('InvalidCodeSignatureException', 'The code signature failed the integrity check. Lambda blocks deployment of code that fails the integrity check, even if the code signing policy is set to WARN.', { status: 400 });
