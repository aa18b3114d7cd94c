// The Invoke operation over HTTP: checks the payload as AWS does, resolves the function and qualifier,
// and hands the call to the invoke engine. InvocationType Event belongs to the async path.
import { randomUUID } from 'node:crypto';
import type { InvocationRequest, InvocationResponse } from '../api/generated/types.js';
import type { RequestContext } from '../api/handlers.js';
import { LambdaError } from '../shared/errors.js';
import type { FunctionService } from '../control/functions.js';
import type { Invoker } from './types.js';

/** AWS's synchronous payload limit, for requests and responses. */
export const MAX_SYNC_PAYLOAD = 6_291_456;

function checkJson(payload: Buffer): void {
  if (payload.length === 0) return;
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new LambdaError('InvalidRequestContentException', `Could not parse request body into json: Could not parse payload into json: ${(e as Error).message}`, { status: 400 });
  }
}

export function createInvokeHandler(functions: FunctionService, invoker: Invoker) {
  return async (input: InvocationRequest, ctx: RequestContext): Promise<InvocationResponse> => {
    const payload = input.Payload ?? Buffer.alloc(0);
    if (payload.length > MAX_SYNC_PAYLOAD) {
      // AWS answers this one with the unmodelled RequestEntityTooLargeException and `Message`, no Type.
      throw new LambdaError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation`, {
        status: 413,
        fields: {},
      });
    }
    checkJson(payload);
    const scope = ctx.identity;
    const { fn, version, invokedArn, qualifier } = functions.resolveForInvoke(input.FunctionName, input.Qualifier, scope);
    const type = input.InvocationType ?? 'RequestResponse';
    if (type === 'DryRun') return { StatusCode: 204, ExecutedVersion: version.version };
    if (type === 'Event') {
      throw new LambdaError('ServiceException', 'lambdalite does not run asynchronous (Event) invocations yet.', { status: 501, fault: 'Service' });
    }
    const result = await invoker.invoke(functions.runtimeConfig(fn, version), {
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
