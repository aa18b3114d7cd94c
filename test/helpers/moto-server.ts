// A moto_server, an SQS client on it and a lambdalite server whose AWS endpoint is that moto_server: the
// set-up of the tests that drive functions through SQS.
import { before, after } from 'node:test';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsOptions, startMoto, type Moto } from './moto.js';
import { startTestServer, type TestServer } from './server.js';

export interface MotoWithServer {
  readonly moto: Moto;
  readonly sqs: SQSClient;
  readonly t: TestServer;
  close(): Promise<void>;
}

export async function startMotoWithServer(): Promise<MotoWithServer> {
  const moto = await startMoto();
  const sqs = new SQSClient(awsOptions(moto.url));
  let t: TestServer;
  try {
    t = await startTestServer({ awsEndpoint: moto.url });
  } catch (err) {
    sqs.destroy();
    await moto.stop();
    throw err;
  }
  return {
    moto, sqs, t,
    close: async () => {
      await t.close();
      sqs.destroy();
      await moto.stop();
    },
  };
}

/** Starts them before the current suite's tests (handing them to `use`) and closes them after. */
export function withMotoAndServer(use: (env: MotoWithServer) => void): void {
  let env: MotoWithServer | undefined;
  before(async () => {
    env = await startMotoWithServer();
    use(env);
  });
  after(async () => {
    await env?.close();
  });
}
