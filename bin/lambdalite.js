#!/usr/bin/env node
// Builds dist/ first when it is missing or older than src/ (a checkout), then runs the command.
import { ensureBuilt } from '../scripts/build.mjs';

try {
  ensureBuilt();
} catch (e) {
  process.stderr.write(`lambdalite: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
await import('../dist/src/cli/main.js');
