// Runtime identifiers AWS knows, and which of them a function may be created or updated with.
import { errors } from '../shared/errors.js';
import { creatableRuntimes } from '../api/enum-order.js';

export { creatableRuntimes };

/**
 * Identifiers AWS still recognises but no longer lets a function be created or updated with (those
 * missing from AWS's recorded list of valid runtimes).
 */
export const blockedRuntimes: readonly string[] = [
  'nodejs', 'nodejs4.3', 'nodejs4.3-edge', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x',
  'java8', 'python2.7', 'python3.6', 'python3.7', 'dotnetcore1.0', 'dotnetcore2.0', 'dotnetcore2.1',
  'dotnetcore3.1', 'go1.x', 'ruby2.5', 'ruby2.7', 'provided',
];

const creatable = new Set(creatableRuntimes);
const blocked = new Set(blockedRuntimes);

/** Throws AWS's InvalidParameterValueException for a runtime that cannot be used for create or update. */
export function checkRuntime(runtime: string): void {
  if (creatable.has(runtime)) return;
  if (blocked.has(runtime)) {
    throw errors.invalidParameter(
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`,
    );
  }
  // AWS answers an unknown runtime with the validation wording but as InvalidParameterValueException,
  // without the "N validation errors" prefix and without quotes around the value.
  throw errors.invalidParameter(
    `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${creatableRuntimes.join(', ')}] or be a valid ARN`,
  );
}
