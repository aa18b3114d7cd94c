// Deploying and invoking the real-world functions: created, awaited until Active, invoked expecting success.
import assert from 'node:assert/strict';
import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2, type CreateFunctionCommandInput, type LambdaClient } from '@aws-sdk/client-lambda';

/** Creates a function and waits until it is Active. */
export async function createActive(client: LambdaClient, input: CreateFunctionCommandInput & { FunctionName: string }): Promise<void> {
  await client.send(new CreateFunctionCommand(input));
  await waitUntilFunctionActiveV2({ client, maxWaitTime: 30 }, { FunctionName: input.FunctionName });
}

/** Invokes a function with a JSON payload and returns its JSON result, failing on a function error. */
export async function invokeOk(client: LambdaClient, name: string, payload: unknown): Promise<any> {
  const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }));
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString());
  assert.equal(out.FunctionError, undefined, JSON.stringify(body));
  return body;
}
