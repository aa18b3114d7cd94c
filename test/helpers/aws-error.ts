// Asserts that an AWS SDK call failed with AWS's status, error code, `Type` and message text.
import assert from 'node:assert/strict';

export interface ExpectedAwsError {
  /** The error code: x-amzn-ErrorType, which the SDK exposes as `name`. */
  readonly name: string;
  readonly status: number;
  readonly message: string | RegExp;
  /** The body's `Type` member for modelled errors; null asserts there is none; undefined skips the check. */
  readonly type?: 'User' | 'Service' | null;
}

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly Type?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly requestId?: string };
}

export async function expectAwsError(call: Promise<unknown>, expected: ExpectedAwsError): Promise<void> {
  let settled: unknown;
  try {
    settled = await call;
  } catch (e) {
    const err = e as SdkError;
    const seen = `${err.name} ${err.$metadata?.httpStatusCode}: ${err.message}`;
    assert.equal(err.name, expected.name, `error code; got ${seen}`);
    assert.equal(err.$metadata?.httpStatusCode, expected.status, `status; got ${seen}`);
    if (typeof expected.message === 'string') assert.equal(err.message, expected.message, `message; got ${seen}`);
    else assert.match(err.message ?? '', expected.message, `message; got ${seen}`);
    if (expected.type !== undefined) assert.equal(err.Type, expected.type ?? undefined, `Type; got ${seen}`);
    assert.match(err.$metadata?.requestId ?? '', /^[0-9a-f-]{36}$/, 'x-amzn-RequestId on the error');
    return;
  }
  assert.fail(`expected ${expected.name} (${expected.status}) but the call succeeded: ${JSON.stringify(settled)?.slice(0, 300)}`);
}
