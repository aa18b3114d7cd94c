// The Invoke and InvokeAsync operations: check the payload as AWS does, resolve the function and qualifier,
// and hand the call to the invoke engine, or an event to the durable queue (InvocationType Event).
import { randomUUID } from 'node:crypto';
import type { InvocationRequest, InvocationResponse, InvokeAsyncRequest, InvokeAsyncResponse } from '../api/generated/types.js';
import type { RequestContext } from '../api/handlers.js';
import { LambdaError } from '../shared/errors.js';
import type { FunctionService } from './functions.js';
import type { InvokeEngine } from '../invoke/types.js';
import type { AsyncQueue } from '../queue/async-queue.js';
import { functionArn } from '../shared/arn.js';

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
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new LambdaError('InvalidRequestContentException', { message: `Could not parse request body into json: Could not parse payload into json: ${(e as Error).message}` });
  }
}

export function createInvokeHandler(functions: FunctionService, engine: InvokeEngine, queue: AsyncQueue) {
  return async (input: InvocationRequest, ctx: RequestContext): Promise<InvocationResponse> => {
    const payload = input.Payload ?? Buffer.alloc(0);
    if (payload.length > MAX_SYNC_PAYLOAD) {
      throw new LambdaError('RequestTooLarge', { limit: MAX_SYNC_PAYLOAD, operation: 'InvokeFunction' });
    }
    checkJson(payload);
    const scope = ctx.identity;
    const { fn, version, invokedArn, qualifier } = functions.resolveForInvoke(input.FunctionName, input.Qualifier, scope);
    const type = input.InvocationType ?? 'RequestResponse';
    if (type === 'DryRun') return { StatusCode: 204, ExecutedVersion: version.version };
    if (type === 'Event') {
      checkEventPayload(payload);
      // 202 only once the event is committed to disk; the worker resolves the function again when it runs.
      await queue.enqueue({
        accountId: scope.accountId, region: scope.region, functionArn: functionArn(fn.region, fn.accountId, fn.name),
        qualifier, payload, requestId: ctx.requestId,
        ...(input.ClientContext !== undefined ? { clientContext: input.ClientContext } : {}),
      });
      return { StatusCode: 202 };
    }
    const result = await engine.invoke(functions.runtimeConfig(fn, version), {
      requestId: randomUUID(),
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
    });
    return { Status: 202 };
  };
}
