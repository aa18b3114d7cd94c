// Shared by the event source mapping tests: waits for a mapping to reach a state.
import { GetEventSourceMappingCommand, type EventSourceMappingConfiguration } from '@aws-sdk/client-lambda';
import type { TestServer } from '../helpers/server.js';

export async function waitState(t: TestServer, uuid: string, state: string, timeoutMs = 10_000): Promise<EventSourceMappingConfiguration> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await t.client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    if (m.State === state) return m;
    if (Date.now() > deadline) throw new Error(`mapping ${uuid} is ${m.State}, not ${state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
