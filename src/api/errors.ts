// Internal errors to AWS's wire shape: status, x-amzn-ErrorType, and a JSON body with `Type` and the
// message key as the error registry (src/shared/errors.ts) spells them for the code.
import { LambdaError, isLambdaError } from '../shared/errors.js';
import type { WireResponse } from './codec.js';

export function errorResponse(err: unknown, requestId: string): { response: WireResponse; logged?: unknown } {
  const e: LambdaError = isLambdaError(err) ? err : new LambdaError('ServiceException', { message: 'An internal error occurred in lambdalite.' }, { cause: err });
  const body: Record<string, unknown> = {};
  if (e.typed) body['Type'] = e.fault;
  body[e.messageKey] = e.message;
  Object.assign(body, e.fields);
  return {
    response: {
      status: e.status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': e.type,
        'x-amzn-requestid': requestId,
        ...Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), v])),
      },
      body: JSON.stringify(body),
    },
    // Errors raised on purpose are answers, not faults of ours; only unexpected ones are logged.
    logged: isLambdaError(err) ? undefined : err,
  };
}
