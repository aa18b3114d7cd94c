// Who is calling and where: the account and region come from the SigV4 credential scope of the request,
// as AWS derives them. An access key id of 12 digits names its own account (so tests can act as a second
// account); any other key acts as the default account. Signatures are not verified yet.
import type { IncomingHttpHeaders } from 'node:http';

export interface Identity {
  readonly accountId: string;
  readonly region: string;
  readonly accessKeyId: string | undefined;
}

export interface IdentityDefaults {
  readonly accountId: string;
  readonly region: string;
}

/** The parts of an `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...` header. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Parses the SigV4 Authorization header per the SigV4 spec's grammar (comma-separated key=value
 * components after the algorithm). Returns undefined for anything else.
 */
export function parseSigV4Authorization(value: string | undefined): SigV4Authorization | undefined {
  if (!value || !value.startsWith(`${ALGORITHM} `)) return undefined;
  const parts = new Map<string, string>();
  for (const component of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = component.indexOf('=');
    if (eq < 0) return undefined;
    parts.set(component.slice(0, eq).trim(), component.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential')?.split('/');
  if (!credential || credential.length !== 5 || credential[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: (parts.get('SignedHeaders') ?? '').split(';').filter(Boolean),
    signature: parts.get('Signature') ?? '',
  };
}

export function identify(headers: IncomingHttpHeaders, query: URLSearchParams, defaults: IdentityDefaults): Identity {
  let auth = parseSigV4Authorization(headers.authorization);
  if (!auth) {
    // Presigned URLs carry the same credential scope in the query string.
    const credential = query.get('X-Amz-Credential');
    if (credential) auth = parseSigV4Authorization(`${ALGORITHM} Credential=${credential}, SignedHeaders=host, Signature=`);
  }
  const accessKeyId = auth?.accessKeyId;
  return {
    accessKeyId,
    accountId: accessKeyId && /^\d{12}$/.test(accessKeyId) ? accessKeyId : defaults.accountId,
    region: auth?.region || defaults.region,
  };
}
