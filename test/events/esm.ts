// Shared by the event source mapping tests: waits for a mapping to reach a state.
import { GetEventSourceMappingCommand, type EventSourceMappingConfiguration } from '@aws-sdk/client-lambda';
import type { TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

export function waitState(t: TestServer, uuid: string, state: string): Promise<EventSourceMappingConfiguration> {
  return waitFor(async () => {
    const m = await t.client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    return m.State === state ? m : undefined;
  }, { message: `mapping ${uuid} to be ${state}` });
}
