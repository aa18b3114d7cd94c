// Shared by the bench scripts that run the server in a child process of their own.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The child's side: starts dist/src/server.js on port 0 with `options` (parseOptions' overrides), sends
 * the parent its URL and closes the server when the parent sends 'stop'.
 */
export async function serveForParent(options) {
  const { startServer } = await import(path.join(root, 'dist/src/server.js'));
  const { parseOptions } = await import(path.join(root, 'dist/src/shared/config.js'));
  const { createLogger } = await import(path.join(root, 'dist/src/shared/logger.js'));
  const server = await startServer(parseOptions([], {}, { port: 0, ...options }), { logger: createLogger(process.stderr, true) });
  process.send({ url: server.url });
  process.on('message', async (m) => {
    if (m === 'stop') {
      await server.close();
      process.exit(0);
    }
  });
}
