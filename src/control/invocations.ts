// The Invoke and InvokeAsync operations: check the payload as AWS does, resolve the function and qualifier,
// and hand the call to the invoke engine, or an event to the durable queue (InvocationType Event).
import type { InvocationRequest, InvocationResponse, InvokeAsyncRequest, InvokeAsyncResponse } from '../api/generated/types.js';
import type { RequestContext } from '../api/handlers.js';
import { LambdaError } from '../shared/errors.js';
import { jsonSyntaxError } from '../api/json-syntax.js';
import type { FunctionService } from './functions.js';
import type { InvokeEngine } from '../invoke/types.js';
import type { AsyncQueue } from '../queue/async-queue.js';
import { functionArn } from '../shared/arn.js';
import { invocationTraceHeader } from '../shared/recursion.js';

/** AWS's synchronous payload limit, for requests and responses. */
export const MAX_SYNC_PAYLOAD = 6_291_456;
/**
 * AWS's Event payload limit. Issue 7 says 256 KB, but AWS raised it to 1 MiB in 2024 and answers
 * `<N> byte payload is too large for the Event invocation type (limit 1048576 bytes)`; we follow AWS.
 */
export const MAX_EVENT_PAYLOAD = 1_048_576;

function checkEventPayload(payload: Buffer): void {
  if (payload.length > MAX_EVENT_PAYLOAD) {
    throw new LambdaError('EventPayloadTooLarge', { size: payload.length, limit: MAX_EVENT_PAYLOAD });
  }
}

function checkJson(payload: Buffer): void {
  if (payload.length === 0) return;
  const problem = jsonSyntaxError(payload);
  if (problem !== undefined) {
    throw new LambdaError('InvalidRequestContentException', { message: `Could not parse request body into json: Could not parse payload into json: ${problem}` });
  }
}

/**
 * X-Amz-Client-Context must be base64 of a JSON object; AWS answers 400 before anything is queued or
 * run (sync and async alike), with this text. Strict base64 (RFC 4648 alphabet, padding), as AWS's
 * decoder; an empty header is no context.
 */
function checkClientContext(value: string | undefined): void {
  if (value === undefined || value === '') return;
  const invalid = () => new LambdaError('InvalidRequestContentException', { message: 'Client context must be a valid Base64-encoded JSON object.' });
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'base64')));
  } catch {
    throw invalid();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid();
}

export function createInvokeHandler(functions: FunctionService, engine: InvokeEngine, queue: AsyncQueue) {
  return async (input: InvocationRequest, ctx: RequestContext): Promise<InvocationResponse> => {
    const payload = input.Payload ?? Buffer.alloc(0);
    if (payload.length > MAX_SYNC_PAYLOAD) {
      throw new LambdaError('RequestTooLarge', { limit: MAX_SYNC_PAYLOAD, operation: 'InvokeFunction' });
    }
    checkJson(payload);
    checkClientContext(input.ClientContext);
    const scope = ctx.identity;
    const { fn, version, invokedArn, qualifier } = functions.resolveForInvoke(input.FunctionName, input.Qualifier, scope);
    const type = input.InvocationType ?? 'RequestResponse';
    // AWS's DryRun answer carries no X-Amz-Executed-Version.
    if (type === 'DryRun') return { StatusCode: 204 };
    if (type === 'Event') {
      checkEventPayload(payload);
      // 202 only once the event is committed to disk; the worker resolves the function again when it runs.
      await queue.enqueue({
        accountId: scope.accountId, region: scope.region, functionArn: functionArn(fn.region, fn.accountId, fn.name),
        qualifier, payload, requestId: ctx.requestId,
        ...(input.ClientContext !== undefined ? { clientContext: input.ClientContext } : {}),
        ...(ctx.traceHeader !== undefined ? { traceHeader: ctx.traceHeader } : {}),
      });
      return { StatusCode: 202 };
    }
    const result = await engine.invoke(functions.runtimeConfig(fn, version), {
      // One id for the whole invocation: the response's x-amzn-RequestId is the function's awsRequestId.
      requestId: ctx.requestId,
      traceId: invocationTraceHeader(ctx.traceHeader, functionArn(fn.region, fn.accountId, fn.name), Date.now()),
      payload: payload.length ? payload : Buffer.from('{}'),
      invokedFunctionArn: invokedArn,
      tailLog: input.LogType === 'Tail',
      ...(qualifier !== undefined ? { qualifier } : {}),
      ...(input.ClientContext !== undefined ? { clientContext: input.ClientContext } : {}),
    });
    return {
      StatusCode: 200,
      Payload: result.payload,
      ExecutedVersion: result.executedVersion,
      ...(result.functionError ? { FunctionError: result.functionError } : {}),
      ...(result.logResult !== undefined ? { LogResult: result.logResult } : {}),
    };
  };
}

/**
 * The deprecated InvokeAsync (2014-11-13): the same durable queue as InvocationType Event, answering
 * 202 with `{"Status": 202}`.
 */
export function createInvokeAsyncHandler(functions: FunctionService, queue: AsyncQueue) {
  return async (input: InvokeAsyncRequest, ctx: RequestContext): Promise<InvokeAsyncResponse> => {
    const payload = input.InvokeArgs;
    checkEventPayload(payload);
    checkJson(payload);
    const scope = ctx.identity;
    const { fn, qualifier } = functions.resolveForInvoke(input.FunctionName, undefined, scope);
    await queue.enqueue({
      accountId: scope.accountId, region: scope.region, functionArn: functionArn(fn.region, fn.accountId, fn.name),
      qualifier, payload, requestId: ctx.requestId,
      ...(ctx.traceHeader !== undefined ? { traceHeader: ctx.traceHeader } : {}),
    });
    return { Status: 202 };
  };
}
