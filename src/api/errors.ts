// The one table from internal errors to AWS's wire shape: status, x-amzn-ErrorType, and a JSON body with
// `Type` and the message key spelled as the model's exception shape spells it (`Message` for
// ResourceNotFoundException, `message` for most others).
import { shapes } from './generated/model.js';
import { LambdaError, Fault, isLambdaError } from '../shared/errors.js';
import type { WireResponse } from './codec.js';

/** Error types that come from AWS's protocol framework rather than the Lambda model: no `Type` member. */
const frameworkErrors = new Set(['ValidationException', 'RequestEntityTooLargeException', 'SerializationException', 'UnknownOperationException', 'InvalidSignatureException', 'MissingAuthenticationTokenException', 'UnrecognizedClientException', 'AccessDeniedException']);

/** Unmodelled errors whose body AWS spells with `Message`. */
const capitalMessage = new Set(['RequestEntityTooLargeException', 'AccessDeniedException']);

function messageKey(code: string): string {
  if (capitalMessage.has(code)) return 'Message';
  const members = shapes[code]?.members;
  if (members) {
    if ('Message' in members) return 'Message';
    if ('message' in members) return 'message';
  }
  return 'message';
}

export function errorResponse(err: unknown, requestId: string): { response: WireResponse; logged?: unknown } {
  const e: LambdaError = isLambdaError(err)
    ? err
    : new LambdaError('ServiceException', 'An internal error occurred in lambdalite.', { status: 500, fault: Fault.Service, cause: err });
  const body: Record<string, unknown> = {};
  if (!frameworkErrors.has(e.code) && !e.untyped) body['Type'] = e.fault;
  body[messageKey(e.code)] = e.message;
  Object.assign(body, e.fields);
  return {
    response: {
      status: e.status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': e.code,
        'x-amzn-requestid': requestId,
        ...Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), v])),
      },
      body: JSON.stringify(body),
    },
    // Errors raised on purpose are answers, not faults of ours; only unexpected ones are logged.
    logged: isLambdaError(err) ? undefined : err,
  };
}
