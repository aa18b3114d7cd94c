// Shared helpers for the invoke-engine tests: function code written to temp dirs (world-readable,
// as Lambda requires, because the sandbox runs functions as uid 993), configs and requests.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SandboxInvokeEngine, type SandboxInvokeEngineOptions } from '../../src/invoke/engine.js';
import type { FunctionRuntimeConfig, InvokeRequest, InvokeResult } from '../../src/invoke/types.js';

export type FileSpec = string | { readonly content: string; readonly mode: number };

const cleanups: (() => void)[] = [];

/** Removes temp dirs made by this module; call from an `after` hook. */
export function cleanupTemp(): void {
  for (const c of cleanups.splice(0)) c();
}

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lambdalite-test-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A code dir with the given files (paths may be nested). */
export function makeCode(files: Readonly<Record<string, FileSpec>>): string {
  const dir = tempDir('code');
  for (const [rel, spec] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
    for (let d = path.dirname(p); d.startsWith(dir) && d !== dir; d = path.dirname(d)) fs.chmodSync(d, 0o755);
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: 0o644 } : spec;
    fs.writeFileSync(p, content);
    fs.chmodSync(p, mode);
  }
  return dir;
}

let counter = 0;

export function fnConfig(overrides: Partial<FunctionRuntimeConfig> & { codeDir: string }): FunctionRuntimeConfig {
  const name = overrides.functionName ?? `fn-${process.pid}-${++counter}`;
  return {
    functionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    functionName: name,
    version: '$LATEST',
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    memorySize: 128,
    timeout: 5,
    ephemeralStorage: 512,
    architectures: ['x86_64'],
    layerDirs: [],
    environment: {},
    region: 'us-east-1',
    accountId: '123456789012',
    logGroup: `/aws/lambda/${name}`,
    revision: 'rev-1',
    ...overrides,
  };
}

export function request(config: FunctionRuntimeConfig, payload: unknown = {}, overrides: Partial<InvokeRequest> = {}): InvokeRequest {
  return {
    requestId: randomUUID(),
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload)),
    invokedFunctionArn: config.functionArn,
    tailLog: false,
    ...overrides,
  };
}

export function testInvoker(options: Partial<SandboxInvokeEngineOptions> = {}): SandboxInvokeEngine {
  const dataDir = tempDir('data');
  return new SandboxInvokeEngine({ dataDir, log: () => {}, ...options });
}

export async function invokeJson(
  invoker: SandboxInvokeEngine,
  config: FunctionRuntimeConfig,
  payload: unknown = {},
  overrides: Partial<InvokeRequest> = {},
): Promise<{ result: InvokeResult; body: any }> {
  const result = await invoker.invoke(config, request(config, payload, overrides));
  const text = result.payload.toString('utf8');
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { result, body };
}

/** The one log stream's text for a function (waits for pending writes). */
export async function logText(invoker: SandboxInvokeEngine, config: FunctionRuntimeConfig): Promise<string> {
  const streams = await invoker.readLogs(config.logGroup);
  return streams.map((s) => s.text).join('');
}
