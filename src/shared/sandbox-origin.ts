// The seam between the sandbox and the API server. Connections that reach the Lambda API from inside an
// execution environment are accepted by the sandbox layer (never through the host's API port) and handed
// to the API server marked with the environment they came from, so the API can hold them to that
// environment's own credentials and access mode.
import type { Socket } from 'node:net';

export interface SandboxOrigin {
  /** The execution environment's id (also its log stream's suffix). */
  readonly environmentId: string;
  /** Unqualified ARN of the function the environment runs. */
  readonly functionArn: string;
  readonly accountId: string;
  readonly region: string;
}

/** Hands a connection accepted inside an environment to the API server. */
export type SandboxApiConnector = (socket: Socket, origin: SandboxOrigin) => void;

const origins = new WeakMap<Socket, SandboxOrigin>();

export function markSandboxSocket(socket: Socket, origin: SandboxOrigin): void {
  origins.set(socket, origin);
}

export function sandboxOriginOf(socket: Socket): SandboxOrigin | undefined {
  return origins.get(socket);
}
