// Recursive loop detection as AWS Lambda does it (in shared/: the engine, the queue, the pollers, the X-Ray
// daemon and the control plane all read it): every invocation's X-Ray trace header carries a
// Lineage field counting how many times each function has run in the chain of requests that led to it.
// The SDKs inside a function forward _X_AMZN_TRACE_ID as X-Amzn-Trace-Id (Invoke) or the
// AWSTraceHeader system attribute (SQS), so the count survives Lambda -> Lambda and
// Lambda -> SQS -> Lambda. A function set to Terminate (AWS's default) is not invoked a 17th time in
// one chain.
//
// AWS documents the field's purpose, not its syntax. We write `Lineage=1:<hash>:<count>` (the shape
// Lambda hands functions today: a version, an 8-hex hash, a count that is 0 on the first invocation)
// and, when a chain passes through several functions, further `|<hash>:<count>` entries (the
// X-Ray documentation's example). Both shapes, with or without the version, are read back.
import { createHash, randomBytes } from 'node:crypto';
import type { TRecursiveLoop } from '../api/generated/types.js';
import { LambdaError } from './errors.js';
import type { FunctionKey, Store } from '../store/types.js';

/** AWS stops a chain that would invoke the same function more than 16 times. */
export const RECURSION_LIMIT = 16;

/** Store document kind of Put/GetFunctionRecursionConfig's setting. */
export const RECURSION_KIND = 'function-recursion';

/** A hostile header cannot make us keep more than this many entries. */
const MAX_ENTRIES = 32;

/** AWS's default is Terminate: recursive loops are stopped unless a function allows them. */
export function recursiveLoopOf(store: Store, fn: FunctionKey): TRecursiveLoop {
  const stored = store.getDocument({ kind: RECURSION_KIND, accountId: fn.accountId, region: fn.region, id: fn.name });
  return stored === 'Allow' ? 'Allow' : 'Terminate';
}

function lineageHash(functionArn: string): string {
  return createHash('sha256').update(functionArn).digest('hex').slice(0, 8);
}

/** hash -> invocations before this one, from a trace header's Lineage field. */
function parseLineage(header: string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  const field = lineageField(header);
  if (field === undefined) return counts;
  for (const entry of field.split('|').slice(0, MAX_ENTRIES)) {
    const m = entry.trim().match(/^(?:\d{1,3}:)?([0-9a-f]{8}):(\d{1,6})$/);
    if (m) counts.set(m[1]!, Math.max(counts.get(m[1]!) ?? 0, Number(m[2])));
  }
  return counts;
}

function formatLineage(counts: ReadonlyMap<string, number>): string {
  return `1:${[...counts].map(([h, n]) => `${h}:${n}`).join('|')}`;
}

function newRoot(nowMs: number): string {
  return `1-${Math.floor(nowMs / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}

/**
 * The trace header of an invocation of `functionArn` caused by a request that carried `upstream`
 * (X-Amzn-Trace-Id of an Invoke, an SQS message's AWSTraceHeader, an async event's): the caller's
 * root and sampling decision are kept, and the function's count in the lineage goes up by one.
 */
export function invocationTraceHeader(upstream: string | undefined, functionArn: string, nowMs: number): string {
  const root = upstream?.match(/(?:^|;)\s*Root=(1-[0-9a-f]{8}-[0-9a-f]{24})(?:;|$)/)?.[1] ?? newRoot(nowMs);
  const sampled = upstream?.match(/(?:^|;)\s*Sampled=([01])(?:;|$)/)?.[1] ?? '0';
  const counts = parseLineage(upstream);
  const hash = lineageHash(functionArn);
  const previous = counts.get(hash);
  const count = previous === undefined ? 0 : previous + 1;
  // This function's entry first, so that it survives MAX_ENTRIES downstream.
  const ordered = new Map([[hash, count], ...[...counts].filter(([h]) => h !== hash).slice(0, MAX_ENTRIES - 1)]);
  return `Root=${root};Parent=${randomBytes(8).toString('hex')};Sampled=${sampled};Lineage=${formatLineage(ordered)}`;
}

/** The Lineage field of a header, for headers built elsewhere (the X-Ray daemon's sampled ones). */
export function lineageField(header: string | undefined): string | undefined {
  return header?.match(/(?:^|;)\s*Lineage=([^;]{1,600})/)?.[1];
}

/** True when this invocation of `functionArn` would be its 17th (or later) in the chain. */
export function isRecursiveLoop(traceHeader: string | undefined, functionArn: string): boolean {
  return (parseLineage(traceHeader).get(lineageHash(functionArn)) ?? 0) >= RECURSION_LIMIT;
}

/**
 * The model's RecursiveInvocationException (400). AWS's message is not recorded; this is the model's
 * own description of the error.
 */
export function recursiveInvocation(): LambdaError {
  return new LambdaError('RecursiveInvocationException', {});
}
